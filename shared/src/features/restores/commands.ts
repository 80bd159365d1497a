// Restores: the operator types the backup's name to confirm; a worker takes a safety backup of the
// target when it holds anything, then restores in one checked read of the artifact: a database in
// one transaction that commits only once every byte matched, files and bucket objects staged and
// published only then.
import { z } from 'zod';
import type { Backup, Restore, Source } from '../../infra/db.js';
import { ConflictError, ForbiddenError, NotFoundError, PermanentError, ValidationError, errorMessage } from '../../infra/errors.js';
import { creatableDatabaseName, withPgClient, type PgConnection } from '../../engine/postgres.js';
import { runDatabaseRestore } from '../../engine/restore-pipeline.js';
import type { TableCount } from '../../engine/counts.js';
import { recordAudit } from '../audit/audit.js';
import { recordRefusal } from '../audit/refusals.js';
import { checkRequestedRestoreTarget, checkRestoreTarget } from './targets.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { defaultBackupName, getBackup } from '../backups/commands.js';
import { destinationDriver } from '../destinations/destinations.js';
import { claimRun, completeRun, failRun, recordProgress } from '../../runs/transitions.js';
import { bucketLockKey, databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { s3KeyPrefix } from '../../storage/s3-location.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { runFilesRestore } from '../../engine/files-archive.js';
import type { ArtifactSource } from '../../engine/verify-artifact.js';
import { isAbsolute } from 'node:path';
import { assertFilesPath, checkFilesPath } from '../../infra/files-roots.js';
import { createRunLog } from '../../runs/run-log.js';
import { describeRestoreTarget } from './describe.js';
import { executeBackup, type BackupSubject } from '../backups/job.js';
import { recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { parseInput, uuidParam } from '../../infra/validation.js';

export const restoreRequestSchema = z
  .object({
    targetSourceId: z.string().uuid().optional(),
    targetDatabase: z
      .string()
      .regex(creatableDatabaseName, 'must be 1–63 letters, digits, "_" or "-", starting with a letter or "_"')
      .optional(),
    /** What to restore: the database (default), the archived files, or the bucket's objects. */
    artifact: z.enum(['database', 'files', 'bucket']).optional(),
    /** files: the absolute directory the archived paths are recreated in (nothing is written outside it). */
    targetPath: z
      .string()
      .max(1000)
      .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute directory path')
      .optional(),
    /** bucket: the prefix the objects are put under in the target bucket (default: the source's prefix). */
    targetPrefix: z
      .string()
      .max(200)
      .refine((p) => !p.split('/').some((seg) => seg === '..' || seg === '.'), 'must not contain "." or ".." segments')
      .optional(),
    /** Admins only: allows a restore into postgres, template0 or template1 (never into coffre's own database). */
    allowSystemDatabase: z.boolean().optional(),
    confirm: z.string().max(300),
  })
  .strict()
  .meta({ id: 'RestoreRequest' });

export const restoreSchema = z
  .object({
    id: z.string().uuid(),
    backupId: z.string().uuid(),
    backupName: z.string().optional(),
    status: z.enum(['pending', 'running', 'completed', 'failed']),
    targetKind: z.string(),
    targetSourceId: z.string().nullable(),
    targetDatabase: z.string().nullable(),
    targetPath: z.string().nullable().describe('files: the directory; bucket: the prefix'),
    target: z.string().describe('the target in words: `database "shop"`, `directory /srv/x`, `bucket source "media", prefix "up/"`'),
    createDatabase: z.boolean(),
    safetyBackupId: z.string().nullable(),
    progressBytes: z.number(),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    requestedBy: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    log: z.string().nullable().optional(),
  })
  .meta({ id: 'Restore' });

export type RestoreView = z.infer<typeof restoreSchema>;

export function restoreToApi(row: Restore & { backup?: Backup; targetSource?: { name: string } | null }, options: { withLog?: boolean } = {}): RestoreView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    backupId: row.backupId,
    ...(row.backup ? { backupName: row.backup.name } : {}),
    status: row.status,
    targetKind: row.targetKind,
    targetSourceId: row.targetSourceId,
    targetDatabase: row.targetDatabase,
    targetPath: row.targetPath,
    target: describeRestoreTarget(row),
    createDatabase: row.createDatabase,
    safetyBackupId: row.safetyBackupId,
    progressBytes: Number(row.progressBytes),
    durationMs: row.durationMs,
    errorMessage: row.errorMessage,
    requestedBy: row.requestedBy,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
    ...(options.withLog ? { log: row.log } : {}),
  };
}

/** Validates the request and the confirmation, creates a pending Restore and queues it. */
export async function requestRestore(ctx: AppContext, backupId: string, input: unknown, actor: Actor): Promise<Restore> {
  const request = parseInput(restoreRequestSchema, input ?? {});
  const backup = await getBackup(ctx, backupId);
  if (request.confirm !== backup.name) {
    await recordRefusal(ctx.db, actor, { action: 'backup.restore', targetType: 'backup', targetId: backup.id, reason: 'wrong-confirmation', summary: { backup: backup.name } });
    throw new ValidationError(`confirm must be the backup's name, exactly: type "${backup.name}" to restore it.`);
  }
  if (request.allowSystemDatabase && actor.role !== 'admin') throw new ForbiddenError('allowSystemDatabase: only an admin may restore into a system database.');
  if (backup.status !== 'completed') throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: only a completed backup can be restored.`);
  if (backup.deletedAt) throw new ConflictError(`Backup "${backup.name}" was deleted: its artifacts are gone.`, 'backup_deleted');
  const kind = request.artifact ?? (backup.artifacts?.some((a) => a.kind === 'bucket') ? 'bucket' : 'database');
  if (!backup.artifacts?.some((a) => a.kind === kind && !a.deletedAt)) {
    throw new ConflictError(`Backup "${backup.name}" holds no ${kind} artifact to restore.`);
  }
  if (kind === 'files') return requestFilesRestore(ctx, backup, request, actor);
  if (kind === 'bucket') return requestBucketRestore(ctx, backup, request, actor);
  const targetSourceId = request.targetSourceId ?? backup.sourceId;
  if (!targetSourceId) throw new ValidationError(`targetSourceId is required: the backup's source "${backup.sourceName}" no longer exists.`);
  const targetSource = await ctx.db.source.findUnique({ where: { id: targetSourceId } });
  if (!targetSource) throw new NotFoundError(`Source ${targetSourceId}`);
  if (targetSource.kind !== 'postgres') throw new ValidationError('targetSourceId must name a PostgreSQL source.');
  const connection = sourceConnection(ctx, targetSource);
  const targetDatabase = request.targetDatabase ?? connection.database;
  const allowSystemDatabase = request.allowSystemDatabase ?? false;
  await checkRequestedRestoreTarget(ctx, actor, backup.id, { ...connection, database: targetDatabase }, { allowSystemDatabase });

  // One restore per target database at a time; the second is refused rather than queued behind.
  const active = await ctx.db.restore.findMany({
    where: { status: { in: ['pending', 'running'] }, targetDatabase },
    include: { targetSource: true },
  });
  for (const other of active) {
    const otherConnection = other.targetSource ? sourceConnection(ctx, other.targetSource) : null;
    if (otherConnection && sameServer(otherConnection, connection)) {
      throw new ConflictError(`A restore into database "${targetDatabase}" is already ${other.status} (restore ${other.id}): wait for it to finish.`, 'restore_running');
    }
  }
  // Decided again by the worker; here it only tells the operator what to expect.
  const exists = await databaseExists(connection, targetDatabase).catch(() => true);
  const restore = await ctx.db.restore.create({
    data: {
      backupId: backup.id,
      status: 'pending',
      targetKind: 'database',
      targetSourceId,
      targetDatabase,
      createDatabase: !exists,
      allowSystemDatabase,
      requestedBy: actor.name,
    },
  });
  return queueRestore(ctx, restore, backup, actor, { targetSource: targetSource.name, targetDatabase, createDatabase: !exists });
}

async function requestFilesRestore(ctx: AppContext, backup: Backup, request: z.infer<typeof restoreRequestSchema>, actor: Actor): Promise<Restore> {
  if (!request.targetPath) throw new ValidationError('targetPath is required to restore files: the absolute directory to recreate them in.');
  // Stored as it really leads, so that the worker writes where this check looked.
  const targetPath = await assertFilesPath(ctx.config, request.targetPath, 'targetPath');
  const active = await ctx.db.restore.findFirst({ where: { status: { in: ['pending', 'running'] }, targetKind: 'files', targetPath } });
  if (active) throw new ConflictError(`A restore into ${targetPath} is already ${active.status}: wait for it to finish.`, 'restore_running');
  const restore = await ctx.db.restore.create({
    data: { backupId: backup.id, status: 'pending', targetKind: 'files', targetPath, requestedBy: actor.name },
  });
  return queueRestore(ctx, restore, backup, actor, { targetPath });
}

async function requestBucketRestore(ctx: AppContext, backup: Backup, request: z.infer<typeof restoreRequestSchema>, actor: Actor): Promise<Restore> {
  const targetSourceId = request.targetSourceId ?? backup.sourceId;
  if (!targetSourceId) throw new ValidationError(`targetSourceId is required: the backup's source "${backup.sourceName}" no longer exists.`);
  const targetSource = await ctx.db.source.findUnique({ where: { id: targetSourceId } });
  if (!targetSource) throw new NotFoundError(`Source ${targetSourceId}`);
  if (targetSource.kind !== 's3') throw new ValidationError('targetSourceId must name a bucket source to restore a bucket backup.');
  const targetPrefix = request.targetPrefix ?? sourceBucket(ctx, targetSource).prefix ?? '';
  const active = await ctx.db.restore.findFirst({ where: { status: { in: ['pending', 'running'] }, targetKind: 'bucket', targetSourceId, targetPath: targetPrefix } });
  if (active) throw new ConflictError(`A restore into that bucket prefix is already ${active.status}: wait for it to finish.`, 'restore_running');
  const restore = await ctx.db.restore.create({
    data: { backupId: backup.id, status: 'pending', targetKind: 'bucket', targetSourceId, targetPath: targetPrefix, requestedBy: actor.name },
  });
  return queueRestore(ctx, restore, backup, actor, { targetSource: targetSource.name, targetPrefix });
}

async function queueRestore(ctx: AppContext, restore: Restore, backup: Backup, actor: Actor, summary: Record<string, unknown>): Promise<Restore> {
  try {
    await ctx.queues.enqueue('restore.run', { restoreId: restore.id });
  } catch (error) {
    await failRun(ctx, 'restore', restore.id, `The restore could not be queued: ${errorMessage(error)}`);
    throw error;
  }
  await recordAudit(ctx.db, actor, {
    action: 'backup.restore',
    targetType: 'backup',
    targetId: backup.id,
    summary: { after: { restoreId: restore.id, backup: backup.name, kind: restore.targetKind, ...summary } },
  });
  return restore;
}

export async function getRestore(ctx: AppContext, id: string) {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`Restore ${id.slice(0, 60)}`);
  const restore = await ctx.db.restore.findUnique({ where: { id }, include: { backup: true, targetSource: { select: { name: true } } } });
  if (!restore) throw new NotFoundError(`Restore ${id}`);
  return restore;
}

export const restoreListQuerySchema = z
  .object({
    status: z.enum(['pending', 'running', 'completed', 'failed']).optional(),
    backupId: z.string().uuid().optional(),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

export async function listRestores(ctx: AppContext, query: unknown) {
  const f = parseInput(restoreListQuerySchema, query ?? {});
  const where = { ...(f.status ? { status: f.status } : {}), ...(f.backupId ? { backupId: f.backupId } : {}) };
  const [rows, total] = await Promise.all([
    ctx.db.restore.findMany({ where, include: { backup: true, targetSource: { select: { name: true } } }, orderBy: { createdAt: 'desc' }, skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    ctx.db.restore.count({ where }),
  ]);
  return { items: rows.map((r) => restoreToApi(r)), total, page: f.page, pageSize: f.pageSize };
}

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

/** A full backup of the target taken just before it is overwritten (trigger `pre-restore`). */
async function takeSafetyBackup(
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
      type: backup.type,
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

async function databaseExists(connection: PgConnection, database: string): Promise<boolean> {
  return withPgClient(
    connection,
    async (client) => ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0,
    'postgres',
  );
}

function sameServer(a: PgConnection, b: PgConnection): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
}
