// The history page's filters live in the URL (?q=&type=&status=&from=&to=&page=), so that they
// survive navigation and reload and a filtered view can be shared.
import type { BackupType, RunStatus } from '@coffre/contract';

export interface HistoryFilters {
  q: string;
  type: BackupType | '';
  status: RunStatus | '';
  from: string;
  to: string;
  page: number;
}

export const emptyFilters: HistoryFilters = { q: '', type: '', status: '', from: '', to: '', page: 1 };

const types: readonly string[] = ['full', 'schema', 'data'];
const statuses: readonly string[] = ['pending', 'running', 'completed', 'failed'];
const day = /^\d{4}-\d{2}-\d{2}$/;

/** Reads filters from a query string; unknown or malformed values are dropped, not guessed. */
export function filtersFromSearch(search: URLSearchParams): HistoryFilters {
  const type = search.get('type') ?? '';
  const status = search.get('status') ?? '';
  const from = search.get('from') ?? '';
  const to = search.get('to') ?? '';
  const page = Number(search.get('page'));
  return {
    q: (search.get('q') ?? '').slice(0, 200),
    type: (types.includes(type) ? type : '') as HistoryFilters['type'],
    status: (statuses.includes(status) ? status : '') as HistoryFilters['status'],
    from: day.test(from) ? from : '',
    to: day.test(to) ? to : '',
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

/** The URL form: only what is set (page 1 left out). */
export function filtersToSearch(filters: HistoryFilters): URLSearchParams {
  const search = new URLSearchParams();
  if (filters.q.trim()) search.set('q', filters.q.trim());
  if (filters.type) search.set('type', filters.type);
  if (filters.status) search.set('status', filters.status);
  if (filters.from) search.set('from', filters.from);
  if (filters.to) search.set('to', filters.to);
  if (filters.page > 1) search.set('page', String(filters.page));
  return search;
}

/** A date range the API would refuse ("from" after "to"), as a sentence; null when fine. */
export function dateRangeProblem(filters: Pick<HistoryFilters, 'from' | 'to'>): string | null {
  return filters.from && filters.to && filters.from > filters.to ? 'The start date is after the end date.' : null;
}

export function hasFilters(filters: HistoryFilters): boolean {
  return Boolean(filters.q.trim() || filters.type || filters.status || filters.from || filters.to);
}

/** GET /api/backups parameters for the filters. */
export function backupQuery(filters: HistoryFilters, pageSize: number): Record<string, string | number> {
  const query: Record<string, string | number> = { page: filters.page, pageSize };
  if (filters.q.trim()) query.q = filters.q.trim();
  if (filters.type) query.type = filters.type;
  if (filters.status) query.status = filters.status;
  if (filters.from) query.from = filters.from;
  if (filters.to) query.to = filters.to;
  return query;
}
