// The notification channel form: its fields as typed, the request bodies, and its problems, found
// by the contract's schemas (channelInputSchema for a new channel, channelUpdateSchema for a change).
// Secrets are never shown back: on an edit an empty secret field keeps the stored one, and only what
// is typed is sent. The API has the last word on what only it can check (where it may connect).
import { channelInputSchema, channelUpdateSchema, defaultChannelEvents, type ChannelKind, type ChannelView, type NotificationEvent } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface ChannelForm {
  name: string;
  kind: ChannelKind;
  events: NotificationEvent[];
  enabled: boolean;
  /** webhook, slack, discord: the full URL (a credential); empty on an edit keeps the stored one. */
  url: string;
  /** webhook: empty on an edit keeps the stored one. */
  signingSecret: string;
  removeSigningSecret: boolean;
  host: string;
  port: string;
  secure: boolean;
  user: string;
  /** email: empty on an edit keeps the stored one. */
  password: string;
  removePassword: boolean;
  from: string;
  /** One address per line or separated by commas. */
  to: string;
}

export type ChannelField = keyof ChannelForm;

export const eventLabels: Record<NotificationEvent, string> = {
  'backup.failed': 'A backup failed',
  'backup.completed': 'A backup completed',
  'restore.completed': 'A restore completed',
  'restore.failed': 'A restore failed',
  'verification.failed': 'A verification failed',
  'configuration.overdue': 'A configuration is overdue',
  'disk.warning': 'A disk is more than 80 % full',
};

export const kindLabels: Record<ChannelKind, string> = {
  webhook: 'Webhook (signed JSON)',
  slack: 'Slack',
  discord: 'Discord',
  email: 'Email (SMTP)',
};

export function emptyChannelForm(): ChannelForm {
  return {
    name: '',
    kind: 'webhook',
    events: [...defaultChannelEvents],
    enabled: true,
    url: '',
    signingSecret: '',
    removeSigningSecret: false,
    host: '',
    port: '587',
    secure: false,
    user: '',
    password: '',
    removePassword: false,
    from: '',
    to: '',
  };
}

/** The form of a stored channel: every setting but its secrets, which stay empty (kept unless typed). */
export function formFromChannel(channel: ChannelView): ChannelForm {
  return {
    ...emptyChannelForm(),
    name: channel.name,
    kind: channel.kind,
    events: [...channel.events],
    enabled: channel.enabled,
    host: channel.host ?? '',
    port: channel.port === undefined ? '587' : String(channel.port),
    secure: channel.secure ?? false,
    user: channel.user ?? '',
    from: channel.from ?? '',
    to: (channel.to ?? []).join('\n'),
  };
}

export function recipients(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((address) => address.trim())
    .filter(Boolean);
}

/** Every problem of the form, by field; `existing` is the channel being edited (secrets may stay empty). */
export function channelProblems(form: ChannelForm, existing?: ChannelView | null): Problems<ChannelForm> {
  const [schema, body] = existing ? [channelUpdateSchema, channelUpdateBody(form)] : [channelInputSchema, channelCreateBody(form)];
  return problemsOf(schema, body, channelFieldOfApiPath, { events: 'Pick at least one event.' });
}

/** POST /api/notification-channels: the settings of the chosen kind only. */
export function channelCreateBody(form: ChannelForm) {
  const common = { name: form.name.trim(), kind: form.kind, events: form.events, enabled: form.enabled };
  if (form.kind === 'email') {
    return { ...common, ...smtpSettings(form), ...(form.user.trim() ? { user: form.user.trim() } : {}), ...(form.password ? { password: form.password } : {}) };
  }
  return { ...common, url: form.url.trim(), ...(form.kind === 'webhook' && form.signingSecret ? { signingSecret: form.signingSecret } : {}) };
}

/** PUT /api/notification-channels/:id: a secret left empty is left out (kept); a removed one is null. */
export function channelUpdateBody(form: ChannelForm) {
  const common = { name: form.name.trim(), events: form.events, enabled: form.enabled };
  if (form.kind === 'email') {
    return { ...common, ...smtpSettings(form), user: form.user.trim() || null, ...(form.removePassword ? { password: null } : form.password ? { password: form.password } : {}) };
  }
  return {
    ...common,
    ...(form.url.trim() ? { url: form.url.trim() } : {}),
    ...(form.kind === 'webhook' ? (form.removeSigningSecret ? { signingSecret: null } : form.signingSecret ? { signingSecret: form.signingSecret } : {}) : {}),
  };
}

/** The SMTP server and addresses of an email channel, as typed. */
function smtpSettings(form: ChannelForm) {
  return { host: form.host.trim(), port: Number(form.port.trim()), secure: form.secure, from: form.from.trim(), to: recipients(form.to) };
}

/** The form field an API error path names (`to[0]` → to). */
export function channelFieldOfApiPath(path: string): ChannelField | null {
  const base = path.replace(/\[\d+\]$/, '').split('.')[0] ?? '';
  const fields: readonly string[] = ['name', 'events', 'url', 'signingSecret', 'host', 'port', 'user', 'password', 'from', 'to'];
  return fields.includes(base) ? (base as ChannelField) : null;
}
