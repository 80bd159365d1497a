// Running a backup job in a worker: take the source's lock, claim the row, dump to every destination,
// record the artifacts, write manifest.json and RESTORE.md, complete the row. The same steps serve
// the safety backup a restore takes first (executeBackup, under the restore's lock).
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type { Backup, Destination, Source } from '../../infra/db.js';
import type { Logger } from '../../infra/logger.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import { createLiveRunLog, recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { runDatabaseBackup, type BackupType as DumpType } from '../../engine/backup-pipeline.js';
import { runBaseBackup } from '../../engine/base-backup.js';
import { defaultFileExcludes, runFilesBackup } from '../../engine/files-archive.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { artifactSuffix } from '../../engine/compression.js';
import { manifestJson, restoreNotes, type Manifest, type ManifestObject } from '../../engine/manifest.js';
import { bucketLockKey, databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import type { AppContext } from '../../infra/context.js';
import { destinationDriver, destinationsForBackup } from '../destinations/destinations.js';
import { claimRun, completeRun, failRun, recordProgress } from '../../runs/transitions.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import type { RunLog } from '../../runs/run-log.js';
import type { PgConnection } from '../../engine/postgres.js';
import { failpoint } from '../../infra/failpoints.js';
import { checkFilesPath } from '../../infra/files-roots.js';
import { applyConfigurationRetention } from '../maintenance/retention.js';
import { runTimeLimitSeconds } from '../configurations/limits.js';
import { withinLimits } from '../../runs/limits.js';
import type { JobHandlers } from '../catalog.js';
import { backupServer } from './server.js';

export const COFFRE_VERSION = '0.1.0';

export async function runBackupJob(ctx: AppContext, backupId: string, hooks: RunHooks): Promise<RunOutcome> {
  const backup = await ctx.db.backup.findUnique({ where: { id: backupId }, include: { source: true } });
  if (!backup || backup.status === 'completed' || backup.status === 'failed') {
    hooks.logger.info({ backupId, status: backup?.status ?? 'missing' }, 'backup already finished: nothing to do');
    return 'skipped';
  }
  if (!backup.source) {
    await failRun(ctx, 'backup', backupId, `Source "${backup.sourceName}" was deleted before the backup ran.`);
    return 'skipped';
  }
  let subject: BackupSubject;
  try {
    subject =
      backup.source.kind === 's3'
        ? { kind: 's3', bucket: sourceBucket(ctx, backup.source) }
        : { kind: 'postgres', connection: sourceConnection(ctx, backup.source) };
  } catch (error) {
    await failRun(ctx, 'backup', backupId, `The source's settings cannot be read: ${errorMessage(error)}`);
    return 'skipped';
  }
  const lockKey =
    subject.kind === 'postgres'
      ? databaseLockKey(ctx.queues.prefix, subject.connection)
      : bucketLockKey(ctx.queues.prefix, subject.bucket);
  const lock = await tryLockDatabase(ctx.queues.redis, lockKey, ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  try {
    if (!(await claimRun(ctx, 'backup', backupId, hooks.workerId))) return 'skipped';
    const log = createLiveRunLog(ctx, 'backup', backupId, hooks.logger.child({ backupId }), backup.log);
    const seconds = await runTimeLimitSeconds(ctx, backup.configurationId);
    try {
      await withinLimits(hooks, seconds, (limits) => executeBackup(ctx, backup, backup.source!, subject, limits.hooks, log, limits.exceed));
      return 'completed';
    } catch (error) {
      await recordFailure(ctx, 'backup', backupId, error, hooks, log);
      throw error;
    }
  } finally {
    await lock.release();
  }
}

/** What a backup reads: a PostgreSQL database, or an S3 bucket (or a prefix of it). */
export type BackupSubject = { kind: 'postgres'; connection: PgConnection } | { kind: 's3'; bucket: S3StorageOptions };

/** The backup itself, for a row already claimed (running) whose lock is held. */
export async function executeBackup(
  ctx: AppContext,
  backup: Backup,
  source: Source,
  subject: BackupSubject,
  hooks: RunHooks,
  log: RunLog,
  /** Stops the run with a sentence (runs/limits.ts); without it, a size past the maximum fails the run once the artifact is written. */
  exceed?: (sentence: string) => void,
): Promise<void> {
  const started = Date.now();
  // A row requested before REQUIRE_ENCRYPTION was set must not write plaintext after it.
  if (!backup.encrypted && ctx.config.REQUIRE_ENCRYPTION) {
    throw new PermanentError('This installation requires encryption (REQUIRE_ENCRYPTION=true) and this backup was requested unencrypted: nothing was written.', 'encryption-required');
  }
  // Checked before anything is dumped: FILES_ROOTS may have changed since the configuration was saved.
  for (const path of backup.includePaths) await confineIncludePath(ctx, path);
  const destinations = await destinationsForBackup(ctx, backup.configurationId);
  const configuration = backup.configurationId
    ? await ctx.db.backupConfiguration.findUnique({ where: { id: backup.configurationId } })
    : null;
  const prefix = storagePrefix(backup);
  const suffix = artifactSuffix(backup.compression, backup.encrypted);
  log.info(`backing up ${source.name} (${backup.type}) to ${destinations.map((d) => d.name).join(', ')}`);

  const maxBytes = configuration?.maxBackupBytes ? Number(configuration.maxBackupBytes) : null;
  const tooBig = `The backup grew past its maximum of ${maxBytes} bytes (maxBackupBytes of configuration "${configuration?.name}") and was stopped: nothing was published.`;
  // Progress counts the bytes of every artifact written so far.
  let writtenBefore = 0;
  let lastProgressWrite = 0;
  const onProgress = (bytes: number) => {
    const total = writtenBefore + bytes;
    if (maxBytes !== null && total > maxBytes) exceed?.(tooBig);
    hooks.reportProgress?.(total);
    const now = Date.now();
    if (now - lastProgressWrite >= 1000) {
      lastProgressWrite = now;
      void recordProgress(ctx, 'backup', backup.id, total).catch(() => {});
    }
  };
  const drivers = destinations.map((d) => ({ destination: d, driver: destinationDriver(ctx, d) }));
  const targetsFor = (key: string) => drivers.map(({ driver }) => ({ driver, key }));
  const common = {
    compression: backup.compression,
    compressionLevel: configuration?.compressionLevel ?? undefined,
    recipients: backup.encrypted ? ctx.recipients : [],
    signal: hooks.signal,
    onProgress,
    logger: hooks.logger,
  };
  const objects: ManifestObject[] = [];
  const row: Record<string, unknown> = {};
  const manifestExtras: Partial<Manifest> = {};
  let serverFailures: { database: string; error: string }[] = [];
  try {
    await writeObjects();
    if (maxBytes !== null && objects.reduce((sum, o) => sum + o.sizeBytes, 0) > maxBytes) throw new PermanentError(tooBig, 'too-big');
    hooks.signal?.throwIfAborted();
  } catch (error) {
    // What this run published before it failed must not look complete.
    await removeObjects(drivers, objects, hooks.logger);
    throw error;
  }
  // Progress is written at most once a second while bytes flow: the last count is written now, so
  // that the row shows everything stored while the manifest is written and the run is checked.
  await recordProgress(ctx, 'backup', backup.id, objects.reduce((sum, o) => sum + o.sizeBytes, 0)).catch(() => {});
  log.phase('writing the manifest');
  await recordArtifacts(ctx, backup.id, drivers.map((d) => d.destination), objects);
  await finish();
  return;

  async function writeObjects(): Promise<void> {

  if (subject.kind === 'postgres' && source.scope === 'server') {
    log.phase('dumping every database');
    const server = await backupServer({ backup, source, connection: subject.connection, common, targetsFor, prefix, suffix, tmpDir: ctx.config.TMP_DIR, log });
    objects.push(...server.objects);
    Object.assign(row, server.row);
    Object.assign(manifestExtras, server.manifest);
    serverFailures = server.failures;
    writtenBefore += server.objects.reduce((sum, o) => sum + o.sizeBytes, 0);
  } else if (subject.kind === 'postgres' && backup.type === 'physical') {
    const key = `${prefix}/base.tar${suffix}`;
    log.phase('copying the cluster');
    const result = await runBaseBackup({ ...common, connection: subject.connection, targets: targetsFor(key) });
    log.info(`pg_basebackup ${result.toolVersion} of PostgreSQL ${result.serverVersion}: WAL ${result.walStartLsn} to ${result.walEndLsn} on timeline ${result.timeline}, ${result.sizeBytes} bytes stored in ${result.durationMs} ms`);
    objects.push({ kind: 'database', key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 });
    Object.assign(row, { serverVersion: result.serverVersion, walStartLsn: result.walStartLsn, walEndLsn: result.walEndLsn, timeline: result.timeline });
    Object.assign(manifestExtras, { serverVersion: result.serverVersion, wal: { start: result.walStartLsn, end: result.walEndLsn, timeline: result.timeline } });
    writtenBefore += result.sizeBytes;
  } else if (subject.kind === 'postgres') {
    // More than one job: pg_dump's directory format, stored as a tar of its folder.
    const parallel = backup.dumpJobs > 1;
    const key = `${prefix}/database.${parallel ? 'tar' : 'dump'}${suffix}`;
    log.phase('dumping');
    if (parallel) log.info(`dumping with pg_dump --format=directory --jobs=${backup.dumpJobs}`);
    const result = await runDatabaseBackup({ ...common, connection: subject.connection, type: backup.type as DumpType, targets: targetsFor(key), tmpDir: ctx.config.TMP_DIR, dumpJobs: backup.dumpJobs });
    log.info(
      `pg_dump ${result.pgDumpVersion} dumped PostgreSQL ${result.serverVersion}${parallel ? ` with ${backup.dumpJobs} jobs` : ''}: ${result.tablesCount} tables, ` +
        `${result.recordsCount ?? 'uncounted'} rows, ${result.sizeBytes} bytes stored in ${result.durationMs} ms`,
    );
    objects.push({ kind: 'database', key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 });
    Object.assign(row, {
      tablesCount: result.tablesCount,
      recordsCount: result.recordsCount === null ? null : BigInt(result.recordsCount),
      tableCounts: result.tableCounts as unknown as object,
      serverVersion: result.serverVersion,
      pgDumpVersion: result.pgDumpVersion,
      dumpFormat: result.dumpFormat,
    });
    Object.assign(manifestExtras, {
      serverVersion: result.serverVersion,
      pgDumpVersion: result.pgDumpVersion,
      ...(result.dumpFormat === 'directory' ? { dumpFormat: 'directory', dumpJobs: backup.dumpJobs } : {}),
      tables: result.tableCounts,
      counts: { tables: result.tablesCount, records: result.recordsCount },
    });
    writtenBefore += result.sizeBytes;
  } else {
    const key = `${prefix}/bucket.tar${suffix}`;
    log.phase('archiving the bucket');
    // The AWS SDK is loaded only for bucket sources.
    const { runBucketBackup } = await import('../../engine/bucket-archive.js');
    const result = await runBucketBackup({ ...common, source: { ...subject.bucket, logger: ctx.logger }, targets: targetsFor(key) });
    log.info(`archived ${result.objectsCount} objects (${result.objectsBytes} bytes) of bucket ${subject.bucket.bucket}: ${result.sizeBytes} bytes stored`);
    objects.push({ kind: 'bucket', key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 });
    row.objectsCount = result.objectsCount;
    manifestExtras.counts = { objects: result.objectsCount };
    writtenBefore += result.sizeBytes;
  }

  if (backup.includePaths.length > 0) {
    const key = `${prefix}/files.tar${suffix}`;
    log.phase('archiving files');
    // No patterns given means the usual ones: node_modules, .next, dist, *.log.
    const exclude = backup.excludePatterns.length > 0 ? backup.excludePatterns : defaultFileExcludes;
    const result = await runFilesBackup({ ...common, paths: backup.includePaths, exclude, confine: (path) => confineIncludePath(ctx, path), targets: targetsFor(key) });
    log.info(`archived ${result.filesCount} files of ${backup.includePaths.join(', ')}: ${result.sizeBytes} bytes stored`);
    objects.push({ kind: 'files', key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 });
    row.filesCount = result.filesCount;
    manifestExtras.counts = { ...manifestExtras.counts, files: result.filesCount };
  }
  }

  async function finish(): Promise<void> {

  const main = objects[0]!;
  const totalBytes = objects.reduce((sum, o) => sum + o.sizeBytes, 0);
  const manifest: Manifest = {
    format: 'coffre-backup/v1',
    backupId: backup.id,
    name: backup.name,
    type: backup.type,
    source: source.name,
    createdAt: backup.createdAt.toISOString(),
    completedAt: new Date().toISOString(),
    coffreVersion: COFFRE_VERSION,
    compression: backup.compression,
    encryption: backup.encrypted ? { format: 'age-v1', recipients: ctx.recipients } : null,
    objects,
    counts: {},
    ...manifestExtras,
  };
  await writeSidecars(ctx, backup.id, drivers, prefix, manifest);
  if (serverFailures.length > 0) {
    // The others stay stored and recorded; the run says which failed.
    const names = serverFailures.map((f) => `"${f.database}" (${f.error})`).join(', ');
    throw new PermanentError(`${serverFailures.length === 1 ? 'Database' : 'Databases'} ${names} could not be backed up; the other ${objects.length - 1} databases and the globals are kept in this backup.`, 'server-database-failed');
  }

  await failpoint('backup.before-complete', backup.id);
  const finished = await completeRun(ctx, 'backup', backup.id, {
    ...row,
    sizeBytes: BigInt(totalBytes),
    checksumSha256: main.checksumSha256,
    durationMs: Date.now() - started,
    progressBytes: BigInt(totalBytes),
    storagePrefix: prefix,
    log: log.text(),
  });
  if (!finished) log.warn('the row was no longer running when the backup finished (marked failed by reconciliation?)');
  if (configuration) {
    await ctx.db.backupConfiguration.update({ where: { id: configuration.id }, data: { lastRunAt: new Date() } });
    if (finished) await applyRetentionAfterRun(ctx, configuration.id, hooks.logger);
  }
  }
}

async function removeObjects(drivers: { driver: ReturnType<typeof destinationDriver> }[], objects: ManifestObject[], logger: Logger): Promise<void> {
  for (const { driver } of drivers) {
    for (const object of objects) {
      await driver.delete(object.key).catch((error: unknown) => logger.warn({ key: object.key, err: errorMessage(error) }, 'an object of the failed run could not be removed: reconciliation will'));
    }
  }
}

/** The configuration's retention, now that it has one more backup; a failure waits for the maintenance run. */
async function applyRetentionAfterRun(ctx: AppContext, configurationId: string, logger: Logger): Promise<void> {
  try {
    const report = await applyConfigurationRetention(ctx, configurationId);
    if (report.expired.length) logger.info({ expired: report.expired.map((e) => e.backupId) }, 'retention applied after the run');
    for (const failure of report.failures) logger.warn(failure, 'an expired backup could not be removed: the maintenance run tries again');
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, 'retention could not be applied after the run: the maintenance run applies it');
  }
}

/** The real path of an include path, or a PermanentError saying why it may not be read. */
async function confineIncludePath(ctx: AppContext, path: string): Promise<string> {
  const verdict = await checkFilesPath(ctx.config, path);
  if (!verdict.ok) throw new PermanentError(`The include path '${path}' ${verdict.problem}: nothing was backed up.`, 'files-path-refused');
  return verdict.realPath;
}

/** `YYYY/MM/DD/<backup id>`: dated folders, the id keeps every run apart and maps objects back to rows. */
export function storagePrefix(backup: Pick<Backup, 'id' | 'createdAt'>): string {
  const d = backup.createdAt.toISOString();
  return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${backup.id}`;
}

export async function recordArtifacts(ctx: AppContext, backupId: string, destinations: Destination[], objects: ManifestObject[]): Promise<void> {
  for (const destination of destinations) {
    for (const object of objects) await recordArtifact(ctx, backupId, destination, { ...object, verifiedAt: new Date() });
  }
}

/** The row of one stored object of a backup in one destination (written again when a run is retried). */
async function recordArtifact(
  ctx: AppContext,
  backupId: string,
  destination: Destination,
  object: { kind: string; key: string; sizeBytes: number; checksumSha256: string; verifiedAt?: Date },
): Promise<void> {
  const columns = { key: object.key, sizeBytes: BigInt(object.sizeBytes), checksumSha256: object.checksumSha256, ...(object.verifiedAt ? { verifiedAt: object.verifiedAt } : {}) };
  await ctx.db.backupArtifact.upsert({
    where: { backupId_destinationId_kind: { backupId, destinationId: destination.id, kind: object.kind } },
    create: { backupId, destinationId: destination.id, kind: object.kind, ...columns },
    update: { ...columns, deletedAt: null },
  });
}

export async function writeSidecars(
  ctx: AppContext,
  backupId: string,
  drivers: { destination: Destination; driver: ReturnType<typeof destinationDriver> }[],
  prefix: string,
  manifest: Manifest,
): Promise<void> {
  const files: { kind: 'manifest' | 'restore-notes'; key: string; body: string }[] = [
    { kind: 'manifest', key: `${prefix}/manifest.json`, body: manifestJson(manifest) },
    { kind: 'restore-notes', key: `${prefix}/RESTORE.md`, body: restoreNotes(manifest) },
  ];
  for (const { destination, driver } of drivers) {
    for (const file of files) {
      const bytes = Buffer.from(file.body);
      await driver.put(file.key, Readable.from([bytes]));
      await recordArtifact(ctx, backupId, destination, { kind: file.kind, key: file.key, sizeBytes: bytes.length, checksumSha256: createHash('sha256').update(bytes).digest('hex') });
    }
  }
}

/** The handler of the backups feature's job (jobs.ts). */
export const backupHandlers = {
  'backup.run': (ctx, payload, hooks) => runBackupJob(ctx, payload.backupId, hooks),
} satisfies Pick<JobHandlers, 'backup.run'>;
