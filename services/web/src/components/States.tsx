import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

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
      Could not load {what}: {error instanceof ApiError ? error.message : error.message}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty muted">{children}</p>;
}
