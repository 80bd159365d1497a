// The restore dialog of a backup of a whole server: one of its databases (into a source's server,
// under its own name or a new one), or all of them plus the globals into a server source where none
// of them exists yet. The body is checked by the contract's restoreRequestSchema, as the API does.
import { creatableDatabaseName, restoreRequestSchema, type RestoreRequest } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface ServerRestoreChoice {
  /** One database of the backup, or every database and the globals. */
  what: 'database' | 'all';
  /** database: which of the backup's databases. */
  database: string;
  /** The PostgreSQL source whose server it goes to. */
  sourceId: string;
  /** database: the name to restore it under (empty: its own). */
  targetDatabase: string;
}

export type ServerRestoreProblems = Problems<Pick<ServerRestoreChoice, 'database' | 'sourceId' | 'targetDatabase'>>;

export function serverRestoreProblems(choice: ServerRestoreChoice): ServerRestoreProblems {
  const missing: ServerRestoreProblems = {};
  if (!choice.sourceId) missing.sourceId = choice.what === 'all' ? 'Pick the server source to restore into.' : 'Pick the source whose server it goes to.';
  if (choice.what === 'database') {
    if (!choice.database) missing.database = 'Pick the database to restore.';
    else if (!choice.targetDatabase.trim() && !creatableDatabaseName.test(choice.database)) {
      missing.targetDatabase = `"${choice.database}" cannot be created under its own name here: name the database to restore it into.`;
    }
  }
  return { ...problemsOf(restoreRequestSchema, serverRestoreRequest(choice, ''), serverRestoreFieldOfApiPath), ...missing };
}

/** The dialog's field an API refusal's path names. */
export function serverRestoreFieldOfApiPath(path: string): keyof ServerRestoreProblems | null {
  if (path === 'targetDatabase') return 'targetDatabase';
  if (path === 'database') return 'database';
  if (path === 'targetSourceId') return 'sourceId';
  return null;
}

/** POST /api/backups/:id/restore. */
export function serverRestoreRequest(choice: ServerRestoreChoice, confirm: string): RestoreRequest {
  const target = choice.sourceId ? { targetSourceId: choice.sourceId } : {};
  if (choice.what === 'all') return { confirm, allDatabases: true, ...target };
  const name = choice.targetDatabase.trim();
  return { confirm, database: choice.database, ...target, ...(name ? { targetDatabase: name } : {}) };
}
