import { describe, expect, test } from 'vitest';
import type { BackupDay } from '@coffre/contract';
import { dayTotal, labelledDays, niceByteCeiling, niceCeiling } from '../src/lib/charts.js';

const day = (change: Partial<BackupDay>): BackupDay => ({ date: '2026-05-20', completed: 0, failed: 0, pending: 0, running: 0, storedBytes: 0, ...change });

describe('dashboard charts', () => {
  test('a day counts the backups of every status', () => {
    expect(dayTotal(day({}))).toBe(0);
    expect(dayTotal(day({ completed: 3, failed: 1, running: 1, pending: 2 }))).toBe(7);
  });

  test('label the last day and every week before it', () => {
    expect(labelledDays(30, 7)).toEqual([1, 8, 15, 22, 29]);
    expect(labelledDays(30, 14)).toEqual([1, 15, 29]);
    expect(labelledDays(1, 7)).toEqual([0]);
    expect(labelledDays(0, 7)).toEqual([]);
  });

  test('round axis bounds up', () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(12)).toBe(20);
    expect(niceCeiling(300)).toBe(500);
    expect(niceByteCeiling(739 * 1024 ** 2)).toBe(1000 * 1024 ** 2);
    expect(niceByteCeiling(3 * 1024 ** 3)).toBe(5 * 1024 ** 3);
  });
});
