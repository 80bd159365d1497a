// Restores in a worker: lock the target; a database over an existing one is loaded beside it and
// swapped in (swap.ts); otherwise a safety backup of what the target holds, then a restore in one
// checked read of the artifact (a database in one transaction that commits only once every byte
// matched; files and bucket objects staged and published only then).
import type { Backup, Restore, Source } from '../../infra/db.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import { failpoint } from '../../infra/failpoints.js';
import type { PgConnection } from '../../engine/postgres.js';
import { createDatabase as createEmptyDatabase, dropDatabase } from '../../engine/restore-pipeline.js';
import { swapRefusal } from '../../engine/database-swap.js';
import { loadAndCheck, restoreBySwap, type RestoreProgress } from './swap.js';
import { checkRestoreTarget } from './targets.js';
import type { AppContext } from '../../infra/context.js';
import { defaultBackupName } from '../backups/commands.js';
import { claimRun, completeRun, failRun, recordLoadedRows, recordProgress } from '../../runs/transitions.js';
import { bucketLockKey, databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { s3KeyPrefix } from '../../storage/s3-location.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { runFilesRestore } from '../../engine/files-archive.js';
import { checkFilesPath } from '../../infra/files-roots.js';
import type { RunLog } from '../../runs/run-log.js';
import { executeBackup, type BackupSubject } from '../backups/job.js';
import { createLiveRunLog, recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { databaseExists } from './commands.js';
import type { JobHandlers } from '../catalog.js';
import { runTimeLimitSeconds } from '../configurations/limits.js';
import { startRunLimit } from '../../runs/limits.js';
import { runServerRestore } from './server.js';
import { restoreBackupInto, withEachCopy } from './copies.js';

export { restoreBackupInto, withEachCopy, type ArtifactKindName } from './copies.js';

/** The worker's side: lock the target, safety backup, verify, restore. */
export async function runRestoreJob(ctx: AppContext, restoreId: string, hooks: RunHooks): Promise<RunOutcome> {
  const restore = await ctx.db.restore.findUnique({ where: { id: restoreId }, include: { backup: true, targetSource: true } });
  if (!restore || restore.status === 'completed' || restore.status === 'failed') return 'skipped';
  if (restore.targetKind === 'server') return runServerRestore(ctx, restore, hooks);
  if (restore.targetKind !== 'database') return runArchiveRestore(ctx, restore, hooks);
  if (!restore.targetSource) {
    await failRun(ctx, 'restore', restoreId, 'The target source was deleted before the restore ran.');
    return 'skipped';
  }
  const target = { ...sourceConnection(ctx, restore.targetSource), database: restore.targetDatabase! };
  const lock = await tryLockDatabase(ctx.queues.redis, databaseLockKey(ctx.queues.prefix, target), ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  const log = createLiveRunLog(ctx, 'restore', restoreId, hooks.logger.child({ restoreId }));
  try {
    if (!(await claimRun(ctx, 'restore', restoreId, hooks.workerId))) return 'skipped';
    const started = Date.now();
    const limit = startRunLimit(hooks, await runTimeLimitSeconds(ctx, restore.backup.configurationId));
    const claimed = hooks;
    hooks = limit.hooks;
    try {
      await checkRestoreTarget(ctx, target, { allowSystemDatabase: restore.allowSystemDatabase });
      const createDatabase = !(await databaseExists(target, target.database));
      const onProgress = (bytes: number) => void recordProgress(ctx, 'restore', restoreId, bytes).catch(() => {});
      const progress: RestoreProgress = { bytes: onProgress, rows: (rows) => recordLoadedRows(ctx, restoreId, rows).catch(() => {}) };
      const done = (data: { method: string; keptDatabase?: string; swapMs?: number }) =>
        completeRun(ctx, 'restore', restoreId, { durationMs: Date.now() - started, createDatabase, ...data, log: log.text() }).then(() => 'completed' as const);
      const whole = restore.backup.type !== 'data';
      // pg_restore --jobs reads coffre's own dumps (custom format, or directory format unpacked); an
      // imported tar or plain SQL dump, and one database of a server backup, are restored by today's
      // path (one transaction).
      const parallel = whole && (restore.backup.dumpFormat === 'custom' || restore.backup.dumpFormat === 'directory') && !restore.sourceDatabase;
      if (whole && !parallel) {
        log.info(restore.sourceDatabase ? `database "${restore.sourceDatabase}" of a server backup is restored in one transaction` : `an imported ${restore.backup.dumpFormat} dump is restored in one transaction`);
      }
      if (createDatabase && parallel) {
        log.info(`database "${target.database}" does not exist: it is created and loaded with pg_restore --jobs=${ctx.config.RESTORE_JOBS}`);
        await restoreIntoNewDatabase(ctx, restore, target, hooks, log, progress);
        log.info(`restored "${restore.backup.name}" into ${target.database} in ${Date.now() - started} ms`);
        return await done({ method: 'new-database' });
      }
      if (!createDatabase && parallel) {
        const refusal = await swapRefusal(target);
        if (!refusal) {
          const swapped = await restoreBySwap(ctx, restore, target, hooks, log, progress);
          log.info(`restored "${restore.backup.name}" into ${target.database} in ${Date.now() - started} ms`);
          return await done({ method: 'swap', ...swapped });
        }
        log.warn(`restoring in place, in one transaction, instead of loading beside the target and swapping: ${refusal}`);
      } else if (!whole) {
        log.info('a data-only backup is restored in place, in one transaction, into the tables it fills');
      }
      if (!createDatabase) {
        log.phase('taking a safety backup');
        const safety = await takeSafetyBackup(ctx, restore.targetSource, { kind: 'postgres', connection: target }, hooks, log);
        await ctx.db.restore.update({ where: { id: restoreId }, data: { safetyBackupId: safety.id } });
      } else {
        log.info(`database "${target.database}" does not exist: it will be created, so no safety backup is needed`);
      }
      await restoreBackupInto(ctx, restore.backup, target, createDatabase, hooks, log, onProgress, restore.sourceDatabase ? { kind: `database:${restore.sourceDatabase}` } : {});
      log.info(`restored "${restore.backup.name}" into ${target.database} in ${Date.now() - started} ms`);
      return await done({ method: createDatabase ? 'new-database' : 'in-place' });
    } catch (caught) {
      const error = limit.explain(caught);
      // A restore is never retried on its own: whatever failed, the row says so now.
      await recordFailure(ctx, 'restore', restoreId, error, { ...claimed, attempt: hooks.maxAttempts }, log);
      throw error;
    } finally {
      limit.stop();
    }
  } finally {
    await lock.release();
  }
}

/** A new database, loaded with pg_restore --jobs and checked; dropped again if anything fails. */
async function restoreIntoNewDatabase(
  ctx: AppContext,
  restore: Restore & { backup: Backup },
  target: PgConnection,
  hooks: RunHooks,
  log: RunLog,
  progress: RestoreProgress,
): Promise<void> {
  let created = false;
  try {
    // Created while the artifact is read; dropped again only if this restore created it.
    await loadAndCheck(ctx, restore.backup, target, hooks, log, progress, async () => {
      await failpoint('restore.create-database', target.database);
      await createEmptyDatabase(target);
      created = true;
    });
  } catch (error) {
    if (!created) throw error;
    await dropDatabase(target).catch((dropError: unknown) => log.warn(`could not drop the new database "${target.database}": ${errorMessage(dropError)}`));
    throw error;
  }
}

/** A full backup of the target taken just before it is overwritten (trigger `pre-restore`); restores to a moment take it too. */
export async function takeSafetyBackup(
  ctx: AppContext,
  source: Source,
  subject: BackupSubject,
  hooks: RunHooks,
  log: RunLog,
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
    // The safety backup is of the one target database, even when the target source is a whole server.
    await executeBackup(ctx, safety, { ...source, scope: 'database' }, subject, { ...hooks, reportProgress: undefined }, createLiveRunLog(ctx, 'backup', safety.id, hooks.logger.child({ backupId: safety.id })));
  } catch (error) {
    await failRun(ctx, 'backup', safety.id, errorMessage(error));
    throw new PermanentError(`The safety backup of ${what} failed, so nothing was restored: ${errorMessage(error)}`);
  }
  return safety;
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
    const log = createLiveRunLog(ctx, 'restore', restore.id, hooks.logger.child({ restoreId: restore.id }));
    const started = Date.now();
    const { backup } = restore;
    const limit = startRunLimit(hooks, await runTimeLimitSeconds(ctx, backup.configurationId));
    const claimed = hooks;
    hooks = limit.hooks;
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
          log.phase('taking a safety backup');
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
    } catch (caught) {
      const error = limit.explain(caught);
      await recordFailure(ctx, 'restore', restore.id, error, { ...claimed, attempt: hooks.maxAttempts }, log);
      throw error;
    } finally {
      limit.stop();
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
