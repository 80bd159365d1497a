import { describe, expect, test } from 'vitest';
import { pageItems } from '../src/lib/pagination.js';

describe('pageItems', () => {
  test('lists every page when there are few', () => {
    expect(pageItems(1, 1)).toEqual([1]);
    expect(pageItems(2, 5)).toEqual([1, 2, 3, 4, 5]);
  });

  test('puts an ellipsis on each side of the current page in a long list', () => {
    expect(pageItems(10, 20)).toEqual([1, 'gap-before', 9, 10, 11, 'gap-after', 20]);
  });

  test('shows a single hidden page instead of an ellipsis', () => {
    expect(pageItems(4, 20)).toEqual([1, 2, 3, 4, 5, 'gap-after', 20]);
    expect(pageItems(17, 20)).toEqual([1, 'gap-before', 16, 17, 18, 19, 20]);
  });

  test('keeps the ends and clamps a page out of range', () => {
    expect(pageItems(1, 7)).toEqual([1, 2, 'gap-after', 7]);
    expect(pageItems(7, 7)).toEqual([1, 'gap-before', 6, 7]);
    expect(pageItems(99, 7)).toEqual([1, 'gap-before', 6, 7]);
    expect(pageItems(1, 0)).toEqual([]);
  });

  test('never lists a page twice and always ascends', () => {
    for (let count = 1; count <= 40; count += 1) {
      for (let current = 1; current <= count; current += 1) {
        const numbers = pageItems(current, count).filter((item): item is number => typeof item === 'number');
        expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
        expect(numbers).toContain(current);
        expect(numbers[0]).toBe(1);
        expect(numbers[numbers.length - 1]).toBe(count);
      }
    }
  });
});
