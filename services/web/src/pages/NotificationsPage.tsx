// Where coffre says that a backup failed, a restore ended, a configuration is overdue or a disk fills
// up (admins only): channels as cards with an on/off switch, a test-send whose outcome is toasted,
// each channel's deliveries with every attempt, and the form to add or change one.
import { useState } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { NotificationChannel, NotificationDelivery } from '../api/types';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Empty, LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { eventLabels } from '../lib/channel-rules';
import { formatDuration } from '../lib/format';
import { ChannelFormDialog } from './ChannelFormDialog';
import { DeliveriesDialog } from './DeliveriesDialog';

export function NotificationsPage() {
  const toast = useToast();
  const { data, error, reload } = useApi<{ items: NotificationChannel[] }>('/api/notification-channels', 10_000);
  const [editing, setEditing] = useState<NotificationChannel | 'new' | null>(null);
  const [deleting, setDeleting] = useState<NotificationChannel | null>(null);
  const [deliveriesOf, setDeliveriesOf] = useState<NotificationChannel | null>(null);
  const [tests, setTests] = useState<Record<string, NotificationDelivery>>({});
  const [testing, setTesting] = useState<string | null>(null);
  const { busy, run } = useAction();

  const sendTest = async (channel: NotificationChannel) => {
    setTesting(channel.id);
    try {
      const delivery = await apiSend<NotificationDelivery>('POST', `/api/notification-channels/${channel.id}/test`);
      setTests((all) => ({ ...all, [channel.id]: delivery }));
      const outcome = describeTest(delivery);
      if (delivery.status === 'delivered') toast.success(`${channel.name}: ${outcome}`);
      else toast.error(`${channel.name}: ${outcome}`);
    } catch (caught) {
      toast.error(caught instanceof ApiError ? caught.message : (caught as Error).message);
    } finally {
      setTesting(null);
    }
  };

  const toggle = (channel: NotificationChannel) =>
    run(`enabled-${channel.id}`, () => apiSend('PUT', `/api/notification-channels/${channel.id}`, { enabled: !channel.enabled }), `${channel.name} is ${channel.enabled ? 'disabled' : 'enabled'}.`).then(() =>
      reload(),
    );

  return (
    <section className="page">
      <header className="page-header">
        <h1>Notifications</h1>
        <Button variant="primary" onClick={() => setEditing('new')}>
          Add a channel
        </Button>
      </header>
      <p className="muted">Each channel hears the events it is set to: a signed webhook, Slack, Discord or email. A failed delivery is retried with backoff.</p>
      {error && !data ? <LoadError error={error} what="the notification channels" /> : null}
      {!data && !error ? <Loading what="notification channels" /> : null}
      {data && data.items.length === 0 ? <Empty>No channel yet: add one to hear about failed backups.</Empty> : null}
      <div className="cards">
        {data?.items.map((channel) => {
          const test = tests[channel.id];
          return (
            <article key={channel.id} className={`card${channel.enabled ? '' : ' card-inactive'}`} data-testid="channel-card" data-name={channel.name}>
              <header className="card-header">
                <h2 className="card-title">{channel.name}</h2>
                <span className="card-badges">
                  <span className="badge">{channel.kind}</span>
                  {channel.kind === 'webhook' && channel.signingSecret ? <span className="badge status-completed">signed</span> : null}
                </span>
              </header>
              <p className="mono small break" data-testid="channel-target">
                {channel.kind === 'email' ? `${channel.host}:${channel.port} → ${(channel.to ?? []).join(', ')}` : channel.url}
              </p>
              <ul className="event-list" aria-label={`Events of ${channel.name}`}>
                {channel.events.map((event) => (
                  <li key={event} className="badge" title={eventLabels[event]}>
                    {event}
                  </li>
                ))}
              </ul>
              {test ? (
                <p className={test.status === 'delivered' ? 'success-text' : 'form-error'} role="status" data-testid="channel-test-result">
                  {test.status === 'delivered' ? '✓ ' : '✗ '}
                  {capitalize(describeTest(test))}
                </p>
              ) : null}
              <footer className="card-actions">
                <label className="switch">
                  <input type="checkbox" role="switch" checked={channel.enabled} disabled={busy === `enabled-${channel.id}`} aria-label={`${channel.name} enabled`} onChange={() => toggle(channel)} />
                  <span className="switch-track" aria-hidden="true" />
                  <span>{channel.enabled ? 'Enabled' : 'Disabled'}</span>
                </label>
                <span className="card-buttons">
                  <Button small variant="primary" busy={testing === channel.id} onClick={() => sendTest(channel)}>
                    Send a test
                  </Button>
                  <Button small onClick={() => setDeliveriesOf(channel)}>
                    Deliveries
                  </Button>
                  <Button small onClick={() => setEditing(channel)}>
                    Edit
                  </Button>
                  <Button small variant="danger" onClick={() => setDeleting(channel)}>
                    Delete
                  </Button>
                </span>
              </footer>
            </article>
          );
        })}
      </div>
      {editing ? (
        <ChannelFormDialog
          channel={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await reload();
          }}
        />
      ) : null}
      {deliveriesOf ? <DeliveriesDialog channel={deliveriesOf} onClose={() => setDeliveriesOf(null)} /> : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete channel"
          danger
          busy={busy === 'delete'}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            const outcome = await run('delete', () => apiSend('DELETE', `/api/notification-channels/${deleting.id}`), `${deleting.name} is deleted.`);
            if (outcome.ok) setDeleting(null);
            await reload();
          }}
        >
          <p>It stops hearing events at once, and its delivery history is deleted with it.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** "delivered (HTTP 200 in 35 ms)" or "not delivered: <the receiver's answer>". */
export function describeTest(delivery: NotificationDelivery): string {
  const attempt = delivery.attemptLog[delivery.attemptLog.length - 1];
  const how = attempt ? `${attempt.statusCode ? `HTTP ${attempt.statusCode} ` : ''}in ${formatDuration(attempt.durationMs)}` : '';
  if (delivery.status === 'delivered') return `test notification delivered${how ? ` (${how})` : ''}.`;
  return `test notification not delivered: ${delivery.lastError ?? attempt?.error ?? 'no answer'}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
