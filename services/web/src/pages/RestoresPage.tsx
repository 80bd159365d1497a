// Restore history; /restores/:id opens one restore's details (notifications link there).
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { Page, Restore, Source } from '../api/types';
import { Button } from '../components/Button';
import { ProgressBar, StatusBadge } from '../components/Badges';
import { Pagination } from '../components/Pagination';
import { Empty, LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format';
import { RestoreDetailsDialog, describeRestoreTarget } from './RunDetailsDialogs';

const PAGE_SIZE = 20;

export function RestoresPage() {
  const [page, setPage] = useState(1);
  const { data, error, stale } = useApi<Page<Restore>>(`/api/restores?page=${page}&pageSize=${PAGE_SIZE}`);
  const sources = useApi<{ items: Source[] }>('/api/sources', 30_000);
  const sourceName = (id: string | null) => (id ? sources.data?.items.find((s) => s.id === id)?.name : undefined);
  const { id } = useParams();
  const navigate = useNavigate();
  return (
    <section className="page">
      <header className="page-header">
        <h1>Restores</h1>
      </header>
      {error && !data ? <LoadError error={error} what="the restores" /> : null}
      {!data && !error ? <Loading what="restores" /> : null}
      {data && data.items.length === 0 ? <Empty>No restore yet. Restore a completed backup from the history.</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className={`table responsive${stale ? ' table-stale' : ''}`} data-testid="restores-table" aria-busy={stale}>
            <thead>
              <tr>
                <th scope="col">Backup</th>
                <th scope="col">Status</th>
                <th scope="col">Into</th>
                <th scope="col">Requested by</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((r) => (
                <tr key={r.id} data-testid="restore-row" data-status={r.status} data-id={r.id}>
                  <td data-label="Backup" className="cell-name">
                    <Link to={`/history/${r.backupId}`}>{r.backupName ?? r.backupId}</Link>
                    {r.errorMessage ? <span className="cell-error">{r.errorMessage}</span> : null}
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={r.status} />
                    {r.status === 'running' ? (
                      <>
                        <ProgressBar value={r.progressBytes} label={`Progress of the restore of ${r.backupName ?? r.backupId}`} />
                        <span className="muted small">{formatBytes(r.progressBytes)} read</span>
                      </>
                    ) : null}
                  </td>
                  <td data-label="Into">
                    {describeRestoreTarget(r, sourceName(r.targetSourceId))}
                    {r.createDatabase ? <span className="muted small"> (new)</span> : null}
                    {r.safetyBackupId ? (
                      <>
                        {' '}
                        <Link className="small" to={`/history/${r.safetyBackupId}`}>
                          safety backup
                        </Link>
                      </>
                    ) : null}
                  </td>
                  <td data-label="By">{r.requestedBy ?? '—'}</td>
                  <td data-label="Duration" className="num">
                    {formatDuration(r.durationMs)}
                  </td>
                  <td data-label="Created">{formatDateTime(r.createdAt)}</td>
                  <td className="cell-actions">
                    <Button small onClick={() => navigate(`/restores/${r.id}`)} aria-label={`Details of the restore of ${r.backupName ?? r.backupId}`}>
                      Details
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data ? <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} /> : null}
      {id ? <RestoreDetailsDialog id={id} onClose={() => navigate('/restores')} /> : null}
    </section>
  );
}
