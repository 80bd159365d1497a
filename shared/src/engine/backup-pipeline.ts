// Taking a PostgreSQL backup: pg_dump (custom format, its own compression off) → zstd/gzip through
// an OS pipe → age encryption → SHA-256 → every destination at once. Nothing is held whole in memory,
// and the artifact is published only when pg_dump and the compressor have both exited cleanly.
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import type pg from 'pg';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { createEncryptStream } from '../crypto/age.js';
import { compressor, type CompressionKind } from './compression.js';
import {
  conninfo,
  detectServerVersion,
  preparePgToolEnvironment,
  resolvePgTool,
  withPgClient,
  type PgConnection,
} from './postgres.js';
import { describeExit, lastLine, startTool, toolChain, type ToolExit } from './process.js';
import { createGate, createMeter, fanOut, removePublished, type FanOutTarget } from './streams.js';
import { countRowsInExportedSnapshot, estimateRowsFromCatalog, listDumpedTables, type TableCount } from './counts.js';

export type BackupType = 'full' | 'schema' | 'data';

export interface DatabaseBackupInput {
  connection: PgConnection;
  type: BackupType;
  compression: CompressionKind;
  compressionLevel?: number;
  /** age recipients; none means the artifact is not encrypted. */
  recipients: string[];
  /** Every place the artifact is written to. */
  targets: FanOutTarget[];
  /** Temporary files of the run (TMP_DIR); the passfile is not one of them: it stays private to this machine (secret-files.ts). */
  tmpDir: string;
  /**
   * Count every table's rows in the dump's own snapshot (exact; one scan of each table, beside the dump).
   * When false, rows are -1 and pg_class's estimates are recorded beside them.
   */
  countRows?: boolean;
  signal?: AbortSignal;
  onProgress?: (bytesWritten: number) => void;
  logger: Logger;
}

export interface DatabaseBackupResult {
  sizeBytes: number;
  checksumSha256: string;
  serverVersion: string;
  pgDumpVersion: string;
  tablesCount: number;
  recordsCount: number | null;
  tableCounts: TableCount[];
  durationMs: number;
}

export async function runDatabaseBackup(input: DatabaseBackupInput): Promise<DatabaseBackupResult> {
  const started = Date.now();
  const { connection, logger } = input;
  return withPgClient(connection, async (client) => {
    const server = await detectServerVersion(client);
    const pgDump = await resolvePgTool('pg_dump', server.major);
    logger.info({ server: server.version, pgDump: pgDump.version, path: pgDump.path }, 'dumping with a matching pg_dump');

    // The dump and the row counts read one snapshot, so that the counts are exact for the dump.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    try {
      const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
      const snapshot = rows[0]!.snapshot;
      const tables = await listDumpedTables(client);
      const stopCounting = new AbortController();
      const counting =
        input.type !== 'schema' && input.countRows !== false
          ? countRowsInExportedSnapshot(connection, snapshot, tables, stopCounting.signal).catch((error: Error) => {
              // The dump does not depend on the counts: a backup whose rows could not be counted records them as unknown.
              if (!stopCounting.signal.aborted) logger.warn({ reason: error.message }, 'the rows could not be counted; they are recorded as unknown');
              return null;
            })
          : Promise.resolve(null);
      let written;
      try {
        written = await dumpToTargets(input, pgDump.path, snapshot);
      } catch (error) {
        stopCounting.abort();
        await counting;
        throw error;
      }
      const counts = await counting;
      const uncounted = counts
        ? null
        : input.type === 'schema'
          ? tables.map((t) => ({ ...t, rows: -1 }))
          : await estimateRowsFromCatalog(client, tables);
      await client.query('COMMIT');
      return {
        ...written,
        serverVersion: server.version,
        pgDumpVersion: pgDump.version,
        tablesCount: tables.length,
        recordsCount: counts ? counts.reduce((sum, t) => sum + t.rows, 0) : null,
        tableCounts: counts ?? uncounted!,
        durationMs: Date.now() - started,
      };
    } catch (error) {
      await rollback(client);
      throw error;
    }
  });
}

async function dumpToTargets(
  input: DatabaseBackupInput,
  pgDumpPath: string,
  snapshot: string,
): Promise<{ sizeBytes: number; checksumSha256: string }> {
  const toolEnv = await preparePgToolEnvironment(input.connection);
  const chain = toolChain(input.signal);
  const { watch } = chain;
  try {
    const args = [
      '--format=custom',
      '--compress=0',
      '--no-password',
      `--snapshot=${snapshot}`,
      ...(input.type === 'schema' ? ['--schema-only'] : input.type === 'data' ? ['--data-only'] : []),
      `--dbname=${conninfo(input.connection)}`,
    ];
    const command = compressor(input.compression, input.compressionLevel);
    let source: Readable;
    if (command) {
      // pg_dump writes straight into the compressor's stdin: the bytes never pass through Node.
      const compress = watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', 'pipe', 'pipe'] }));
      watch(startTool('pg_dump', pgDumpPath, args, { env: toolEnv.env, stdio: ['ignore', compress.child.stdin!, 'pipe'] }));
      compress.child.stdin!.destroy();
      source = compress.child.stdout!;
    } else {
      source = watch(startTool('pg_dump', pgDumpPath, args, { env: toolEnv.env })).child.stdout!;
    }

    const meter = createMeter(input.onProgress);
    const out = fanOut(input.targets, input.signal);
    const stages: (Readable | Transform | NodeJS.WritableStream)[] = [source, createGate(async () => {
      const failed = await chain.failedExit();
      if (failed) throw toolFailure(failed.name, failed.exit);
    })];
    if (input.recipients.length > 0) stages.push(createEncryptStream(input.recipients));
    stages.push(meter, out.writable);
    try {
      await pipeline(stages as unknown as [Readable, ...Transform[]], { signal: input.signal });
      await Promise.all(out.results);
    } catch (error) {
      await chain.stop();
      await removePublished(input.targets, out.results);
      if (input.signal?.aborted) throw new Error('The backup was cancelled.', { cause: error });
      const first = chain.firstFailure('pg_dump');
      throw first ? toolFailure(first.name, first.exit) : error;
    }
    return { sizeBytes: meter.bytes, checksumSha256: meter.digest() };
  } finally {
    chain.release();
    await toolEnv.cleanup();
  }
}

function toolFailure(name: string, exit: ToolExit): Error {
  const detail = lastLine(exit.stderr).replace(/^pg_dump: (error: )?/, '');
  if (exit.signal === 'SIGKILL' || exit.signal === 'SIGTERM') {
    return new Error(`${describeExit(name, exit)} before the dump was complete (stopped by an operator, or out of memory?): nothing was published.`);
  }
  if (name === 'pg_dump') {
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
    return new Error(`pg_dump failed: ${detail || describeExit(name, exit)}.`);
  }
  if (/no space left/i.test(detail)) return new Error(`${name} failed: no space left on device.`);
  return new Error(`${describeExit(name, exit)}: ${detail}`);
}

async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {});
}
