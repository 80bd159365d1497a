// What a pending or running run should take, for the web UI's percentage and ETA: the last
// comparable run that completed (the same configuration, or else the same source and type), or for
// a restore the size of the artifact it reads. Asked only for runs that have not ended.
import type { RunExpected } from '@coffre/contract';
import type { AppContext } from '../../infra/context.js';
import type { Backup, Restore, Verification } from '../../infra/db.js';

const unfinished = (status: string) => status === 'pending' || status === 'running';

export async function expectedOfBackup(ctx: AppContext, backup: Pick<Backup, 'id' | 'status' | 'configurationId' | 'sourceId' | 'type'>): Promise<RunExpected | null> {
  if (!unfinished(backup.status)) return null;
  const sameRun = backup.configurationId ? { configurationId: backup.configurationId } : { sourceId: backup.sourceId, type: backup.type, configurationId: null };
  const last = await ctx.db.backup.findFirst({
    where: { ...sameRun, status: 'completed', id: { not: backup.id }, sizeBytes: { not: null }, durationMs: { not: null } },
    orderBy: { completedAt: 'desc' },
    select: { name: true, sizeBytes: true, durationMs: true },
  });
  if (!last) return null;
  return { sizeBytes: Number(last.sizeBytes), durationMs: last.durationMs, basis: `the last completed backup of the same ${backup.configurationId ? 'configuration' : 'source'} (${last.name})` };
}

export async function expectedOfRestore(ctx: AppContext, restore: Pick<Restore, 'id' | 'status' | 'backupId' | 'targetKind' | 'sourceDatabase'>): Promise<RunExpected | null> {
  if (!unfinished(restore.status)) return null;
  const [artifact, last, backup] = await Promise.all([
    ctx.db.backupArtifact.findFirst({ where: { backupId: restore.backupId, kind: restore.targetKind, deletedAt: null }, select: { sizeBytes: true } }),
    ctx.db.restore.findFirst({ where: { backupId: restore.backupId, targetKind: restore.targetKind, status: 'completed', id: { not: restore.id }, durationMs: { not: null } }, orderBy: { completedAt: 'desc' }, select: { durationMs: true } }),
    ctx.db.backup.findUnique({ where: { id: restore.backupId }, select: { type: true, recordsCount: true } }),
  ]);
  // A database restore spends most of its time loading, after the artifact was read: its rows are
  // what it counts towards (a whole backup of one database, whose rows were counted).
  const rows = restore.targetKind === 'database' && !restore.sourceDatabase && backup?.type === 'full' && backup.recordsCount !== null ? Number(backup.recordsCount) : null;
  if (!artifact && !last) return null;
  return {
    sizeBytes: artifact ? Number(artifact.sizeBytes) : null,
    durationMs: last?.durationMs ?? null,
    ...(rows !== null ? { rows } : {}),
    basis: [artifact ? 'the size of the artifact' : null, rows !== null ? 'the rows the backup holds' : null, last ? 'the last completed restore of this backup' : null].filter(Boolean).join(', ').replace(/, ([^,]*)$/, ' and $1'),
  };
}

export async function expectedOfVerification(ctx: AppContext, verification: Pick<Verification, 'id' | 'status' | 'backupId'>): Promise<RunExpected | null> {
  if (!unfinished(verification.status)) return null;
  const last = await ctx.db.verification.findFirst({
    where: { backupId: verification.backupId, status: 'completed', id: { not: verification.id }, durationMs: { not: null } },
    orderBy: { completedAt: 'desc' },
    select: { durationMs: true },
  });
  return last ? { sizeBytes: null, durationMs: last.durationMs, basis: 'the last completed verification of this backup' } : null;
}
