// A pending or running run as it goes: the phase by name, a percentage and an ETA from the last
// comparable run (see lib/run-estimate.ts), and the time elapsed, ticking each second.
import { useEffect, useState } from 'react';
import type { RunExpected } from '@coffre/contract';
import { formatBytes, formatCount, formatDuration } from '../lib/format';
import { estimateRun } from '../lib/run-estimate';
import { ProgressBar } from './Badges';

interface Run {
  status: string;
  startedAt: string | null;
  progressBytes?: number;
  /** Database restores, while loading. */
  loadedRows?: number | null;
  phase?: string | null;
  expected?: RunExpected | null;
}

export function RunProgress({ run, label, unit = 'written' }: { run: Run; label: string; unit?: 'written' | 'read' }) {
  const now = useNow(run.status === 'running');
  if (run.status === 'pending') return <span className="muted small" data-testid="run-waiting">Waiting for a worker</span>;
  if (run.status !== 'running') return null;
  const estimate = estimateRun(run, now);
  const parts = [
    estimate.percent === null ? null : `${estimate.percent} %`,
    run.loadedRows
      ? `${formatCount(run.loadedRows)}${run.expected?.rows ? ` of ${formatCount(run.expected.rows)}` : ''} rows loaded`
      : run.progressBytes
        ? `${formatBytes(run.progressBytes)} ${unit}${run.expected?.sizeBytes ? ` of about ${formatBytes(run.expected.sizeBytes)}` : ''}`
        : null,
    `${formatDuration(estimate.elapsedMs)} elapsed`,
    estimate.remainingMs !== null ? `about ${formatDuration(estimate.remainingMs)} left` : estimate.overdue ? 'longer than the last one' : null,
  ].filter(Boolean);
  return (
    <div className="run-progress" data-testid="run-progress" data-percent={estimate.percent ?? ''} data-phase={run.phase ?? ''}>
      <div className="run-progress-head">
        {run.phase ? (
          <span className="badge phase" data-testid="run-phase">
            {run.phase}
          </span>
        ) : null}
        <span className="muted small" data-testid="run-eta">
          {parts.join(' · ')}
        </span>
      </div>
      <ProgressBar value={estimate.percent ?? 0} max={estimate.percent === null ? null : 100} label={label} />
      {run.expected ? <span className="muted small run-basis">Estimated from {run.expected.basis}.</span> : null}
    </div>
  );
}

/** The time now, again every second while `ticking`. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
