import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ValidationError,
  configurationCreateSchema,
  configurationToApi,
  configurationToColumns,
  configurationUpdateToColumns,
  formatZodError,
  parseConfigurationCreate,
  parseConfigurationUpdate,
  type BackupConfiguration,
  type ConfigurationColumns,
} from '@coffre/shared';

const SOURCE = '0190f1e2-7c4a-7b3e-9d2f-1a2b3c4d5e6f';
const DESTINATION = '0190f1e2-7c4a-7b3e-9d2f-aaaaaaaaaaaa';
const base = { name: 'nightly', sourceId: SOURCE };

/** The sentence a create body is rejected with. */
function rejection(body: unknown, parse: (body: unknown) => unknown = parseConfigurationCreate): string {
  try {
    parse(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the body to be rejected');
}

function rowOf(columns: ConfigurationColumns, extra: Partial<BackupConfiguration> = {}): BackupConfiguration & { destinations: { destinationId: string }[] } {
  return {
    id: '0190f1e2-7c4a-7b3e-9d2f-000000000001',
    lastRunAt: null,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    updatedAt: new Date('2025-01-02T00:00:00Z'),
    ...columns,
    ...extra,
    destinations: [],
  };
}

describe('parseConfigurationCreate: what is accepted', () => {
  it('fills every default from a name and a source', () => {
    expect(parseConfigurationCreate(base)).toEqual({
      name: 'nightly',
      sourceId: SOURCE,
      type: 'full',
      schedule: { kind: 'manual', timezone: 'UTC' },
      active: true,
      includePaths: [],
      excludePatterns: [],
      compression: 'zstd',
      dumpJobs: 1,
      encrypt: null,
      retention: {},
      destinationIds: [],
      verifySchedule: 'none',
      maxBackupBytes: null,
      timeLimitSeconds: null,
    });
  });

  it('stores a schedule normalized: "2:30" padded, the zone spelled as IANA spells it', () => {
    const input = parseConfigurationCreate({ ...base, schedule: { kind: 'daily', time: '2:30', timezone: 'europe/paris' } });
    expect(input.schedule).toEqual({ kind: 'daily', time: '02:30', timezone: 'Europe/Paris' });
  });

  it('takes the minute of an hourly schedule as a number or "MM" and stores "MM"', () => {
    expect(parseConfigurationCreate({ ...base, schedule: { kind: 'hourly', time: 5 } }).schedule.time).toBe('05');
    expect(parseConfigurationCreate({ ...base, schedule: { kind: 'hourly', time: '45' } }).schedule.time).toBe('45');
  });

  it('maps a full input onto the BackupConfiguration columns', () => {
    const input = parseConfigurationCreate({
      ...base,
      type: 'schema',
      schedule: { kind: 'weekly', time: '03:00', weekday: 1, timezone: 'Europe/Paris' },
      active: false,
      includePaths: ['/var/www/uploads'],
      excludePatterns: ['**/*.tmp'],
      compression: 'gzip',
      compressionLevel: 9,
      dumpJobs: 4,
      encrypt: true,
      retention: { keepLast: 3, maxAgeDays: 30, daily: 7, weekly: 0, monthly: 12, minKeep: 2, maxTotalBytes: 5_000_000_000 },
      destinationIds: [DESTINATION],
      verifySchedule: 'weekly',
      maxBackupBytes: 1_000_000_000,
      timeLimitSeconds: 3600,
    });
    expect(configurationToColumns(input)).toEqual({
      name: 'nightly',
      sourceId: SOURCE,
      type: 'schema',
      scheduleKind: 'weekly',
      scheduleTime: '03:00',
      scheduleWeekday: 1,
      scheduleDayOfMonth: null,
      cron: null,
      timezone: 'Europe/Paris',
      active: false,
      includePaths: ['/var/www/uploads'],
      excludePatterns: ['**/*.tmp'],
      compression: 'gzip',
      compressionLevel: 9,
      dumpJobs: 4,
      encrypt: true,
      retentionKeepLast: 3,
      retentionMaxAgeDays: 30,
      retentionDaily: 7,
      retentionWeekly: null, // 0 turns a rule off, stored as null
      retentionMonthly: 12,
      retentionYearly: null,
      retentionMinKeep: 2,
      retentionMaxTotalBytes: 5_000_000_000n,
      verifySchedule: 'weekly',
      maxBackupBytes: 1_000_000_000n,
      timeLimitSeconds: 3600,
    });
  });
});

describe('parseConfigurationCreate: one sentence naming the field', () => {
  it.each([
    [{ schedule: { kind: 'cron', cron: '61 * * * *' } }, "schedule.cron: '61 * * * *' is not a valid cron expression (minute 61 is out of range 0-59)."],
    [{ retention: { maxAgeDays: 366 } }, 'retention.maxAgeDays must be between 1 and 365 (got 366).'],
    [{ dumpJobs: 0 }, 'dumpJobs must be between 1 and 32 (got 0).'],
    [{ retention: { maxAgeDays: 0 } }, 'retention.maxAgeDays must be between 1 and 365 (got 0).'],
    [{ colour: 'blue' }, 'colour is not a known field.'],
    [{ retention: { maxAge: 30 } }, 'retention.maxAge is not a known field.'],
    [{ schedule: { kind: 'daily', at: '02:00' } }, 'schedule.at is not a known field.'],
  ])('rejects %j', (extra, sentence) => {
    expect(rejection({ ...base, ...extra })).toBe(sentence);
  });

  it.each([
    [{ sourceId: SOURCE }, 'name is required.'],
    [{ ...base, name: '   ' }, "name must not be empty (got '')."], // compared once trimmed
    [{ ...base, name: 'x'.repeat(101) }, `name must be at most 100 characters long (got '${'x'.repeat(57)}...').`],
    [{ ...base, name: 'a\nb' }, "name must not contain control characters (got 'a\\u000Ab')."],
    [{ ...base, sourceId: 'abc' }, "sourceId must be a UUID (got 'abc')."],
    [{ ...base, type: 'incremental' }, "type must be one of 'full', 'schema', 'data', 'physical' (got 'incremental')."],
    [{ ...base, active: 'yes' }, "active must be true or false (got 'yes')."],
    [{ ...base, compression: 'lz4' }, "compression must be one of 'zstd', 'gzip', 'none' (got 'lz4')."],
    [{ ...base, compression: 'gzip', compressionLevel: 12 }, 'compressionLevel must be between 1 and 9 for gzip (got 12).'],
    [{ ...base, compressionLevel: 22 }, 'compressionLevel must be between 1 and 19 for zstd (got 22).'],
    [{ ...base, compression: 'none', compressionLevel: 3 }, 'compressionLevel must be left out when compression is none (got 3).'],
    [{ ...base, includePaths: ['var/www'] }, "includePaths[0] must be an absolute path, starting with / (got 'var/www')."],
    [{ ...base, includePaths: ['/ok', '/bad\0path'] }, "includePaths[1] must not contain a NUL character (got '/bad\\u0000path')."],
    [{ ...base, includePaths: Array.from({ length: 51 }, (_, i) => `/p${i}`) }, 'includePaths must list at most 50 paths (got an array).'],
    [{ ...base, excludePatterns: Array.from({ length: 101 }, () => '*.log') }, 'excludePatterns must list at most 100 patterns (got an array).'],
    [{ ...base, excludePatterns: [''] }, "excludePatterns[0] must not be empty (got '')."],
    [{ ...base, destinationIds: [DESTINATION, 'x'] }, "destinationIds[1] must be a UUID (got 'x')."],
    [{ ...base, destinationIds: [DESTINATION, DESTINATION] }, 'destinationIds must not list a destination twice (got an array).'],
    [{ ...base, verifySchedule: 'hourly' }, "verifySchedule must be one of 'none', 'daily', 'weekly', 'monthly' (got 'hourly')."],
    [{ ...base, retention: { keepLast: -1 } }, 'retention.keepLast must be between 1 and 1000 (got -1).'],
    [{ ...base, retention: { keepLast: 0 } }, 'retention.keepLast must be at least 1 (got 0); leave it out to keep every backup.'],
    [{ ...base, retention: { weekly: -1 } }, 'retention.weekly must be between 0 and 1000 (got -1).'],
    [{ ...base, retention: { daily: 1.5 } }, 'retention.daily must be a whole number (got 1.5).'],
    [{ ...base, retention: { maxTotalBytes: 0 } }, 'retention.maxTotalBytes must be a number of bytes of at least 1 (got 0).'],
    [{ ...base, retention: { minKeep: -2 } }, 'retention.minKeep must be between 0 and 1000 (got -2).'],
    [{ ...base, maxBackupBytes: -1 }, 'maxBackupBytes must be a number of bytes of at least 1 (got -1).'],
    [{ ...base, timeLimitSeconds: 0 }, 'timeLimitSeconds must be between 1 and 604800 (got 0).'],
    [{ ...base, schedule: { kind: 'daily', weekday: 1 } }, 'schedule.weekday does not apply to a daily schedule (only weekly schedules have a weekday) (got 1).'],
    [{ ...base, schedule: { kind: 'monthly', dayOfMonth: 31 } }, 'schedule.dayOfMonth must be between 1 and 28, so that it occurs every month (got 31); for the last day of the month use a cron schedule with L.'],
    [{ ...base, schedule: { kind: 'daily', timezone: 'Mars/Olympus' } }, "schedule.timezone: 'Mars/Olympus' is not a known IANA time zone (for example Europe/Paris or UTC)."],
    [{ ...base, schedule: { kind: 'daily', time: true } }, 'schedule.time must be "HH:MM", or the minute "MM" for an hourly schedule (got true).'],
    [{ ...base, schedule: { time: '02:00' } }, 'schedule.kind is required.'],
    [[], 'The request body must be an object (got an array).'],
  ])('rejects %j with its sentence', (body, sentence) => {
    expect(rejection(body)).toBe(sentence);
  });

  it('names every problem in one sentence, joined by semicolons', () => {
    expect(rejection({ name: '', sourceId: 'abc', retention: { maxAgeDays: 366 }, extra: 1 })).toBe(
      "name must not be empty (got ''); sourceId must be a UUID (got 'abc'); retention.maxAgeDays must be between 1 and 365 (got 366); extra is not a known field.",
    );
  });

  it('keeps a 400 to five problems and counts the rest', () => {
    const body = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 };
    const sentence = rejection({ ...base, ...body, type: 'x', active: 'x', encrypt: 'x', compression: 'x', verifySchedule: 'x', includePaths: 'x' });
    expect(sentence.split('; ')).toHaveLength(6);
    expect(sentence).toMatch(/; and 2 more problems\.$/);
  });
});

describe('formatZodError with other schemas', () => {
  it('never echoes the value of a field that may hold a secret', () => {
    const schema = z.strictObject({ url: z.string().regex(/^https:/) });
    const parsed = schema.safeParse({ url: 'postgres://admin:hunter2@db/app' }, { reportInput: true });
    const sentence = formatZodError(parsed.error!);
    expect(sentence).toBe('url must be in the expected format.');
    expect(sentence).not.toContain('hunter2');
  });

  it('says which type it got even when the parse did not report inputs', () => {
    const parsed = z.strictObject({ port: z.number() }).safeParse({ port: 'eighty' });
    expect(formatZodError(parsed.error!)).toBe('port must be a number (got string).');
  });

  it('says a missing field is required, with or without reported inputs', () => {
    const schema = z.strictObject({ name: z.string() });
    expect(formatZodError(schema.safeParse({}).error!)).toBe('name is required.');
    expect(formatZodError(schema.safeParse({}, { reportInput: true }).error!)).toBe('name is required.');
  });

  it('lists several unknown fields of one object together', () => {
    const parsed = z.strictObject({ a: z.string().optional() }).safeParse({ b: 1, c: 2 });
    expect(formatZodError(parsed.error!)).toBe('b and c are not known fields.');
  });
});

describe('configurationUpdateToColumns', () => {
  const current = rowOf(configurationToColumns(parseConfigurationCreate({ ...base, compression: 'zstd', compressionLevel: 15 })));

  it('changes only the fields given', () => {
    expect(configurationUpdateToColumns(parseConfigurationUpdate({ active: false }), current)).toEqual({ active: false });
  });

  it('resets the level to the default when the compression changes without one', () => {
    expect(configurationUpdateToColumns(parseConfigurationUpdate({ compression: 'gzip' }), current)).toEqual({ compression: 'gzip', compressionLevel: null });
  });

  it('checks a level given alone against the stored compression', () => {
    const gzipRow = { ...current, compression: 'gzip' as const, compressionLevel: 6 };
    expect(() => configurationUpdateToColumns(parseConfigurationUpdate({ compressionLevel: 15 }), gzipRow)).toThrow(
      'compressionLevel must be between 1 and 9 for gzip (got 15).',
    );
    expect(configurationUpdateToColumns(parseConfigurationUpdate({ compressionLevel: 9 }), gzipRow)).toEqual({ compression: 'gzip', compressionLevel: 9 });
  });

  it('replaces the whole schedule, clearing the columns the new kind does not use', () => {
    const weeklyRow = { ...current, scheduleKind: 'weekly', scheduleTime: '03:00', scheduleWeekday: 1 };
    expect(configurationUpdateToColumns(parseConfigurationUpdate({ schedule: { kind: 'cron', cron: '0 */6 * * *' } }), weeklyRow)).toEqual({
      scheduleKind: 'cron',
      scheduleTime: null,
      scheduleWeekday: null,
      scheduleDayOfMonth: null,
      cron: '0 */6 * * *',
      timezone: 'UTC',
    });
  });

  it('replaces the whole retention: rules left out are turned off', () => {
    const columns = configurationUpdateToColumns(parseConfigurationUpdate({ retention: { daily: 7 } }), { ...current, retentionKeepLast: 5 } as never);
    expect(columns).toMatchObject({ retentionKeepLast: null, retentionDaily: 7, retentionMaxAgeDays: null });
  });

  it('rejects unknown fields in an update too', () => {
    expect(rejection({ nmae: 'x' }, parseConfigurationUpdate)).toBe('nmae is not a known field.');
  });
});

describe('configurationToApi', () => {
  const now = new Date('2025-03-29T12:00:00Z');

  it('shows schedule and retention as objects, the schedule in words, and the next run', () => {
    const columns = configurationToColumns(
      parseConfigurationCreate({ ...base, schedule: { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' }, retention: { daily: 7, monthly: 6 } }),
    );
    const view = configurationToApi({ ...rowOf(columns), destinations: [{ destinationId: DESTINATION }] }, now);
    expect(view).toMatchObject({
      schedule: { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' },
      scheduleDescription: 'Every day at 02:30 (Europe/Paris)',
      nextRunAt: '2025-03-30T01:30:00.000Z', // 03:30 CEST: 02:30 does not exist that night
      retention: { daily: 7, monthly: 6 },
      destinationIds: [DESTINATION],
      createdAt: '2025-01-01T00:00:00.000Z',
      lastRunAt: null,
    });
  });

  it('has no next run when inactive or manual', () => {
    const daily = configurationToColumns(parseConfigurationCreate({ ...base, active: false, schedule: { kind: 'daily' } }));
    expect(configurationToApi(rowOf(daily), now).nextRunAt).toBeNull();
    expect(configurationToApi(rowOf(configurationToColumns(parseConfigurationCreate(base))), now)).toMatchObject({
      nextRunAt: null,
      scheduleDescription: 'Manual only',
    });
  });

  it('shows a corrupt stored schedule instead of failing the listing', () => {
    const columns = configurationToColumns(parseConfigurationCreate(base));
    const view = configurationToApi(rowOf(columns, { scheduleKind: 'cron', cron: '61 * * * *' }), now);
    expect(view.nextRunAt).toBeNull();
    expect(view.scheduleDescription).toMatch(/^Invalid schedule: cron: '61 \* \* \* \*' is not a valid cron expression/);
  });

  // Random valid inputs: what the API shows must be accepted back as input and store the same row,
  // so that a client can GET, edit one field and PUT.
  const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${h}:${String(m).padStart(2, '0')}`);
  const scheduleArb = fc.oneof(
    fc.constant({ kind: 'manual' }),
    fc.record({ kind: fc.constant('hourly'), time: fc.integer({ min: 0, max: 59 }) }),
    fc.record({ kind: fc.constant('daily'), time, timezone: fc.constantFrom('UTC', 'europe/paris', 'America/New_York') }, { requiredKeys: ['kind'] }),
    fc.record({ kind: fc.constant('weekly'), time, weekday: fc.integer({ min: 0, max: 6 }) }, { requiredKeys: ['kind'] }),
    fc.record({ kind: fc.constant('monthly'), time, dayOfMonth: fc.integer({ min: 1, max: 28 }) }, { requiredKeys: ['kind'] }),
    fc.record({ kind: fc.constant('cron'), cron: fc.constantFrom('*/5 * * * *', ' 0  2 * * 1-5', '0 0 L * *'), timezone: fc.constantFrom('Asia/Kolkata', 'UTC') }),
  );
  const count = fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined });
  const inputArb = fc.record(
    {
      // eslint-disable-next-line no-control-regex
      name: fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(s)),
      sourceId: fc.uuid({ version: 7 }),
      type: fc.constantFrom('full', 'schema', 'data'),
      schedule: scheduleArb,
      active: fc.boolean(),
      includePaths: fc.array(fc.string({ maxLength: 30 }).map((s) => `/${s.replace(/\0/g, '')}`), { maxLength: 5 }),
      excludePatterns: fc.array(fc.constantFrom('*.log', '**/tmp/**', 'cache'), { maxLength: 3 }),
      compression: fc.constantFrom('zstd', 'gzip', 'none'),
      encrypt: fc.option(fc.boolean(), { nil: null }),
      retention: fc.record(
        { keepLast: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }), maxAgeDays: fc.option(fc.integer({ min: 1, max: 365 }), { nil: undefined }), daily: count, weekly: count, monthly: count, yearly: count },
        { requiredKeys: [] },
      ),
      destinationIds: fc.uniqueArray(fc.uuid({ version: 4 }), { maxLength: 3 }),
      verifySchedule: fc.constantFrom('none', 'daily', 'weekly', 'monthly'),
    },
    { requiredKeys: ['name', 'sourceId'] },
  );

  it('shows a configuration in a form the API accepts back, storing the same row (500 runs)', () => {
    fc.assert(
      fc.property(inputArb, (body) => {
        const columns = configurationToColumns(parseConfigurationCreate(body));
        const destinations = ((body.destinationIds as string[] | undefined) ?? []).map((destinationId) => ({ destinationId }));
        const view = configurationToApi({ ...rowOf(columns), destinations }, now);
        const { id: _id, scheduleDescription: _d, nextRunAt: _n, lastRunAt: _l, createdAt: _c, updatedAt: _u, ...asInput } = view;
        const again = configurationCreateSchema.parse(asInput);
        expect(configurationToColumns(again)).toEqual(columns);
        expect(again.destinationIds).toEqual(destinations.map((d) => d.destinationId));
      }),
      { numRuns: 500 },
    );
  });
});
