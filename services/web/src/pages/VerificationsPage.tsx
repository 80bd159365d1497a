// Verification history; /verifications/:id opens one verification's details (notifications link there).
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { Page, Verification } from '../api/types';
import { Button } from '../components/Button';
import { StatusBadge } from '../components/Badges';
import { Pagination } from '../components/Pagination';
import { Empty, LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatCount, formatDateTime, formatDuration } from '../lib/format';
import { VerificationDetailsDialog } from './RunDetailsDialogs';

const PAGE_SIZE = 20;

export function VerificationsPage() {
  const [page, setPage] = useState(1);
  const { data, error, stale } = useApi<Page<Verification>>(`/api/verifications?page=${page}&pageSize=${PAGE_SIZE}`);
  const { id } = useParams();
  const navigate = useNavigate();
  return (
    <section className="page">
      <header className="page-header">
        <h1>Verifications</h1>
      </header>
      <p className="muted">Each verification restores a backup into a scratch database and compares what it finds with what the backup recorded.</p>
      {error && !data ? <LoadError error={error} what="the verifications" /> : null}
      {!data && !error ? <Loading what="verifications" /> : null}
      {data && data.items.length === 0 ? <Empty>No verification yet. Verify a completed backup from the history.</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className={`table responsive${stale ? ' table-stale' : ''}`} data-testid="verifications-table" aria-busy={stale}>
            <thead>
              <tr>
                <th scope="col">Backup</th>
                <th scope="col">Status</th>
                <th scope="col">Result</th>
                <th scope="col" className="num">
                  Tables
                </th>
                <th scope="col" className="num">
                  Records
                </th>
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
              {data.items.map((v) => (
                <tr key={v.id} data-testid="verification-row" data-status={v.status} data-id={v.id}>
                  <td data-label="Backup" className="cell-name">
                    <Link to={`/history/${v.backupId}`}>{v.backupName ?? v.backupId}</Link>
                    {v.errorMessage ? <span className="cell-error">{v.errorMessage}</span> : null}
                    {v.differences && v.differences.length > 0 ? (
                      <span className="cell-error">
                        Differs in {v.differences.slice(0, 3).map((d) => `${d.table} (${formatCount(d.expected)} → ${formatCount(d.found)})`).join(', ')}
                        {v.differences.length > 3 ? ` and ${v.differences.length - 3} more` : ''}
                      </span>
                    ) : null}
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={v.status} />
                  </td>
                  <td data-label="Result">{v.result ? <span className={`badge result-${v.result}`}>{v.result}</span> : '—'}</td>
                  <td data-label="Tables" className="num">
                    {formatCount(v.tablesFound)} / {formatCount(v.tablesExpected)}
                  </td>
                  <td data-label="Records" className="num">
                    {formatCount(v.recordsFound)} / {formatCount(v.recordsExpected)}
                  </td>
                  <td data-label="Duration" className="num">
                    {formatDuration(v.durationMs)}
                  </td>
                  <td data-label="Created">{formatDateTime(v.createdAt)}</td>
                  <td className="cell-actions">
                    <Button small onClick={() => navigate(`/verifications/${v.id}`)} aria-label={`Details of the verification of ${v.backupName ?? v.backupId}`}>
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
      {id ? <VerificationDetailsDialog id={id} onClose={() => navigate('/verifications')} /> : null}
    </section>
  );
}
