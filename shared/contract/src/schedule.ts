// When a configuration runs, as the API accepts it and shows it: the pure rules (browser-safe) that
// the configuration schema checks with. The scheduler's side (BullMQ patterns, next runs, overdue)
// is in shared/src/rules/schedule.ts.
//
// The model matches the BackupConfiguration columns (scheduleKind, scheduleTime, scheduleWeekday,
// scheduleDayOfMonth, cron, timezone):
// - manual: runs only when asked.
// - hourly: `time` is the minute past the hour, "MM" (00–59). A minute, not "HH:MM", because that
//   is all an hourly schedule has; the API also accepts it as a number and stores "MM".
// - daily: `time` "HH:MM", 24-hour clock, in `timezone`.
// - weekly: `time` and `weekday`, 0 = Sunday … 6 = Saturday (cron's numbering).
// - monthly: `time` and `dayOfMonth`, 1–28 only, so that it happens every month: a "31st" that
//   silently skips seven months a year is a trap. For the last day use cron with `L`.
// - cron: five fields (minute hour day-of-month month day-of-week), evaluated by cron-parser, the
//   library BullMQ itself uses; nextRunAt asks BullMQ, so it says what the scheduler will do.
// Absent parts default as cron's @hourly/@daily/@weekly/@monthly do: minute 0, 00:00, Sunday, the
// 1st. `timezone` is an IANA name (default UTC) and applies to every kind.
//
// DST, as cron-parser (and so BullMQ) handles it: a local time skipped by the spring change
// (02:30 in Europe/Paris on the last Sunday of March) runs an hour later, at 03:30; a local time
// that happens twice in autumn runs once, at its first occurrence.
import { CronExpressionParser } from 'cron-parser';
import { joinFieldAndMessage } from './sentences.js';

export const scheduleKinds = ['manual', 'hourly', 'daily', 'weekly', 'monthly', 'cron'] as const;
export type ScheduleKind = (typeof scheduleKinds)[number];

export interface Schedule {
  kind: ScheduleKind;
  /** "MM" for hourly, "HH:MM" for daily, weekly and monthly. */
  time?: string | null;
  /** 0 = Sunday … 6 = Saturday, weekly only. */
  weekday?: number | null;
  /** 1–28, monthly only. */
  dayOfMonth?: number | null;
  /** Five-field cron expression, cron only. */
  cron?: string | null;
  /** IANA time zone; UTC when absent. */
  timezone?: string | null;
}

export type ScheduleField = 'kind' | 'time' | 'weekday' | 'dayOfMonth' | 'cron' | 'timezone';

/**
 * One thing wrong with a schedule. `message` reads after the field's name: a predicate
 * ("must be …") after a space, a statement about the value ("'61 * * * *' is not …") after a colon.
 */
export interface ScheduleProblem {
  field: ScheduleField;
  message: string;
}

export const weekdayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** The fields each kind uses; any other field (but timezone) given with a kind is a mistake. */
const fieldsOfKind: Record<ScheduleKind, readonly ScheduleField[]> = {
  manual: [],
  hourly: ['time'],
  daily: ['time'],
  weekly: ['time', 'weekday'],
  monthly: ['time', 'dayOfMonth'],
  cron: ['cron'],
};

/** Everything wrong with a schedule, field by field; empty when it is valid. */
export function scheduleProblems(schedule: Schedule): ScheduleProblem[] {
  const kind = schedule.kind;
  if (!(scheduleKinds as readonly string[]).includes(kind)) {
    return [{ field: 'kind', message: `must be one of ${scheduleKinds.join(', ')} (got ${quote(kind)})` }];
  }
  const problems: ScheduleProblem[] = [];
  for (const field of ['time', 'weekday', 'dayOfMonth', 'cron'] as const) {
    const value = schedule[field];
    if (value !== undefined && value !== null && !fieldsOfKind[kind].includes(field)) {
      problems.push({ field, message: `does not apply to a ${kind} schedule (${usesOfField[field]})` });
    }
  }
  if (kind === 'hourly' && schedule.time != null && parseMinute(schedule.time) === null) {
    problems.push({ field: 'time', message: `must be the minute past the hour, "MM" from 00 to 59, for an hourly schedule (got ${quote(schedule.time)})` });
  }
  if (kind !== 'hourly' && fieldsOfKind[kind].includes('time') && schedule.time != null && parseTimeOfDay(schedule.time) === null) {
    problems.push({ field: 'time', message: `must be a time of day "HH:MM" from 00:00 to 23:59 (got ${quote(schedule.time)})` });
  }
  if (kind === 'weekly' && schedule.weekday != null && !isIntegerBetween(schedule.weekday, 0, 6)) {
    problems.push({ field: 'weekday', message: `must be between 0 (Sunday) and 6 (Saturday) (got ${String(schedule.weekday)})` });
  }
  if (kind === 'monthly' && schedule.dayOfMonth != null && !isIntegerBetween(schedule.dayOfMonth, 1, 28)) {
    problems.push({
      field: 'dayOfMonth',
      message: `must be between 1 and 28, so that it occurs every month (got ${String(schedule.dayOfMonth)}); for the last day of the month use a cron schedule with L`,
    });
  }
  if (kind === 'cron') {
    const cronProblem = cronExpressionProblem(schedule.cron);
    if (cronProblem) problems.push({ field: 'cron', message: cronProblem });
  }
  if (schedule.timezone != null && !isKnownTimezone(schedule.timezone)) {
    problems.push({ field: 'timezone', message: `${quote(schedule.timezone)} is not a known IANA time zone (for example Europe/Paris or UTC)` });
  } else if (schedule.timezone != null && kind !== 'manual' && hasPartHourDstChange(schedule.timezone)) {
    problems.push({
      field: 'timezone',
      message: `${quote(schedule.timezone)} is not supported for schedules: its half-hour daylight-saving change makes the scheduler (cron-parser) return runs in the past or none at all; use UTC or a zone whose clocks change by whole hours`,
    });
  }
  return problems;
}

const usesOfField: Record<'time' | 'weekday' | 'dayOfMonth' | 'cron', string> = {
  time: 'only hourly, daily, weekly and monthly schedules have a time',
  weekday: 'only weekly schedules have a weekday',
  dayOfMonth: 'only monthly schedules have a day of the month',
  cron: 'only cron schedules have a cron expression',
};

/**
 * The schedule in its stored form: defaults filled in, "H:MM" padded to "HH:MM", the cron's
 * spacing collapsed, the time zone spelled as IANA spells it, and fields the kind does not use
 * dropped. Expects a valid schedule.
 */
export function normalizeSchedule(schedule: Schedule): Schedule {
  const timezone = canonicalTimezone(schedule.timezone ?? 'UTC');
  switch (schedule.kind) {
    case 'manual':
      return { kind: 'manual', timezone };
    case 'hourly':
      return { kind: 'hourly', time: pad(parseMinute(schedule.time ?? '0') ?? 0), timezone };
    case 'daily':
      return { kind: 'daily', time: normalTimeOfDay(schedule.time), timezone };
    case 'weekly':
      return { kind: 'weekly', time: normalTimeOfDay(schedule.time), weekday: schedule.weekday ?? 0, timezone };
    case 'monthly':
      return { kind: 'monthly', time: normalTimeOfDay(schedule.time), dayOfMonth: schedule.dayOfMonth ?? 1, timezone };
    case 'cron':
      return { kind: 'cron', cron: collapseSpaces(schedule.cron ?? ''), timezone };
  }
}

/** The schedule in words: "Every day at 02:30 (Europe/Paris)", "Manual only". */
export function describeSchedule(schedule: Schedule): string {
  const problems = scheduleProblems(schedule);
  // Listing configurations must not fail on one bad row; say what is wrong instead.
  if (problems.length > 0) return `Invalid schedule: ${joinFieldAndMessage(problems[0]!.field, problems[0]!.message)}`;
  const s = normalizeSchedule(schedule);
  const zone = `(${s.timezone})`;
  switch (s.kind) {
    case 'manual':
      return 'Manual only';
    case 'hourly':
      return `At minute ${Number(s.time)} of every hour`;
    case 'daily':
      return `Every day at ${s.time} ${zone}`;
    case 'weekly':
      return `Every ${weekdayNames[s.weekday!]} at ${s.time} ${zone}`;
    case 'monthly':
      return `On the ${ordinal(s.dayOfMonth!)} of every month at ${s.time} ${zone}`;
    case 'cron':
      return `Cron: ${s.cron} ${zone}`;
  }
}

// --- cron expressions ---

const cronFieldNames = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;

/** Why `expression` cannot be a cron schedule, or null when it can. */
function cronExpressionProblem(expression: string | null | undefined): string | null {
  if (expression === undefined || expression === null || expression.trim() === '') return 'is required for a cron schedule';
  const cron = collapseSpaces(expression);
  const invalid = (why: string) => `${quote(cron)} is not a valid cron expression (${why})`;
  const fields = cron.split(' ');
  if (fields.length !== 5) {
    return invalid(`expected 5 fields, minute hour day-of-month month day-of-week, got ${fields.length}`);
  }
  for (const [index, field] of fields.entries()) {
    const name = cronFieldNames[index]!;
    // H picks a random value from a seed BullMQ and nextRunAt would not share.
    if (/H/i.test(field.replace(/SUN|MON|TUE|WED|THU|FRI|SAT|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC/gi, ''))) {
      return invalid(`${name} uses H, a random value, which coffre does not support`);
    }
    // Parsed alone, with every other field '*', so that the error names the field at fault.
    const probe = fields.map((other, i) => (i === index ? other : '*')).join(' ');
    const error = parseError(probe);
    if (error) return invalid(fieldProblem(name, field, error));
  }
  const error = parseError(cron);
  if (error) {
    return invalid(/day of month/i.test(error) ? 'the day of month never occurs in the months given' : lowerFirst(error));
  }
  return null;
}

function parseError(expression: string): string | null {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(0) }).next();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** cron-parser's messages name no field; this one does. */
function fieldProblem(name: string, field: string, parserMessage: string): string {
  const value = /got value (\S+) expected range (\d+-\d+)/.exec(parserMessage);
  if (value) return `${name} ${value[1]} is out of range ${value[2]}`;
  const range = /got range (\d+-\d+) expected range (\d+-\d+)/.exec(parserMessage);
  if (range) return `${name} range ${range[1]} is out of range ${range[2]}`;
  return `${name} ${quote(field)}: ${lowerFirst(parserMessage.replace(/^(Constraint|Validation) error, /, ''))}`;
}

// --- times and zones ---

function parseMinute(text: string): number | null {
  const match = /^(\d{1,2})$/.exec(String(text).trim());
  if (!match) return null;
  const minute = Number(match[1]);
  return minute <= 59 ? minute : null;
}

/** "HH:MM" (or "H:MM") as hour and minute; null when it is not a time of day. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(String(text).trim());
  if (!match) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  return hour <= 23 && minute <= 59 ? { hour, minute } : null;
}

function normalTimeOfDay(time: string | null | undefined): string {
  const parsed = parseTimeOfDay(time ?? '00:00') ?? { hour: 0, minute: 0 };
  return `${pad(parsed.hour)}:${pad(parsed.minute)}`;
}

/** An IANA zone name the runtime (and so luxon, under cron-parser) knows; offsets like +02:00 are not. */
export function isKnownTimezone(name: string): boolean {
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A zone whose daylight-saving change is not a whole hour (Australia/Lord_Howe: 30 minutes).
 * cron-parser mishandles those: found by the nextRunAt property test, and the same in the version
 * BullMQ pins.
 */
function hasPartHourDstChange(timezone: string): boolean {
  const offsetMinutes = (time: number) => {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' }).formatToParts(time);
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(parts.find((p) => p.type === 'timeZoneName')?.value ?? '');
    return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
  };
  const year = new Date().getUTCFullYear();
  const change = offsetMinutes(Date.UTC(year, 0, 1)) - offsetMinutes(Date.UTC(year, 6, 1));
  return change % 60 !== 0;
}

/**
 * "europe/paris" → "Europe/Paris". Only the case is fixed: Intl's resolvedOptions would also
 * rename zones to ICU's legacy names (Asia/Kolkata → Asia/Calcutta), which operators do not expect.
 */
function canonicalTimezone(name: string): string {
  if (name.toUpperCase() === 'UTC') return 'UTC';
  return Intl.supportedValuesOf('timeZone').find((zone) => zone.toLowerCase() === name.toLowerCase()) ?? name;
}

function isIntegerBetween(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function collapseSpaces(text: string): string {
  return text.trim().split(/\s+/).join(' ');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function ordinal(day: number): string {
  const suffix = day % 10 === 1 && day !== 11 ? 'st' : day % 10 === 2 && day !== 12 ? 'nd' : day % 10 === 3 && day !== 13 ? 'rd' : 'th';
  return `${day}${suffix}`;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
