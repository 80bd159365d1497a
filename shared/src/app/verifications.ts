// Verifications: proof that a backup restores. A worker restores it into a scratch database on the
// source's server, counts tables and rows, compares them with what was counted in the dump's own
// snapshot, records the differences and drops the scratch database.
import { z } from 'zod';
import type { Verification } from '../db.js';
import { ConflictError, NotFoundError, ValidationError, errorMessage } from '../errors.js';
import { countRowsInSnapshot, listDumpedTables, tableKey, type TableCount } from '../engine/counts.js';
import { withPgClient } from '../engine/postgres.js';
import { dropDatabase } from '../engine/restore-pipeline.js';
import { recordAudit } from './audit.js';
import type { Actor, AppContext } from './context.js';
import { getBackup } from './backups.js';
import { claimRun, completeRun, failRun } from './history.js';
import { sourceConnection } from './sources.js';
import { createRunLog } from './run-log.js';
import { recordFailure, type RunHooks, type RunOutcome } from './run-backup.js';
import { restoreBackupInto } from './restores.js';
import { parseInput, uuidParam } from './validation.js';
import { notifyRunEnded } from './notifications.js';

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
    differences: z.array(z.object({ table: z.string(), expected: z.number().nullable(), found: z.number().nullable() })).nullable(),
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
    await failRun(ctx.db, 'verification', verification.id, `The verification could not be queued: ${errorMessage(error)}`);
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
  const { backup } = verification;
  if (!backup.source) {
    await failRun(ctx.db, 'verification', verificationId, `The source "${backup.sourceName}" was deleted: there is no server to verify on.`);
    return 'skipped';
  }
  if (!(await claimRun(ctx.db, 'verification', verificationId, hooks.workerId))) return 'skipped';
  const log = createRunLog(hooks.logger.child({ verificationId }));
  const scratch = `coffre_verify_${verificationId.replace(/-/g, '').slice(-12)}_${hooks.attempt}`;
  const server = sourceConnection(ctx, backup.source);
  const target = { ...server, database: scratch };
  const started = Date.now();
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
    const differences = compareCounts(expected, found, backup.type === 'schema');
    const recordsExpected = expected.reduce((s, t) => s + Math.max(0, t.rows), 0);
    const recordsFound = found.reduce((s, t) => s + t.rows, 0);
    const result = differences.length === 0 ? 'passed' : 'failed';
    // Dropped before the row says completed: a verification that reads as done has left nothing behind.
    await dropDatabase(server, scratch).catch((error: Error) => log.warn(`could not drop scratch database ${scratch}: ${error.message}`));
    log.info(`verification ${result}: ${found.length} tables and ${recordsFound} rows found, ${expected.length} and ${recordsExpected} recorded`);
    await completeRun(ctx.db, 'verification', verificationId, {
      result,
      tablesExpected: expected.length,
      tablesFound: found.length,
      recordsExpected: BigInt(recordsExpected),
      recordsFound: BigInt(recordsFound),
      differences,
      durationMs: Date.now() - started,
      log: log.text(),
      ...(result === 'failed' ? { errorMessage: `${differences.length} table(s) differ from what the backup recorded.` } : {}),
    });
    return 'completed';
  } catch (error) {
    await recordFailure(ctx, 'verification', verificationId, error, hooks, log, { result: 'failed', durationMs: Date.now() - started });
    throw error;
  } finally {
    await dropDatabase(server, scratch).catch((error: Error) => log.warn(`could not drop scratch database ${scratch}: ${error.message}`));
    await notifyRunEnded(ctx, 'verification', verificationId); // only a finished, failed verification is announced
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
