// What a channel was sent, newest first: each delivery's status and every attempt (when, the HTTP
// status or the error, how long it took). Polled, so that a retry shows up while the dialog is open.
import { useState } from 'react';
import type { ChannelView as NotificationChannel, DeliveryView as NotificationDelivery } from '@coffre/contract';
import { Dialog } from '../components/Dialog';
import { Pagination } from '../components/Pagination';
import { ListStates } from '../components/States';
import { FilterSelect } from '../components/Filters';
import { usePagedApi } from '../hooks/useList';
import { formatDateTime, formatDuration } from '../lib/format';

const PAGE_SIZE = 10;
type DeliveryStatus = NotificationDelivery['status'];
const statuses: readonly DeliveryStatus[] = ['delivered', 'failed', 'pending'];
const statusClass: Record<DeliveryStatus, string> = { delivered: 'status-completed', failed: 'status-failed', pending: 'status-pending' };

export function DeliveriesDialog({ channel, onClose }: { channel: NotificationChannel; onClose: () => void }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const deliveries = usePagedApi<NotificationDelivery>(`/api/notification-channels/${channel.id}/deliveries`, { status }, PAGE_SIZE);
  const total = deliveries.paging?.total;
  return (
    <Dialog title={`Deliveries to ${channel.name}`} onClose={onClose} wide>
      <div className="details" data-testid="deliveries">
        <div className="toolbar">
          <FilterSelect label="Status" value={status} any="Any status" options={statuses} onChange={setStatus} inline />
          {total !== undefined ? <span className="muted small">{`${total} deliver${total === 1 ? 'y' : 'ies'}`}</span> : null}
        </div>
        <ListStates list={deliveries} what="deliveries" empty={`Nothing was sent to this channel${status ? ` with status ${status}` : ''} yet.`}>
          {(rows) => (
            <ol className={`delivery-list${deliveries.stale ? ' table-stale' : ''}`}>
              {rows.map((delivery) => (
                <DeliveryItem key={delivery.id} delivery={delivery} />
              ))}
            </ol>
          )}
        </ListStates>
        {deliveries.paging ? <Pagination {...deliveries.paging} /> : null}
      </div>
    </Dialog>
  );
}

function DeliveryItem({ delivery }: { delivery: NotificationDelivery }) {
  return (
    <li className="delivery" data-testid="delivery" data-status={delivery.status} data-event={delivery.event}>
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
  );
}
