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

/** The schedulers in Redis against the configurations: what syncAllSchedulers would put right. */
export interface SchedulerDrift {
  /** Active configurations with a valid schedule: each needs a backup scheduler. */
  expectedBackupSchedulers: number;
  /** Backup schedulers there are (`configuration-<id>`). */
  backupSchedulers: number;
  /** Configurations (names) whose scheduled backups no scheduler fires. */
  missing: string[];
  /** Configurations (names) whose scheduler fires on another schedule than configured. */
  drifted: string[];
  /** Schedulers (keys) of configurations that are gone or inactive. */
  extra: string[];
  /** Configurations (names) whose verifications no scheduler runs. */
  missingVerifications: string[];
  maintenanceMissing: boolean;
}

export async function schedulerDrift(ctx: AppContext): Promise<SchedulerDrift> {
  const configurations = await ctx.db.backupConfiguration.findMany();
  const expectedBackups = new Map<string, { pattern: string; tz: string | undefined; name: string }>();
  const expectedVerifies = new Map<string, string>();
  for (const c of configurations) {
    if (!c.active) continue;
    const schedule = scheduleFromColumns(c);
    const cron = scheduleProblems(schedule).length === 0 ? scheduleToCron(schedule) : null;
    if (cron) expectedBackups.set(backupScheduler(c.id), { pattern: cron.pattern, tz: cron.tz, name: c.name });
    if (Object.hasOwn(verifyPatterns, c.verifySchedule)) expectedVerifies.set(verifyScheduler(c.id), c.name);
  }
  const backupSchedulers = await ctx.queues.queue('backup').getJobSchedulers(0, -1);
  const verifySchedulers = await ctx.queues.queue('restore').getJobSchedulers(0, -1);
  const maintenance = await ctx.queues.queue('maintenance').getJobSchedulers(0, -1);
  const isBackupScheduler = (key: string) => key.startsWith(backupScheduler(''));
  return {
    expectedBackupSchedulers: expectedBackups.size,
    backupSchedulers: backupSchedulers.filter((s) => isBackupScheduler(s.key)).length,
    missing: [...expectedBackups].filter(([key]) => !backupSchedulers.some((s) => s.key === key)).map(([, v]) => v.name),
    drifted: backupSchedulers
      .filter((s) => {
        const expected = expectedBackups.get(s.key);
        return expected && (s.pattern !== expected.pattern || (s.tz ?? undefined) !== (expected.tz ?? undefined));
      })
      .map((s) => expectedBackups.get(s.key)!.name),
    extra: [
      ...backupSchedulers.filter((s) => isBackupScheduler(s.key) && !expectedBackups.has(s.key)),
      ...verifySchedulers.filter((s) => s.key.startsWith(verifyScheduler('')) && !expectedVerifies.has(s.key)),
    ].map((s) => s.key),
    missingVerifications: [...expectedVerifies].filter(([key]) => !verifySchedulers.some((s) => s.key === key)).map(([, name]) => name),
    maintenanceMissing: !maintenance.some((s) => s.key === MAINTENANCE_SCHEDULER),
  };
}
