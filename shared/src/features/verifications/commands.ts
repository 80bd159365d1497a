// Verifications: proof that a backup restores. A worker restores a database backup into a scratch
// database on the source's server, counts tables and rows, compares them with what was counted in
// the dump's own snapshot, records the differences and drops the scratch database. A bucket backup
// is restored into a scratch folder of its bucket, read back and compared key by key.
import type { VerificationListQuery, VerificationView } from '@coffre/contract';
import type { Verification } from '../../infra/db.js';
import { ConflictError, NotFoundError, ValidationError, errorMessage } from '../../infra/errors.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { getBackup } from '../backups/commands.js';
import { failRun } from '../../runs/transitions.js';
import { uuidParam } from '../../infra/validation.js';
import { enqueue } from '../catalog.js';
import { expectedOfVerification } from '../backups/expected.js';
import { tableKey, type TableCount } from '../../engine/counts.js';


export function verificationToApi(row: Verification & { backup?: { name: string; tableCounts?: unknown } }): VerificationView {
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
    ...(row.backup?.tableCounts !== undefined && row.tableCounts ? { tables: tableRows(row.backup.tableCounts as TableCount[] | null, row.tableCounts as unknown as TableCount[]) } : {}),
    durationMs: row.durationMs,
    errorMessage: row.errorMessage,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
    phase: row.status === 'running' ? row.phase : null,
  };
}

/** Every table recorded or found, by name: the rows the backup recorded beside the rows found. */
function tableRows(expected: TableCount[] | null, found: TableCount[]): NonNullable<VerificationView['tables']> {
  const rows = new Map<string, { table: string; expected: number | null; found: number | null }>();
  for (const t of expected ?? []) rows.set(tableKey(t), { table: tableKey(t), expected: t.rows >= 0 ? t.rows : null, found: null });
  for (const t of found) rows.set(tableKey(t), { table: tableKey(t), expected: rows.get(tableKey(t))?.expected ?? null, found: t.rows });
  return [...rows.values()].sort((a, b) => a.table.localeCompare(b.table));
}

export async function requestVerification(ctx: AppContext, backupId: string, actor: Actor, trigger: 'manual' | 'schedule' = 'manual'): Promise<Verification> {
  const backup = await getBackup(ctx, backupId);
  if (backup.status !== 'completed') throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: only a completed backup can be verified.`);
  if (backup.type === 'physical' && !(backup.sourceId && (await ctx.db.source.findUnique({ where: { id: backup.sourceId }, select: { pitrEnabled: true } }))?.pitrEnabled)) {
    throw new ConflictError(`Backup "${backup.name}" is a base backup of the whole cluster and its source streams no WAL: it is proven by a restore to a moment once point-in-time recovery is on (coffre pitr enable).`, 'physical_backup');
  }
  if (backup.deletedAt) throw new ConflictError(`Backup "${backup.name}" was deleted: its artifacts are gone.`, 'backup_deleted');
  if (backup.artifacts?.some((a) => a.kind === 'globals')) {
    throw new ConflictError(`Backup "${backup.name}" is a backup of a whole server: verifications restore one database, so prove it by restoring it (allDatabases) into a scratch server, or one of its databases into a new database.`, 'server_backup');
  }
  if (backup.type === 'data') {
    throw new ValidationError(`Backup "${backup.name}" holds data only: it cannot be restored into an empty database on its own, so it cannot be verified.`);
  }
  if (!backup.sourceId) {
    throw new ConflictError(
      backup.trigger === 'import'
        ? `Backup "${backup.name}" was imported without a source: there is no server to verify it on (import with sourceId, or restore it into a database).`
        : `The source of backup "${backup.name}" was deleted: there is no server to verify it on.`,
    );
  }
  const active = await ctx.db.verification.findFirst({ where: { backupId, status: { in: ['pending', 'running'] } } });
  if (active) return active;
  const verification = await ctx.db.verification.create({ data: { backupId, status: 'pending', trigger, requestedBy: actor.name } });
  try {
    await enqueue(ctx, 'verification.run', { verificationId: verification.id });
  } catch (error) {
    await failRun(ctx, 'verification', verification.id, `The verification could not be queued: ${errorMessage(error)}`);
    throw error;
  }
  await recordAudit(ctx.db, actor, { action: 'backup.verify', targetType: 'backup', targetId: backupId, summary: { after: { verificationId: verification.id, trigger } } });
  return verification;
}

export async function getVerification(ctx: AppContext, id: string) {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`Verification ${id.slice(0, 60)}`);
  const row = await ctx.db.verification.findUnique({ where: { id }, include: { backup: { select: { name: true, tableCounts: true } } } });
  if (!row) throw new NotFoundError(`Verification ${id}`);
  return row;
}

export async function listVerifications(ctx: AppContext, f: VerificationListQuery) {
  const where = { ...(f.backupId ? { backupId: f.backupId } : {}), ...(f.status ? { status: { in: f.status } } : {}), ...(f.result ? { result: f.result } : {}) };
  const [rows, total] = await Promise.all([
    ctx.db.verification.findMany({ where, include: { backup: { select: { name: true } } }, orderBy: { createdAt: 'desc' }, skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    ctx.db.verification.count({ where }),
  ]);
  const items = await Promise.all(rows.map(async (r) => ({ ...verificationToApi(r), ...(r.status === 'pending' || r.status === 'running' ? { expected: await expectedOfVerification(ctx, r) } : {}) })));
  return { items, total, page: f.page, pageSize: f.pageSize };
}

/** Fired by a configuration's verify schedule: verifies its newest completed backup. */
export async function verifyNewestBackup(ctx: AppContext, configurationId: string, actor: Actor): Promise<Verification | null> {
  const newest = await ctx.db.backup.findFirst({
    where: { configurationId, status: 'completed', deletedAt: null, type: { not: 'data' } },
    orderBy: { completedAt: 'desc' },
  });
  if (!newest) return null;
  // A server backup is proved by a restore, not a verification: the schedule passes over it.
  return requestVerification(ctx, newest.id, actor, 'schedule').catch((error: unknown) => {
    if (error instanceof ConflictError && error.code === 'server_backup') return null;
    throw error;
  });
}
