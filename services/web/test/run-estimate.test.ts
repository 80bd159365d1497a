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
