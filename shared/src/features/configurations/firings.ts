// What a configuration's job scheduler fires: a backup with trigger `schedule`. The backup's id is
// derived from the scheduler's job id, so that a retried or duplicated firing creates one backup.
//
// A firing waits in the queue while no worker runs (or none is free), and BullMQ schedules the next
// one only when a worker takes it: stopped from 21:05 to 21:08, an every-minute configuration has one
// firing (21:05) waiting and none at all for 21:06–21:08. So when a worker takes a firing after the
// next was due (or more than a grace after its own time), every firing from it to now is recorded as
// a failed row saying that no worker ran it, one notification says so, and the firing itself runs one
// catch-up backup. Ids derive from the configuration and the firing times: a retry records nothing twice.

import type { Backup, BackupConfiguration, Prisma } from '../../infra/db.js';
import { systemActor, type AppContext } from '../../infra/context.js';
import { defaultBackupName, requestBackup } from '../backups/commands.js';
import { notify } from '../notifications/notifications.js';
import { uiLink } from '../notifications/messages.js';
import { describeSchedule, scheduleProblems, type Schedule } from '@coffre/contract';
import { expectedIntervalMs, nextRunAt, overdueGraceMs, scheduleFromColumns } from '../../rules/schedule.js';
import type { JobHandlers } from '../catalog.js';
import { verifyNewestBackup } from '../verifications/commands.js';
import { stableUuid } from '../../infra/stable-uuid.js';

export interface Firing {
  /** The scheduler's job id (`repeat:<scheduler>:<millis>`): the same firing, the same backup. */
  id: string;
  /** When the scheduler meant it to run (BullMQ's prevMillis); null when unknown. */
  at: Date | null;
}

/** Missed firings recorded one row each; older ones are counted in the oldest row's message. */
const MAX_MISSED_ROWS = 50;
/** How far back missed firings are enumerated (an every-minute schedule stopped for a week). */
const MAX_MISSED_SCAN = 20_000;

export async function runScheduledConfiguration(ctx: AppContext, configurationId: string, firing: Firing, now = new Date()): Promise<Backup | null> {
  const configuration = await ctx.db.backupConfiguration.findUnique({ where: { id: configurationId }, include: { source: { select: { name: true } } } });
  if (!configuration || !configuration.active) {
    ctx.logger.info({ configurationId }, 'a scheduler fired for a configuration that is gone or inactive: nothing to do');
    return null;
  }
  const missed = firing.at ? missedFirings(scheduleFromColumns(configuration), firing.at, now) : [];
  if (missed.length > 0) await recordMissedFirings(ctx, configuration, missed, now);
  // On time, the firing's backup; after missed firings, the one catch-up backup.
  return requestBackup(ctx, { configurationId }, { ...systemActor, name: 'scheduler' }, { trigger: 'schedule', id: stableUuid(`schedule:${firing.id}`) });
}

/**
 * The firings no worker ran in time, oldest first, for a firing meant for `firedAt` taken at `now`:
 * none when it is taken before the next firing was due and within the grace; otherwise the firing
 * itself and every firing of the schedule after it up to now (those never got a job at all).
 */
export function missedFirings(schedule: Schedule, firedAt: Date, now: Date): Date[] {
  if (scheduleProblems(schedule).length > 0) return [];
  const later: Date[] = [];
  for (let at = nextRunAt(schedule, firedAt); at && at <= now && later.length < MAX_MISSED_SCAN; at = nextRunAt(schedule, at)) later.push(at);
  const interval = expectedIntervalMs(schedule, firedAt);
  const late = interval !== null && now.getTime() - firedAt.getTime() > overdueGraceMs(interval);
  return later.length > 0 || late ? [firedAt, ...later] : [];
}

async function recordMissedFirings(
  ctx: AppContext,
  configuration: BackupConfiguration & { source: { name: string } },
  missed: Date[],
  now: Date,
): Promise<void> {
  const zone = configuration.timezone || 'UTC';
  const recorded = missed.slice(-MAX_MISSED_ROWS);
  const earlier = missed.length - recorded.length;
  const rows: Prisma.BackupCreateManyInput[] = recorded.map((at, i) => ({
    id: stableUuid(`missed:${configuration.id}:${at.toISOString()}`),
    name: defaultBackupName(configuration.name, configuration.type, at),
    type: configuration.type,
    status: 'failed',
    trigger: 'schedule',
    sourceId: configuration.sourceId,
    sourceName: configuration.source.name,
    configurationId: configuration.id,
    compression: configuration.compression,
    encrypted: configuration.encrypt ?? ctx.recipients.length > 0,
    includePaths: configuration.includePaths,
    excludePatterns: configuration.excludePatterns,
    requestedBy: 'scheduler',
    createdAt: at,
    completedAt: now,
    errorMessage:
      `No worker ran this scheduled backup at ${clock(at, zone)}: no worker was running, or none was free, until ${clock(now, zone)}.` +
      (i === 0 && earlier > 0 ? ` The ${earlier} firing(s) before it, since ${clock(missed[0]!, zone)}, were missed too.` : '') +
      ` One catch-up backup was started at ${clock(now, zone)}.`,
  }));
  const { count } = await ctx.db.backup.createMany({ data: rows, skipDuplicates: true });
  ctx.logger.warn({ configurationId: configuration.id, missed: missed.length, from: missed[0], to: missed.at(-1) }, 'scheduled backups were missed: no worker ran them; one catch-up backup follows');
  if (count === 0) return; // recorded (and announced) by an earlier attempt of this firing
  const last = await ctx.db.backup.findFirst({
    where: { configurationId: configuration.id, status: 'completed', deletedAt: null },
    orderBy: { completedAt: 'desc' },
    select: { completedAt: true },
  });
  const first = missed[0]!;
  await notify(ctx, 'backup.failed', {
    key: `missed:${configuration.id}:${first.toISOString()}`,
    title:
      `Configuration "${configuration.name}" missed ${missed.length} scheduled backup(s): no worker ran ` +
      `${missed.length === 1 ? `the one of ${clock(first, zone)}` : `those from ${clock(first, zone)} to ${clock(missed.at(-1)!, zone)}`}; a catch-up backup was started`,
    url: uiLink(ctx.config.PUBLIC_URL, `/configurations/${configuration.id}`),
    occurredAt: now,
    parts: {
      configuration: {
        id: configuration.id,
        name: configuration.name,
        lastCompletedAt: last?.completedAt?.toISOString() ?? null,
        schedule: describeSchedule(scheduleFromColumns(configuration)),
      },
    },
  });
}

/** `2026-11-29 21:06 Europe/Paris`: a firing's time as the configuration's schedule reads. */
function clock(at: Date, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zone}`;
}

/** The handlers of the configurations feature's jobs (jobs.ts), fired by its schedulers. */
export const configurationHandlers = {
  'configuration.scheduled': async (ctx, payload, _hooks, job) => {
    // prevMillis: when the scheduler meant this firing to run (a late one means missed firings).
    const at = job.opts.prevMillis ? new Date(job.opts.prevMillis) : null;
    await runScheduledConfiguration(ctx, payload.configurationId, { id: String(job.id), at });
  },
  'configuration.verify': async (ctx, payload) => {
    await verifyNewestBackup(ctx, payload.configurationId, { ...systemActor, name: 'scheduler' });
  },
} satisfies Pick<JobHandlers, 'configuration.scheduled' | 'configuration.verify'>;
