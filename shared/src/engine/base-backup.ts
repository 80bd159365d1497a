// A base backup for point-in-time recovery: pg_basebackup of the server's major version, tar format
// to stdout, no WAL in it (-X none: the WAL comes from the stream), written through the artifact
// chain (zstd, age, SHA-256, every destination). The WAL it needs runs from its start point to its
// end point, both read from pg_basebackup's own report.
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { join } from 'node:path';
import { detectServerVersion, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool, type RunningTool } from './process.js';
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
  let tool: RunningTool | null = null;
  const written = await withPgToolAccess(input.connection, ({ env, dbname }) => {
    const args = ['--format=tar', '--pgdata=-', '--wal-method=none', '--checkpoint=fast', '--no-password', '--verbose', '--label=coffre', dbname];
    return writeArtifact(input, {
      kind: 'dump',
      start: (stdout) => (tool = startTool('pg_basebackup', path, args, { env, stdio: ['ignore', stdout, 'pipe'] })),
    });
  });
  const report = (await (tool as RunningTool | null)?.exited)?.stderr ?? '';
  const start = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/i.exec(report);
  const end = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/i.exec(report);
  if (!start || !end) throw new PermanentError(`pg_basebackup did not report its WAL start and end points: ${report.slice(-500)}`);
  input.logger.info({ start: start[1], end: end[1], timeline: start[2] }, 'base backup taken');
  return {
    ...written,
    serverVersion: server.version,
    toolVersion: String(server.major),
    walStartLsn: start[1]!,
    walEndLsn: end[1]!,
    timeline: Number(start[2]),
    durationMs: Date.now() - started,
  };
}
