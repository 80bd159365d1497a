// The details panels that /restores/:id and /verifications/:id open (the links notifications carry
// point there): one run in full, polled while it is open so that a running one ends on screen.
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import type { Restore, Source, Verification } from '../api/types';
import { ProgressBar, StatusBadge } from '../components/Badges';
import { Dialog } from '../components/Dialog';
import { LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/format';

export function RestoreDetailsDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { data: restore, error } = useApi<Restore>(`/api/restores/${encodeURIComponent(id)}`);
  const sources = useApi<{ items: Source[] }>('/api/sources', null);
  const target = restore?.targetSourceId ? sources.data?.items.find((s) => s.id === restore.targetSourceId)?.name : undefined;
  return (
    <Dialog title={restore ? `Restore of ${restore.backupName ?? 'a backup'}` : 'Restore'} onClose={onClose} wide>
      {error && !restore ? <LoadError error={error} what={error instanceof ApiError && error.status === 404 ? 'this restore (it does not exist)' : 'the restore'} /> : null}
      {!restore && !error ? <Loading what="the restore" /> : null}
      {restore ? (
        <div className="details" data-testid="restore-details" data-status={restore.status}>
          <div className="details-badges">
            <StatusBadge status={restore.status} />
            <span className="badge">{restore.targetKind}</span>
            {restore.createDatabase ? <span className="badge">new database</span> : null}
          </div>
          {restore.status === 'running' ? <ProgressBar value={restore.progressBytes} label="Progress" /> : null}
          {restore.errorMessage ? <p className="form-error">{restore.errorMessage}</p> : null}
          <dl className="facts facts-wide">
            <dt>Backup</dt>
            <dd>
              <Link to={`/history/${restore.backupId}`}>{restore.backupName ?? restore.backupId}</Link>
            </dd>
            <dt>Into</dt>
            <dd data-testid="restore-into">{describeRestoreTarget(restore, target)}</dd>
            <dt>Requested by</dt>
            <dd>{restore.requestedBy ?? '—'}</dd>
            <dt>Read</dt>
            <dd>{formatBytes(restore.progressBytes)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(restore.createdAt)}</dd>
            <dt>Completed</dt>
            <dd>{formatDateTime(restore.completedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(restore.durationMs)}</dd>
            {restore.safetyBackupId ? (
              <>
                <dt>Safety backup</dt>
                <dd>
                  <Link to={`/history/${restore.safetyBackupId}`}>taken before the restore</Link>
                </dd>
              </>
            ) : null}
          </dl>
          <h3>Log</h3>
          <pre className="log" data-testid="restore-log" tabIndex={0}>
            {restore.log?.trim() || 'No log yet.'}
          </pre>
        </div>
      ) : null}
    </Dialog>
  );
}

/** Where a restore writes, in words. The API does not return a files restore's directory nor a bucket restore's prefix: the log says them. */
export function describeRestoreTarget(restore: Restore, targetSourceName?: string): string {
  if (restore.targetKind === 'files') return 'a directory (see the log)';
  if (restore.targetKind === 'bucket') return `the bucket of ${targetSourceName ?? 'a source'}`;
  const database = restore.targetDatabase ?? '—';
  return targetSourceName ? `${database} (on ${targetSourceName}'s server)` : database;
}

export function VerificationDetailsDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { data: v, error } = useApi<Verification>(`/api/verifications/${encodeURIComponent(id)}`);
  return (
    <Dialog title={v ? `Verification of ${v.backupName ?? 'a backup'}` : 'Verification'} onClose={onClose} wide>
      {error && !v ? <LoadError error={error} what={error instanceof ApiError && error.status === 404 ? 'this verification (it does not exist)' : 'the verification'} /> : null}
      {!v && !error ? <Loading what="the verification" /> : null}
      {v ? (
        <div className="details" data-testid="verification-details" data-status={v.status}>
          <div className="details-badges">
            <StatusBadge status={v.status} />
            {v.result ? <span className={`badge result-${v.result}`}>{v.result}</span> : null}
            <span className="badge">{v.trigger}</span>
          </div>
          {v.errorMessage ? <p className="form-error">{v.errorMessage}</p> : null}
          <dl className="facts facts-wide">
            <dt>Backup</dt>
            <dd>
              <Link to={`/history/${v.backupId}`}>{v.backupName ?? v.backupId}</Link>
            </dd>
            <dt>Tables</dt>
            <dd>
              {formatCount(v.tablesFound)} found of {formatCount(v.tablesExpected)}
            </dd>
            <dt>Records</dt>
            <dd>
              {formatCount(v.recordsFound)} found of {formatCount(v.recordsExpected)}
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(v.durationMs)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(v.createdAt)}</dd>
            <dt>Completed</dt>
            <dd>{formatDateTime(v.completedAt)}</dd>
          </dl>
          {v.differences && v.differences.length > 0 ? (
            <>
              <h3>Differences</h3>
              <div className="table-wrap">
                <table className="table table-compact">
                  <thead>
                    <tr>
                      <th scope="col">Table</th>
                      <th scope="col" className="num">
                        Expected
                      </th>
                      <th scope="col" className="num">
                        Found
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.differences.map((d) => (
                      <tr key={d.table}>
                        <td className="mono break">{d.table}</td>
                        <td className="num">{formatCount(d.expected)}</td>
                        <td className="num">{formatCount(d.found)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : null}
        </div>
      ) : null}
    </Dialog>
  );
}
