// The form's rules mirror the API's: a form the browser accepts is one the API accepts, and a
// form the browser refuses is one the API refuses, checked here against the API's own schema.
import { describe, expect, test } from 'vitest';
import { configurationCreateSchema } from '@coffre/shared';
import {
  configurationBody,
  cronProblem,
  emptyForm,
  fieldOfApiPath,
  formFromConfiguration,
  validateConfiguration,
  type ConfigurationForm,
} from '../src/lib/configuration-rules.js';

const sourceId = '0190a6f4-8f2b-7cc1-9a43-6d5b2c1e0f11';
const valid = (change: Partial<ConfigurationForm> = {}): ConfigurationForm => ({ ...emptyForm(sourceId), name: 'nightly', ...change });

const cases: [string, Partial<ConfigurationForm>, keyof ConfigurationForm | null][] = [
  ['a daily schedule', {}, null],
  ['an hourly schedule at minute 5', { scheduleKind: 'hourly', minute: '5' }, null],
  ['a weekly schedule', { scheduleKind: 'weekly', weekday: '6', time: '23:59' }, null],
  ['a monthly schedule on the 28th', { scheduleKind: 'monthly', dayOfMonth: '28' }, null],
  ['a cron schedule', { scheduleKind: 'cron', cron: '*/15 2-5 * * 1-5' }, null],
  ['a manual schedule', { scheduleKind: 'manual' }, null],
  ['gzip at level 9 with every retention rule', { compression: 'gzip', compressionLevel: '9', keepLast: '3', maxAgeDays: '365', daily: '7', weekly: '4', monthly: '12', yearly: '2' }, null],
  ['an empty name', { name: '  ' }, 'name'],
  ['a name of 101 characters', { name: 'n'.repeat(101) }, 'name'],
  ['a name with a control character', { name: 'a\u0007b' }, 'name'],
  ['no source', { sourceId: '' }, 'sourceId'],
  ['a time of 24:00', { time: '24:00' }, 'time'],
  ['a time without minutes', { time: '7' }, 'time'],
  ['minute 60 of the hour', { scheduleKind: 'hourly', minute: '60' }, 'minute'],
  ['day 29 of the month', { scheduleKind: 'monthly', dayOfMonth: '29' }, 'dayOfMonth'],
  ['a cron of four fields', { scheduleKind: 'cron', cron: '0 2 * *' }, 'cron'],
  ['a cron minute of 61', { scheduleKind: 'cron', cron: '61 * * * *' }, 'cron'],
  ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
  ['a relative include path', { includePaths: '/etc/app\nvar/data' }, 'includePaths'],
  ['zstd at level 20', { compressionLevel: '20' }, 'compressionLevel'],
  ['a level without compression', { compression: 'none', compressionLevel: '3' }, 'compressionLevel'],
  ['a max age of 366 days', { maxAgeDays: '366' }, 'maxAgeDays'],
  ['a max age of 0 days', { maxAgeDays: '0' }, 'maxAgeDays'],
  ['keeping 1001', { keepLast: '1001' }, 'keepLast'],
  ['keeping the last 0, which would keep every backup', { keepLast: '0' }, 'keepLast'],
  ['keeping 2.5', { weekly: '2.5' }, 'weekly'],
];

describe('the configuration form', () => {
  test.each(cases)('%s: the browser and the API agree', (_what, change, field) => {
    const form = valid(change);
    const errors = validateConfiguration(form);
    const api = configurationCreateSchema.safeParse(configurationBody(form));
    if (field === null) {
      expect(errors).toEqual({});
      expect(api.success, JSON.stringify(api.error?.issues)).toBe(true);
    } else {
      expect(Object.keys(errors)).toEqual([field]);
      // An empty source is not sent as a UUID; every other refusal is the API's too.
      expect(api.success).toBe(false);
    }
  });

  test('sends the schedule fields its kind uses, and only those', () => {
    expect(configurationBody(valid({ scheduleKind: 'hourly', minute: '7' })).schedule).toEqual({ kind: 'hourly', time: '07', timezone: 'UTC' });
    expect(configurationBody(valid({ scheduleKind: 'weekly', weekday: '1', time: '03:15', timezone: 'Europe/Paris' })).schedule).toEqual({
      kind: 'weekly',
      time: '03:15',
      weekday: 1,
      timezone: 'Europe/Paris',
    });
    expect(configurationBody(valid({ keepLast: '', daily: '0' })).retention).toEqual({ daily: 0 });
  });

  test("a new configuration follows the server's encryption; choosing sends the choice, and an edit keeps it", () => {
    expect(emptyForm(sourceId).encrypt).toBe('installation');
    expect(configurationBody(valid()).encrypt).toBeNull();
    expect(configurationCreateSchema.parse(configurationBody(valid())).encrypt).toBeNull();
    expect(configurationBody(valid({ encrypt: 'on' })).encrypt).toBe(true);
    expect(configurationBody(valid({ encrypt: 'off' })).encrypt).toBe(false);
    const stored = { ...configurationCreateSchema.parse(configurationBody(valid({ encrypt: 'off' }))), id: sourceId, sourceName: 'default', scheduleDescription: '', nextRunAt: null, lastRunAt: null, overdue: false, lastCompletedAt: null, lastStatus: null, encrypted: false };
    expect(formFromConfiguration(stored as Parameters<typeof formFromConfiguration>[0]).encrypt).toBe('off');
    expect(formFromConfiguration({ ...stored, encrypt: null } as Parameters<typeof formFromConfiguration>[0]).encrypt).toBe('installation');
  });

  test("puts the API's sentences under the field they name", () => {
    expect(fieldOfApiPath('schedule.time', 'hourly')).toBe('minute');
    expect(fieldOfApiPath('schedule.time', 'daily')).toBe('time');
    expect(fieldOfApiPath('retention.maxAgeDays', 'daily')).toBe('maxAgeDays');
    expect(fieldOfApiPath('includePaths[2]', 'daily')).toBe('includePaths');
    expect(fieldOfApiPath('somethingElse', 'daily')).toBeNull();
  });

  test('explains a bad cron expression in words', () => {
    expect(cronProblem('')).toMatch(/required/);
    expect(cronProblem('0 25 * * *')).toMatch(/hour field must stay between 0 and 23/);
    expect(cronProblem('*/90 * * * *')).toBeNull();
  });
});
