// How far a running run is and how long it has left, from what the API expects of it (the last
// comparable run that completed, or the size of the artifact a restore reads): by bytes when both
// the bytes so far and the expected size are known, by time otherwise. A database restore spends most
// of its time loading after it read its artifact: it goes by the rows loaded of the rows the backup
// holds, and by time (or not at all) before its load began. Never 100 % while it runs.
import type { RunExpected } from '@coffre/contract';

export interface RunEstimate {
  elapsedMs: number | null;
  /** 0–99 while running; null when nothing is known to compare with. */
  percent: number | null;
  remainingMs: number | null;
  /** It already took longer than the comparable run: the ETA is unknown. */
  overdue: boolean;
}

interface EstimatedRun {
  status: string;
  startedAt: string | null;
  progressBytes?: number;
  loadedRows?: number | null;
  expected?: RunExpected | null;
}

export function estimateRun(run: EstimatedRun, now: number): RunEstimate {
  const elapsedMs = run.status === 'running' && run.startedAt ? Math.max(0, now - Date.parse(run.startedAt)) : null;
  const expected = run.expected;
  if (elapsedMs === null || !expected) return { elapsedMs, percent: null, remainingMs: null, overdue: false };
  const bytes = run.progressBytes ?? 0;
  const loaded = run.loadedRows ?? 0;
  // Every row loaded, the indexes are built and the rows checked: how long that takes, only a comparable run tells.
  if (expected.rows && loaded > 0 && (loaded < expected.rows || !expected.durationMs)) {
    return loaded < expected.rows ? byFraction(elapsedMs, loaded / expected.rows) : { elapsedMs, percent: 99, remainingMs: null, overdue: false };
  }
  if (expected.sizeBytes && bytes > 0 && !expected.rows) return byFraction(elapsedMs, bytes / expected.sizeBytes);
  if (expected.durationMs) {
    const fraction = Math.min(0.99, elapsedMs / expected.durationMs);
    const overdue = elapsedMs >= expected.durationMs;
    return { elapsedMs, percent: Math.floor(fraction * 100), remainingMs: overdue ? null : expected.durationMs - elapsedMs, overdue };
  }
  return { elapsedMs, percent: null, remainingMs: null, overdue: false };
}

function byFraction(elapsedMs: number, done: number): RunEstimate {
  const fraction = Math.min(0.99, done);
  return { elapsedMs, percent: Math.floor(fraction * 100), remainingMs: (elapsedMs * (1 - fraction)) / fraction, overdue: done >= 1 };
}
