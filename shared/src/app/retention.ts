// Applying retention: for each configuration its policy (selectExpiredBackups); for backups outside
// any configuration, MAX_BACKUPS per source (selectBeyondMaxBackups). An expired backup loses its
// artifacts in every destination; its row stays, marked deleted.
import type { AppContext } from './context.js';
import { systemActor } from './context.js';
import { recordAudit } from './audit.js';
import { removeBackupArtifacts } from './backups.js';
import { retentionFromColumns } from './configuration-input.js';
import { hasRetentionRule, selectBeyondMaxBackups, selectExpiredBackups } from './retention-policy.js';
import { scheduleFromColumns } from './schedule.js';

export interface RetentionReport {
  expired: { backupId: string; name: string; rule: string }[];
  failures: { backupId: string; error: string }[];
}

const columns = { id: true, name: true, status: true, completedAt: true, createdAt: true, deletedAt: true, configurationId: true, sourceId: true } as const;

export async function applyRetention(ctx: AppContext, now = new Date(), options: { dryRun?: boolean } = {}): Promise<RetentionReport> {
  const report: RetentionReport = { expired: [], failures: [] };
  const configurations = await ctx.db.backupConfiguration.findMany();
  for (const configuration of configurations) {
    const policy = retentionFromColumns(configuration);
    if (!hasRetentionRule(policy)) continue;
    const backups = await ctx.db.backup.findMany({ where: { configurationId: configuration.id, deletedAt: null }, select: columns });
    const timezone = scheduleFromColumns(configuration).timezone ?? 'UTC';
    for (const backup of selectExpiredBackups(backups, policy, now, timezone)) {
      await expire(ctx, backup, `retention of configuration "${configuration.name}"`, report, options);
    }
  }
  // Backups outside any configuration: the newest MAX_BACKUPS per source are kept.
  const unconfigured = await ctx.db.backup.findMany({ where: { configurationId: null, deletedAt: null }, select: columns });
  const bySource = new Map<string, typeof unconfigured>();
  for (const backup of unconfigured) {
    const key = backup.sourceId ?? 'none';
    bySource.set(key, [...(bySource.get(key) ?? []), backup]);
  }
  for (const backups of bySource.values()) {
    for (const backup of selectBeyondMaxBackups(backups, ctx.config.MAX_BACKUPS)) {
      await expire(ctx, backup, `MAX_BACKUPS (${ctx.config.MAX_BACKUPS})`, report, options);
    }
  }
  return report;
}

async function expire(ctx: AppContext, backup: { id: string; name: string }, rule: string, report: RetentionReport, options: { dryRun?: boolean }) {
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
