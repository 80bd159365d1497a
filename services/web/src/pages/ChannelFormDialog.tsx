// Add or change a notification channel. Secrets (a webhook's URL and signing secret, an SMTP
// password) are never shown back: on an edit their fields start empty and an empty one keeps what is
// stored; a checkbox removes an optional one.
import { useCallback, type FormEvent } from 'react';
import { apiSend } from '../api/client';
import { notificationEvents, type ChannelKind, type NotificationChannel } from '../api/types';
import { Button } from '../components/Button';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { useToast } from '../components/Toasts';
import { useForm } from '../hooks/useForm';
import {
  channelCreateBody,
  channelFieldOfApiPath,
  channelUpdateBody,
  emptyChannelForm,
  eventLabels,
  formFromChannel,
  kindLabels,
  validateChannel,
  type ChannelForm,
} from '../lib/channel-rules';

interface Props {
  channel: NotificationChannel | null;
  onClose: () => void;
  onSaved: () => void;
}

const kinds = Object.keys(kindLabels) as ChannelKind[];

export function ChannelFormDialog({ channel, onClose, onSaved }: Props) {
  const toast = useToast();
  const validate = useCallback((form: ChannelForm) => validateChannel(form, channel), [channel]);
  const { form, set, shown, apiError, saving, submit } = useForm(() => (channel ? formFromChannel(channel) : emptyChannelForm()), validate, channelFieldOfApiPath);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await submit(async (values) => {
      const saved = channel
        ? await apiSend<NotificationChannel>('PUT', `/api/notification-channels/${channel.id}`, channelUpdateBody(values))
        : await apiSend<NotificationChannel>('POST', '/api/notification-channels', channelCreateBody(values));
      toast.success(channel ? `${saved.name} is saved.` : `${saved.name} is added.`);
    });
    if (ok) onSaved();
  };

  const storedUrl = channel?.url;
  const storedSecret = Boolean(channel?.signingSecret);
  const storedPassword = Boolean(channel?.password);

  return (
    <Dialog
      title={channel ? `Edit ${channel.name}` : 'Add a notification channel'}
      onClose={onClose}
      wide
      busy={saving}
      footer={
        <>
          <Button onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="channel-form" busy={saving}>
            {channel ? 'Save' : 'Add'}
          </Button>
        </>
      }
    >
      <form id="channel-form" className="form" onSubmit={save} noValidate autoComplete="off">
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
        <div className="form-row">
          <Field label="Name" id="ch-name" error={shown('name')}>
            <input id="ch-name" data-autofocus value={form.name} onChange={(e) => set('name', e.target.value)} {...invalid(shown('name'), 'ch-name')} />
          </Field>
          <Field label="Kind" id="ch-kind" hint={channel ? 'The kind of a channel cannot change.' : undefined}>
            <select id="ch-kind" value={form.kind} disabled={Boolean(channel)} onChange={(e) => set('kind', e.target.value as ChannelKind)}>
              {kinds.map((kind) => (
                <option key={kind} value={kind}>
                  {kindLabels[kind]}
                </option>
              ))}
            </select>
          </Field>
        </div>

        {form.kind === 'email' ? (
          <fieldset className="fieldset">
            <legend>SMTP server</legend>
            <div className="form-row">
              <Field label="Host" id="ch-host" error={shown('host')}>
                <input id="ch-host" spellCheck={false} placeholder="smtp.example.com" value={form.host} onChange={(e) => set('host', e.target.value)} {...invalid(shown('host'), 'ch-host')} />
              </Field>
              <Field label="Port" id="ch-port" error={shown('port')}>
                <input id="ch-port" inputMode="numeric" value={form.port} onChange={(e) => set('port', e.target.value)} {...invalid(shown('port'), 'ch-port')} />
              </Field>
            </div>
            <label className="check">
              <input type="checkbox" checked={form.secure} onChange={(e) => set('secure', e.target.checked)} /> TLS from the first byte (port 465); otherwise STARTTLS when the server offers it
            </label>
            <div className="form-row">
              <Field label="User (optional)" id="ch-user" error={shown('user')}>
                <input id="ch-user" spellCheck={false} value={form.user} onChange={(e) => set('user', e.target.value)} {...invalid(shown('user'), 'ch-user')} />
              </Field>
              <Field
                label="Password (optional)"
                id="ch-password"
                error={shown('password')}
                hint={storedPassword ? 'A password is stored: leave empty to keep it.' : undefined}
              >
                <input
                  id="ch-password"
                  type="password"
                  autoComplete="new-password"
                  placeholder={storedPassword ? '•••••••• (kept)' : ''}
                  disabled={form.removePassword}
                  value={form.password}
                  onChange={(e) => set('password', e.target.value)}
                  {...invalid(shown('password'), 'ch-password')}
                />
              </Field>
            </div>
            {storedPassword ? (
              <label className="check">
                <input type="checkbox" checked={form.removePassword} onChange={(e) => set('removePassword', e.target.checked)} /> Remove the stored password
              </label>
            ) : null}
            <Field label="From" id="ch-from" error={shown('from')}>
              <input id="ch-from" type="email" spellCheck={false} placeholder="coffre@example.com" value={form.from} onChange={(e) => set('from', e.target.value)} {...invalid(shown('from'), 'ch-from')} />
            </Field>
            <Field label="To (one address a line, or separated by commas)" id="ch-to" error={shown('to')}>
              <textarea id="ch-to" rows={2} spellCheck={false} value={form.to} onChange={(e) => set('to', e.target.value)} {...invalid(shown('to'), 'ch-to')} />
            </Field>
          </fieldset>
        ) : (
          <fieldset className="fieldset">
            <legend>{form.kind === 'webhook' ? 'Webhook' : kindLabels[form.kind]}</legend>
            <Field
              label={form.kind === 'webhook' ? 'URL to POST to' : `${kindLabels[form.kind]} webhook URL`}
              id="ch-url"
              error={shown('url')}
              hint={storedUrl ? `Stored: ${storedUrl} — leave empty to keep it.` : 'Kept secret: only its scheme and host are shown afterwards.'}
            >
              <input
                id="ch-url"
                type="url"
                spellCheck={false}
                placeholder={storedUrl ? '(kept)' : 'https://hooks.example.com/coffre'}
                value={form.url}
                onChange={(e) => set('url', e.target.value)}
                {...invalid(shown('url'), 'ch-url')}
              />
            </Field>
            {form.kind === 'webhook' ? (
              <>
                <Field
                  label="Signing secret (optional, 16 characters or more)"
                  id="ch-secret"
                  error={shown('signingSecret')}
                  hint={
                    storedSecret
                      ? 'A secret is stored: leave empty to keep it.'
                      : 'Each request then carries X-Coffre-Signature: sha256=<HMAC-SHA256 of the body>.'
                  }
                >
                  <input
                    id="ch-secret"
                    type="password"
                    autoComplete="new-password"
                    placeholder={storedSecret ? '•••••••• (kept)' : ''}
                    disabled={form.removeSigningSecret}
                    value={form.signingSecret}
                    onChange={(e) => set('signingSecret', e.target.value)}
                    {...invalid(shown('signingSecret'), 'ch-secret')}
                  />
                </Field>
                {storedSecret ? (
                  <label className="check">
                    <input type="checkbox" checked={form.removeSigningSecret} onChange={(e) => set('removeSigningSecret', e.target.checked)} /> Stop signing (remove the stored secret)
                  </label>
                ) : null}
              </>
            ) : null}
          </fieldset>
        )}

        <fieldset className="fieldset" aria-describedby={shown('events') ? 'ch-events-error' : undefined}>
          <legend>Events</legend>
          <div className="check-grid">
            {notificationEvents.map((event) => (
              <label key={event} className="check">
                <input
                  type="checkbox"
                  name="events"
                  value={event}
                  checked={form.events.includes(event)}
                  onChange={(e) => set('events', e.target.checked ? [...form.events, event] : form.events.filter((x) => x !== event))}
                />
                <span>
                  {eventLabels[event]}
                  <span className="block mono muted small">{event}</span>
                </span>
              </label>
            ))}
          </div>
          {shown('events') ? (
            <span className="field-error" id="ch-events-error">
              {shown('events')}
            </span>
          ) : null}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled (sends as events happen)
        </label>
      </form>
    </Dialog>
  );
}
