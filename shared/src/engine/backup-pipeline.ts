// Taking a PostgreSQL backup: pg_dump (custom format, its own compression off) written through the
// artifact chain (write-artifact.ts): zstd/gzip through an OS pipe, age encryption, SHA-256, every
// destination at once. The dump and the row counts read one exported snapshot.
import type pg from 'pg';
import type { Logger } from '../infra/logger.js';
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool } from './process.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';
import { countRowsInExportedSnapshot, estimateRowsFromCatalog, listDumpedTables, type TableCount } from './counts.js';

export type BackupType = 'full' | 'schema' | 'data';

export interface DatabaseBackupInput extends ArtifactWriteOptions {
  connection: PgConnection;
  type: BackupType;
  /** Temporary files of the run (TMP_DIR); the passfile is not one of them: it stays private to this machine (secret-files.ts). */
  tmpDir: string;
  /**
   * Count every table's rows in the dump's own snapshot (exact; one scan of each table, beside the dump).
   * When false, rows are -1 and pg_class's estimates are recorded beside them.
   */
  countRows?: boolean;
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

async function dumpToTargets(input: DatabaseBackupInput, pgDumpPath: string, snapshot: string): Promise<WrittenArtifact> {
  return withPgToolAccess(input.connection, ({ env, dbname }) => {
    const args = [
      '--format=custom',
      '--compress=0',
      '--no-password',
      `--snapshot=${snapshot}`,
      ...(input.type === 'schema' ? ['--schema-only'] : input.type === 'data' ? ['--data-only'] : []),
      dbname,
    ];
    return writeArtifact(input, { kind: 'dump', start: (stdout) => startTool('pg_dump', pgDumpPath, args, { env, stdio: ['ignore', stdout, 'pipe'] }) });
  });
}

async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {});
}
