// When a configuration runs. The worker turns a schedule into a BullMQ job scheduler
// (scheduleToCron → upsertJobScheduler(id, { pattern, tz }, …)); the API shows it in words and
// says when it runs next; the maintenance job flags configurations that stopped producing backups.
// The schedule model and its pure rules (kinds, problems, normal form, words) are the contract's:
// shared/contract/src/schedule.ts, which the web form checks with too.
import { getNextMillis } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import { joinFieldAndMessage, normalizeSchedule, schedulePattern, scheduleProblems, type Schedule, type ScheduleKind } from '@coffre/contract';
import { ValidationError } from '../infra/errors.js';

/** The schedule columns of a BackupConfiguration row. */
export interface ScheduleColumns {
  scheduleKind: string;
  scheduleTime: string | null;
  scheduleWeekday: number | null;
  scheduleDayOfMonth: number | null;
  cron: string | null;
  timezone: string;
}

/** What BullMQ's upsertJobScheduler takes as its repeat options. */
export interface CronRepeat {
  pattern: string;
  tz: string;
}

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Throws a ValidationError naming every wrong field ("schedule.cron: '61 * * * *' is not …"). */
export function validateSchedule(schedule: Schedule): void {
  const problems = scheduleProblems(schedule);
  if (problems.length === 0) return;
  const sentence = problems.map((p) => `${joinFieldAndMessage(`schedule.${p.field}`, p.message)}`).join('; ');
  throw new ValidationError(`${sentence}.`, problems);
}

/** The repeat options of the configuration's BullMQ job scheduler; null for a manual schedule. */
export function scheduleToCron(schedule: Schedule): CronRepeat | null {
  validateSchedule(schedule);
  return schedulePattern(schedule);
}

/**
 * The first run strictly after `from`, computed by BullMQ's own function so that it is what the
 * scheduler will fire, quirks included: BullMQ pins its cron-parser, whose version can differ from
 * the one coffre validates with (BullMQ 6.7's skips a midnight run on the day America/Santiago
 * springs forward at midnight). Null for a manual schedule (and, defensively, if BullMQ finds no
 * next run: the scheduler would then stop firing, which isOverdue reports).
 */
export function nextRunAt(schedule: Schedule, from: Date): Date | null {
  const repeat = scheduleToCron(schedule);
  if (!repeat) return null;
  const next = getNextMillis(from.getTime(), repeat);
  return next === undefined ? null : new Date(next);
}

/**
 * The longest wait between two runs, in milliseconds; null for a manual schedule. Presets are
 * fixed: an hour, a day, a week, 31 days (the longest month-to-month gap for days 1–28). For cron
 * it is the exact maximum over the year after `from`, so that a weekdays-only cron measures its
 * weekend gap, not the one day between two weekdays. Hours shifted by DST are not counted: the
 * grace isOverdue adds (10 % of the interval) absorbs them.
 */
export function expectedIntervalMs(schedule: Schedule, from: Date = new Date()): number | null {
  validateSchedule(schedule);
  const s = normalizeSchedule(schedule);
  switch (s.kind) {
    case 'manual':
      return null;
    case 'hourly':
      return HOUR_MS;
    case 'daily':
      return DAY_MS;
    case 'weekly':
      return 7 * DAY_MS;
    case 'monthly':
      return 31 * DAY_MS;
    case 'cron':
      return longestCronGapMs(s.cron!, from);
  }
}

/**
 * True for an active, scheduled configuration with no completed backup (artifacts kept) within one
 * interval of its schedule plus a grace, whatever was attempted: a night whose run failed or never
 * happened is flagged the next morning, not two days later. Counted from the newest such backup, or
 * from when the configuration was created or last activated (or rescheduled) when that is later.
 * Also true for an active configuration whose stored schedule is invalid: no scheduler runs it.
 * The one rule behind the dashboard, the API, the overdue notification and `coffre doctor`.
 */
export function isOverdue(schedule: Schedule, active: boolean, lastCompletedAt: Date | null, scheduledSince: Date, now: Date): boolean {
  const due = overdueAt(schedule, active, lastCompletedAt, scheduledSince);
  return due !== null && now.getTime() > due.getTime();
}

/** When the configuration becomes overdue if no backup completes before; null when it never does. */
export function overdueAt(schedule: Schedule, active: boolean, lastCompletedAt: Date | null, scheduledSince: Date): Date | null {
  if (!active) return null;
  if (scheduleProblems(schedule).length > 0) return new Date(0);
  const since = lastCompletedAt && lastCompletedAt > scheduledSince ? lastCompletedAt : scheduledSince;
  const interval = expectedIntervalMs(schedule, since);
  if (interval === null) return null;
  return new Date(since.getTime() + interval + overdueGraceMs(interval));
}

/** The slack after an interval before a run counts as missing: 10 % of it, and at least 5 minutes. */
export function overdueGraceMs(intervalMs: number): number {
  return Math.max(5 * MINUTE_MS, Math.round(intervalMs / 10));
}

/** The schedule of a BackupConfiguration row. */
export function scheduleFromColumns(row: ScheduleColumns): Schedule {
  return {
    kind: row.scheduleKind as ScheduleKind,
    time: row.scheduleTime,
    weekday: row.scheduleWeekday,
    dayOfMonth: row.scheduleDayOfMonth,
    cron: row.cron,
    timezone: row.timezone,
  };
}

/** The columns to store for a (valid) schedule; the fields its kind does not use are cleared. */
export function scheduleToColumns(schedule: Schedule): ScheduleColumns {
  const s = normalizeSchedule(schedule);
  return {
    scheduleKind: s.kind,
    scheduleTime: s.time ?? null,
    scheduleWeekday: s.weekday ?? null,
    scheduleDayOfMonth: s.dayOfMonth ?? null,
    cron: s.cron ?? null,
    timezone: s.timezone ?? 'UTC',
  };
}

/** Joins a field name and a problem: predicates after a space, statements after a colon. */
export { joinFieldAndMessage };

// --- cron gaps ---

/**
 * The longest gap between two runs of a valid five-field cron. The times of day it fires at are
 * the same on every day it fires, so the longest gap is either between two times within a day or
 * from the last time of one firing day to the first time of the next firing day.
 */
function longestCronGapMs(cron: string, from: Date): number {
  const dayFields = cron.split(' ').slice(2);
  const fields = CronExpressionParser.parse(cron, { tz: 'UTC' }).fields;
  const minutesOfDay = fields.hour.values
    .flatMap((hour) => fields.minute.values.map((minute) => Number(hour) * 60 + Number(minute)))
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < minutesOfDay.length; i++) longest = Math.max(longest, minutesOfDay[i]! - minutesOfDay[i - 1]!);
  const firstToLast = minutesOfDay[minutesOfDay.length - 1]! - minutesOfDay[0]!;
  // Days are enumerated in UTC: which days fire does not depend on the zone, only when they start.
  // The pattern of days repeats every week when only the day of week is restricted (and not by
  // L or #, which depend on the month), and every day when nothing is; a year covers the rest.
  const [dayOfMonth, month, dayOfWeek] = dayFields as [string, string, string];
  const any = (field: string) => field === '*' || field === '?';
  const repeatsWeekly = any(dayOfMonth) && any(month) && !/[L#]/i.test(dayOfWeek);
  const span = repeatsWeekly ? (any(dayOfWeek) ? 2 : 15) : 366;
  const days = CronExpressionParser.parse(`0 0 ${dayFields.join(' ')}`, { tz: 'UTC', currentDate: from });
  const horizon = from.getTime() + span * DAY_MS;
  let previous = days.next().getTime();
  for (;;) {
    const day = days.next().getTime();
    longest = Math.max(longest, (day - previous) / MINUTE_MS - firstToLast);
    if (day > horizon) break;
    previous = day;
  }
  return longest * MINUTE_MS;
}
