// Restores in a worker: lock the target, take a safety backup of what it holds, then restore in one
// checked read of the artifact (a database in one transaction that commits only once every byte
// matched; files and bucket objects staged and published only then).
import type { Backup, Restore, Source } from '../../infra/db.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import type { PgConnection } from '../../engine/postgres.js';
import { runDatabaseRestore } from '../../engine/restore-pipeline.js';
import type { TableCount } from '../../engine/counts.js';
import type { BackupType as DumpType } from '../../engine/backup-pipeline.js';
import { checkRestoreTarget } from './targets.js';
import type { AppContext } from '../../infra/context.js';
import { defaultBackupName } from '../backups/commands.js';
import { destinationDriver } from '../destinations/destinations.js';
import { claimRun, completeRun, failRun, recordProgress } from '../../runs/transitions.js';
import { bucketLockKey, databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { s3KeyPrefix } from '../../storage/s3-location.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { runFilesRestore } from '../../engine/files-archive.js';
import type { ArtifactSource } from '../../engine/verify-artifact.js';
import { checkFilesPath } from '../../infra/files-roots.js';
import { createRunLog } from '../../runs/run-log.js';
import { executeBackup, type BackupSubject } from '../backups/job.js';
import { recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { databaseExists } from './commands.js';
import type { JobHandlers } from '../catalog.js';

/** The worker's side: lock the target, safety backup, verify, restore. */
export async function runRestoreJob(ctx: AppContext, restoreId: string, hooks: RunHooks): Promise<RunOutcome> {
  const restore = await ctx.db.restore.findUnique({ where: { id: restoreId }, include: { backup: true, targetSource: true } });
  if (!restore || restore.status === 'completed' || restore.status === 'failed') return 'skipped';
  if (restore.targetKind !== 'database') return runArchiveRestore(ctx, restore, hooks);
  if (!restore.targetSource) {
    await failRun(ctx, 'restore', restoreId, 'The target source was deleted before the restore ran.');
    return 'skipped';
  }
  const target = { ...sourceConnection(ctx, restore.targetSource), database: restore.targetDatabase! };
  const lock = await tryLockDatabase(ctx.queues.redis, databaseLockKey(ctx.queues.prefix, target), ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  const log = createRunLog(hooks.logger.child({ restoreId }));
  try {
    if (!(await claimRun(ctx, 'restore', restoreId, hooks.workerId))) return 'skipped';
    const started = Date.now();
    try {
      await checkRestoreTarget(ctx, target, { allowSystemDatabase: restore.allowSystemDatabase });
      const createDatabase = !(await databaseExists(target, target.database));
      if (!createDatabase) {
        const safety = await takeSafetyBackup(ctx, restore.targetSource, { kind: 'postgres', connection: target }, hooks, log);
        await ctx.db.restore.update({ where: { id: restoreId }, data: { safetyBackupId: safety.id } });
      } else {
        log.info(`database "${target.database}" does not exist: it will be created, so no safety backup is needed`);
      }
      await restoreBackupInto(ctx, restore.backup, target, createDatabase, hooks, log, (bytes) => {
        void recordProgress(ctx, 'restore', restoreId, bytes).catch(() => {});
      });
      log.info(`restored "${restore.backup.name}" into ${target.database} in ${Date.now() - started} ms`);
      await completeRun(ctx, 'restore', restoreId, { durationMs: Date.now() - started, createDatabase, log: log.text() });
      return 'completed';
    } catch (error) {
      // A restore is never retried on its own: whatever failed, the row says so now.
      await recordFailure(ctx, 'restore', restoreId, error, { ...hooks, attempt: hooks.maxAttempts }, log);
      throw error;
    }
  } finally {
    await lock.release();
  }
}

/** A full backup of the target taken just before it is overwritten (trigger `pre-restore`); restores to a moment take it too. */
export async function takeSafetyBackup(
  ctx: AppContext,
  source: Source,
  subject: BackupSubject,
  hooks: RunHooks,
  log: ReturnType<typeof createRunLog>,
): Promise<Backup> {
  const what = subject.kind === 'postgres' ? `database "${subject.connection.database}"` : `bucket ${describeBucketTarget(subject.bucket)}`;
  const base = subject.kind === 'postgres' ? subject.connection.database : subject.bucket.bucket;
  const safety = await ctx.db.backup.create({
    data: {
      name: defaultBackupName(`${base}-pre-restore`, 'full', new Date()),
      type: 'full',
      status: 'pending',
      trigger: 'pre-restore',
      sourceId: source.id,
      sourceName: source.name,
      compression: 'zstd',
      encrypted: ctx.recipients.length > 0,
      requestedBy: 'coffre',
    },
  });
  log.info(`taking a safety backup of ${what} first: ${safety.name}`);
  await claimRun(ctx, 'backup', safety.id, hooks.workerId);
  try {
    await executeBackup(ctx, safety, source, subject, { ...hooks, reportProgress: undefined }, createRunLog(hooks.logger.child({ backupId: safety.id })));
  } catch (error) {
    await failRun(ctx, 'backup', safety.id, errorMessage(error));
    throw new PermanentError(`The safety backup of ${what} failed, so nothing was restored: ${errorMessage(error)}`);
  }
  return safety;
}

/** Verifies and restores a backup's database artifact into a target (used by restores and verifications). */
export async function restoreBackupInto(
  ctx: AppContext,
  backup: Backup,
  target: PgConnection,
  createDatabase: boolean,
  hooks: RunHooks,
  log: ReturnType<typeof createRunLog>,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  const identities = backup.encrypted ? await ctx.identities() : [];
  await withEachCopy(ctx, backup, 'database', log, (artifact) =>
    runDatabaseRestore({
      artifact,
      compression: backup.compression,
      identities,
      target,
      createDatabase,
      type: backup.type as DumpType,
      tables: (backup.tableCounts as unknown as TableCount[] | null) ?? [],
      tmpDir: ctx.config.TMP_DIR,
      signal: hooks.signal,
      onProgress: (bytes) => onProgress?.(bytes),
      logger: hooks.logger,
    }),
  );
}

/**
 * Runs `restore` on the first destination holding a good copy of an artifact: a copy that is missing
 * or damaged (a PermanentError, such as an integrity failure) is reported and the next one is tried.
 */
export async function withEachCopy<T>(
  ctx: AppContext,
  backup: Backup,
  kind: 'database' | 'files' | 'bucket',
  log: ReturnType<typeof createRunLog>,
  restore: (artifact: ArtifactSource) => Promise<T>,
): Promise<T> {
  const artifacts = await ctx.db.backupArtifact.findMany({
    where: { backupId: backup.id, kind, deletedAt: null },
    include: { destination: true },
    orderBy: { createdAt: 'asc' },
  });
  if (artifacts.length === 0) throw new PermanentError(`Backup "${backup.name}" has no stored ${kind} artifact left.`);
  let lastError: unknown = null;
  for (const artifact of artifacts) {
    const driver = destinationDriver(ctx, artifact.destination);
    const stored = await driver.stat(artifact.key).catch(() => null);
    if (!stored) {
      log.warn(`destination ${artifact.destination.name} does not hold ${artifact.key}`);
      lastError = new PermanentError(`The ${kind} artifact is missing from destination ${artifact.destination.name}.`);
      continue;
    }
    log.info(`verifying and restoring the ${kind} artifact from destination ${artifact.destination.name}`);
    try {
      return await restore({
        open: () => driver.get(artifact.key),
        storedSizeBytes: stored.sizeBytes,
        sizeBytes: Number(artifact.sizeBytes),
        checksumSha256: artifact.checksumSha256,
        encrypted: backup.encrypted,
      });
    } catch (error) {
      lastError = error;
      log.warn(`restore from ${artifact.destination.name} failed: ${errorMessage(error)}`);
      if (!(error instanceof PermanentError) || artifacts.length === 1) throw error;
    }
  }
  throw lastError instanceof Error ? lastError : new PermanentError('No destination holds a usable copy of the artifact.');
}

/**
 * Files into a directory, or objects into a bucket: read once and checked as they go, staged, and
 * published only once the whole artifact matched what the backup recorded.
 */
async function runArchiveRestore(
  ctx: AppContext,
  restore: Restore & { backup: Backup; targetSource: Source | null },
  hooks: RunHooks,
): Promise<RunOutcome> {
  const bucketTarget = restore.targetKind === 'bucket' && restore.targetSource ? bucketTargetOf(ctx, restore) : null;
  const lockKey = bucketTarget ? bucketLockKey(ctx.queues.prefix, bucketTarget) : `${ctx.queues.prefix}:lock:directory:${restore.targetPath}`;
  const lock = await tryLockDatabase(ctx.queues.redis, lockKey, ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  try {
    if (!(await claimRun(ctx, 'restore', restore.id, hooks.workerId))) return 'skipped';
    const log = createRunLog(hooks.logger.child({ restoreId: restore.id }));
    const started = Date.now();
    const { backup } = restore;
    try {
      const identities = backup.encrypted ? await ctx.identities() : [];
      const onProgress = (bytes: number) => void recordProgress(ctx, 'restore', restore.id, bytes).catch(() => {});
      if (restore.targetKind === 'files') {
        // Checked again now: FILES_ROOTS may have changed, or a link been planted, since the request.
        const allowed = await checkFilesPath(ctx.config, restore.targetPath!);
        if (!allowed.ok) throw new PermanentError(`The target directory ${restore.targetPath} ${allowed.problem}. Nothing was restored.`);
        const result = await withEachCopy(ctx, backup, 'files', log, (artifact) =>
          runFilesRestore({ artifact, compression: backup.compression, identities, targetDir: allowed.realPath, signal: hooks.signal, onProgress }),
        );
        log.info(`restored ${result.filesCount} files into directory ${restore.targetPath}`);
      } else {
        if (!restore.targetSource || !bucketTarget) throw new PermanentError('The target source was deleted before the restore ran.');
        const { runBucketRestore } = await import('../../engine/bucket-archive.js');
        const { prefixHoldsObjects } = await import('../../engine/bucket-staging.js');
        const { createS3Bucket } = await import('../../storage/s3.js');
        if (await prefixHoldsObjects(createS3Bucket(bucketTarget), s3KeyPrefix(bucketTarget.prefix), hooks.signal)) {
          const safety = await takeSafetyBackup(ctx, restore.targetSource, { kind: 's3', bucket: bucketTarget }, hooks, log);
          await ctx.db.restore.update({ where: { id: restore.id }, data: { safetyBackupId: safety.id } });
        } else {
          log.info(`bucket ${describeBucketTarget(bucketTarget)} holds no object: no safety backup is needed`);
        }
        const result = await withEachCopy(ctx, backup, 'bucket', log, (artifact) =>
          runBucketRestore({ artifact, compression: backup.compression, identities, target: bucketTarget, stagingId: restore.id, signal: hooks.signal, onProgress, logger: hooks.logger }),
        );
        log.info(`restored ${result.objectsCount} objects (${result.objectsBytes} bytes) into bucket ${describeBucketTarget(bucketTarget)}`);
      }
      await completeRun(ctx, 'restore', restore.id, { durationMs: Date.now() - started, log: log.text() });
      return 'completed';
    } catch (error) {
      await recordFailure(ctx, 'restore', restore.id, error, { ...hooks, attempt: hooks.maxAttempts }, log);
      throw error;
    }
  } finally {
    await lock.release();
  }
}

/** The bucket and prefix a bucket restore writes into. */
function bucketTargetOf(ctx: AppContext, restore: Restore & { targetSource: Source | null }): S3StorageOptions {
  return { ...sourceBucket(ctx, restore.targetSource!), prefix: restore.targetPath ?? undefined, logger: ctx.logger };
}

/** "shop-media/uploads/" at its endpoint, for logs and sentences. */
export function describeBucketTarget(bucket: Pick<S3StorageOptions, 'bucket' | 'prefix'>): string {
  return `${bucket.bucket}/${s3KeyPrefix(bucket.prefix)}`;
}

/** The handler of the restores feature's job (jobs.ts). */
export const restoreHandlers = {
  'restore.run': (ctx, payload, hooks) => runRestoreJob(ctx, payload.restoreId, hooks),
} satisfies Pick<JobHandlers, 'restore.run'>;
