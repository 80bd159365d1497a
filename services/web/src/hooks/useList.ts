// The lists the pages show, read from the API and read again when the live stream says they changed: a plain list
// ({items}), or one page of a longer one whose page is kept here and goes back to 1 when the
// filters change.
import { useState } from 'react';
import { queryString } from '../api/client';
import type { Page } from '@coffre/contract';
import { useApi, type Liveness } from './usePolling';

export interface Paging {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}

/** What a list page renders: its rows once read, the error of the last read, whether the rows are of earlier filters, its pages. */
export interface ListState<T> {
  rows: T[] | undefined;
  error?: Error;
  stale?: boolean;
  paging?: Paging;
}

export interface ListApi<T> extends ListState<T> {
  reload: () => Promise<void>;
}

/** GET a route that answers {items}, live; `null` reads nothing. */
export function useListApi<T>(path: string | null, live?: Liveness): ListApi<T> {
  const { data, error, stale, reload } = useApi<{ items: T[] }>(path, live);
  return { rows: data?.items, error, stale, reload };
}

/** GET one page of a paged route with `filters` (empty values left out), live; new filters go back to page 1. */
export function usePagedApi<T>(path: string, filters: Record<string, string | undefined>, pageSize: number, live?: Liveness): ListApi<T> {
  const filtersKey = JSON.stringify(filters);
  const [shown, setShown] = useState({ filtersKey, page: 1 });
  const page = shown.filtersKey === filtersKey ? shown.page : 1;
  const { data, error, stale, reload } = useApi<Page<T>>(`${path}${queryString({ page, pageSize, ...filters })}`, live);
  const paging = data ? { page, pageSize, total: data.total, onPage: (next: number) => setShown({ filtersKey, page: next }) } : undefined;
  return { rows: data?.items, error, stale, reload, paging };
}
