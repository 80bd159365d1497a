import type { RunStatus } from '@coffre/contract';

export function StatusBadge({ status, deleted }: { status: RunStatus | string; deleted?: boolean }) {
  return (
    <span className={`badge status-${status}${deleted ? ' badge-deleted' : ''}`} data-status={status}>
      {status === 'running' ? <span className="pulse" aria-hidden="true" /> : null}
      {deleted ? `${status}, deleted` : status}
    </span>
  );
}

export function TypeBadge({ type }: { type: string }) {
  return <span className={`badge type-${type}`}>{type}</span>;
}

export function ProgressBar({ value, max, label }: { value: number; max?: number | null; label: string }) {
  const known = max && max > 0;
  const percent = known ? Math.min(100, Math.round((value / max) * 100)) : null;
  return (
    <div
      className={`progress${known ? '' : ' progress-indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={known ? 100 : undefined}
      aria-valuenow={percent ?? undefined}
    >
      <div className="progress-fill" style={known ? { width: `${percent}%` } : undefined} />
    </div>
  );
}
