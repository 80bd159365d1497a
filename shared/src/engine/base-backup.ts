// A base backup for point-in-time recovery: pg_basebackup of the server's major version, tar format
// to stdout, no WAL in it (-X none: the WAL comes from the stream), written through the artifact
// chain (zstd, age, SHA-256, every destination). The WAL it needs (start and end point, timeline) is
// read from the backup_manifest pg_basebackup puts at the end of its tar, as the stream passes.
import { join } from 'node:path';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { detectServerVersion, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool } from './process.js';
import { serverBinDir } from './replication.js';
import { createTarSniffer } from './tar-sniffer.js';
import { describeToolFailure } from './tool-failure.js';
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
  const sniffer = createTarSniffer(['backup_manifest']);
  const written = await withPgToolAccess(input.connection, async ({ env, dbname }) => {
    const args = ['--format=tar', '--pgdata=-', '--wal-method=none', '--checkpoint=fast', '--no-password', '--label=coffre', dbname];
    const tool = startTool('pg_basebackup', path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const produced = tool.exited.then((exit) => {
      if (exit.code !== 0) throw describeToolFailure({ name: 'pg_basebackup', exit }, 'dump');
    });
    try {
      return await writeArtifact(input, { kind: 'archive', stream: tool.child.stdout!.pipe(sniffer), produced });
    } finally {
      tool.kill();
    }
  });
  const range = walRange(sniffer.found.get('backup_manifest'));
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

function walRange(manifest: Buffer | undefined): { start: string; end: string; timeline: number } {
  if (!manifest) throw new PermanentError('pg_basebackup wrote no backup_manifest: the WAL the base backup needs is unknown (PostgreSQL 13 or later is needed).');
  const parsed = JSON.parse(manifest.toString('utf8')) as { 'WAL-Ranges'?: { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[] };
  const ranges = parsed['WAL-Ranges'] ?? [];
  if (!ranges.length) throw new PermanentError('The backup_manifest of pg_basebackup lists no WAL range.');
  return { start: ranges[0]!['Start-LSN'], end: ranges.at(-1)!['End-LSN'], timeline: ranges.at(-1)!.Timeline };
}
