// The notification channel form: its fields as typed, the rules the API applies
// (shared/src/app/notify/channels.ts) field by field, and the request bodies. Secrets are never
// shown back: on an edit an empty secret field keeps the stored one, and only what is typed is sent.
// Email addresses are checked loosely here (something@something); the API's stricter grammar has
// the last word and its 400 sentence is shown under the field.
import type { ChannelKind, NotificationChannel, NotificationEvent } from '../api/types';

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
export type ChannelErrors = Partial<Record<ChannelField, string>>;

/** What a new channel hears unless changed: every failure and warning (the API's own default). */
export const defaultEvents: NotificationEvent[] = ['backup.failed', 'restore.failed', 'verification.failed', 'configuration.overdue', 'disk.warning'];

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
    events: [...defaultEvents],
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
export function formFromChannel(channel: NotificationChannel): ChannelForm {
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

const hostPattern = /^[A-Za-z0-9.:[\]-]+$/;
const looseEmail = /^[^\s@]+@[^\s@]+$/;

/** Every problem of the form, by field; `existing` is the channel being edited (secrets may stay empty). */
export function validateChannel(form: ChannelForm, existing?: NotificationChannel | null): ChannelErrors {
  const errors: ChannelErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Name must not be empty.';
  else if (name.length > 100) errors.name = 'Name must be at most 100 characters.';
  // eslint-disable-next-line no-control-regex
  else if (/[\x00-\x1f\x7f]/.test(name)) errors.name = 'Name must not contain control characters.';
  else if (/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/.test(name)) errors.name = 'Name must not contain bidirectional control characters: they make it read as another name.';
  if (form.events.length === 0) errors.events = 'Pick at least one event.';

  if (form.kind === 'email') {
    const host = form.host.trim();
    if (!host) errors.host = 'The SMTP host is required.';
    else if (host.length > 255 || !hostPattern.test(host)) errors.host = 'Must be a host name or address.';
    const port = Number(form.port.trim());
    if (!/^\d+$/.test(form.port.trim()) || port < 1 || port > 65535) errors.port = 'Port must be a whole number between 1 and 65535.';
    if (form.user.length > 200) errors.user = 'User must be at most 200 characters.';
    if (form.password.length > 500) errors.password = 'Password must be at most 500 characters.';
    const from = form.from.trim();
    if (!from) errors.from = 'The sender address is required.';
    else if (from.length > 320 || !looseEmail.test(from)) errors.from = 'Must be an email address.';
    const to = recipients(form.to);
    if (to.length === 0) errors.to = 'Name at least one recipient.';
    else if (to.length > 50) errors.to = 'At most 50 recipients.';
    else {
      const bad = to.find((address) => address.length > 320 || !looseEmail.test(address));
      if (bad) errors.to = `"${bad}" is not an email address.`;
    }
    return errors;
  }

  const url = form.url.trim();
  if (!url) {
    if (!existing) errors.url = 'The URL is required.';
  } else if (url.length > 2000) errors.url = 'The URL must be at most 2000 characters.';
  else if (!isHttpUrl(url)) errors.url = 'Must be an http:// or https:// URL.';
  if (form.kind === 'webhook' && !form.removeSigningSecret && form.signingSecret) {
    if (form.signingSecret.length < 16) errors.signingSecret = 'The signing secret must be at least 16 characters long.';
    else if (form.signingSecret.length > 200) errors.signingSecret = 'The signing secret must be at most 200 characters.';
  }
  return errors;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** POST /api/notification-channels: the settings of the chosen kind only. */
export function channelCreateBody(form: ChannelForm): Record<string, unknown> {
  const common = { name: form.name.trim(), kind: form.kind, events: form.events, enabled: form.enabled };
  if (form.kind === 'email') {
    return {
      ...common,
      host: form.host.trim(),
      port: Number(form.port.trim()),
      secure: form.secure,
      ...(form.user.trim() ? { user: form.user.trim() } : {}),
      ...(form.password ? { password: form.password } : {}),
      from: form.from.trim(),
      to: recipients(form.to),
    };
  }
  return { ...common, url: form.url.trim(), ...(form.kind === 'webhook' && form.signingSecret ? { signingSecret: form.signingSecret } : {}) };
}

/** PUT /api/notification-channels/:id: a secret left empty is left out (kept); a removed one is null. */
export function channelUpdateBody(form: ChannelForm): Record<string, unknown> {
  const common = { name: form.name.trim(), events: form.events, enabled: form.enabled };
  if (form.kind === 'email') {
    return {
      ...common,
      host: form.host.trim(),
      port: Number(form.port.trim()),
      secure: form.secure,
      user: form.user.trim() || null,
      ...(form.removePassword ? { password: null } : form.password ? { password: form.password } : {}),
      from: form.from.trim(),
      to: recipients(form.to),
    };
  }
  return {
    ...common,
    ...(form.url.trim() ? { url: form.url.trim() } : {}),
    ...(form.kind === 'webhook' ? (form.removeSigningSecret ? { signingSecret: null } : form.signingSecret ? { signingSecret: form.signingSecret } : {}) : {}),
  };
}

/** The form field an API error path names (`to[0]` → to). */
export function channelFieldOfApiPath(path: string): ChannelField | null {
  const base = path.replace(/\[\d+\]$/, '').split('.')[0] ?? '';
  const fields: readonly string[] = ['name', 'events', 'url', 'signingSecret', 'host', 'port', 'user', 'password', 'from', 'to'];
  return fields.includes(base) ? (base as ChannelField) : null;
}
