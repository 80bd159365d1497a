// Taking a PostgreSQL backup: pg_dump (custom format, its own compression off) written through the
// artifact chain (write-artifact.ts): zstd/gzip, age encryption, SHA-256, every destination at once.
// Row counts are exact: read from the dump's own stream as it passes (dump-row-counter.ts) when its
// bytes go through Node anyway (no compression); otherwise counted beside the dump in its snapshot.
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import type { Logger } from '../infra/logger.js';
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool } from './process.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';
import { countRowsInExportedSnapshot, countsForTables, estimateRowsFromCatalog, listDumpedTables, type DumpedTable, type TableCount } from './counts.js';
import { CustomArchiveRowCounter } from './dump-row-counter.js';
import { ThreadedRowCounter } from './dump-row-counter-thread.js';

/** Reads rows from the dump's stream as it passes. */
interface StreamCounter {
  feed(chunk: Buffer): Promise<void> | undefined | void;
  rows(): Promise<Map<string, number>>;
  stop(): void;
}

function streamCounter(threaded: boolean): StreamCounter {
  if (threaded) {
    const thread = new ThreadedRowCounter();
    return { feed: (chunk) => thread.feed(chunk), rows: () => thread.finish(), stop: () => thread.stop() };
  }
  const counter = new CustomArchiveRowCounter();
  return { feed: (chunk) => counter.feed(chunk), rows: async () => counter.finish().rows, stop: () => {} };
}

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
  /**
   * Where exact counts are read: `stream`, the dump's own bytes as they pass through Node; `snapshot`,
   * a second scan of every table in the dump's snapshot. The default is the cheaper one (measured).
   */
  countFrom?: 'stream' | 'stream-thread' | 'snapshot' | 'snapshot-serial';
  logger: Logger;
}

export interface DatabaseBackupResult extends WrittenArtifact {
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
      const counting = input.type !== 'schema' && input.countRows !== false;
      // Read from the dump's stream only when its bytes pass through Node anyway (no compressor):
      // routing a compressed dump through Node to count it cost more than the scan it saves
      // (pnpm bench, 2 cores: 1.56x instead of 1.34x the pg_dump | zstd script).
      const from = input.countFrom ?? (input.compression === 'none' ? 'stream' : 'snapshot');
      const counter = counting && from.startsWith('stream') ? streamCounter(from === 'stream-thread') : null;
      const stopCounting = new AbortController();
      const scanning =
        counting && !counter
          ? countRowsInExportedSnapshot(connection, snapshot, tables, stopCounting.signal, { parallel: input.countFrom !== 'snapshot-serial' }).catch((error: Error) => {
              // The dump does not depend on the counts: a backup whose rows could not be counted records them as unknown.
              if (!stopCounting.signal.aborted) logger.warn({ reason: error.message }, 'the rows could not be counted; they are recorded as unknown');
              return null;
            })
          : Promise.resolve(null);
      let written;
      try {
        written = await dumpToTargets(input, pgDump.path, snapshot, counter);
      } catch (error) {
        stopCounting.abort();
        counter?.stop();
        await scanning;
        throw error;
      }
      const counts = counter ? await exactCounts(input, snapshot, tables, counter) : await scanning;
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

/**
 * Each table's rows as the dump wrote them, read from its own stream. Should that stream not be
 * readable (a pg_dump whose archive format this reader does not know), they are counted again in the
 * dump's snapshot, which the open transaction still holds: a second scan of every table, logged.
 * Null when neither worked: the rows are then recorded as unknown.
 */
async function exactCounts(input: DatabaseBackupInput, snapshot: string, tables: DumpedTable[], counter: StreamCounter): Promise<TableCount[] | null> {
  try {
    return countsForTables(tables, await counter.rows());
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

async function dumpToTargets(input: DatabaseBackupInput, pgDumpPath: string, snapshot: string, counter: StreamCounter | null): Promise<WrittenArtifact> {
  return withPgToolAccess(input.connection, ({ env, dbname }) => {
    const args = [
      '--format=custom',
      '--compress=0',
      '--no-password',
      `--snapshot=${snapshot}`,
      ...(input.type === 'schema' ? ['--schema-only'] : input.type === 'data' ? ['--data-only'] : []),
      dbname,
    ];
    if (!counter) return writeArtifact(input, { kind: 'dump', start: (stdout) => startTool('pg_dump', pgDumpPath, args, { env, stdio: ['ignore', stdout, 'pipe'] }) });
    // Its bytes pass through Node to be counted: written in large blocks, they cost Node fewer reads.
    const buffered = STDBUF ? ([STDBUF, [`-o${DUMP_WRITE_BLOCK}`, pgDumpPath, ...args]] as const) : ([pgDumpPath, args] as const);
    const start = (stdout: Writable | 'pipe') => startTool('pg_dump', buffered[0], [...buffered[1]], { env, stdio: ['ignore', stdout, 'pipe'] });
    return writeArtifact(input, { kind: 'dump', start, observe: (chunk) => counter.feed(chunk) });
  });
}

/**
 * coreutils' stdbuf, which starts pg_dump with a larger stdout buffer: it then writes 1 MiB at a
 * time rather than 4 KiB, and Node reads the pipe in full 64 KiB pieces (measured on 430 MB: 7,000
 * reads instead of 16,000–18,000, a quarter less CPU in Node). Without it, pg_dump runs as it is.
 */
const STDBUF = ['/usr/bin/stdbuf', '/bin/stdbuf'].find((path) => existsSync(path)) ?? null;
const DUMP_WRITE_BLOCK = 1024 * 1024;

async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {});
}
