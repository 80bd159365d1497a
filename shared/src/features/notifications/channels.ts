// Notification channels as an operator declares them: where to send (webhook, Slack, Discord, email,
// Telegram, Teams, Mattermost, ntfy, Gotify) and which events. What is secret (webhook and server URLs,
// signing secrets, the SMTP password, bot and app tokens, ntfy topics) is sealed into secretEncrypted;
// the `config` column and every answer hold masked forms only.
import { channelInputSchema, defaultChannelEvents, MASK, type ChannelInput, type ChannelKind, type ChannelUpdate, type ChannelView, type NotificationEvent } from '@coffre/contract';
import type { NotificationChannel } from '../../infra/db.js';
import { ValidationError } from '../../infra/errors.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { parseInput } from '../../infra/validation.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';

/** What is sealed: only the fields of a channel that are credentials. */
export interface ChannelSecret {
  url?: string;
  signingSecret?: string;
  password?: string;
  /** telegram */
  botToken?: string;
  /** ntfy: whoever knows the topic of a public server reads it. */
  topic?: string;
  accessToken?: string;
  /** gotify */
  appToken?: string;
}

/** The non-secret columns of a channel (config is shown as is, masked). */
export interface ChannelConfig {
  url?: string;
  signed?: boolean;
  host?: string;
  port?: number;
  secure?: boolean;
  user?: string | null;
  hasPassword?: boolean;
  from?: string;
  to?: string[];
  /** telegram */
  chatId?: string;
  apiUrl?: string | null;
  /** mattermost */
  channel?: string | null;
  username?: string | null;
  /** ntfy */
  hasAccessToken?: boolean;
}

/** The fields an update may change, by kind (name, events and enabled apply to all). */
const kindFields: Record<ChannelKind, string[]> = {
  webhook: ['url', 'signingSecret'],
  slack: ['url'],
  discord: ['url'],
  email: ['host', 'port', 'secure', 'user', 'password', 'from', 'to'],
  telegram: ['botToken', 'chatId', 'apiUrl'],
  teams: ['url'],
  mattermost: ['url', 'channel', 'username'],
  ntfy: ['url', 'topic', 'accessToken'],
  gotify: ['url', 'appToken'],
};

/** The columns of a channel for a validated input. */
export function channelColumns(input: ChannelInput, secrets: SecretBox) {
  // Here, so that a new channel and every update of one are checked alike.
  if (input.kind === 'email') checkOutboundHost(input.host, 'host');
  else if (input.kind === 'telegram') checkOutboundUrl(input.apiUrl ?? TELEGRAM_API, 'apiUrl');
  else checkOutboundUrl(input.url, 'url');
  const secret: ChannelSecret = {};
  let config: ChannelConfig;
  if (input.kind === 'email') {
    if (input.password) secret.password = input.password;
    config = { host: input.host, port: input.port, secure: input.secure, user: input.user || null, hasPassword: Boolean(input.password), from: input.from, to: input.to };
  } else if (input.kind === 'telegram') {
    secret.botToken = input.botToken;
    config = { chatId: input.chatId, apiUrl: input.apiUrl ?? null };
  } else {
    secret.url = input.url;
    if (input.kind === 'webhook' && input.signingSecret) secret.signingSecret = input.signingSecret;
    if (input.kind === 'ntfy') Object.assign(secret, { topic: input.topic }, input.accessToken ? { accessToken: input.accessToken } : {});
    if (input.kind === 'gotify') secret.appToken = input.appToken;
    config = {
      url: maskUrl(input.url),
      ...(input.kind === 'webhook' ? { signed: Boolean(input.signingSecret) } : {}),
      ...(input.kind === 'mattermost' ? { channel: input.channel ?? null, username: input.username ?? null } : {}),
      ...(input.kind === 'ntfy' ? { hasAccessToken: Boolean(input.accessToken) } : {}),
    };
  }
  return {
    name: input.name,
    kind: input.kind,
    events: input.events ?? defaultChannelEvents,
    enabled: input.enabled ?? true,
    config: config as object,
    secretEncrypted: Object.keys(secret).length ? secrets.seal(JSON.stringify(secret)) : null,
  };
}

/** The full input of an existing channel with an update applied, validated as a whole. */
export function mergeChannelUpdate(row: NotificationChannel, changes: ChannelUpdate, secrets: SecretBox): ChannelInput {
  const kind = row.kind as ChannelKind;
  const foreign = Object.keys(changes).filter((key) => !['name', 'events', 'enabled', ...kindFields[kind]].includes(key));
  if (foreign.length) throw new ValidationError(`${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to ${kind} channels.`);
  const secret = openChannelSecret(row, secrets);
  const config = row.config as ChannelConfig;
  const current: Record<string, unknown> =
    kind === 'email'
      ? { host: config.host, port: config.port, secure: config.secure, user: config.user ?? undefined, password: secret.password, from: config.from, to: config.to }
      : kind === 'telegram'
        ? { botToken: secret.botToken, chatId: config.chatId, apiUrl: config.apiUrl ?? undefined }
        : {
            url: secret.url,
            ...(kind === 'webhook' ? { signingSecret: secret.signingSecret } : {}),
            ...(kind === 'mattermost' ? { channel: config.channel ?? undefined, username: config.username ?? undefined } : {}),
            ...(kind === 'ntfy' ? { topic: secret.topic, accessToken: secret.accessToken } : {}),
            ...(kind === 'gotify' ? { appToken: secret.appToken } : {}),
          };
  const merged: Record<string, unknown> = { kind, name: row.name, events: row.events, enabled: row.enabled, ...current };
  for (const [key, value] of Object.entries(changes)) merged[key] = value === null ? undefined : value;
  return parseInput(channelInputSchema, merged);
}

export function openChannelSecret(row: Pick<NotificationChannel, 'secretEncrypted'>, secrets: SecretBox): ChannelSecret {
  return row.secretEncrypted ? (JSON.parse(secrets.open(row.secretEncrypted)) as ChannelSecret) : {};
}

export function channelToApi(row: NotificationChannel): ChannelView {
  const config = row.config as ChannelConfig;
  const kind = row.kind as ChannelKind;
  const base = {
    id: row.id,
    name: row.name,
    kind,
    events: row.events as NotificationEvent[],
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
  if (kind === 'email') {
    return {
      ...base,
      host: config.host,
      port: config.port,
      secure: config.secure,
      user: config.user ?? null,
      password: config.hasPassword ? MASK : null,
      from: config.from,
      to: config.to,
    };
  }
  if (kind === 'telegram') return { ...base, botToken: MASK, chatId: config.chatId, apiUrl: config.apiUrl ?? null };
  return {
    ...base,
    url: config.url,
    ...(kind === 'webhook' ? { signingSecret: config.signed ? MASK : null } : {}),
    ...(kind === 'mattermost' ? { channel: config.channel ?? null, username: config.username ?? null } : {}),
    ...(kind === 'ntfy' ? { topic: MASK, accessToken: config.hasAccessToken ? MASK : null } : {}),
    ...(kind === 'gotify' ? { appToken: MASK } : {}),
  };
}

/** Where Telegram's Bot API is, unless a channel names its own Bot API server. */
export const TELEGRAM_API = 'https://api.telegram.org';

/** Scheme and host: a Slack or Discord webhook's path is its credential, and a generic one's may be. */
export function maskUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.protocol}//${url.host}/${MASK}`;
}

/**
 * The host and port a channel's messages go to: the SMTP server, the Telegram Bot API, or the host
 * of the channel's URL. Never the URL itself, whose path holds the secret (webhook ids, topics).
 */
export function channelEndpoint(row: Pick<NotificationChannel, 'kind' | 'config' | 'secretEncrypted'>, secrets: SecretBox): { host: string; port: number } {
  const config = row.config as ChannelConfig;
  if (row.kind === 'email') return { host: config.host ?? '', port: config.port ?? 25 };
  const url = new URL(row.kind === 'telegram' ? (config.apiUrl ?? TELEGRAM_API) : (openChannelSecret(row, secrets).url ?? ''));
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
}
