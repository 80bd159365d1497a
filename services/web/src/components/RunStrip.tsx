// A source's last runs as a strip of squares, oldest to newest, one colour per status; each square
// is a link to that backup's details, named for screen readers by its name, status and time.
import { Link } from 'react-router';
import type { RunDot } from '@coffre/contract';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format';

export function RunStrip({ runs, of, slots = 30 }: { runs: RunDot[]; of: string; slots?: number }) {
  const empty = Math.max(0, slots - runs.length);
  return (
    <ol className="run-strip" aria-label={`Last ${runs.length} runs of ${of}, oldest first`} data-testid="run-strip">
      {Array.from({ length: empty }, (_, i) => (
        <li key={`empty-${i}`} className="run-dot run-dot-empty" aria-hidden="true" />
      ))}
      {runs.map((run) => (
        <li key={run.id} className="run-dot-item">
          <Link
            to={`/history/${run.id}`}
            className={`run-dot status-${run.status}${run.deleted ? ' run-dot-deleted' : ''}`}
            data-status={run.status}
            aria-label={`${run.name}: ${run.status}${run.deleted ? ', deleted' : ''}, ${formatDateTime(run.createdAt)}`}
            title={`${run.name}\n${run.status}${run.deleted ? ' (deleted)' : ''} · ${formatDateTime(run.createdAt)}${run.sizeBytes ? ` · ${formatBytes(run.sizeBytes)}` : ''}${run.durationMs ? ` · ${formatDuration(run.durationMs)}` : ''}`}
          />
        </li>
      ))}
    </ol>
  );
}

/** The sizes of the completed runs as a small line: is the database growing, or did a backup shrink? */
export function SizeTrend({ runs, of }: { runs: RunDot[]; of: string }) {
  const sizes = runs.filter((r) => r.status === 'completed' && r.sizeBytes !== null).map((r) => r.sizeBytes!);
  if (sizes.length < 2) return null;
  const W = 120;
  const H = 28;
  const max = Math.max(...sizes);
  const min = Math.min(...sizes);
  const span = max - min || 1;
  const points = sizes.map((size, i) => `${((i / (sizes.length - 1)) * (W - 4) + 2).toFixed(1)},${(H - 2 - ((size - min) / span) * (H - 4)).toFixed(1)}`);
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const change = first ? Math.round(((last - first) / first) * 100) : 0;
  const words = `${formatBytes(last)}, ${change === 0 ? 'unchanged' : `${change > 0 ? 'up' : 'down'} ${Math.abs(change)} %`} over the last ${sizes.length} completed backups`;
  return (
    <span className="size-trend" data-testid="size-trend">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Backup size of ${of}: ${words}`}>
        <polyline points={points.join(' ')} className="line" fill="none" />
      </svg>
      <span className="muted small">{words}</span>
    </span>
  );
}
