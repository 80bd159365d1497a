// The rate on the live line of `--wait`: counted from when the run was last seen waiting, so that a
// run that wrote everything between two polls shows how fast it went, not 0 B/s.
import { describe, expect, it } from 'vitest';
import { describeFrame, rateMeter } from '../src/progress.js';

const MB = 1024 * 1024;

describe('the rate shown while a run is watched', () => {
  it('is not shown before the run has been watched running for a second', () => {
    const meter = rateMeter();
    expect(meter.observe('pending', 0, 0)).toBeNull();
    expect(meter.observe('running', 10 * MB, 500)).toBeNull();
    expect(meter.observe('running', 20 * MB, 2_000)).toBe(10 * MB);
  });

  it('counts what was written between the last wait and the first running poll', () => {
    // Seen pending at 0 s, then running with all 74 MB written at 1 s, then held: 74 MB over 1 s, then over 2 s.
    const meter = rateMeter();
    meter.observe('pending', 0, 0);
    expect(meter.observe('running', 74 * MB, 1_000)).toBe(74 * MB);
    expect(meter.observe('running', 74 * MB, 2_000)).toBe(37 * MB);
  });

  it('counts from the first running poll when the run was never seen waiting (a wait attached to a run under way)', () => {
    const meter = rateMeter();
    expect(meter.observe('running', 50 * MB, 0)).toBeNull();
    expect(meter.observe('running', 62 * MB, 4_000)).toBe(3 * MB);
  });

  it('is not shown once the run has ended', () => {
    const meter = rateMeter();
    meter.observe('pending', 0, 0);
    meter.observe('running', MB, 1_000);
    expect(meter.observe('completed', 2 * MB, 3_000)).toBeNull();
  });
});

describe('what the line says of a restore', () => {
  const frame = { status: 'running' as const, bytes: 146 * MB, rate: null, elapsedMs: 12_000 };

  it('while it reads its artifact: the bytes read of the artifact', () => {
    expect(describeFrame({ ...frame, loaded: null }, 146 * MB)).toBe('146 MB of 146 MB');
  });

  it('while it loads: the rows loaded, of the rows the backup holds when known', () => {
    expect(describeFrame({ ...frame, loaded: { rows: 3_100_000, total: 8_300_330 } }, 146 * MB)).toBe('loading, 3,100,000 of 8,300,330 rows');
    expect(describeFrame({ ...frame, loaded: { rows: 42, total: null } }, 146 * MB)).toBe('loading, 42 rows');
  });
});
