// BullMQ job schedulers kept in step with the configurations: `configuration-<id>` fires its backups,
// `verify-<id>` its test restores, `maintenance` runs retention and reconciliation. Each goes through
// ctx.queues.schedule (the catalog's payload schema and job options) and is idempotent: APIs and
// workers starting together end with exactly one scheduler each.
import type { BackupConfiguration } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { scheduleProblems } from '@coffre/contract';
import { scheduleFromColumns, scheduleToCron } from '../../rules/schedule.js';
import { scheduleJob } from '../catalog.js';

export const MAINTENANCE_SCHEDULER = 'maintenance';
const backupScheduler = (id: string) => `configuration-${id}`;
const verifyScheduler = (id: string) => `verify-${id}`;

/** When a verify schedule runs: after the night's backups. */
const verifyPatterns: Record<string, string> = {
  daily: '30 4 * * *',
  weekly: '30 4 * * 0',
  monthly: '30 4 1 * *',
};

export async function syncConfigurationSchedulers(ctx: AppContext, configuration: BackupConfiguration): Promise<void> {
  const schedule = scheduleFromColumns(configuration);
  const payload = { configurationId: configuration.id };
  const cron = configuration.active && scheduleProblems(schedule).length === 0 ? scheduleToCron(schedule) : null;
  if (cron) {
    await scheduleJob(ctx, 'configuration.scheduled', backupScheduler(configuration.id), { pattern: cron.pattern, tz: cron.tz }, payload);
  } else {
    await ctx.queues.queue('backup').removeJobScheduler(backupScheduler(configuration.id));
  }
  const verifyPattern = configuration.active ? verifyPatterns[configuration.verifySchedule] : undefined;
  if (verifyPattern) {
    await scheduleJob(ctx, 'configuration.verify', verifyScheduler(configuration.id), { pattern: verifyPattern, tz: schedule.timezone ?? 'UTC' }, payload);
  } else {
    await ctx.queues.queue('restore').removeJobScheduler(verifyScheduler(configuration.id));
  }
}

export async function removeConfigurationSchedulers(ctx: AppContext, id: string): Promise<void> {
  await ctx.queues.queue('backup').removeJobScheduler(backupScheduler(id));
  await ctx.queues.queue('restore').removeJobScheduler(verifyScheduler(id));
}

/**
 * Every scheduler in step with the rows: one per active scheduled configuration, none for the others,
 * and the maintenance scheduler. Run by every worker at start (and safe to run anywhere, any time).
 */
export async function syncAllSchedulers(ctx: AppContext): Promise<{ backups: number; verifications: number }> {
  await scheduleJob(ctx, 'maintenance.run', MAINTENANCE_SCHEDULER, { pattern: ctx.config.MAINTENANCE_CRON, tz: 'UTC' }, {});
  const configurations = await ctx.db.backupConfiguration.findMany();
  for (const configuration of configurations) await syncConfigurationSchedulers(ctx, configuration);
  const known = new Set(configurations.map((c) => c.id));
  let backups = 0;
  let verifications = 0;
  for (const [queue, prefix] of [['backup', 'configuration-'], ['restore', 'verify-']] as const) {
    const schedulers = await ctx.queues.queue(queue).getJobSchedulers(0, -1);
    for (const scheduler of schedulers) {
      const id = scheduler.key.startsWith(prefix) ? scheduler.key.slice(prefix.length) : null;
      if (id && !known.has(id)) await ctx.queues.queue(queue).removeJobScheduler(scheduler.key);
      else if (id && queue === 'backup') backups += 1;
      else if (id) verifications += 1;
    }
  }
  return { backups, verifications };
}
