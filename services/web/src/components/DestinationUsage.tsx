import type { DestinationUsage } from '@coffre/contract';
import { formatBytes } from '../lib/format';

/** What a destination holds and, for a local one, how full its disk is (warning above 80 %). */
export function DestinationUsageItem({ destination: d, inCard }: { destination: DestinationUsage; inCard?: boolean }) {
  const used = d.usage ? Math.round(d.usage.usedPercent) : null;
  const warn = Boolean(d.usage?.warning);
  return (
    <li className="disk" data-testid="disk">
      <div className="job-head">
        <span className="source-name">{inCard ? 'Stored' : d.name}</span>
        {used !== null ? <span className={warn ? 'text-danger' : 'muted'}>{used} % of the disk used</span> : <span className="muted small">{d.kind}</span>}
      </div>
      {d.usage ? (
        <div className={`meter${warn ? ' meter-warn' : ''}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={used!} aria-label={`Disk usage of ${d.name}`}>
          <div className="meter-fill" style={{ width: `${Math.min(100, d.usage.usedPercent)}%` }} />
        </div>
      ) : null}
      <span className="muted small break">
        {formatBytes(d.bytesStored)} in {d.artifacts} artifact{d.artifacts === 1 ? '' : 's'}
        {d.usage ? `; ${formatBytes(d.usage.freeBytes)} free of ${formatBytes(d.usage.totalBytes)}` : ''}
        {inCard ? '' : ` — ${d.location}`}
      </span>
      {warn ? (
        <p className="warning" role="status">
          The disk is more than 80 % full: free some space or tighten the retention before backups fail.
        </p>
      ) : null}
      {d.error ? <p className="form-error">{d.error}</p> : null}
    </li>
  );
}
