// A base backup for point-in-time recovery: pg_basebackup of the server's major version, tar format
// to stdout, no WAL in it (-X none: the WAL comes from the stream), written through the artifact
// chain (zstd, age, SHA-256, every destination). Its stdout is the compressor's stdin, so that the raw
// data directory passes between the two through the OS and never through Node. The WAL the backup
// needs lies between where the server's WAL stood just before pg_basebackup started and where it
// stood once it had exited: pg_basebackup says neither point when it writes to stdout with -X none,
// and the backup_label inside the tar (which recovery itself reads) passes Node by. Bounds a little
// wider than the true points only ask a restore and retention for a few more bytes of WAL.
import { join } from 'node:path';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { detectServerVersion, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool, withLargeStdoutBuffer } from './process.js';
import { serverBinDir } from './replication.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';

export interface BaseBackupInput extends ArtifactWriteOptions {
  connection: PgConnection;
  logger: Logger;
}

export interface BaseBackupResult extends WrittenArtifact {
  serverVersion: string;
  toolVersion: string;
  walStartLsn: string;
  walEndLsn: string;
  timeline: number;
  durationMs: number;
}

export async function runBaseBackup(input: BaseBackupInput): Promise<BaseBackupResult> {
  const started = Date.now();
  const server = await withPgClient(input.connection, detectServerVersion);
  const path = join(serverBinDir(server.major), 'pg_basebackup');
  const before = await walPosition(input.connection);
  const written = await withPgToolAccess(input.connection, ({ env, dbname }) => {
    const args = ['--format=tar', '--pgdata=-', '--wal-method=none', '--checkpoint=fast', '--no-password', '--label=coffre', dbname];
    const buffered = withLargeStdoutBuffer(path, args);
    return writeArtifact(input, { kind: 'dump', start: (stdout) => startTool('pg_basebackup', buffered.path, buffered.args, { env, stdio: ['ignore', stdout, 'pipe'] }) });
  });
  const after = await walPosition(input.connection);
  if (after.timeline !== before.timeline) throw new PermanentError(`The server switched from timeline ${before.timeline} to ${after.timeline} during the base backup: take it again.`);
  const range = { start: before.start, end: after.end, timeline: before.timeline };
  input.logger.info({ start: range.start, end: range.end, timeline: range.timeline }, 'base backup taken');
  return {
    ...written,
    serverVersion: server.version,
    toolVersion: String(server.major),
    walStartLsn: range.start,
    walEndLsn: range.end,
    timeline: range.timeline,
    durationMs: Date.now() - started,
  };
}

/**
 * Where the server's WAL stands now, and its timeline. `start`: where a backup begun now may start
 * reading WAL: the insert position on a primary (the backup's checkpoint comes after it); on a standby
 * the redo point of its last restartpoint, since a backup there starts at a restartpoint, which can
 * only be made at a checkpoint of the primary already replayed: often well before the replay position.
 * `end`: the insert position, or the replay position on a standby. The timeline: the one WAL is written
 * on (just after a promotion the last checkpoint is still on the timeline before), or on a standby the
 * one of its last restartpoint, where a backup there starts.
 */
async function walPosition(connection: PgConnection): Promise<{ start: string; end: string; timeline: number }> {
  return withPgClient(connection, async (client) => {
    const { rows } = await client.query<{ start: string; end: string; timeline: number }>(
      `SELECT (CASE WHEN pg_is_in_recovery() THEN (SELECT redo_lsn FROM pg_control_checkpoint()) ELSE pg_current_wal_insert_lsn() END)::text AS start,
              (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text AS end,
              (CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
                    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int END) AS timeline`,
    );
    return { start: rows[0]!.start, end: rows[0]!.end, timeline: Number(rows[0]!.timeline) };
  });
}
