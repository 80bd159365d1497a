// Which firings of a schedule no worker ran, given when a late firing is finally taken.
import { describe, expect, it } from 'vitest';
import { missedFirings } from '@coffre/shared';

const at = (iso: string) => new Date(iso);

describe('missedFirings', () => {
  const everyMinute = { kind: 'cron', cron: '* * * * *', timezone: 'UTC' } as const;
  const daily = { kind: 'daily', time: '02:00', timezone: 'UTC' } as const;

  it('finds none for a firing taken on time', () => {
    expect(missedFirings(everyMinute, at('2026-03-01T21:05:00Z'), at('2026-03-01T21:05:02Z'))).toEqual([]);
    expect(missedFirings(daily, at('2026-03-01T02:00:00Z'), at('2026-03-01T02:30:00Z'))).toEqual([]);
  });

  it('a worker stopped from 21:05 to 21:08: the waiting 21:05 firing and the 21:06–21:08 ones that never got a job', () => {
    expect(missedFirings(everyMinute, at('2026-03-01T21:05:00Z'), at('2026-03-01T21:08:30Z'))).toEqual([
      at('2026-03-01T21:05:00Z'),
      at('2026-03-01T21:06:00Z'),
      at('2026-03-01T21:07:00Z'),
      at('2026-03-01T21:08:00Z'),
    ]);
  });

  it('a night missed by a daily schedule counts once its grace (2.4 h) has passed', () => {
    expect(missedFirings(daily, at('2026-03-01T02:00:00Z'), at('2026-03-01T04:00:00Z'))).toEqual([]);
    expect(missedFirings(daily, at('2026-03-01T02:00:00Z'), at('2026-03-01T08:00:00Z'))).toEqual([at('2026-03-01T02:00:00Z')]);
  });
});
