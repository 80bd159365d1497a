// The sentence an operator reads when a tool of the engine (pg_dump, pg_restore, psql, zstd, gzip)
// failed: which tool, what it said last, and what that means for the run. Backups, restores and
// archives all explain their tools here, so that the same failure reads the same everywhere.
import { PermanentError } from '../infra/errors.js';
import { describeExit, lastLine, type ToolExit, type ToolFailure } from './process.js';

/**
 * What the tools were doing: writing a database dump or a tar archive (a failed write publishes
 * nothing), reading an archive back, or restoring into a database in one transaction.
 */
export type ToolWork = 'dump' | 'archive' | 'database restore';

export function describeToolFailure({ name, exit }: ToolFailure, work: ToolWork): Error {
  // PostgreSQL's tools start their messages with their own name, which the sentence says already.
  const detail = lastLine(exit.stderr).replace(/^(pg_dump|pg_restore|pg_basebackup|psql): (error: )?/, '');
  if (work === 'database restore') {
    return new Error(
      `${name} failed, and its single transaction was rolled back, so the target database is unchanged: ${detail || describeExit(name, exit)}.`,
    );
  }
  if (work === 'dump' && (exit.signal === 'SIGKILL' || exit.signal === 'SIGTERM')) {
    return new Error(`${describeExit(name, exit)} before the dump was complete (stopped by an operator, or out of memory?): nothing was published.`);
  }
  if (name === 'pg_dump') return pgDumpFailure(detail, exit);
  if (name === 'pg_basebackup') return baseBackupFailure(detail, exit);
  if (/no space left/i.test(detail)) return new Error(`${name} failed: no space left on device.`);
  return new Error(`${describeExit(name, exit)}${detail ? `: ${detail}` : ''}.`);
}

/** pg_basebackup's refusals that a retry cannot fix (the server's rules, the role) are permanent, with what to do about them. */
function baseBackupFailure(detail: string, exit: ToolExit): Error {
  if (/no pg_hba\.conf entry for replication connection/i.test(detail)) {
    return new PermanentError(`pg_basebackup was refused a replication connection: ${detail}. Add a "host replication <user> <this worker's address>/32 scram-sha-256" line to the server's pg_hba.conf and reload it.`, 'pg_hba');
  }
  if (/must be superuser or replication role|permission denied to start WAL sender/i.test(detail)) {
    return new PermanentError(`pg_basebackup failed: ${detail}. Give the source's user the REPLICATION attribute (ALTER ROLE … REPLICATION).`, 'permission');
  }
  if (/password authentication failed|no password supplied/i.test(detail)) {
    return new PermanentError(`pg_basebackup could not log in: ${detail}. Check the user and password in the source URL.`, 'auth');
  }
  return new Error(`${describeExit('pg_basebackup', exit)}${detail ? `: ${detail}` : ''}.`);
}

/** pg_dump's refusals that a retry cannot fix are permanent, with what to do about them. */
function pgDumpFailure(detail: string, exit: ToolExit): Error {
  if (/password authentication failed|no password supplied/i.test(detail)) {
    return new PermanentError(`pg_dump could not log in: ${detail}. Check the user and password in the source URL.`, 'auth');
  }
  if (/database ".*" does not exist/i.test(detail)) return new PermanentError(`pg_dump failed: ${detail}.`, 'missing-database');
  if (/permission denied/i.test(detail)) {
    return new PermanentError(
      `pg_dump failed: ${detail}. Grant the source's user read access to every object (for example the pg_read_all_data role).`,
      'permission',
    );
  }
  return new Error(`pg_dump failed: ${detail || describeExit('pg_dump', exit)}.`);
}
