// Notification channels (where coffre tells people that a backup failed, a restore ended, a
// configuration is overdue or a disk fills up) and their deliveries. Secrets go in and never come
// out: answers show them masked.
import { z } from 'zod';
import { displayName, hasNoQueryOrFragment, hasNoUserInfo, idParams, listOf, pageOf, pagination, queryOrFragmentMessage, readableText, userInfoMessage } from './common.js';
import { defineRoutes } from './route.js';

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

export const channelKinds = ['webhook', 'slack', 'discord', 'email', 'telegram', 'teams', 'mattermost', 'ntfy', 'gotify'] as const;
export type ChannelKind = (typeof channelKinds)[number];

/** Shown instead of a stored secret. */
export const MASK = '********';

const name = displayName(100, { empty: 'must not be empty', long: 'must be at most 100 characters' });

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

/**
 * A self-hosted Telegram Bot API server. Unlike a webhook URL (a credential as a whole, sealed and
 * shown as its scheme and host), it is a setting shown to viewers: nothing secret may be in it.
 */
const botApiUrl = httpUrl
  .refine(hasNoUserInfo, `${userInfoMessage}: give the bot's token in botToken`)
  .refine(hasNoQueryOrFragment, `${queryOrFragmentMessage} (the Bot API's path is added after it)`);

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

const telegramBotToken = z
  .string()
  .trim()
  .regex(/^\d{1,20}:[A-Za-z0-9_-]{20,100}$/, 'must be a bot token as @BotFather gives it (123456789:AA…)');
const telegramChatId = z
  .string()
  .trim()
  .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,64})$/, 'must be a chat id (a number, negative for groups and channels) or a public channel\'s @username');
const mattermostChannel = z.string().trim().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be a channel name as in its URL (lower case, e.g. town-square)');
const senderName = readableText(z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'));
const ntfyTopic = z.string().trim().regex(/^[-_A-Za-z0-9]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"');
const serviceToken = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');
const gotifyAppToken = z.string().trim().regex(/^[A-Za-z0-9._-]{5,200}$/, 'must be a Gotify application token (letters, digits, ".", "_" or "-")');

/** Telegram Bot API sendMessage; apiUrl for a self-hosted Bot API server (default https://api.telegram.org). */
const telegramInput = z.object({ ...common, kind: z.literal('telegram'), botToken: telegramBotToken, chatId: telegramChatId, apiUrl: botApiUrl.optional() }).strict();
/** A Microsoft Teams workflow ("Post to a channel when a webhook request is received") URL. */
const teamsInput = z.object({ ...common, kind: z.literal('teams'), url: httpUrl }).strict();
/** A Mattermost incoming webhook; channel and username override the webhook's own when it allows that. */
const mattermostInput = z.object({ ...common, kind: z.literal('mattermost'), url: httpUrl, channel: mattermostChannel.optional(), username: senderName.optional() }).strict();
/** An ntfy server (https://ntfy.sh or your own) and topic; accessToken for a protected topic. */
const ntfyInput = z.object({ ...common, kind: z.literal('ntfy'), url: httpUrl.default('https://ntfy.sh'), topic: ntfyTopic, accessToken: serviceToken.optional() }).strict();
/** A Gotify server and the token of one of its applications. */
const gotifyInput = z.object({ ...common, kind: z.literal('gotify'), url: httpUrl, appToken: gotifyAppToken }).strict();

export const channelInputSchema = z
  .discriminatedUnion('kind', [webhookInput, slackInput, discordInput, emailInput, telegramInput, teamsInput, mattermostInput, ntfyInput, gotifyInput])
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
    botToken: telegramBotToken.optional(),
    chatId: telegramChatId.optional(),
    apiUrl: botApiUrl.nullable().optional(),
    channel: mattermostChannel.nullable().optional(),
    username: senderName.nullable().optional(),
    topic: ntfyTopic.optional(),
    accessToken: serviceToken.nullable().optional(),
    appToken: gotifyAppToken.optional(),
  })
  .strict()
  .meta({ id: 'NotificationChannelUpdate' });
export type ChannelUpdate = z.infer<typeof channelUpdateSchema>;

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
    botToken: z.string().optional().describe(`telegram: "${MASK}"`),
    chatId: z.string().optional(),
    apiUrl: z.string().nullable().optional(),
    channel: z.string().nullable().optional(),
    username: z.string().nullable().optional(),
    topic: z.string().optional().describe(`ntfy: "${MASK}" (anyone who knows a topic may read it)`),
    accessToken: z.string().nullable().optional().describe(`"${MASK}" when set`),
    appToken: z.string().optional().describe(`gotify: "${MASK}"`),
    recentDeliveries: z
      .object({ finished: z.number(), failed: z.number(), lastError: z.string().nullable() })
      .optional()
      .describe('the list only: its last finished deliveries (at most 10), how many failed, and the newest error'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'NotificationChannel' });
export type ChannelView = z.infer<typeof channelSchema>;

export const deliveryAttemptSchema = z.object({
  attempt: z.number(),
  at: z.string(),
  ok: z.boolean(),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
});

export const deliverySchema = z
  .object({
    id: z.string().uuid(),
    channelId: z.string().uuid(),
    event: z.string(),
    title: z.string().nullable(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    attemptLog: z.array(deliveryAttemptSchema),
  })
  .meta({ id: 'NotificationDelivery' });
export type DeliveryView = z.infer<typeof deliverySchema>;

export const deliveryListQuerySchema = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    event: z.string().trim().max(50).optional(),
    ...pagination(20),
  })
  .strict();
export type DeliveryListQuery = z.infer<typeof deliveryListQuerySchema>;

const channelId = idParams('Notification channel');
const tag = 'notifications';

export const notificationRoutes = defineRoutes({
  'channels.list': {
    method: 'get',
    path: '/api/notification-channels',
    summary: 'Notification channels (secrets masked)',
    tag,
    access: 'admin',
    responses: { 200: { description: 'Every channel.', schema: listOf(channelSchema) } },
  },
  'channels.create': {
    method: 'post',
    path: '/api/notification-channels',
    summary: 'Add a channel: a signed webhook, Slack, Discord or email over SMTP',
    tag,
    access: 'admin',
    location: '/api/notification-channels/:id',
    body: channelInputSchema,
    responses: { 201: { description: 'The channel.', schema: channelSchema }, 409: { description: 'The name is taken.' } },
  },
  'channels.get': {
    method: 'get',
    path: '/api/notification-channels/:id',
    summary: 'One channel (secrets masked)',
    tag,
    access: 'admin',
    params: channelId,
    responses: { 200: { description: 'The channel.', schema: channelSchema }, 404: { description: 'No such channel.' } },
  },
  'channels.update': {
    method: 'put',
    path: '/api/notification-channels/:id',
    summary: 'Change a channel (a secret left out stays as it is)',
    tag,
    access: 'admin',
    params: channelId,
    body: channelUpdateSchema,
    responses: { 200: { description: 'The channel.', schema: channelSchema }, 404: { description: 'No such channel.' } },
  },
  'channels.delete': {
    method: 'delete',
    path: '/api/notification-channels/:id',
    summary: 'Remove a channel and its delivery history',
    tag,
    access: 'admin',
    params: channelId,
    responses: { 204: { description: 'Removed.' }, 404: { description: 'No such channel.' } },
  },
  'channels.test': {
    method: 'post',
    path: '/api/notification-channels/:id/test',
    summary: 'Send a test notification now and answer with the delivery (ok or the error)',
    tag,
    access: 'admin',
    params: channelId,
    responses: { 200: { description: 'The delivery and its attempt.', schema: deliverySchema }, 404: { description: 'No such channel.' } },
  },
  'channels.deliveries': {
    method: 'get',
    path: '/api/notification-channels/:id/deliveries',
    summary: 'Deliveries to a channel, newest first, with every attempt',
    tag,
    access: 'admin',
    params: channelId,
    query: deliveryListQuerySchema,
    responses: { 200: { description: 'A page of deliveries.', schema: pageOf(deliverySchema, 'NotificationDeliveryPage') }, 404: { description: 'No such channel.' } },
  },
});
