// Add or change a notification channel. Secrets (a webhook's URL and signing secret, an SMTP
// password) are never shown back: on an edit their fields start empty and an empty one keeps what is
// stored; a checkbox removes an optional one.
import { useCallback } from 'react';
import { notificationEvents, type ChannelKind, type ChannelView as NotificationChannel } from '@coffre/contract';
import { CheckList, FormCheck, FormInput, FormSecret, FormSelect, FormTextArea } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, useSaver, type FormState } from '../hooks/useForm';
import { channelCreateBody, channelFieldOfApiPath, channelProblems, channelUpdateBody, emptyChannelForm, eventLabels, formFromChannel, kindLabels, urlLabels, type ChannelForm } from '../forms/channel';

interface Props {
  channel: NotificationChannel | null;
  onClose: () => void;
  onSaved: () => void;
}

const kinds = Object.keys(kindLabels) as ChannelKind[];

export function ChannelFormDialog({ channel, onClose, onSaved }: Props) {
  const saveChannel = useSaver<NotificationChannel>('/api/notification-channels', channel);
  const validate = useCallback((form: ChannelForm) => channelProblems(form, channel), [channel]);
  const form = useForm(() => (channel ? formFromChannel(channel) : emptyChannelForm()), validate, channelFieldOfApiPath);

  const save = async () => {
    if (await form.submit((values) => saveChannel(channel ? channelUpdateBody(values) : channelCreateBody(values)))) onSaved();
  };

  return (
    <FormDialog title={channel ? `Edit ${channel.name}` : 'Add a notification channel'} id="channel-form" submitLabel={channel ? 'Save' : 'Add'} form={form} onSubmit={save} onClose={onClose} wide autoComplete="off">
      <div className="form-row">
        <FormInput form={form} field="name" id="ch-name" label="Name" data-autofocus />
        <FormSelect form={form} field="kind" id="ch-kind" label="Kind" hint={channel ? 'The kind of a channel cannot change.' : undefined} disabled={Boolean(channel)}>
          {kinds.map((kind) => (
            <option key={kind} value={kind}>
              {kindLabels[kind]}
            </option>
          ))}
        </FormSelect>
      </div>
      {form.form.kind === 'email' ? (
        <EmailFields form={form} storedPassword={Boolean(channel?.password)} />
      ) : form.form.kind === 'telegram' ? (
        <TelegramFields form={form} stored={Boolean(channel)} />
      ) : (
        <WebhookFields form={form} storedUrl={channel?.url} storedSecret={Boolean(channel?.signingSecret)} storedAccessToken={Boolean(channel?.accessToken)} editing={Boolean(channel)} />
      )}
      <EventsField form={form} />
      <FormCheck form={form} field="enabled">
        Enabled (sends as events happen)
      </FormCheck>
    </FormDialog>
  );
}

function EmailFields({ form, storedPassword }: { form: FormState<ChannelForm>; storedPassword: boolean }) {
  return (
    <fieldset className="fieldset">
      <legend>SMTP server</legend>
      <div className="form-row">
        <FormInput form={form} field="host" id="ch-host" label="Host" spellCheck={false} placeholder="smtp.example.com" />
        <FormInput form={form} field="port" id="ch-port" label="Port" inputMode="numeric" />
      </div>
      <FormCheck form={form} field="secure">
        TLS from the first byte (port 465); otherwise STARTTLS when the server offers it
      </FormCheck>
      <div className="form-row">
        <FormInput form={form} field="user" id="ch-user" label="User (optional)" spellCheck={false} />
        <FormSecret
          form={form}
          field="password"
          id="ch-password"
          label="Password (optional)"
          stored={storedPassword}
          hint={storedPassword ? 'A password is stored: leave empty to keep it.' : undefined}
          disabled={form.form.removePassword}
        />
      </div>
      {storedPassword ? (
        <FormCheck form={form} field="removePassword">
          Remove the stored password
        </FormCheck>
      ) : null}
      <FormInput form={form} field="from" id="ch-from" label="From" type="email" spellCheck={false} placeholder="coffre@example.com" />
      <FormTextArea form={form} field="to" id="ch-to" label="To (one address a line, or separated by commas)" rows={2} spellCheck={false} />
    </fieldset>
  );
}

function TelegramFields({ form, stored }: { form: FormState<ChannelForm>; stored: boolean }) {
  return (
    <fieldset className="fieldset">
      <legend>Telegram bot</legend>
      <FormSecret form={form} field="botToken" id="ch-botToken" label="Bot token (from @BotFather)" stored={stored} hint={stored ? 'A token is stored: leave empty to keep it.' : 'Kept secret: never shown again.'} />
      <div className="form-row">
        <FormInput form={form} field="chatId" id="ch-chatId" label="Chat id, or @channel" spellCheck={false} placeholder="-1001234567890" />
        <FormInput form={form} field="apiUrl" id="ch-apiUrl" label="Bot API server (optional)" type="url" spellCheck={false} placeholder="https://api.telegram.org" />
      </div>
    </fieldset>
  );
}

function ServiceFields({ form, storedAccessToken, editing }: { form: FormState<ChannelForm>; storedAccessToken: boolean; editing: boolean }) {
  const kind = form.form.kind;
  const kept = editing ? 'Stored: leave empty to keep it.' : 'Kept secret: never shown again.';
  if (kind === 'mattermost') {
    return (
      <div className="form-row">
        <FormInput form={form} field="channel" id="ch-channel" label="Channel (optional)" spellCheck={false} placeholder="town-square" />
        <FormInput form={form} field="username" id="ch-username" label="Sender name (optional)" spellCheck={false} placeholder="coffre" />
      </div>
    );
  }
  if (kind === 'ntfy') {
    return (
      <>
        <div className="form-row">
          <FormSecret form={form} field="topic" id="ch-topic" label="Topic" stored={editing} hint={`Whoever knows a topic can read it. ${kept}`} />
          <FormSecret form={form} field="accessToken" id="ch-accessToken" label="Access token (optional)" stored={storedAccessToken} hint={storedAccessToken ? 'A token is stored: leave empty to keep it.' : 'For a protected topic (tk_…).'} disabled={form.form.removeAccessToken} />
        </div>
        {storedAccessToken ? (
          <FormCheck form={form} field="removeAccessToken">
            Remove the stored access token
          </FormCheck>
        ) : null}
      </>
    );
  }
  if (kind === 'gotify') return <FormSecret form={form} field="appToken" id="ch-appToken" label="Application token" stored={editing} hint={kept} />;
  return null;
}

function WebhookFields({ form, storedUrl, storedSecret, storedAccessToken, editing }: { form: FormState<ChannelForm>; storedUrl: string | undefined; storedSecret: boolean; storedAccessToken: boolean; editing: boolean }) {
  const kind = form.form.kind;
  return (
    <fieldset className="fieldset">
      <legend>{kind === 'webhook' ? 'Webhook' : kindLabels[kind]}</legend>
      <FormInput
        form={form}
        field="url"
        id="ch-url"
        label={urlLabels[kind] ?? 'URL'}
        hint={storedUrl ? `Stored: ${storedUrl} — leave empty to keep it.` : 'Kept secret: only its scheme and host are shown afterwards.'}
        type="url"
        spellCheck={false}
        placeholder={storedUrl ? '(kept)' : 'https://hooks.example.com/coffre'}
      />
      {kind === 'webhook' ? (
        <>
          <FormSecret
            form={form}
            field="signingSecret"
            id="ch-secret"
            label="Signing secret (optional, 16 characters or more)"
            stored={storedSecret}
            hint={storedSecret ? 'A secret is stored: leave empty to keep it.' : 'Each request then carries X-Coffre-Signature: sha256=<HMAC-SHA256 of the body>.'}
            disabled={form.form.removeSigningSecret}
          />
          {storedSecret ? (
            <FormCheck form={form} field="removeSigningSecret">
              Stop signing (remove the stored secret)
            </FormCheck>
          ) : null}
        </>
      ) : null}
      <ServiceFields form={form} storedAccessToken={storedAccessToken} editing={editing} />
    </fieldset>
  );
}

function EventsField({ form }: { form: FormState<ChannelForm> }) {
  const error = form.shown('events');
  return (
    <fieldset className="fieldset" aria-describedby={error ? 'ch-events-error' : undefined}>
      <legend>Events</legend>
      <div className="check-grid">
        <CheckList
          name="events"
          values={form.form.events}
          options={notificationEvents.map((event) => ({
            value: event,
            label: (
              <span>
                {eventLabels[event]}
                <span className="block mono muted small">{event}</span>
              </span>
            ),
          }))}
          onChange={(events) => form.set('events', events)}
        />
      </div>
      {error ? (
        <span className="field-error" id="ch-events-error">
          {error}
        </span>
      ) : null}
    </fieldset>
  );
}
