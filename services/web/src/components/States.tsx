import type { ReactNode } from 'react';
import type { ListState } from '../hooks/useList';

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-busy="true">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function LoadError({ error, what }: { error: Error; what: string }) {
  return (
    <p className="form-error" role="alert">
      Could not load {what}: {error.message}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty muted">{children}</p>;
}

/**
 * A list as it goes: loading, then its rows, or why it could not be read, or that it is empty.
 * An empty list of earlier filters says nothing, so that "no match" never shows for a query still
 * being read.
 */
export function ListStates<T>({ list, what, empty, children }: { list: ListState<T>; what: string; empty: ReactNode; children: (rows: T[]) => ReactNode }) {
  const { rows, error, stale } = list;
  if (rows === undefined) return error ? <LoadError error={error} what={`the ${what}`} /> : <Loading what={`the ${what}`} />;
  if (rows.length === 0) return stale ? null : <Empty>{empty}</Empty>;
  return children(rows);
}
