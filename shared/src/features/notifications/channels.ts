// Notification channels as an operator declares them: where to send (webhook, Slack, Discord, email)
// and which events. What is secret (webhook URLs, signing secrets, the SMTP password) is sealed into
// secretEncrypted; the `config` column and every answer hold masked forms only.
import { z } from 'zod';
import type { NotificationChannel } from '../../infra/db.js';
import { ValidationError } from '../../infra/errors.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { bidiControlsMessage, hasNoBidiControls } from '../../rules/names.js';
import { parseInput } from '../../infra/validation.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';

export const notificationEvents = [
  'backup.failed',
  'backup.completed',
  'restore.completed',
  'restore.failed',
  'verification.failed',
  'configuration.overdue',
  'disk.warning',
] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

/** What a channel hears when its events are not given: every failure and warning; completions are opt-in. */
export const defaultChannelEvents: NotificationEvent[] = ['backup.failed', 'restore.failed', 'verification.failed', 'configuration.overdue', 'disk.warning'];

export const channelKinds = ['webhook', 'slack', 'discord', 'email'] as const;
export type ChannelKind = (typeof channelKinds)[number];

/** Shown instead of a stored secret. */
export const MASK = '********';

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/[\x00-\x1f\x7f]/.test(v), 'must not contain control characters')
  .refine(hasNoBidiControls, bidiControlsMessage);

const events = z
  .array(z.enum(notificationEvents))
  .min(1, 'must name at least one event')
  .max(notificationEvents.length)
  .transform((list) => [...new Set(list)]);

const httpUrl = z
  .string()
  .trim()
  .max(2000, 'must be at most 2000 characters')
  .refine((v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const email = z.string().trim().max(320).email('must be an email address');

const common = { name, events: events.optional(), enabled: z.boolean().optional() };

const webhookInput = z
  .object({
    ...common,
    kind: z.literal('webhook'),
    url: httpUrl,
    /** Signs each body: X-Coffre-Signature: sha256=<hex HMAC-SHA256 of the raw body>. */
    signingSecret: z.string().min(16, 'must be at least 16 characters long').max(200).optional(),
  })
  .strict();
const slackInput = z.object({ ...common, kind: z.literal('slack'), url: httpUrl }).strict();
const discordInput = z.object({ ...common, kind: z.literal('discord'), url: httpUrl }).strict();
const emailInput = z
  .object({
    ...common,
    kind: z.literal('email'),
    host: z.string().trim().min(1, 'must not be empty').max(255).regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or address'),
    port: z.number().int().min(1).max(65535).default(587),
    /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().max(200).optional(),
    password: z.string().max(500).optional(),
    from: email,
    to: z.array(email).min(1, 'must name at least one address').max(50),
  })
  .strict();

export const channelInputSchema = z
  .discriminatedUnion('kind', [webhookInput, slackInput, discordInput, emailInput])
  .meta({ id: 'NotificationChannelInput' });
export type ChannelInput = z.infer<typeof channelInputSchema>;

/** Every field may change but the kind; a secret left out stays as it is, null removes an optional one. */
export const channelUpdateSchema = z
  .object({
    name: name.optional(),
    events: events.optional(),
    enabled: z.boolean().optional(),
    url: httpUrl.optional(),
    signingSecret: z.string().min(16, 'must be at least 16 characters long').max(200).nullable().optional(),
    host: z.string().trim().min(1).max(255).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    secure: z.boolean().optional(),
    user: z.string().max(200).nullable().optional(),
    password: z.string().max(500).nullable().optional(),
    from: email.optional(),
    to: z.array(email).min(1).max(50).optional(),
  })
  .strict()
  .meta({ id: 'NotificationChannelUpdate' });

export const channelSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(channelKinds),
    events: z.array(z.enum(notificationEvents)),
    enabled: z.boolean(),
    url: z.string().optional().describe('scheme and host only: the rest of a webhook URL is a credential'),
    signingSecret: z.string().nullable().optional().describe(`"${MASK}" when set`),
    host: z.string().optional(),
    port: z.number().optional(),
    secure: z.boolean().optional(),
    user: z.string().nullable().optional(),
    password: z.string().nullable().optional().describe(`"${MASK}" when set`),
    from: z.string().optional(),
    to: z.array(z.string()).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'NotificationChannel' });
export type ChannelView = z.infer<typeof channelSchema>;

/** What is sealed: only the fields of a channel that are credentials. */
export interface ChannelSecret {
  url?: string;
  signingSecret?: string;
  password?: string;
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
}

/** The columns of a channel for a validated input. */
export function channelColumns(input: ChannelInput, secrets: SecretBox) {
  // Here, so that a new channel and every update of one are checked alike.
  if (input.kind === 'email') checkOutboundHost(input.host, 'host');
  else checkOutboundUrl(input.url, 'url');
  const secret: ChannelSecret = {};
  let config: ChannelConfig;
  if (input.kind === 'email') {
    if (input.password) secret.password = input.password;
    config = { host: input.host, port: input.port, secure: input.secure, user: input.user || null, hasPassword: Boolean(input.password), from: input.from, to: input.to };
  } else {
    secret.url = input.url;
    if (input.kind === 'webhook' && input.signingSecret) secret.signingSecret = input.signingSecret;
    config = { url: maskUrl(input.url), ...(input.kind === 'webhook' ? { signed: Boolean(input.signingSecret) } : {}) };
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
export function mergeChannelUpdate(row: NotificationChannel, body: unknown, secrets: SecretBox): ChannelInput {
  const changes = parseInput(channelUpdateSchema, body ?? {});
  const allowed: Record<ChannelKind, string[]> = {
    webhook: ['url', 'signingSecret'],
    slack: ['url'],
    discord: ['url'],
    email: ['host', 'port', 'secure', 'user', 'password', 'from', 'to'],
  };
  const kind = row.kind as ChannelKind;
  const foreign = Object.keys(changes).filter((key) => !['name', 'events', 'enabled', ...allowed[kind]].includes(key));
  if (foreign.length) throw new ValidationError(`${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to ${kind} channels.`);
  const secret = openChannelSecret(row, secrets);
  const config = row.config as ChannelConfig;
  const current: Record<string, unknown> =
    kind === 'email'
      ? { host: config.host, port: config.port, secure: config.secure, user: config.user ?? undefined, password: secret.password, from: config.from, to: config.to }
      : { url: secret.url, ...(kind === 'webhook' ? { signingSecret: secret.signingSecret } : {}) };
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
  return { ...base, url: config.url, ...(kind === 'webhook' ? { signingSecret: config.signed ? MASK : null } : {}) };
}

/** Scheme and host: a Slack or Discord webhook's path is its credential, and a generic one's may be. */
export function maskUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.protocol}//${url.host}/${MASK}`;
}
