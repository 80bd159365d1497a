// A backup of a whole server: the globals first (roles, memberships, tablespaces), then every
// database the source's patterns select, each its own artifact of the one backup. A database that
// fails does not stop the others: they are stored and recorded, and the run then fails naming it.
import type { Backup, Source } from '../../infra/db.js';
import { errorMessage } from '../../infra/errors.js';
import { runDatabaseBackup, type BackupType as DumpType } from '../../engine/backup-pipeline.js';
import { dumpGlobals, listServerDatabases } from '../../engine/server-backup.js';
import type { ArtifactWriteOptions } from '../../engine/write-artifact.js';
import type { Manifest, ManifestObject } from '../../engine/manifest.js';
import type { FanOutTarget } from '../../engine/streams.js';
import type { PgConnection } from '../../engine/postgres.js';
import type { Logger } from '../../infra/logger.js';
import type { RunLog } from '../../runs/run-log.js';

export interface ServerBackupInput {
  backup: Backup;
  source: Source;
  connection: PgConnection;
  common: Omit<ArtifactWriteOptions, 'targets'> & { logger: Logger };
  targetsFor: (key: string) => FanOutTarget[];
  prefix: string;
  suffix: string;
  tmpDir: string;
  log: RunLog;
}

export interface ServerBackupResult {
  objects: ManifestObject[];
  row: Record<string, unknown>;
  manifest: Partial<Manifest>;
  /** The databases that could not be backed up, with why. */
  failures: { database: string; error: string }[];
}

export async function backupServer(input: ServerBackupInput): Promise<ServerBackupResult> {
  const { backup, source, connection, common, log } = input;
  const databases = await listServerDatabases(connection, source.includeDatabases, source.excludeDatabases);
  log.info(`server ${connection.host}:${connection.port}: ${databases.length} databases to back up (${databases.join(', ')}) and the globals`);
  const objects: ManifestObject[] = [];
  const globalsKey = `${input.prefix}/globals.sql${input.suffix}`;
  const globals = await dumpGlobals({ ...common, connection, targets: input.targetsFor(globalsKey) });
  log.info(`globals: ${globals.sizeBytes} bytes stored${globals.noRolePasswords ? ' (without role passwords: the role may not read pg_authid)' : ''}`);
  objects.push({ kind: 'globals', key: globalsKey, sizeBytes: globals.sizeBytes, checksumSha256: globals.checksumSha256 });

  const entries: NonNullable<Manifest['server']>['databases'] = [];
  const failures: ServerBackupResult['failures'] = [];
  let tables = 0;
  let records: number | null = 0;
  let versions: { serverVersion: string; pgDumpVersion: string } | null = null;
  for (const [index, database] of databases.entries()) {
    const key = `${input.prefix}/databases/${String(index + 1).padStart(3, '0')}-${fileSafe(database)}.dump${input.suffix}`;
    try {
      const result = await runDatabaseBackup({ ...common, connection: { ...connection, database }, type: backup.type as DumpType, targets: input.targetsFor(key), tmpDir: input.tmpDir });
      log.info(`database "${database}": ${result.tablesCount} tables, ${result.recordsCount ?? 'uncounted'} rows, ${result.sizeBytes} bytes stored`);
      objects.push({ kind: `database:${database}`, key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 });
      entries.push({ name: database, key, tables: result.tablesCount, records: result.recordsCount });
      tables += result.tablesCount;
      records = records === null || result.recordsCount === null ? null : records + result.recordsCount;
      versions ??= { serverVersion: result.serverVersion, pgDumpVersion: result.pgDumpVersion };
    } catch (error) {
      if (common.signal?.aborted) throw error;
      log.warn(`database "${database}" failed: ${errorMessage(error)}`);
      failures.push({ database, error: errorMessage(error) });
    }
  }
  return {
    objects,
    failures,
    row: { tablesCount: tables, recordsCount: records === null ? null : BigInt(records), ...(versions ?? {}) },
    manifest: {
      ...(versions ?? {}),
      counts: { tables, records },
      server: { databases: entries, failed: failures, globals: { key: globalsKey, noRolePasswords: globals.noRolePasswords, pgDumpallVersion: globals.pgDumpallVersion } },
    },
  };
}

/** A database name as a file name: what is not a plain character becomes "_" (the manifest keeps the real name). */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
}
