import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ValidationError,
  describeSchedule,
  expectedIntervalMs,
  isOverdue,
  nextRunAt,
  scheduleFromColumns,
  scheduleProblems,
  scheduleToColumns,
  scheduleToCron,
  validateSchedule,
  type Schedule,
} from '@coffre/shared';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);

function validationMessage(schedule: Schedule): string {
  try {
    validateSchedule(schedule);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the schedule to be rejected');
}

describe('scheduleToCron', () => {
  it('gives no cron for a manual schedule', () => {
    expect(scheduleToCron({ kind: 'manual' })).toBeNull();
  });

  it('turns each preset into the cron pattern and time zone BullMQ takes', () => {
    expect(scheduleToCron({ kind: 'hourly', time: '15' })).toEqual({ pattern: '15 * * * *', tz: 'UTC' });
    expect(scheduleToCron({ kind: 'daily', time: '02:30', timezone: 'Europe/Paris' })).toEqual({ pattern: '30 2 * * *', tz: 'Europe/Paris' });
    expect(scheduleToCron({ kind: 'weekly', time: '03:00', weekday: 1 })).toEqual({ pattern: '0 3 * * 1', tz: 'UTC' });
    expect(scheduleToCron({ kind: 'monthly', time: '04:05', dayOfMonth: 28, timezone: 'America/New_York' })).toEqual({
      pattern: '5 4 28 * *',
      tz: 'America/New_York',
    });
  });

  it('fills absent parts as @hourly, @daily, @weekly and @monthly do', () => {
    expect(scheduleToCron({ kind: 'hourly' })?.pattern).toBe('0 * * * *');
    expect(scheduleToCron({ kind: 'daily' })?.pattern).toBe('0 0 * * *');
    expect(scheduleToCron({ kind: 'weekly', time: '01:00' })?.pattern).toBe('0 1 * * 0');
    expect(scheduleToCron({ kind: 'monthly' })?.pattern).toBe('0 0 1 * *');
  });

  it('passes a cron expression through with its spacing collapsed', () => {
    expect(scheduleToCron({ kind: 'cron', cron: '  */5   * * * 1-5 ', timezone: 'Asia/Kolkata' })).toEqual({ pattern: '*/5 * * * 1-5', tz: 'Asia/Kolkata' });
  });

  it('refuses an invalid schedule rather than scheduling something else', () => {
    expect(() => scheduleToCron({ kind: 'daily', time: '25:00' })).toThrow(ValidationError);
  });
});

describe('validateSchedule', () => {
  it('names the cron field out of range: minute 61', () => {
    expect(validationMessage({ kind: 'cron', cron: '61 * * * *' })).toBe(
      "schedule.cron: '61 * * * *' is not a valid cron expression (minute 61 is out of range 0-59).",
    );
  });

  it.each([
    ['0 24 * * *', 'hour 24 is out of range 0-23'],
    ['0 0 32 * *', 'day of month 32 is out of range 1-31'],
    ['0 0 0 * *', 'day of month 0 is out of range 1-31'],
    ['0 0 * 13 *', 'month 13 is out of range 1-12'],
    ['0 0 * * 8', 'day of week 8 is out of range 0-7'],
    ['1-70 * * * *', 'minute range 1-70 is out of range 0-59'],
    ['0 0 30 2 *', 'the day of month never occurs in the months given'],
    ['*/0 * * * *', "minute '*/0'"],
    ['0 0 * * * *', 'expected 5 fields, minute hour day-of-month month day-of-week, got 6'],
    ['@daily', 'expected 5 fields'],
    ['H 2 * * *', 'minute uses H, a random value'],
  ])('rejects the cron %s, saying why', (cron, why) => {
    const message = validationMessage({ kind: 'cron', cron });
    expect(message).toMatch(/^schedule\.cron: '.*' is not a valid cron expression \(/);
    expect(message).toContain(why);
  });

  it('requires a cron expression for a cron schedule', () => {
    expect(validationMessage({ kind: 'cron', cron: '  ' })).toBe('schedule.cron is required for a cron schedule.');
  });

  it.each(['0 0 L * *', '0 2 * * 1#1', '0 2 * * MON-FRI', '0 0 1 JAN,JUL *', '0 0 29 2 *', '? * * * *', '0 0 * * 7'])(
    'accepts the cron edge case %s',
    (cron) => {
      expect(scheduleProblems({ kind: 'cron', cron })).toEqual([]);
    },
  );

  it.each([
    [{ kind: 'daily', time: '24:00' }, 'schedule.time must be a time of day "HH:MM" from 00:00 to 23:59 (got \'24:00\').'],
    [{ kind: 'weekly', time: '3pm', weekday: 1 }, 'schedule.time must be a time of day "HH:MM" from 00:00 to 23:59 (got \'3pm\').'],
    [{ kind: 'hourly', time: '02:15' }, 'schedule.time must be the minute past the hour, "MM" from 00 to 59, for an hourly schedule (got \'02:15\').'],
    [{ kind: 'hourly', time: '60' }, 'schedule.time must be the minute past the hour, "MM" from 00 to 59, for an hourly schedule (got \'60\').'],
    [{ kind: 'weekly', weekday: 7 }, 'schedule.weekday must be between 0 (Sunday) and 6 (Saturday) (got 7).'],
    [{ kind: 'monthly', dayOfMonth: 31 }, 'schedule.dayOfMonth must be between 1 and 28, so that it occurs every month (got 31); for the last day of the month use a cron schedule with L.'],
    [{ kind: 'daily', timezone: 'Mars/Olympus' }, "schedule.timezone: 'Mars/Olympus' is not a known IANA time zone (for example Europe/Paris or UTC)."],
    [{ kind: 'daily', timezone: '+02:00' }, "schedule.timezone: '+02:00' is not a known IANA time zone (for example Europe/Paris or UTC)."],
    [
      { kind: 'daily', timezone: 'Australia/Lord_Howe' },
      "schedule.timezone: 'Australia/Lord_Howe' is not supported for schedules: its half-hour daylight-saving change makes the scheduler (cron-parser) return runs in the past or none at all; use UTC or a zone whose clocks change by whole hours.",
    ],
    [{ kind: 'daily', weekday: 1 }, 'schedule.weekday does not apply to a daily schedule (only weekly schedules have a weekday).'],
    [{ kind: 'manual', cron: '0 0 * * *' }, 'schedule.cron does not apply to a manual schedule (only cron schedules have a cron expression).'],
    [{ kind: 'yearly' }, "schedule.kind must be one of manual, hourly, daily, weekly, monthly, cron (got 'yearly')."],
  ] as [Schedule, string][])('rejects %j with a sentence naming the field', (schedule, message) => {
    expect(validationMessage(schedule)).toBe(message);
  });

  it('names every wrong field in one sentence', () => {
    expect(validationMessage({ kind: 'weekly', time: '7:60', weekday: -1, timezone: 'Nowhere' })).toBe(
      'schedule.time must be a time of day "HH:MM" from 00:00 to 23:59 (got \'7:60\'); ' +
        'schedule.weekday must be between 0 (Sunday) and 6 (Saturday) (got -1); ' +
        "schedule.timezone: 'Nowhere' is not a known IANA time zone (for example Europe/Paris or UTC).",
    );
  });
});

describe('describeSchedule', () => {
  it.each([
    [{ kind: 'daily', time: '02:30', timezone: 'Europe/Paris' }, 'Every day at 02:30 (Europe/Paris)'],
    [{ kind: 'weekly', time: '03:00', weekday: 1 }, 'Every Monday at 03:00 (UTC)'],
    [{ kind: 'hourly', time: '15' }, 'At minute 15 of every hour'],
    [{ kind: 'cron', cron: '*/5 * * * *' }, 'Cron: */5 * * * * (UTC)'],
    [{ kind: 'manual' }, 'Manual only'],
    [{ kind: 'monthly', time: '1:05', dayOfMonth: 22, timezone: 'europe/paris' }, 'On the 22nd of every month at 01:05 (Europe/Paris)'],
    [{ kind: 'monthly', dayOfMonth: 11 }, 'On the 11th of every month at 00:00 (UTC)'],
  ] as [Schedule, string][])('describes %j as "%s"', (schedule, words) => {
    expect(describeSchedule(schedule)).toBe(words);
  });

  it('says what is wrong with an invalid schedule instead of throwing', () => {
    expect(describeSchedule({ kind: 'cron', cron: '61 * * * *' })).toBe(
      "Invalid schedule: cron: '61 * * * *' is not a valid cron expression (minute 61 is out of range 0-59)",
    );
  });
});

describe('nextRunAt', () => {
  it('gives the next run in the schedule time zone, strictly after the given instant', () => {
    const daily = { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' } as const;
    expect(nextRunAt(daily, at('2025-01-10T12:00:00Z'))).toEqual(at('2025-01-11T01:30:00Z'));
    expect(nextRunAt(daily, at('2025-01-11T01:30:00Z'))).toEqual(at('2025-01-12T01:30:00Z'));
    expect(nextRunAt(daily, at('2025-07-10T12:00:00Z'))).toEqual(at('2025-07-11T00:30:00Z'));
  });

  it('is null for a manual schedule', () => {
    expect(nextRunAt({ kind: 'manual' }, new Date())).toBeNull();
  });

  it('runs a time skipped by the spring DST change in Europe/Paris an hour later, once', () => {
    // 30 March 2025: clocks jump from 02:00 to 03:00, so 02:30 does not exist that day.
    const daily = { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' } as const;
    const first = nextRunAt(daily, at('2025-03-29T12:00:00Z'))!;
    expect(first).toEqual(at('2025-03-30T01:30:00Z')); // 03:30 CEST
    expect(nextRunAt(daily, first)).toEqual(at('2025-03-31T00:30:00Z')); // 02:30 CEST
  });

  it('runs a time repeated by the autumn DST change in Europe/Paris once, at its first occurrence', () => {
    // 26 October 2025: 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    const daily = { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' } as const;
    const first = nextRunAt(daily, at('2025-10-25T12:00:00Z'))!;
    expect(first).toEqual(at('2025-10-26T00:30:00Z'));
    expect(nextRunAt(daily, first)).toEqual(at('2025-10-27T01:30:00Z'));
  });

  it('keeps an hourly schedule hourly through both Europe/Paris DST changes', () => {
    const hourly = { kind: 'hourly', time: '15', timezone: 'Europe/Paris' } as const;
    for (const start of ['2025-03-29T23:30:00Z', '2025-10-25T23:30:00Z']) {
      const runs: Date[] = [];
      let from = at(start);
      for (let i = 0; i < 5; i++) runs.push((from = nextRunAt(hourly, from)!));
      const gaps = runs.slice(1).map((run, i) => run.getTime() - runs[i]!.getTime());
      expect(gaps).toEqual([HOUR, HOUR, HOUR, HOUR]);
    }
  });

  it('runs a monthly schedule on its day every month, February included', () => {
    const monthly = { kind: 'monthly', time: '06:00', dayOfMonth: 28 } as const;
    expect(nextRunAt(monthly, at('2025-01-28T06:00:00Z'))).toEqual(at('2025-02-28T06:00:00Z'));
  });

  it('follows L to the last day of a leap-year February', () => {
    expect(nextRunAt({ kind: 'cron', cron: '0 0 L * *' }, at('2024-02-01T00:00:00Z'))).toEqual(at('2024-02-29T00:00:00Z'));
  });

  it('follows BullMQ where its cron-parser skips a midnight that America/Santiago does not have', () => {
    // 7 September 2025: Santiago springs from 00:00 to 01:00. BullMQ 6.7 (cron-parser 5.10.3)
    // skips that Sunday; if this fails after an upgrade, update the note on nextRunAt.
    const sundays = { kind: 'weekly', time: '00:00', weekday: 0, timezone: 'America/Santiago' } as const;
    expect(nextRunAt(sundays, at('2025-08-31T04:00:00Z'))).toEqual(at('2025-09-14T03:00:00Z'));
  });

  const presetArb: fc.Arbitrary<Schedule> = fc.oneof(
    fc.record({ kind: fc.constant('hourly' as const), time: fc.integer({ min: 0, max: 59 }).map(String) }),
    fc.record({ kind: fc.constant('daily' as const), time: timeArb() }),
    fc.record({ kind: fc.constant('weekly' as const), time: timeArb(), weekday: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ kind: fc.constant('monthly' as const), time: timeArb(), dayOfMonth: fc.integer({ min: 1, max: 28 }) }),
  );
  const zoneArb = fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'America/Santiago', 'America/St_Johns', 'Australia/Adelaide');

  it('gives the first instant after `from` whose wall-clock time in the zone is the scheduled one, or right after it when DST skips it (1000 runs)', () => {
    fc.assert(
      fc.property(presetArb, zoneArb, fc.date({ min: at('2024-01-01T00:00:00Z'), max: at('2028-12-31T00:00:00Z'), noInvalidDate: true }), (preset, timezone, from) => {
        const schedule = { ...preset, timezone };
        const next = nextRunAt(schedule, from)!;
        expect(next.getTime()).toBeGreaterThan(from.getTime());
        const wall = new WallClock(timezone);
        for (const missed of wall.scheduledInstantsBetween(schedule, from.getTime(), next.getTime())) {
          throw new Error(`skipped the run at ${new Date(missed).toISOString()}`);
        }
        const local = wall.at(next.getTime());
        if (!wall.matches(schedule, local)) {
          // Only a wall-clock time the DST change skipped that day may move, and by at most an hour.
          expect(wall.instantsOf(local.date, scheduledMinuteOfDay(schedule))).toEqual([]);
          expect(wall.matchesDate(schedule, local)).toBe(true);
          const late = local.minuteOfDay - scheduledMinuteOfDay(schedule);
          expect(late).toBeGreaterThan(0);
          expect(late).toBeLessThanOrEqual(60);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// --- a wall clock read through Intl only, as an independent reference ---

interface LocalTime {
  date: string; // YYYY-MM-DD
  day: number;
  weekday: number;
  minuteOfDay: number;
}

function scheduledMinuteOfDay(schedule: Schedule): number {
  if (schedule.kind === 'hourly') return Number(schedule.time);
  const [h, m] = schedule.time!.split(':').map(Number);
  return h! * 60 + m!;
}

class WallClock {
  private readonly format: Intl.DateTimeFormat;

  constructor(timezone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
  }

  at(time: number): LocalTime {
    const parts = Object.fromEntries(this.format.formatToParts(time).map((p) => [p.type, p.value]));
    return {
      date: `${parts.year}-${parts.month}-${parts.day}`,
      day: Number(parts.day),
      weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!),
      minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    };
  }

  matchesDate(schedule: Schedule, local: LocalTime): boolean {
    if (schedule.kind === 'weekly') return local.weekday === schedule.weekday;
    if (schedule.kind === 'monthly') return local.day === schedule.dayOfMonth;
    return true;
  }

  matches(schedule: Schedule, local: LocalTime): boolean {
    if (schedule.kind === 'hourly') return local.minuteOfDay % 60 === Number(schedule.time);
    return this.matchesDate(schedule, local) && local.minuteOfDay === scheduledMinuteOfDay(schedule);
  }

  /** The instants (zero, one, or two around DST) whose wall-clock reading is `date` at `minuteOfDay`. */
  instantsOf(date: string, minuteOfDay: number): number[] {
    const asUtc = Date.parse(`${date}T00:00:00Z`) + minuteOfDay * MINUTE;
    const offsetAround = (time: number) => {
      const local = this.at(time);
      return Date.parse(`${local.date}T00:00:00Z`) + local.minuteOfDay * MINUTE - Math.floor(time / MINUTE) * MINUTE;
    };
    const candidates = new Set([DAY, 0, -DAY].map((shift) => asUtc - offsetAround(asUtc + shift)));
    return [...candidates].filter((t) => this.at(t).date === date && this.at(t).minuteOfDay === minuteOfDay).sort((a, b) => a - b);
  }

  /** Every instant strictly between `from` and `until` at which the schedule's wall-clock time occurs. */
  scheduledInstantsBetween(schedule: Schedule, from: number, until: number): number[] {
    const found: number[] = [];
    if (schedule.kind === 'hourly') {
      for (let t = Math.floor(from / MINUTE) * MINUTE + MINUTE; t < until; t += MINUTE) {
        if (this.matches(schedule, this.at(t))) found.push(t);
      }
      return found;
    }
    for (let t = from - DAY; t < until + DAY; t += DAY / 2) {
      const local = this.at(t);
      if (!this.matchesDate(schedule, local)) continue;
      for (const instant of this.instantsOf(local.date, scheduledMinuteOfDay(schedule))) {
        if (instant > from && instant < until && !found.includes(instant)) found.push(instant);
      }
    }
    return found;
  }
}

function timeArb(): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
}

describe('expectedIntervalMs', () => {
  it('is fixed for presets: an hour, a day, a week, 31 days; null for manual', () => {
    expect(expectedIntervalMs({ kind: 'manual' })).toBeNull();
    expect(expectedIntervalMs({ kind: 'hourly', time: '10' })).toBe(HOUR);
    expect(expectedIntervalMs({ kind: 'daily', time: '02:00', timezone: 'Europe/Paris' })).toBe(DAY);
    expect(expectedIntervalMs({ kind: 'weekly', weekday: 3 })).toBe(7 * DAY);
    expect(expectedIntervalMs({ kind: 'monthly', dayOfMonth: 5 })).toBe(31 * DAY);
  });

  it.each([
    ['*/5 * * * *', 5 * MINUTE],
    ['0 2 * * 1-5', 3 * DAY], // Friday 02:00 to Monday 02:00, not the one day between weekdays
    ['0 9-17 * * *', 16 * HOUR], // 17:00 to 09:00 the next day
    ['0 3 1 * *', 31 * DAY],
    ['0 0 29 2 *', 1461 * DAY], // 29 February 2028 to 29 February 2032
  ])('measures the longest gap of the cron %s over the following year', (cron, gap) => {
    expect(expectedIntervalMs({ kind: 'cron', cron }, at('2025-01-01T00:00:00Z'))).toBe(gap);
  });

  // Random crons built from value sets, checked against a brute-force walk over every firing
  // time of the year, following cron's rule that a restricted day of month and a restricted day
  // of week combine with OR.
  const set = (min: number, max: number, most: number) => fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: most }).map((v) => v.sort((a, b) => a - b));
  const orStar = (arb: fc.Arbitrary<number[]>) => fc.option(arb, { nil: null, freq: 2 });
  const cronSetsArb = fc.record({
    minutes: set(0, 59, 3),
    hours: set(0, 23, 3),
    days: orStar(set(1, 28, 4)),
    months: orStar(set(1, 12, 4)),
    weekdays: orStar(set(0, 6, 3)),
  });

  it('equals the longest gap between consecutive runs found by brute force, for random crons (500 runs)', () => {
    fc.assert(
      fc.property(cronSetsArb, fc.integer({ min: 0, max: 4 * 365 }), (sets, dayOffset) => {
        const field = (values: number[] | null) => (values ? values.join(',') : '*');
        const cron = [sets.minutes, sets.hours, sets.days, sets.months, sets.weekdays].map(field).join(' ');
        const from = new Date(Date.UTC(2024, 0, 1) + dayOffset * DAY);
        expect(expectedIntervalMs({ kind: 'cron', cron }, from)).toBe(bruteForceLongestGap(sets, from));
      }),
      { numRuns: 500 },
    );
  });
});

function bruteForceLongestGap(
  sets: { minutes: number[]; hours: number[]; days: number[] | null; months: number[] | null; weekdays: number[] | null },
  from: Date,
): number {
  const fires = (day: Date) => {
    if (sets.months && !sets.months.includes(day.getUTCMonth() + 1)) return false;
    const byDate = sets.days?.includes(day.getUTCDate());
    const byWeekday = sets.weekdays?.includes(day.getUTCDay());
    if (sets.days && sets.weekdays) return byDate || byWeekday;
    return (byDate ?? true) && (byWeekday ?? true);
  };
  const times = sets.hours.flatMap((h) => sets.minutes.map((m) => h * HOUR + m * MINUTE)).sort((a, b) => a - b);
  // The days after `from` up to the first firing day past a year later.
  const instants: number[] = [];
  for (let day = from.getTime() + DAY; ; day += DAY) {
    if (!fires(new Date(day))) continue;
    for (const time of times) instants.push(day + time);
    if (day > from.getTime() + 366 * DAY) break;
  }
  let longest = 0;
  for (let i = 1; i < instants.length; i++) longest = Math.max(longest, instants[i]! - instants[i - 1]!);
  return longest;
}

describe('isOverdue', () => {
  const daily = { kind: 'daily', time: '02:00' } as const;
  const now = at('2025-06-10T12:00:00Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * HOUR);

  it('is overdue when no backup completed within one interval plus the grace (10 %, at least 5 min)', () => {
    // Daily: 24 h + 2.4 h. A night whose run failed or never happened is flagged the next morning.
    expect(isOverdue(daily, true, hoursAgo(26.5), hoursAgo(1000), now)).toBe(true);
    expect(isOverdue(daily, true, hoursAgo(26.3), hoursAgo(1000), now)).toBe(false);
  });

  it('gives every-minute schedules five minutes of grace', () => {
    const everyMinute = { kind: 'cron', cron: '* * * * *' } as const;
    expect(isOverdue(everyMinute, true, new Date(now.getTime() - 5.5 * 60_000), hoursAgo(1000), now)).toBe(false);
    expect(isOverdue(everyMinute, true, new Date(now.getTime() - 6.5 * 60_000), hoursAgo(1000), now)).toBe(true);
  });

  it('calls a configuration whose every run failed overdue one interval plus the grace after it was created', () => {
    expect(isOverdue(daily, true, null, hoursAgo(27), now)).toBe(true);
    expect(isOverdue(daily, true, null, hoursAgo(10), now)).toBe(false);
  });

  it('counts from a later activation or new schedule rather than from an older backup', () => {
    expect(isOverdue(daily, true, hoursAgo(100), hoursAgo(2), now)).toBe(false);
    expect(isOverdue(daily, true, hoursAgo(100), hoursAgo(27), now)).toBe(true);
  });

  it('is never overdue when inactive or manual', () => {
    expect(isOverdue(daily, false, null, hoursAgo(10_000), now)).toBe(false);
    expect(isOverdue({ kind: 'manual' }, true, null, hoursAgo(10_000), now)).toBe(false);
  });

  it('flags an active configuration whose stored schedule is invalid, since no scheduler runs it', () => {
    expect(isOverdue({ kind: 'cron', cron: '61 * * * *' }, true, hoursAgo(1), hoursAgo(2), now)).toBe(true);
  });

  it('does not flag a weekdays-only cron over the weekend', () => {
    const weekdays = { kind: 'cron', cron: '0 2 * * 1-5' } as const;
    const fridayRun = at('2025-06-06T02:10:00Z');
    expect(isOverdue(weekdays, true, fridayRun, hoursAgo(10_000), at('2025-06-09T08:00:00Z'))).toBe(false);
    expect(isOverdue(weekdays, true, fridayRun, hoursAgo(10_000), at('2025-06-12T08:00:00Z'))).toBe(true);
  });
});

describe('schedule columns', () => {
  it('stores a schedule in the BackupConfiguration columns and reads it back', () => {
    const columns = scheduleToColumns({ kind: 'weekly', time: '3:00', weekday: 1, timezone: 'europe/paris' });
    expect(columns).toEqual({
      scheduleKind: 'weekly',
      scheduleTime: '03:00',
      scheduleWeekday: 1,
      scheduleDayOfMonth: null,
      cron: null,
      timezone: 'Europe/Paris',
    });
    expect(describeSchedule(scheduleFromColumns(columns))).toBe('Every Monday at 03:00 (Europe/Paris)');
  });

  it('stores the minute of an hourly schedule as "MM"', () => {
    expect(scheduleToColumns({ kind: 'hourly', time: '5' }).scheduleTime).toBe('05');
  });
});
