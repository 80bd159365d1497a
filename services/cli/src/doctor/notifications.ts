// The doctor's check of a notification channel (every kind: webhook, Slack, Discord, email, Telegram,
// Teams, Mattermost, ntfy, Gotify): whether its server takes a connection from this machine (a TCP
// connection, nothing sent: a check must not post a message), and how its newest delivery went.
import { connect } from 'node:net';
import type { NotificationChannel } from '@coffre/shared';
import type { LocalCoffre } from '../local.js';
import { firstLine, type Outcome, type Shared } from './outcome.js';

const CONNECT_TIMEOUT_MS = 5_000;

export async function notificationChannelCheck(shared: Shared, local: LocalCoffre, channel: NotificationChannel): Promise<Outcome> {
  const { host, port } = shared.channelEndpoint(channel, local.ctx.secrets);
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const details = { kind: channel.kind, endpoint: where };
  try {
    await tcpConnect(host, port);
  } catch (error) {
    return {
      status: 'fail',
      message: `The ${channel.kind} channel's server ${where} cannot be reached from here: ${shared.scrubSecrets(firstLine(error))}; its notifications are retried, then recorded as failed.`,
      fix: `Check that ${where} is up and that this machine may connect to it (firewall, proxy), then send a test: coffre channel test ${channel.name}.`,
      details,
    };
  }
  const last = await shared.lastFinishedDelivery(local.ctx, channel.id);
  if (!last) return { status: 'ok', message: `${where} takes connections; the channel has sent nothing yet.`, details };
  const when = (last.deliveredAt ?? last.createdAt).toISOString();
  const lastDetails = { ...details, lastEvent: last.event, lastStatus: last.status, lastAt: when };
  if (last.status === 'delivered') return { status: 'ok', message: `${where} takes connections; the last notification (${last.event}) was delivered at ${when}.`, details: lastDetails };
  return {
    status: 'warn',
    message: `${where} takes connections, but the last notification (${last.event}, ${when}) failed after ${last.attempts} attempt(s): ${shared.scrubSecrets(firstLine(last.lastError ?? 'no error recorded'))}.`,
    fix: `Read the channel's deliveries (web UI, Notifications) and check its settings (URL, token, chat or topic), then send a test: coffre channel test ${channel.name}.`,
    details: lastDetails,
  };
}

function tcpConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`));
    });
    socket.once('error', (error) => reject(error));
  });
}
