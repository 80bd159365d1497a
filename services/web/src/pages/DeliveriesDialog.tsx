// What a channel was sent, newest first: each delivery's status and every attempt (when, the HTTP
// status or the error, how long it took). Polled, so that a retry shows up while the dialog is open.
import { useState } from 'react';
import { queryString } from '../api/client';
import type { NotificationChannel, NotificationDelivery, Page } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Pagination } from '../components/Pagination';
import { Empty, LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatDateTime, formatDuration } from '../lib/format';

const PAGE_SIZE = 10;
const statusClass: Record<NotificationDelivery['status'], string> = { delivered: 'status-completed', failed: 'status-failed', pending: 'status-pending' };

export function DeliveriesDialog({ channel, onClose }: { channel: NotificationChannel; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState('');
  const { data, error, stale } = useApi<Page<NotificationDelivery>>(
    `/api/notification-channels/${channel.id}/deliveries${queryString({ page, pageSize: PAGE_SIZE, status })}`,
    5000,
  );
  return (
    <Dialog title={`Deliveries to ${channel.name}`} onClose={onClose} wide>
      <div className="details" data-testid="deliveries">
        <div className="toolbar">
          <label className="field field-inline">
            <span>Status</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value);
                setPage(1);
              }}
            >
              <option value="">Any status</option>
              <option value="delivered">delivered</option>
              <option value="failed">failed</option>
              <option value="pending">pending</option>
            </select>
          </label>
          {data ? <span className="muted small">{`${data.total} deliver${data.total === 1 ? 'y' : 'ies'}`}</span> : null}
        </div>
        {error && !data ? <LoadError error={error} what="the deliveries" /> : null}
        {!data && !error ? <Loading what="deliveries" /> : null}
        {data && data.items.length === 0 ? <Empty>Nothing was sent to this channel{status ? ` with status ${status}` : ''} yet.</Empty> : null}
        <ol className={`delivery-list${stale ? ' table-stale' : ''}`}>
          {data?.items.map((delivery) => (
            <li key={delivery.id} className="delivery" data-testid="delivery" data-status={delivery.status} data-event={delivery.event}>
              <div className="delivery-head">
                <span className={`badge ${statusClass[delivery.status]}`}>{delivery.status}</span>
                <span className="mono small">{delivery.event}</span>
                <span className="muted small">{formatDateTime(delivery.createdAt)}</span>
              </div>
              {delivery.title ? <p className="delivery-title break">{delivery.title}</p> : null}
              {delivery.lastError && delivery.status !== 'delivered' ? <p className="cell-error break">{delivery.lastError}</p> : null}
              {delivery.attemptLog.length > 0 ? (
                <table className="table table-compact" aria-label={`Attempts of delivery ${delivery.id}`}>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">At</th>
                      <th scope="col">Outcome</th>
                      <th scope="col" className="num">
                        Took
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {delivery.attemptLog.map((attempt) => (
                      <tr key={attempt.attempt} data-testid="attempt" data-ok={attempt.ok}>
                        <td>{attempt.attempt}</td>
                        <td className="nowrap">{formatDateTime(attempt.at)}</td>
                        <td className="break">
                          <span className={attempt.ok ? 'success-text' : 'text-danger'}>{attempt.ok ? '✓' : '✗'}</span>{' '}
                          {attempt.statusCode ? `HTTP ${attempt.statusCode}` : ''}
                          {attempt.error ? <span className="block small">{attempt.error}</span> : null}
                        </td>
                        <td className="num">{formatDuration(attempt.durationMs)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="muted small">Not attempted yet.</p>
              )}
            </li>
          ))}
        </ol>
        {data ? <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} /> : null}
      </div>
    </Dialog>
  );
}
