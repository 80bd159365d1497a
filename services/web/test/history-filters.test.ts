import { describe, expect, test } from 'vitest';
import { backupQuery, dateRangeProblem, filtersFromSearch, filtersToSearch, hasFilters } from '../src/lib/history-filters.js';

describe('history filters in the URL', () => {
  test('survive a round trip through the query string', () => {
    const filters = { q: 'nightly', type: 'schema', status: 'failed', from: '2026-05-01', to: '2026-05-31', page: 3 } as const;
    expect(filtersFromSearch(new URLSearchParams(filtersToSearch(filters).toString()))).toEqual(filters);
  });

  test('drop what the API would refuse instead of guessing', () => {
    const filters = filtersFromSearch(new URLSearchParams('type=everything&status=done&from=yesterday&to=2026-13&page=-2'));
    expect(filters).toEqual({ q: '', type: '', status: '', from: '', to: '', page: 1 });
  });

  test('leave out what is unset, and page 1', () => {
    expect(filtersToSearch({ q: '  ', type: '', status: 'running', from: '', to: '', page: 1 }).toString()).toBe('status=running');
  });

  test('say when the range is backwards, and when any filter is set', () => {
    expect(dateRangeProblem({ from: '2026-05-02', to: '2026-05-01' })).toMatch(/after/);
    expect(dateRangeProblem({ from: '2026-05-01', to: '2026-05-01' })).toBeNull();
    expect(hasFilters({ q: '', type: '', status: '', from: '', to: '', page: 4 })).toBe(false);
    expect(hasFilters({ q: 'x', type: '', status: '', from: '', to: '', page: 1 })).toBe(true);
  });

  test('become GET /api/backups parameters', () => {
    expect(backupQuery({ q: ' db ', type: 'full', status: '', from: '2026-01-01', to: '', page: 2 }, 20)).toEqual({ page: 2, pageSize: 20, q: 'db', type: 'full', from: '2026-01-01' });
  });
});
