// The restore dialog's choice, its problems and the request body. What the API refuses is found by
// the contract's restoreRequestSchema on the body; what the dialog needs on top (a pick where the
// operator chose "another source", a directory for files) is the dialog's own.
import { restoreRequestSchema, type RestoreRequest } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface RestoreChoice {
  artifact: 'database' | 'files' | 'bucket';
  /** database: the database it came from, another source, or a new database on its own server. */
  target: 'same' | 'source' | 'new';
  sourceId: string;
  /** source: optional (the source's own database); new: required. */
  database: string;
  /** files: the absolute directory to recreate the archived paths in. */
  path: string;
  /** bucket: the bucket source to restore into. */
  bucketSourceId: string;
  /** bucket: optional (the source's own prefix). */
  prefix: string;
}

export type RestoreProblems = Problems<Pick<RestoreChoice, 'sourceId' | 'database' | 'path' | 'bucketSourceId' | 'prefix'>>;

export function restoreProblems(choice: RestoreChoice): RestoreProblems {
  const missing: RestoreProblems = {};
  if (choice.artifact === 'files') {
    if (!choice.path.trim()) missing.path = 'The directory is required.';
  } else if (choice.artifact === 'bucket') {
    if (!choice.bucketSourceId) missing.bucketSourceId = 'Pick the bucket source to restore into.';
  } else {
    if (choice.target === 'source' && !choice.sourceId) missing.sourceId = 'Pick the source to restore into.';
    if (choice.target === 'new' && !choice.database) missing.database = 'Name the database to restore into.';
  }
  return { ...problemsOf(restoreRequestSchema, restoreRequest(choice, ''), (path) => fieldOf(path, choice)), ...missing };
}

function fieldOf(path: string, choice: RestoreChoice): keyof RestoreProblems | null {
  if (path === 'targetDatabase') return 'database';
  if (path === 'targetPath') return 'path';
  if (path === 'targetPrefix') return 'prefix';
  if (path === 'targetSourceId') return choice.artifact === 'bucket' ? 'bucketSourceId' : 'sourceId';
  return null;
}

/** POST /api/backups/:id/restore. */
export function restoreRequest(choice: RestoreChoice, confirm: string): RestoreRequest {
  if (choice.artifact === 'files') return { confirm, artifact: 'files', targetPath: choice.path.trim() };
  if (choice.artifact === 'bucket') {
    const prefix = choice.prefix.trim();
    return { confirm, artifact: 'bucket', targetSourceId: choice.bucketSourceId, ...(prefix ? { targetPrefix: prefix } : {}) };
  }
  const body: RestoreRequest = { confirm, artifact: 'database' };
  if (choice.target === 'source') {
    body.targetSourceId = choice.sourceId;
    if (choice.database) body.targetDatabase = choice.database;
  }
  if (choice.target === 'new') body.targetDatabase = choice.database;
  return body;
}
