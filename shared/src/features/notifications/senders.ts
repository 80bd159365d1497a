// Sending one notification once: a generic signed webhook, a Slack, Discord, Teams or Mattermost
// incoming webhook, a Telegram bot message, an ntfy or Gotify push, or an email over SMTP. Each send is bounded (10 s by default) and ends in a result, never an exception:
// the caller records the attempt and decides whether a retry can help.
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { NotificationChannel } from '../../infra/db.js';
import { errorMessage } from '../../infra/errors.js';
import { OutboundRefusedError, forbiddenHostReason, guardedLookup, resolveOutboundHost } from '../../infra/outbound.js';
import { cutSecrets } from '../../infra/sentences.js';
import type { ChannelKind } from '@coffre/contract';
import { TELEGRAM_API, type ChannelConfig, type ChannelSecret } from './channels.js';
import { detailLines, isBadNews, type EventBody } from './messages.js';
import { gotifyMessage, mattermostMessage, ntfyMessage, teamsMessage, telegramMessage } from './service-messages.js';

export const SEND_TIMEOUT_MS = 10_000;

export interface SendResult {
  ok: boolean;
  /** HTTP status, or the SMTP reply code. */
  statusCode: number | null;
  /** A sentence, without any secret of the channel. */
  error: string | null;
  /** True when no retry can fix it (a 4xx other than 408/429, a redirect, refused SMTP credentials). */
  permanent: boolean;
  durationMs: number;
}

export async function sendNotification(
  channel: Pick<NotificationChannel, 'kind' | 'config'>,
  secret: ChannelSecret,
  body: EventBody,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<SendResult> {
  const started = Date.now();
  let outcome: Omit<SendResult, 'durationMs'>;
  try {
    outcome = await send(channel.kind as ChannelKind, channel.config as ChannelConfig, secret, body, timeoutMs);
  } catch (error) {
    outcome = { ok: false, statusCode: null, error: `The notification could not be sent: ${errorMessage(error)}`, permanent: false };
  }
  const error = outcome.error === null ? null : withoutChannelSecrets(outcome.error, secret).slice(0, 1000);
  return { ...outcome, error, durationMs: Date.now() - started };
}

/** The signature a generic webhook carries: HMAC-SHA256 of the raw body, in hex. */
export function signBody(rawBody: string, signingSecret: string): string {
  return `sha256=${createHmac('sha256', signingSecret).update(rawBody).digest('hex')}`;
}

async function send(kind: ChannelKind, config: ChannelConfig, secret: ChannelSecret, body: EventBody, timeoutMs: number): Promise<Omit<SendResult, 'durationMs'>> {
  switch (kind) {
    case 'webhook': {
      const raw = JSON.stringify(body);
      const headers: Record<string, string> = {
        'X-Coffre-Event': body.event,
        'X-Coffre-Delivery': body.id,
        // Lets a receiver refuse stale deliveries; the body's occurredAt says when the event happened.
        'X-Coffre-Timestamp': String(Math.floor(Date.now() / 1000)),
      };
      if (secret.signingSecret) headers['X-Coffre-Signature'] = signBody(raw, secret.signingSecret);
      return postJson(requireUrl(secret), raw, headers, timeoutMs);
    }
    case 'slack':
      return postJson(requireUrl(secret), JSON.stringify(slackMessage(body)), {}, timeoutMs);
    case 'discord':
      return postJson(requireUrl(secret), JSON.stringify(discordMessage(body)), {}, timeoutMs);
    case 'email':
      return sendEmail(config, secret, body, timeoutMs);
    case 'telegram': {
      if (!secret.botToken) throw new Error('the channel has no stored bot token: set its botToken again');
      const url = `${(config.apiUrl ?? TELEGRAM_API).replace(/\/+$/, '')}/bot${secret.botToken}/sendMessage`;
      return postJson(url, JSON.stringify(telegramMessage(body, config.chatId!)), {}, timeoutMs);
    }
    case 'teams':
      return postJson(requireUrl(secret), JSON.stringify(teamsMessage(body)), {}, timeoutMs);
    case 'mattermost':
      return postJson(requireUrl(secret), JSON.stringify(mattermostMessage(body, config)), {}, timeoutMs);
    case 'ntfy': {
      if (!secret.topic) throw new Error('the channel has no stored topic: set its topic again');
      const headers: Record<string, string> = secret.accessToken ? { Authorization: `Bearer ${secret.accessToken}` } : {};
      return postJson(requireUrl(secret), JSON.stringify(ntfyMessage(body, secret.topic)), headers, timeoutMs);
    }
    case 'gotify': {
      if (!secret.appToken) throw new Error('the channel has no stored application token: set its appToken again');
      const url = new URL('message', requireUrl(secret).replace(/\/*$/, '/'));
      url.searchParams.set('token', secret.appToken);
      return postJson(url.toString(), JSON.stringify(gotifyMessage(body)), {}, timeoutMs);
    }
    default:
      return { ok: false, statusCode: null, error: `Channels of kind "${String(kind)}" cannot be sent by this version of coffre.`, permanent: true };
  }
}

function requireUrl(secret: ChannelSecret): string {
  if (!secret.url) throw new Error('the channel has no stored URL: set its url again');
  return secret.url;
}

async function postJson(url: string, raw: string, headers: Record<string, string>, timeoutMs: number): Promise<Omit<SendResult, 'durationMs'>> {
  let status: number;
  try {
    status = await post(url, raw, { 'Content-Type': 'application/json', 'User-Agent': 'coffre', ...headers }, timeoutMs);
  } catch (error) {
    if (error instanceof OutboundRefusedError) return { ok: false, statusCode: null, error: error.message, permanent: true };
    return { ok: false, statusCode: null, error: describeRequestError(error, timeoutMs), permanent: false };
  }
  if (status >= 200 && status < 300) return { ok: true, statusCode: status, error: null, permanent: false };
  const permanent = (status >= 300 && status < 400) || (status >= 400 && status < 500 && status !== 408 && status !== 429);
  const what = status >= 300 && status < 400 ? 'a redirect (update the channel to the final URL)' : String(status);
  // The status only: what a receiver answers is never shown, since the receiver may be an internal service.
  return { ok: false, statusCode: status, error: `The receiver answered ${what}.`, permanent };
}

/**
 * POSTs a body and resolves with the answer's status; the answer's body is drained unread. A redirect
 * is not followed (it would send the body somewhere unchecked); the address is checked after DNS.
 */
function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const target = new URL(url);
  const reason = forbiddenHostReason(target.hostname);
  if (reason) return Promise.reject(new OutboundRefusedError(target.hostname, null, reason));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, lookup: guardedLookup, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        response.resume();
        response.on('error', () => {});
        resolve(response.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `The receiver did not answer within ${Math.round(timeoutMs / 1000)} s.`;
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'The receiver refused the connection (is it running?).';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'The receiver\'s host name does not resolve.';
  if (code) return `The receiver could not be reached (${code}).`;
  return `The receiver could not be reached: ${errorMessage(error)}.`;
}

function slackMessage(body: EventBody) {
  // Slack reads <…> as links and mentions: names coming from operators are escaped.
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const lines = detailLines({ ...body, url: null }).map(escape);
  const link = body.url ? `\n<${body.url}|Open in coffre>` : '';
  return { text: `${isBadNews(body.event) ? ':x:' : ':white_check_mark:'} *${escape(body.title)}*\n${lines.join('\n')}${link}` };
}

function discordMessage(body: EventBody) {
  return {
    username: 'coffre',
    // No @everyone or role pings, whatever a backup name holds.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: body.title.slice(0, 256),
        description: detailLines({ ...body, url: null }).join('\n').slice(0, 4000),
        color: isBadNews(body.event) ? 0xd93f0b : 0x2da44e,
        ...(body.url ? { url: body.url } : {}),
        timestamp: body.occurredAt,
      },
    ],
  };
}

async function sendEmail(config: ChannelConfig, secret: ChannelSecret, body: EventBody, timeoutMs: number): Promise<Omit<SendResult, 'durationMs'>> {
  // Resolved and checked here, then connected to by address (the name still checks the certificate):
  // what was checked is what is reached.
  let address: string;
  try {
    address = (await resolveOutboundHost(config.host!))[0]!.address;
  } catch (error) {
    if (error instanceof OutboundRefusedError) return { ok: false, statusCode: null, error: error.message, permanent: true };
    return { ok: false, statusCode: null, error: `The SMTP server ${config.host}:${config.port} could not be resolved: ${errorMessage(error)}`, permanent: false };
  }
  // nodemailer is loaded by the first e-mail, not by every process that imports notifications.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: address,
    ...(isIP(config.host!.replace(/^\[|\]$/g, '')) ? {} : { servername: config.host }),
    port: config.port,
    secure: config.secure ?? false,
    auth: config.user ? { user: config.user, pass: secret.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: `[coffre] ${body.title}`.slice(0, 250),
      text: `${body.title}\n\n${detailLines(body).join('\n')}\n`,
      headers: { 'X-Coffre-Event': body.event, 'X-Coffre-Delivery': body.id },
    });
    return { ok: true, statusCode: replyCode(info.response) ?? 250, error: null, permanent: false };
  } catch (error) {
    const e = error as { code?: string; responseCode?: number; message?: string };
    const code = e.responseCode ?? null;
    // Refused credentials and 5xx replies (unknown mailbox, relay denied) stay refused on a retry.
    const permanent = e.code === 'EAUTH' || (code !== null && code >= 500 && code < 600);
    return { ok: false, statusCode: code, error: `The SMTP server ${config.host}:${config.port} refused or failed: ${e.message ?? String(error)}`, permanent };
  } finally {
    transport.close();
  }
}

function replyCode(response: unknown): number | null {
  const match = typeof response === 'string' ? /^(\d{3})/.exec(response) : null;
  return match ? Number(match[1]) : null;
}

/** An error sentence with the channel's URL, its path and its passwords cut out, whatever echoed them. */
function withoutChannelSecrets(text: string, secret: ChannelSecret): string {
  const needles: string[] = [];
  if (secret.url) {
    needles.push(secret.url);
    try {
      const url = new URL(secret.url);
      if (url.pathname.length > 1) needles.push(url.pathname);
      if (url.search) needles.push(url.search);
      if (url.password) needles.push(url.password);
    } catch {}
  }
  for (const value of [secret.signingSecret, secret.password, secret.botToken, secret.topic, secret.accessToken, secret.appToken]) if (value) needles.push(value);
  return cutSecrets(text, needles);
}
