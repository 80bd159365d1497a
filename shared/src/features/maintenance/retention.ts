// Applying retention: for each configuration its policy (selectExpiredBackups), right after each of its
// backups completes and in the maintenance run (the safety net); for backups outside any
// configuration, MAX_BACKUPS per source (the rule of selectBeyondMaxBackups, written as a query).
// An expired backup loses its artifacts in every destination; its row stays, marked deleted.
import type { BackupConfiguration } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { systemActor } from '../../infra/context.js';
import { recordAudit } from '../audit/audit.js';
import { removeBackupArtifacts } from '../backups/commands.js';
import { retentionFromColumns } from '../configurations/input.js';
import { hasRetentionRule, selectExpiredBackups } from '../../rules/retention-policy.js';
import { scheduleFromColumns } from '../../rules/schedule.js';

export interface RetentionReport {
  expired: { backupId: string; name: string; rule: string }[];
  failures: { backupId: string; error: string }[];
}

/** Unconfigured backups expired per source and run; the next run takes the rest. */
const UNCONFIGURED_BATCH = 500;

const columns = { id: true, name: true, status: true, completedAt: true, createdAt: true, deletedAt: true, configurationId: true, sourceId: true, sizeBytes: true } as const;

export async function applyRetention(ctx: AppContext, now = new Date(), options: { dryRun?: boolean } = {}): Promise<RetentionReport> {
  const report: RetentionReport = { expired: [], failures: [] };
  const configurations = await ctx.db.backupConfiguration.findMany();
  for (const configuration of configurations) await expireBackupsOf(ctx, configuration, now, options, report);
  // Backups outside any configuration: the newest MAX_BACKUPS per source are kept. Counted per
  // source in the database, and only the rows beyond the limit are read, oldest first, at most
  // UNCONFIGURED_BATCH per source and run: a history of 100 000 rows costs one grouped count.
  const max = ctx.config.MAX_BACKUPS;
  const unconfigured = { configurationId: null, deletedAt: null, status: 'completed' } as const;
  const counts = await ctx.db.backup.groupBy({ by: ['sourceId'], where: unconfigured, _count: { _all: true } });
  for (const { sourceId, _count } of counts) {
    if (_count._all <= max) continue;
    const beyond = await ctx.db.backup.findMany({
      where: { ...unconfigured, sourceId },
      orderBy: [{ completedAt: { sort: 'asc', nulls: 'first' } }, { createdAt: 'asc' }, { id: 'asc' }],
      take: Math.min(_count._all - max, UNCONFIGURED_BATCH),
      select: columns,
    });
    for (const backup of beyond) {
      await expire(ctx, backup, `MAX_BACKUPS (${max})`, report, options);
    }
  }
  return report;
}

/**
 * One configuration's retention, applied as soon as one of its backups completes: an every-minute
 * schedule with keepLast 3 keeps 3, not the 60 an hourly sweep would let pile up.
 */
export async function applyConfigurationRetention(ctx: AppContext, configurationId: string, now = new Date()): Promise<RetentionReport> {
  const report: RetentionReport = { expired: [], failures: [] };
  const configuration = await ctx.db.backupConfiguration.findUnique({ where: { id: configurationId } });
  if (configuration) await expireBackupsOf(ctx, configuration, now, {}, report);
  return report;
}

async function expireBackupsOf(ctx: AppContext, configuration: BackupConfiguration, now: Date, options: { dryRun?: boolean }, report: RetentionReport): Promise<void> {
  const policy = retentionFromColumns(configuration);
  if (!hasRetentionRule(policy)) return;
  const backups = await ctx.db.backup.findMany({ where: { configurationId: configuration.id, deletedAt: null }, select: columns });
  const timezone = scheduleFromColumns(configuration).timezone ?? 'UTC';
  for (const backup of selectExpiredBackups(backups, policy, now, timezone)) {
    await expire(ctx, backup, `retention of configuration "${configuration.name}"`, report, options);
  }
}

async function expire(ctx: AppContext, backup: { id: string; name: string }, rule: string, report: RetentionReport, options: { dryRun?: boolean }) {
  // Retention runs after every backup now: a backup being restored or verified keeps its artifacts until then.
  const inUse = { backupId: backup.id, status: { in: ['pending' as const, 'running' as const] } };
  if ((await ctx.db.restore.count({ where: inUse })) + (await ctx.db.verification.count({ where: inUse })) > 0) {
    report.failures.push({ backupId: backup.id, error: `Backup "${backup.name}" is being restored or verified: it expires once that has finished.` });
    return;
  }
  report.expired.push({ backupId: backup.id, name: backup.name, rule });
  if (options.dryRun) return;
  try {
    // Only a completed backup is ever selected; the condition guards against a concurrent delete.
    const full = await ctx.db.backup.findFirst({ where: { id: backup.id, status: 'completed', deletedAt: null }, include: { artifacts: { include: { destination: true } } } });
    if (!full) return;
    await removeBackupArtifacts(ctx, full);
    await recordAudit(ctx.db, { ...systemActor, name: 'retention' }, { action: 'backup.expire', targetType: 'backup', targetId: backup.id, summary: { before: { name: backup.name }, rule } });
  } catch (error) {
    report.failures.push({ backupId: backup.id, error: (error as Error).message });
  }
}
