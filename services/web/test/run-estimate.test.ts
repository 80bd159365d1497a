import { describe, expect, test } from 'vitest';
import { estimateRun } from '../src/lib/run-estimate.js';

const started = '2026-05-20T10:00:00.000Z';
const at = (seconds: number) => Date.parse(started) + seconds * 1000;

describe('a running run’s percentage and ETA', () => {
  test('by bytes when the bytes so far and the expected size are known', () => {
    const run = { status: 'running', startedAt: started, progressBytes: 250, expected: { sizeBytes: 1000, durationMs: 999_000, basis: 'x' } };
    expect(estimateRun(run, at(10))).toEqual({ elapsedMs: 10_000, percent: 25, remainingMs: 30_000, overdue: false });
  });

  test('by time when nothing is written yet, counting down from the comparable run’s duration', () => {
    const run = { status: 'running', startedAt: started, progressBytes: 0, expected: { sizeBytes: 1000, durationMs: 600_000, basis: 'x' } };
    expect(estimateRun(run, at(60))).toEqual({ elapsedMs: 60_000, percent: 10, remainingMs: 540_000, overdue: false });
  });

  test('never 100 % while it runs; past the comparable run the ETA is unknown', () => {
    const run = { status: 'running', startedAt: started, expected: { sizeBytes: null, durationMs: 1000, basis: 'x' } };
    expect(estimateRun(run, at(5))).toEqual({ elapsedMs: 5000, percent: 99, remainingMs: null, overdue: true });
    const bytes = { status: 'running', startedAt: started, progressBytes: 2000, expected: { sizeBytes: 1000, durationMs: null, basis: 'x' } };
    expect(estimateRun(bytes, at(5)).percent).toBe(99);
  });

  test('nothing to compare with, or not running: no percentage', () => {
    expect(estimateRun({ status: 'running', startedAt: started, expected: null }, at(5))).toEqual({ elapsedMs: 5000, percent: null, remainingMs: null, overdue: false });
    expect(estimateRun({ status: 'pending', startedAt: null, expected: { sizeBytes: 1, durationMs: 1, basis: 'x' } }, at(5)).elapsedMs).toBeNull();
  });
});

describe('a database restore’s percentage and ETA', () => {
  const expected = { sizeBytes: 1000, durationMs: null, rows: 8_000_000, basis: 'x' };

  test('by the rows loaded of the rows the backup holds, not by the artifact read in its first seconds', () => {
    const loading = { status: 'running', startedAt: started, progressBytes: 1000, loadedRows: 2_000_000, expected };
    expect(estimateRun(loading, at(40))).toEqual({ elapsedMs: 40_000, percent: 25, remainingMs: 120_000, overdue: false });
    // The artifact read, nothing loaded yet: not 99 % (the bytes read say nothing of the load).
    expect(estimateRun({ ...loading, loadedRows: null }, at(4)).percent).toBeNull();
  });

  test('every row loaded (indexes and the check remain): 99 % with no ETA, or by time when a comparable restore is known', () => {
    const done = { status: 'running', startedAt: started, progressBytes: 1000, loadedRows: 8_000_000, expected };
    expect(estimateRun(done, at(100))).toEqual({ elapsedMs: 100_000, percent: 99, remainingMs: null, overdue: false });
    expect(estimateRun({ ...done, expected: { ...expected, durationMs: 200_000 } }, at(100))).toEqual({ elapsedMs: 100_000, percent: 50, remainingMs: 100_000, overdue: false });
  });
});
