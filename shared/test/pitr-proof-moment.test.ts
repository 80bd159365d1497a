// The moment a proof of point-in-time recovery recovers to: a whole second of the base backup's span,
// any of them, never outside it.
import { describe, expect, it } from 'vitest';
import { randomMomentIn } from '@coffre/shared';

describe('the moment a PITR proof picks', () => {
  it('is a whole second inside the span, and every second of it is picked', () => {
    const span = { from: new Date('2026-11-30T10:00:00.400Z'), to: new Date('2026-11-30T10:00:04.700Z') };
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const moment = randomMomentIn(span);
      expect(moment.getTime() % 1000).toBe(0);
      expect(moment.getTime()).toBeGreaterThanOrEqual(span.from.getTime());
      expect(moment.getTime()).toBeLessThanOrEqual(span.to.getTime());
      seen.add(moment.getTime());
    }
    expect([...seen].sort().map((t) => new Date(t).toISOString().slice(17, 19))).toEqual(['01', '02', '03', '04']);
  });

  it('is the end of a span shorter than a whole second', () => {
    const span = { from: new Date('2026-11-30T10:00:00.200Z'), to: new Date('2026-11-30T10:00:00.900Z') };
    expect(randomMomentIn(span)).toEqual(span.to);
  });
});
