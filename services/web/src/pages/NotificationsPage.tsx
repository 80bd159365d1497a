// Where coffre says that a backup failed, a restore ended, a configuration is overdue or a disk fills
// up (admins only): channels as cards with an on/off switch, a test-send whose outcome is toasted,
// each channel's deliveries with every attempt, and the form to add or change one.
import { useState } from 'react';
import { apiSend } from '../api/client';
import type { ChannelView as NotificationChannel, DeliveryView as NotificationDelivery } from '@coffre/contract';
import { Button } from '../components/Button';
import { Card, EditAndDelete, ProbeButton, ProbeResult, Switch } from '../components/Card';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { Page } from '../components/Page';
import { ListStates } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useListApi } from '../hooks/useList';
import { useProbe } from '../hooks/useProbe';
import { eventLabels } from '../forms/channel';
import { formatDuration } from '../lib/format';
import { ChannelFormDialog } from './ChannelFormDialog';
import { DeliveriesDialog } from './DeliveriesDialog';

export function NotificationsPage() {
  const channels = useListApi<NotificationChannel>('/api/notification-channels');
  const [editing, setEditing] = useState<NotificationChannel | 'new' | null>(null);
  const [deliveriesOf, setDeliveriesOf] = useState<NotificationChannel | null>(null);
  const removal = useConfirmedAction<NotificationChannel>((c) => apiSend('DELETE', `/api/notification-channels/${c.id}`), (c) => `${c.name} is deleted.`, channels.reload);
  const testSend = useProbe(
    async (channel: NotificationChannel) => {
      const delivery = await apiSend<NotificationDelivery>('POST', `/api/notification-channels/${channel.id}/test`);
      // Its card says whether its recent deliveries all failed: this one counts.
      void channels.reload();
      return delivery;
    },
    (delivery) => ({ ok: delivery.status === 'delivered', message: describeTest(delivery) }),
  );
  const { busy, run } = useAction();

  const toggle = (channel: NotificationChannel) =>
    run(`enabled-${channel.id}`, () => apiSend('PUT', `/api/notification-channels/${channel.id}`, { enabled: !channel.enabled }), `${channel.name} is ${channel.enabled ? 'disabled' : 'enabled'}.`).then(() =>
      channels.reload(),
    );

  return (
    <Page
      title="Notifications"
      action={{ label: 'Add a channel', onClick: () => setEditing('new') }}
      intro="Each channel hears the events it is set to: a signed webhook, Slack, Discord or email. A failed delivery is retried with backoff."
    >
      <ListStates list={channels} what="notification channels" empty="No channel yet: add one to hear about failed backups.">
        {(rows) => (
          <div className="cards">
            {rows.map((channel) => {
              const verdict = testSend.verdicts[channel.id];
              return (
                <Card
                  key={channel.id}
                  testId="channel-card"
                  name={channel.name}
                  inactive={!channel.enabled}
                  data={{ 'data-failing': allFailed(channel) }}
                  badges={
                    <span className="card-badges">
                      <span className="badge">{channel.kind}</span>
                      {channel.kind === 'webhook' && channel.signingSecret ? <span className="badge status-completed">signed</span> : null}
                    </span>
                  }
                  toggle={
                    <Switch checked={channel.enabled} disabled={busy === `enabled-${channel.id}`} label={`${channel.name} enabled`} onChange={() => toggle(channel)}>
                      {channel.enabled ? 'Enabled' : 'Disabled'}
                    </Switch>
                  }
                  buttons={
                    <>
                      <ProbeButton probe={testSend} item={channel} primary>
                        Send a test
                      </ProbeButton>
                      <Button small onClick={() => setDeliveriesOf(channel)}>
                        Deliveries
                      </Button>
                      <EditAndDelete name={channel.name} onEdit={() => setEditing(channel)} onDelete={() => removal.ask(channel)} />
                    </>
                  }
                >
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
                  <DeliveryHealth channel={channel} />
                  <ProbeResult verdict={verdict && { ...verdict, message: capitalize(verdict.message) }} testId="channel-test-result" />
                </Card>
              );
            })}
          </div>
        )}
      </ListStates>
      {editing ? (
        <ChannelFormDialog
          channel={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await channels.reload();
          }}
        />
      ) : null}
      {deliveriesOf ? <DeliveriesDialog channel={deliveriesOf} onClose={() => setDeliveriesOf(null)} /> : null}
      <ConfirmActionDialog action={removal} title={(c) => `Delete ${c.name}?`} confirmLabel="Delete channel" danger>
        {() => <p>It stops hearing events at once, and its delivery history is deleted with it.</p>}
      </ConfirmActionDialog>
    </Page>
  );
}

/** "delivered (HTTP 200 in 35 ms)" or "not delivered: <the receiver's answer>". */
export function describeTest(delivery: NotificationDelivery): string {
  const attempt = delivery.attemptLog[delivery.attemptLog.length - 1];
  const how = attempt ? `${attempt.statusCode ? `HTTP ${attempt.statusCode} ` : ''}in ${formatDuration(attempt.durationMs)}` : '';
  if (delivery.status === 'delivered') return `test notification delivered${how ? ` (${how})` : ''}.`;
  return `test notification not delivered: ${delivery.lastError ?? attempt?.error ?? 'no answer'}`;
}

function allFailed(channel: NotificationChannel): boolean {
  const recent = channel.recentDeliveries;
  return Boolean(recent && recent.finished > 0 && recent.failed === recent.finished);
}

/** Said on the card when every recent delivery failed: nobody hears this channel. */
function DeliveryHealth({ channel }: { channel: NotificationChannel }) {
  const recent = channel.recentDeliveries;
  if (!recent || !allFailed(channel)) return null;
  return (
    <p className="form-error" data-testid="channel-failing">
      {recent.finished === 1 ? 'Its only delivery failed' : `All of its last ${recent.finished} deliveries failed`}
      {recent.lastError ? `: ${recent.lastError}` : '.'}
    </p>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
