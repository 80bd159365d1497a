// The "restore to a moment" form: the viewer's wall-clock time is sent with the viewer's offset at
// that time (daylight saving included), and what the API refuses is refused under the field.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceView } from '@coffre/contract';
import { momentWithZone, pitrRestoreProblems, pitrRestoreRequest, toLocalInput, type PitrRestoreChoice } from '../src/forms/pitr-restore';

const zone = process.env.TZ;
afterEach(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

const shop = { id: '0190f1e2-7c4a-7b3e-9d2f-1a2b3c4d5e6f', name: 'shop', kind: 'postgres', url: 'postgresql://coffre:****@db:5432/shop', createdAt: '', updatedAt: '' } satisfies SourceView;
const choice = (changes: Partial<PitrRestoreChoice>): PitrRestoreChoice => ({ moment: '2026-11-30T11:05:07', database: 'shop', target: 'new', newDatabase: 'shop_then', sourceId: '', confirm: '', ...changes });

describe('the moment', () => {
  it('carries the viewer’s offset at that time, daylight saving included', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(momentWithZone('2026-11-30T11:05:07')).toBe('2026-11-30T11:05:07+05:30');
    expect(momentWithZone('2026-11-30T11:05')).toBe('2026-11-30T11:05:00+05:30');
    process.env.TZ = 'America/New_York';
    expect(momentWithZone('2026-07-01T12:00:00')).toBe('2026-07-01T12:00:00-04:00');
    expect(momentWithZone('2026-12-01T12:00:00')).toBe('2026-12-01T12:00:00-05:00');
    expect(new Date(momentWithZone(toLocalInput('2026-12-01T17:00:09.000Z'))).toISOString()).toBe('2026-12-01T17:00:09.000Z');
    expect(momentWithZone('')).toBe('');
  });
});

describe('the form refuses what the API refuses', () => {
  it('names what is missing or wrong under its field', () => {
    expect(pitrRestoreProblems(choice({ moment: '' }), [shop]).moment).toBe('Pick the moment, to the second.');
    expect(pitrRestoreProblems(choice({ newDatabase: '' }), [shop]).newDatabase).toBe('Name the database to restore into.');
    expect(pitrRestoreProblems(choice({ newDatabase: '9 lives' }), [shop]).newDatabase).toMatch(/must be 1–63 letters, digits/);
    expect(pitrRestoreProblems(choice({ target: 'source' }), [shop]).sourceId).toBe('Pick the source to restore into.');
    expect(pitrRestoreProblems(choice({}), [shop])).toEqual({});
  });

  it('restores into an existing source’s own database, which the confirmation repeats', () => {
    process.env.TZ = 'UTC';
    expect(pitrRestoreRequest(choice({ target: 'source', sourceId: shop.id, confirm: 'shop' }), [shop])).toEqual({
      targetTime: '2026-11-30T11:05:07+00:00',
      database: 'shop',
      targetSourceId: shop.id,
      targetDatabase: 'shop',
      confirm: 'shop',
    });
  });
});
