// Taking a PostgreSQL backup: pg_dump (custom format, its own compression off) written through the
// artifact chain (write-artifact.ts): zstd/gzip, age encryption, SHA-256, every destination at once.
// Row counts are exact: read from the dump's own stream as it passes (dump-row-counter.ts) when its
// bytes go through Node anyway (no compression); otherwise counted beside the dump in its snapshot.
// With dumpJobs > 1, pg_dump dumps in the directory format with that many jobs, in the same
// snapshot, and the directory is tarred into the artifact (directory-dump.ts), its rows counted in
// its data files.
import type { Writable } from 'node:stream';
import type pg from 'pg';
import type { Logger } from '../infra/logger.js';
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool, withLargeStdoutBuffer } from './process.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';
import { countRowsInExportedSnapshot, countsForTables, estimateRowsFromCatalog, listDumpedTables, type DumpedTable, type TableCount } from './counts.js';
import { CustomArchiveRowCounter } from './dump-row-counter.js';
import { writeDirectoryDump } from './directory-dump.js';

export type BackupType = 'full' | 'schema' | 'data';

export interface DatabaseBackupInput extends ArtifactWriteOptions {
  connection: PgConnection;
  type: BackupType;
  /** Temporary files of the run (TMP_DIR); the passfile is not one of them: it stays private to this machine (secret-files.ts). */
  tmpDir: string;
  /**
   * Count every table's rows exactly: in the dump's own stream when it is not compressed, otherwise
   * with one scan of each table in the dump's snapshot, beside the dump.
   * When false, rows are -1 and pg_class's estimates are recorded beside them.
   */
  countRows?: boolean;
  /** pg_dump --jobs: 1 (default) dumps in the custom format; more in the directory format, tarred. */
  dumpJobs?: number;
  /**
   * Where exact counts are read: `stream`, the dump's own bytes as they pass through Node; `snapshot`,
   * a second scan of every table in the dump's snapshot. The default is the cheaper one (measured).
   */
  countFrom?: 'stream' | 'snapshot';
  logger: Logger;
}

export interface DatabaseBackupResult extends WrittenArtifact {
  serverVersion: string;
  pgDumpVersion: string;
  tablesCount: number;
  recordsCount: number | null;
  tableCounts: TableCount[];
  /** custom: pg_dump -Fc; directory: pg_dump -Fd --jobs, as a tar of its folder `database/`. */
  dumpFormat: 'custom' | 'directory';
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
      const counting = input.type !== 'schema' && input.countRows !== false;
      const dump = (input.dumpJobs ?? 1) > 1 ? dumpDirectory : dumpCustom;
      const { written, counts } = await dump(input, pgDump.path, snapshot, tables, counting);
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
        dumpFormat: dump === dumpDirectory ? 'directory' : 'custom',
        durationMs: Date.now() - started,
      };
    } catch (error) {
      await rollback(client);
      throw error;
    }
  });
}

interface Dumped {
  written: WrittenArtifact;
  /** Exact rows per table; null when not asked or when they could not be counted (recorded as unknown). */
  counts: TableCount[] | null;
}

/** pg_dump's arguments for the backup's type. */
const typeArgs = (type: BackupType): string[] => (type === 'schema' ? ['--schema-only'] : type === 'data' ? ['--data-only'] : []);

/**
 * pg_dump -Fc in the snapshot, its stdout the artifact chain's. Its rows are read from its own stream
 * only when its bytes pass through Node anyway (no compressor): routing a compressed dump through Node
 * to count it cost more than the scan it saves (bench/backup-cpu.ts, 4.15 M rows, 430 MB: about 1 CPU-s
 * more in Node, against 0.1-0.3 CPU-s for the scan on the server; counting itself is 0.09 CPU-s of
 * that). Otherwise they are counted beside the dump, in its snapshot.
 */
async function dumpCustom(input: DatabaseBackupInput, pgDumpPath: string, snapshot: string, tables: DumpedTable[], counting: boolean): Promise<Dumped> {
  const counter = counting && (input.countFrom ?? (input.compression === 'none' ? 'stream' : 'snapshot')) === 'stream' ? new CustomArchiveRowCounter() : null;
  const stopCounting = new AbortController();
  const scanning =
    counting && !counter
      ? countRowsInExportedSnapshot(input.connection, snapshot, tables, stopCounting.signal).catch((error: Error) => {
          // The dump does not depend on the counts: a backup whose rows could not be counted records them as unknown.
          if (!stopCounting.signal.aborted) input.logger.warn({ reason: error.message }, 'the rows could not be counted; they are recorded as unknown');
          return null;
        })
      : Promise.resolve(null);
  let written;
  try {
    written = await withPgToolAccess(input.connection, ({ env, dbname }) => {
      const args = ['--format=custom', '--compress=0', '--no-password', `--snapshot=${snapshot}`, ...typeArgs(input.type), dbname];
      const buffered = withLargeStdoutBuffer(pgDumpPath, args);
      const start = (stdout: Writable | 'pipe' | number) => startTool('pg_dump', buffered.path, buffered.args, { env, stdio: ['ignore', stdout, 'pipe'] });
      return writeArtifact(input, { kind: 'dump', start, ...(counter ? { observe: (chunk: Buffer) => counter.feed(chunk) } : {}) });
    });
  } catch (error) {
    stopCounting.abort();
    await scanning;
    throw error;
  }
  return { written, counts: counter ? await exactCounts(input, snapshot, tables, () => counter.finish().rows) : await scanning };
}

/**
 * pg_dump -Fd --jobs in the snapshot, tarred into the artifact, its rows counted in the data files
 * beside the tar.
 */
async function dumpDirectory(input: DatabaseBackupInput, pgDumpPath: string, snapshot: string, tables: DumpedTable[], counting: boolean): Promise<Dumped> {
  const { rows, countFailure, ...written } = await withPgToolAccess(input.connection, ({ env, dbname }) =>
    writeDirectoryDump({
      ...input,
      pgDumpPath,
      env,
      jobs: input.dumpJobs!,
      countRows: counting,
      args: ['--no-password', `--snapshot=${snapshot}`, ...typeArgs(input.type), dbname],
    }),
  );
  input.logger.info({ jobs: input.dumpJobs, bytes: written.sizeBytes }, 'dumped in the directory format with parallel jobs, stored as one tar');
  if (!counting) return { written, counts: null };
  const fromDump = () => {
    if (countFailure) throw countFailure;
    return rows!;
  };
  return { written, counts: await exactCounts(input, snapshot, tables, fromDump) };
}

/**
 * Each table's rows as the dump wrote them, read from the dump itself (`fromDump`). Should that not be
 * readable (a pg_dump whose archive format this reader does not know), they are counted again in the
 * dump's snapshot, which the open transaction still holds: a second scan of every table, logged.
 * Null when neither worked: the rows are then recorded as unknown.
 */
async function exactCounts(input: DatabaseBackupInput, snapshot: string, tables: DumpedTable[], fromDump: () => Map<string, number>): Promise<TableCount[] | null> {
  try {
    return countsForTables(tables, fromDump());
  } catch (error) {
    input.logger.warn({ reason: (error as Error).message }, 'the rows could not be counted from the dump itself; counting them with a second scan of every table');
  }
  try {
    return await countRowsInExportedSnapshot(input.connection, snapshot, tables, new AbortController().signal);
  } catch (error) {
    input.logger.warn({ reason: (error as Error).message }, 'the rows could not be counted; they are recorded as unknown');
    return null;
  }
}

async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {});
}
