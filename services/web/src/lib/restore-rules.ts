// The restore dialog's choice, its problems (the API's RestoreRequest rules) and the request body.
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

export type RestoreProblems = Partial<Record<'sourceId' | 'database' | 'path' | 'bucketSourceId' | 'prefix', string>>;

const databaseName = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
const databaseRule = 'Must be 1–63 letters, digits, "_" or "-", starting with a letter or "_".';

export function restoreProblems(choice: RestoreChoice): RestoreProblems {
  const problems: RestoreProblems = {};
  if (choice.artifact === 'files') {
    const path = choice.path.trim();
    if (!path) problems.path = 'The directory is required.';
    else if (!path.startsWith('/') || path.includes('\0')) problems.path = 'Must be an absolute directory path, starting with "/".';
    else if (path.length > 1000) problems.path = 'The path must be at most 1000 characters.';
    return problems;
  }
  if (choice.artifact === 'bucket') {
    if (!choice.bucketSourceId) problems.bucketSourceId = 'Pick the bucket source to restore into.';
    const prefix = choice.prefix.trim();
    if (prefix.length > 200) problems.prefix = 'The prefix must be at most 200 characters.';
    else if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) problems.prefix = 'The prefix must not contain "." or ".." segments.';
    return problems;
  }
  if (choice.target === 'source' && !choice.sourceId) problems.sourceId = 'Pick the source to restore into.';
  if (choice.target === 'new' && !choice.database) problems.database = 'Name the database to restore into.';
  else if (choice.target !== 'same' && choice.database && !databaseName.test(choice.database)) problems.database = databaseRule;
  return problems;
}

/** POST /api/backups/:id/restore. */
export function restoreRequest(choice: RestoreChoice, confirm: string): Record<string, string> {
  if (choice.artifact === 'files') return { confirm, artifact: 'files', targetPath: choice.path.trim() };
  if (choice.artifact === 'bucket') {
    const prefix = choice.prefix.trim();
    return { confirm, artifact: 'bucket', targetSourceId: choice.bucketSourceId, ...(prefix ? { targetPrefix: prefix } : {}) };
  }
  const body: Record<string, string> = { confirm, artifact: 'database' };
  if (choice.target === 'source') {
    body.targetSourceId = choice.sourceId;
    if (choice.database) body.targetDatabase = choice.database;
  }
  if (choice.target === 'new') body.targetDatabase = choice.database;
  return body;
}
