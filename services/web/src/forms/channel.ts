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
  /** telegram: the bot token (empty on an edit keeps the stored one), the chat, a self-hosted Bot API server. */
  botToken: string;
  chatId: string;
  apiUrl: string;
  /** mattermost: optional overrides of the webhook's channel and sender name. */
  channel: string;
  username: string;
  /** ntfy: the topic and an optional access token (both kept when left empty on an edit). */
  topic: string;
  accessToken: string;
  removeAccessToken: boolean;
  /** gotify: the application token (kept when left empty on an edit). */
  appToken: string;
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
  telegram: 'Telegram',
  teams: 'Microsoft Teams (workflow)',
  mattermost: 'Mattermost',
  ntfy: 'ntfy',
  gotify: 'Gotify',
};

/** The kinds whose form asks for a URL, and what that URL is. */
export const urlLabels: Partial<Record<ChannelKind, string>> = {
  webhook: 'URL to POST to',
  slack: 'Slack webhook URL',
  discord: 'Discord webhook URL',
  teams: 'Teams workflow URL (its "When a Teams webhook request is received" trigger)',
  mattermost: 'Mattermost incoming webhook URL',
  ntfy: 'ntfy server (https://ntfy.sh, or your own)',
  gotify: 'Gotify server URL',
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
    botToken: '',
    chatId: '',
    apiUrl: '',
    channel: '',
    username: '',
    topic: '',
    accessToken: '',
    removeAccessToken: false,
    appToken: '',
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
    chatId: channel.chatId ?? '',
    apiUrl: channel.apiUrl ?? '',
    channel: channel.channel ?? '',
    username: channel.username ?? '',
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
  if (form.kind === 'telegram') return { ...common, botToken: form.botToken.trim(), chatId: form.chatId.trim(), ...(form.apiUrl.trim() ? { apiUrl: form.apiUrl.trim() } : {}) };
  return { ...common, url: form.url.trim(), ...(form.kind === 'webhook' && form.signingSecret ? { signingSecret: form.signingSecret } : {}), ...serviceSettings(form, false) };
}

/** What Mattermost, ntfy and Gotify add to their URL; on an edit, an empty secret is left out (kept) and an empty option is null. */
function serviceSettings(form: ChannelForm, edit: boolean) {
  const optional = (value: string) => (value.trim() ? value.trim() : edit ? null : undefined);
  const secret = (value: string) => (value.trim() ? value.trim() : undefined);
  const defined = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
  if (form.kind === 'mattermost') return defined({ channel: optional(form.channel), username: optional(form.username) });
  if (form.kind === 'ntfy') return defined({ topic: secret(form.topic), accessToken: form.removeAccessToken ? null : secret(form.accessToken) });
  if (form.kind === 'gotify') return defined({ appToken: secret(form.appToken) });
  return {};
}

/** PUT /api/notification-channels/:id: a secret left empty is left out (kept); a removed one is null. */
export function channelUpdateBody(form: ChannelForm) {
  const common = { name: form.name.trim(), events: form.events, enabled: form.enabled };
  if (form.kind === 'email') {
    return { ...common, ...smtpSettings(form), user: form.user.trim() || null, ...(form.removePassword ? { password: null } : form.password ? { password: form.password } : {}) };
  }
  if (form.kind === 'telegram') {
    return { ...common, chatId: form.chatId.trim(), apiUrl: form.apiUrl.trim() || null, ...(form.botToken.trim() ? { botToken: form.botToken.trim() } : {}) };
  }
  return {
    ...common,
    ...(form.url.trim() ? { url: form.url.trim() } : {}),
    ...(form.kind === 'webhook' ? (form.removeSigningSecret ? { signingSecret: null } : form.signingSecret ? { signingSecret: form.signingSecret } : {}) : {}),
    ...serviceSettings(form, true),
  };
}

/** The SMTP server and addresses of an email channel, as typed. */
function smtpSettings(form: ChannelForm) {
  return { host: form.host.trim(), port: Number(form.port.trim()), secure: form.secure, from: form.from.trim(), to: recipients(form.to) };
}

/** The form field an API error path names (`to[0]` → to). */
export function channelFieldOfApiPath(path: string): ChannelField | null {
  const base = path.replace(/\[\d+\]$/, '').split('.')[0] ?? '';
  const fields: readonly string[] = ['name', 'events', 'url', 'signingSecret', 'host', 'port', 'user', 'password', 'from', 'to', 'botToken', 'chatId', 'apiUrl', 'channel', 'username', 'topic', 'accessToken', 'appToken'];
  return fields.includes(base) ? (base as ChannelField) : null;
}
