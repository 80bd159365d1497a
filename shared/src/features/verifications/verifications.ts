// Verifications: proof that a backup restores. A worker restores a database backup into a scratch
// database on the source's server, counts tables and rows, compares them with what was counted in
// the dump's own snapshot, records the differences and drops the scratch database. A bucket backup
// is restored into a scratch folder of its bucket, read back and compared key by key.
import { z } from 'zod';
import type { Backup, Source, Verification } from '../../infra/db.js';
import { ConflictError, NotFoundError, PermanentError, ValidationError, errorMessage } from '../../infra/errors.js';
import { countRowsInSnapshot, listDumpedTables, tableKey, type TableCount } from '../../engine/counts.js';
import { withPgClient } from '../../engine/postgres.js';
import { dropDatabase } from '../../engine/restore-pipeline.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { getBackup } from '../backups/commands.js';
import { claimRun, completeRun, failRun } from '../../runs/transitions.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { s3KeyPrefix } from '../../storage/s3-location.js';
import { createRunLog, type RunLog } from '../../runs/run-log.js';
import { recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { restoreBackupInto, withEachCopy } from '../restores/commands.js';
import { parseInput, uuidParam } from '../../infra/validation.js';

export const verificationSchema = z
  .object({
    id: z.string().uuid(),
    backupId: z.string().uuid(),
    backupName: z.string().optional(),
    status: z.enum(['pending', 'running', 'completed', 'failed']),
    result: z.enum(['passed', 'failed']).nullable(),
    trigger: z.string(),
    scratchDatabase: z.string().nullable(),
    tablesExpected: z.number().nullable(),
    tablesFound: z.number().nullable(),
    recordsExpected: z.number().nullable(),
    recordsFound: z.number().nullable(),
    differences: z
      .array(z.object({ table: z.string(), expected: z.number().nullable(), found: z.number().nullable(), detail: z.string().optional() }))
      .nullable()
      .describe('tables (database backups) or object keys (bucket backups) that differ'),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Verification' });

export type VerificationView = z.infer<typeof verificationSchema>;

export function verificationToApi(row: Verification & { backup?: { name: string } }): VerificationView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const num = (v: bigint | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    backupId: row.backupId,
    ...(row.backup ? { backupName: row.backup.name } : {}),
    status: row.status,
    result: (row.result as 'passed' | 'failed' | null) ?? null,
    trigger: row.trigger,
    scratchDatabase: row.scratchDatabase,
    tablesExpected: row.tablesExpected,
    tablesFound: row.tablesFound,
    recordsExpected: num(row.recordsExpected),
    recordsFound: num(row.recordsFound),
    differences: (row.differences as VerificationView['differences']) ?? null,
    durationMs: row.durationMs,
    errorMessage: row.errorMessage,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
  };
}

export async function requestVerification(ctx: AppContext, backupId: string, actor: Actor, trigger: 'manual' | 'schedule' = 'manual'): Promise<Verification> {
  const backup = await getBackup(ctx, backupId);
  if (backup.status !== 'completed') throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: only a completed backup can be verified.`);
  if (backup.deletedAt) throw new ConflictError(`Backup "${backup.name}" was deleted: its artifacts are gone.`, 'backup_deleted');
  if (backup.type === 'data') {
    throw new ValidationError(`Backup "${backup.name}" holds data only: it cannot be restored into an empty database on its own, so it cannot be verified.`);
  }
  if (!backup.sourceId) throw new ConflictError(`The source of backup "${backup.name}" was deleted: there is no server to verify it on.`);
  const active = await ctx.db.verification.findFirst({ where: { backupId, status: { in: ['pending', 'running'] } } });
  if (active) return active;
  const verification = await ctx.db.verification.create({ data: { backupId, status: 'pending', trigger, requestedBy: actor.name } });
  try {
    await ctx.queues.enqueue('verification.run', { verificationId: verification.id });
  } catch (error) {
    await failRun(ctx, 'verification', verification.id, `The verification could not be queued: ${errorMessage(error)}`);
    throw error;
  }
  await recordAudit(ctx.db, actor, { action: 'backup.verify', targetType: 'backup', targetId: backupId, summary: { after: { verificationId: verification.id, trigger } } });
  return verification;
}

export async function getVerification(ctx: AppContext, id: string) {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`Verification ${id.slice(0, 60)}`);
  const row = await ctx.db.verification.findUnique({ where: { id }, include: { backup: { select: { name: true } } } });
  if (!row) throw new NotFoundError(`Verification ${id}`);
  return row;
}

export const verificationListQuerySchema = z
  .object({
    backupId: z.string().uuid().optional(),
    result: z.enum(['passed', 'failed']).optional(),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

export async function listVerifications(ctx: AppContext, query: unknown) {
  const f = parseInput(verificationListQuerySchema, query ?? {});
  const where = { ...(f.backupId ? { backupId: f.backupId } : {}), ...(f.result ? { result: f.result } : {}) };
  const [rows, total] = await Promise.all([
    ctx.db.verification.findMany({ where, include: { backup: { select: { name: true } } }, orderBy: { createdAt: 'desc' }, skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    ctx.db.verification.count({ where }),
  ]);
  return { items: rows.map(verificationToApi), total, page: f.page, pageSize: f.pageSize };
}

export async function runVerificationJob(ctx: AppContext, verificationId: string, hooks: RunHooks): Promise<RunOutcome> {
  const verification = await ctx.db.verification.findUnique({ where: { id: verificationId }, include: { backup: { include: { source: true } } } });
  if (!verification || verification.status === 'completed' || verification.status === 'failed') return 'skipped';
  if (!(await claimRun(ctx, 'verification', verificationId, hooks.workerId))) return 'skipped';
  const { backup } = verification;
  const log = createRunLog(hooks.logger.child({ verificationId }));
  const started = Date.now();
  try {
    // Everything after the claim ends the row one way or the other: a verification never stays running.
    if (!backup.source) throw new PermanentError(`The source "${backup.sourceName}" was deleted: there is no server to verify on.`);
    const outcome =
      backup.source.kind === 's3'
        ? await verifyBucketBackup(ctx, verificationId, backup, backup.source, hooks, log)
        : await verifyDatabaseBackup(ctx, verificationId, backup, backup.source, hooks, log);
    const result = outcome.differences.length === 0 ? 'passed' : 'failed';
    log.info(`verification ${result}: ${outcome.summary}`);
    await completeRun(ctx, 'verification', verificationId, {
      result,
      tablesExpected: outcome.tablesExpected,
      tablesFound: outcome.tablesFound,
      recordsExpected: BigInt(outcome.recordsExpected),
      recordsFound: BigInt(outcome.recordsFound),
      differences: outcome.differences,
      durationMs: Date.now() - started,
      log: log.text(),
      ...(result === 'failed' ? { errorMessage: `${outcome.differences.length} ${outcome.unit}(s) differ from what the backup recorded.` } : {}),
    });
    return 'completed';
  } catch (error) {
    await recordFailure(ctx, 'verification', verificationId, error, hooks, log, { result: 'failed', durationMs: Date.now() - started });
    throw error;
  }
}

interface VerificationOutcome {
  tablesExpected: number | null;
  tablesFound: number | null;
  recordsExpected: number;
  recordsFound: number;
  differences: Difference[];
  /** What a difference is about: a table, or an object. */
  unit: 'table' | 'object';
  summary: string;
}

type Difference = { table: string; expected: number | null; found: number | null; detail?: string };

/** Restores into a scratch database on the source's server, counts, compares, drops it. */
async function verifyDatabaseBackup(ctx: AppContext, verificationId: string, backup: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<VerificationOutcome> {
  const scratch = `coffre_verify_${verificationId.replace(/-/g, '').slice(-12)}_${hooks.attempt}`;
  const server = sourceConnection(ctx, source);
  const target = { ...server, database: scratch };
  await ctx.db.verification.update({ where: { id: verificationId }, data: { scratchDatabase: scratch } });
  // An earlier attempt whose worker died left its scratch database behind.
  for (let earlier = 1; earlier < hooks.attempt; earlier++) {
    await dropDatabase(server, scratch.replace(/_\d+$/, `_${earlier}`)).catch(() => {});
  }
  try {
    log.info(`restoring "${backup.name}" into scratch database ${scratch}`);
    await restoreBackupInto(ctx, backup, target, true, hooks, log);
    const expected = (backup.tableCounts as unknown as TableCount[] | null) ?? [];
    const found = await withPgClient(target, async (client) => {
      const tables = await listDumpedTables(client);
      return backup.type === 'schema' ? tables.map((t) => ({ ...t, rows: 0 })) : countRowsInSnapshot(client, tables);
    });
    const recordsExpected = expected.reduce((s, t) => s + Math.max(0, t.rows), 0);
    const recordsFound = found.reduce((s, t) => s + t.rows, 0);
    return {
      tablesExpected: expected.length,
      tablesFound: found.length,
      recordsExpected,
      recordsFound,
      differences: compareCounts(expected, found, backup.type === 'schema'),
      unit: 'table',
      summary: `${found.length} tables and ${recordsFound} rows found, ${expected.length} and ${recordsExpected} recorded`,
    };
  } finally {
    // Dropped before the row says completed: a verification that reads as done has left nothing behind.
    await dropDatabase(server, scratch).catch((error: Error) => log.warn(`could not drop scratch database ${scratch}: ${error.message}`));
  }
}

/**
 * Restores a bucket backup into a scratch folder of the source bucket, then compares what landed
 * there, read back, with what the archive holds: every key, its size and its SHA-256. The scratch
 * folder is removed whatever happens.
 */
async function verifyBucketBackup(ctx: AppContext, verificationId: string, backup: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<VerificationOutcome> {
  const { runBucketRestore } = await import('../../engine/bucket-archive.js');
  const { listObjects, objectChecksum, removePrefix, scratchPrefix } = await import('../../engine/bucket-staging.js');
  const { createS3Bucket } = await import('../../storage/s3.js');
  const options = { ...sourceBucket(ctx, source), logger: ctx.logger };
  const scratch = scratchPrefix(s3KeyPrefix(options.prefix), verificationId);
  const bucket = createS3Bucket(options);
  await ctx.db.verification.update({ where: { id: verificationId }, data: { scratchDatabase: `${options.bucket}/${scratch}` } });
  const identities = backup.encrypted ? await ctx.identities() : [];
  try {
    log.info(`restoring "${backup.name}" into the scratch folder ${options.bucket}/${scratch}`);
    const restored = await withEachCopy(ctx, backup, 'bucket', log, (artifact) =>
      runBucketRestore({ artifact, compression: backup.compression, identities, target: { ...options, prefix: scratch }, collect: true, signal: hooks.signal, logger: hooks.logger }),
    );
    const stored = new Map<string, number>();
    for await (const object of listObjects(bucket, scratch, hooks.signal)) stored.set(object.key.slice(scratch.length), object.size);
    const differences: Difference[] = [];
    for (const object of restored.objects ?? []) {
      const size = stored.get(object.key);
      stored.delete(object.key);
      if (size === undefined) differences.push({ table: object.key, expected: object.size, found: null, detail: 'missing after the restore' });
      else if (size !== object.size) differences.push({ table: object.key, expected: object.size, found: size, detail: 'size differs' });
      else if ((await objectChecksum(bucket, `${scratch}${object.key}`, hooks.signal)) !== object.sha256) {
        differences.push({ table: object.key, expected: object.size, found: size, detail: 'SHA-256 differs from the archived bytes' });
      }
    }
    for (const [key, size] of stored) differences.push({ table: key, expected: null, found: size, detail: 'not in the archive' });
    const recorded = backup.objectsCount ?? restored.objectsCount;
    if (recorded !== restored.objectsCount) {
      differences.push({ table: '(objects)', expected: recorded, found: restored.objectsCount, detail: 'the archive holds another number of objects than the backup recorded' });
    }
    return {
      tablesExpected: null,
      tablesFound: null,
      recordsExpected: recorded,
      recordsFound: restored.objectsCount,
      differences,
      unit: 'object',
      summary: `${restored.objectsCount} objects (${restored.objectsBytes} bytes) restored and read back, ${recorded} recorded`,
    };
  } finally {
    await removePrefix(bucket, scratch).catch((error: Error) => log.warn(`could not remove the scratch folder ${scratch}: ${error.message}`));
  }
}

/** Tables whose row counts (or presence) differ. For schema-only backups only presence counts. */
export function compareCounts(expected: TableCount[], found: TableCount[], schemaOnly: boolean) {
  const differences: { table: string; expected: number | null; found: number | null }[] = [];
  const foundByKey = new Map(found.map((t) => [tableKey(t), t.rows]));
  for (const table of expected) {
    const key = tableKey(table);
    const rows = foundByKey.get(key);
    if (rows === undefined) differences.push({ table: key, expected: table.rows, found: null });
    else if (!schemaOnly && table.rows >= 0 && rows !== table.rows) differences.push({ table: key, expected: table.rows, found: rows });
    foundByKey.delete(key);
  }
  for (const [key, rows] of foundByKey) differences.push({ table: key, expected: null, found: rows });
  return differences;
}

/** Fired by a configuration's verify schedule: verifies its newest completed backup. */
export async function verifyNewestBackup(ctx: AppContext, configurationId: string, actor: Actor): Promise<Verification | null> {
  const newest = await ctx.db.backup.findFirst({
    where: { configurationId, status: 'completed', deletedAt: null, type: { not: 'data' } },
    orderBy: { completedAt: 'desc' },
  });
  if (!newest) return null;
  return requestVerification(ctx, newest.id, actor, 'schedule');
}
