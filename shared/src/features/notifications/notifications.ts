// Notifications: channels an admin declares, events that happen in runs and maintenance, and their
// delivery through the `notifications` queue. A run only records and enqueues (bounded, never
// throwing), so a slow or dead receiver never holds up or fails a backup; a worker sends, records
// every attempt and throws on failure so that BullMQ retries with backoff.
//
// One delivery per (channel, event, subject): its id is derived from the three, so a retried job, a
// second worker or a second maintenance run finding the same overdue configuration inserts nothing
// new and notifies nobody twice.
import { randomUUID } from 'node:crypto';
import type { ChannelInput, ChannelUpdate, DeliveryListQuery, DeliveryView, NotificationEvent } from '@coffre/contract';
import type { NotificationChannel, Prisma } from '../../infra/db.js';
import { ConflictError, NotFoundError, PermanentError, errorMessage } from '../../infra/errors.js';
import type { Logger } from '../../infra/logger.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { describeRestoreTarget } from '../restores/describe.js';
import { listConfigurations } from '../configurations/commands.js';
import { systemReport } from '../destinations/destinations.js';
import type { RunHooks, RunOutcome } from '../../runs/life-cycle.js';
import { requireUuid } from '../../infra/validation.js';
import { channelColumns, channelToApi, mergeChannelUpdate, openChannelSecret, type ChannelSecret } from './channels.js';
import { backupSummary, formatBytes, restoreSummary, uiLink, verificationSummary, type EventBody } from './messages.js';
import { sendNotification, type SendResult } from './senders.js';
import { enqueue } from '../catalog.js';
import type { JobHandlers } from '../catalog.js';
import { stableUuid } from '../../infra/stable-uuid.js';
import { withTimeout } from '../../infra/timeouts.js';

export * from './channels.js';
export { signBody, SEND_TIMEOUT_MS, type SendResult } from './senders.js';
export type { EventBody } from './messages.js';

/** The longest a run waits to record and enqueue its notifications. */
const NOTIFY_DEADLINE_MS = 5_000;
const NOTIFY_DEADLINE_PASSED = `no answer from the database or the queue within ${NOTIFY_DEADLINE_MS} ms`;

// ---------------------------------------------------------------------------------------------
// Channels (admin)

export async function listChannels(ctx: AppContext): Promise<NotificationChannel[]> {
  return ctx.db.notificationChannel.findMany({ orderBy: { name: 'asc' } });
}

const RECENT_DELIVERIES = 10;

/** Per channel, its last finished deliveries: how many, how many failed, and the newest error. */
export async function recentDeliveries(ctx: AppContext, channelIds: string[]) {
  const entries = await Promise.all(
    channelIds.map(async (channelId) => {
      const rows = await ctx.db.notificationDelivery.findMany({
        where: { channelId, status: { in: ['delivered', 'failed'] } },
        orderBy: { createdAt: 'desc' },
        take: RECENT_DELIVERIES,
        select: { status: true, lastError: true },
      });
      const failed = rows.filter((row) => row.status === 'failed');
      return [channelId, { finished: rows.length, failed: failed.length, lastError: failed[0]?.lastError ?? null }] as const;
    }),
  );
  return new Map(entries);
}

/** A channel's newest finished delivery (delivered or failed), or null when it has sent nothing yet. */
export function lastFinishedDelivery(ctx: AppContext, channelId: string) {
  return ctx.db.notificationDelivery.findFirst({
    where: { channelId, status: { in: ['delivered', 'failed'] } },
    orderBy: { createdAt: 'desc' },
    select: { event: true, status: true, attempts: true, lastError: true, createdAt: true, deliveredAt: true },
  });
}

export async function getChannel(ctx: AppContext, id: string): Promise<NotificationChannel> {
  const row = await ctx.db.notificationChannel.findUnique({ where: { id: requireUuid(id, 'Notification channel') } });
  if (!row) throw new NotFoundError(`Notification channel ${id}`);
  return row;
}

export async function createChannel(ctx: AppContext, input: ChannelInput, actor: Actor): Promise<NotificationChannel> {
  await refuseTakenName(ctx, input.name);
  const row = await ctx.db.notificationChannel.create({ data: channelColumns(input, ctx.secrets) });
  await recordAudit(ctx.db, actor, { action: 'notification-channel.create', targetType: 'notification-channel', targetId: row.id, summary: { after: channelToApi(row) } });
  return row;
}

export async function updateChannel(ctx: AppContext, id: string, changes: ChannelUpdate, actor: Actor): Promise<NotificationChannel> {
  const before = await getChannel(ctx, id);
  const input = mergeChannelUpdate(before, changes, ctx.secrets);
  if (input.name !== before.name) await refuseTakenName(ctx, input.name);
  const row = await ctx.db.notificationChannel.update({ where: { id }, data: channelColumns(input, ctx.secrets) });
  await recordAudit(ctx.db, actor, {
    action: 'notification-channel.update',
    targetType: 'notification-channel',
    targetId: id,
    summary: { before: channelToApi(before), after: channelToApi(row) },
  });
  return row;
}

export async function deleteChannel(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const before = await getChannel(ctx, id);
  // Its deliveries go with it (cascade); a queued job then finds nothing and stops.
  await ctx.db.notificationChannel.delete({ where: { id } });
  await recordAudit(ctx.db, actor, { action: 'notification-channel.delete', targetType: 'notification-channel', targetId: id, summary: { before: channelToApi(before) } });
}

async function refuseTakenName(ctx: AppContext, name: string): Promise<void> {
  if (await ctx.db.notificationChannel.findUnique({ where: { name } })) throw new ConflictError(`A notification channel named "${name}" already exists.`);
}

/** Sends a test message now (even to a disabled channel), records it as a delivery and answers with it. */
export async function testChannel(ctx: AppContext, id: string, actor: Actor): Promise<DeliveryView> {
  const channel = await getChannel(ctx, id);
  const deliveryId = randomUUID();
  const body: EventBody = {
    id: deliveryId,
    event: 'test',
    occurredAt: new Date().toISOString(),
    title: `Test notification from coffre to channel "${channel.name}"`,
    url: uiLink(ctx.config.PUBLIC_URL, '/'),
  };
  await ctx.db.notificationDelivery.create({ data: { id: deliveryId, channelId: channel.id, event: 'test', payload: body as unknown as Prisma.InputJsonValue } });
  const secret = channelSecret(ctx, channel);
  const result = 'error' in secret ? secret.error : await sendNotification(channel, secret, body);
  await recordAttempt(ctx, deliveryId, result, true);
  await recordAudit(ctx.db, actor, {
    action: 'notification-channel.test',
    targetType: 'notification-channel',
    targetId: channel.id,
    outcome: result.ok ? 'success' : 'failure',
    summary: { after: { deliveryId, ok: result.ok, statusCode: result.statusCode, error: result.error } },
  });
  return getDelivery(ctx, deliveryId);
}

// ---------------------------------------------------------------------------------------------
// Deliveries

const withAttempts = { attemptsLog: { orderBy: { attempt: 'asc' } } } as const;
type DeliveryRow = Prisma.NotificationDeliveryGetPayload<{ include: typeof withAttempts }>;

export function deliveryToApi(row: DeliveryRow): DeliveryView {
  const payload = row.payload as Partial<EventBody> | null;
  return {
    id: row.id,
    channelId: row.channelId,
    event: row.event,
    title: typeof payload?.title === 'string' ? payload.title : null,
    status: row.status as DeliveryView['status'],
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    attemptLog: row.attemptsLog.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), ok: a.ok, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
  };
}

export async function getDelivery(ctx: AppContext, id: string): Promise<DeliveryView> {
  const row = await ctx.db.notificationDelivery.findUnique({ where: { id }, include: withAttempts });
  if (!row) throw new NotFoundError(`Notification delivery ${id}`);
  return deliveryToApi(row);
}

export async function listDeliveries(ctx: AppContext, channelId: string, f: DeliveryListQuery) {
  await getChannel(ctx, channelId);
  const where: Prisma.NotificationDeliveryWhereInput = { channelId, ...(f.status ? { status: f.status } : {}), ...(f.event ? { event: f.event } : {}) };
  const [rows, total] = await Promise.all([
    ctx.db.notificationDelivery.findMany({ where, include: withAttempts, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    ctx.db.notificationDelivery.count({ where }),
  ]);
  return { items: rows.map(deliveryToApi), total, page: f.page, pageSize: f.pageSize };
}

/**
 * The `notification.deliver` job: one send, one recorded attempt. Throws on failure so that BullMQ
 * retries with backoff; a PermanentError (4xx, refused credentials) stops the retries.
 */
export async function deliverNotification(ctx: AppContext, deliveryId: string, hooks: Pick<RunHooks, 'attempt' | 'maxAttempts' | 'logger'>): Promise<RunOutcome> {
  const delivery = await ctx.db.notificationDelivery.findUnique({ where: { id: deliveryId }, include: { channel: true } });
  // Gone with its channel, or finished by an earlier run of the same job.
  if (!delivery || delivery.status !== 'pending') return 'skipped';
  const { channel } = delivery;
  const log = hooks.logger.child({ deliveryId, channel: channel.name, event: delivery.event });
  if (!channel.enabled) {
    await ctx.db.notificationDelivery.updateMany({ where: { id: deliveryId, status: 'pending' }, data: { status: 'failed', lastError: 'The channel was disabled before this notification was sent.' } });
    log.info('channel disabled: notification dropped');
    return 'skipped';
  }
  const secret = channelSecret(ctx, channel);
  const result = 'error' in secret ? secret.error : await sendNotification(channel, secret, delivery.payload as unknown as EventBody);
  const final = result.ok || result.permanent || hooks.attempt >= hooks.maxAttempts;
  await recordAttempt(ctx, deliveryId, result, final);
  if (result.ok) {
    log.info({ statusCode: result.statusCode, durationMs: result.durationMs }, 'notification delivered');
    return 'completed';
  }
  log.warn({ statusCode: result.statusCode, durationMs: result.durationMs, error: result.error, final }, 'notification not delivered');
  if (result.permanent) throw new PermanentError(result.error ?? 'The notification was refused.');
  throw new Error(result.error ?? 'The notification was not delivered.');
}

function channelSecret(ctx: AppContext, channel: NotificationChannel): ChannelSecret | { error: SendResult } {
  try {
    return openChannelSecret(channel, ctx.secrets);
  } catch (error) {
    return { error: { ok: false, statusCode: null, error: `The channel's stored credentials cannot be read: ${errorMessage(error)}.`, permanent: true, durationMs: 0 } };
  }
}

async function recordAttempt(ctx: AppContext, deliveryId: string, result: SendResult, final: boolean): Promise<void> {
  await ctx.db.$transaction(async (tx) => {
    const row = await tx.notificationDelivery.update({
      where: { id: deliveryId },
      data: {
        attempts: { increment: 1 },
        lastError: result.error,
        ...(result.ok ? { status: 'delivered', deliveredAt: new Date() } : final ? { status: 'failed' } : {}),
      },
    });
    await tx.notificationAttempt.create({
      data: { deliveryId, attempt: row.attempts, ok: result.ok, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Events

export interface NotificationSubject {
  /** What the event is about, with enough to tell two episodes apart (the dedupe key). */
  key: string;
  title: string;
  url: string | null;
  occurredAt?: Date | null;
  parts: Pick<EventBody, 'backup' | 'restore' | 'verification' | 'configuration' | 'destination'>;
}

/**
 * Records one delivery per enabled channel that listens to the event and queues it. Never throws and
 * never waits more than a few seconds: a notification problem is logged, the caller carries on.
 */
export async function notify(ctx: AppContext, event: NotificationEvent, subject: NotificationSubject): Promise<number> {
  try {
    return await withTimeout(queueDeliveries(ctx, event, subject), NOTIFY_DEADLINE_MS, NOTIFY_DEADLINE_PASSED);
  } catch (error) {
    ctx.logger.warn({ event, subject: subject.key, err: errorMessage(error) }, 'notification could not be queued (the run itself is unaffected)');
    return 0;
  }
}

async function queueDeliveries(ctx: AppContext, event: NotificationEvent, subject: NotificationSubject): Promise<number> {
  const channels = await ctx.db.notificationChannel.findMany({ where: { enabled: true, events: { has: event } }, select: { id: true } });
  let queued = 0;
  for (const channel of channels) {
    const id = deliveryIdFor(channel.id, event, subject.key);
    const body: EventBody = {
      id,
      event,
      occurredAt: (subject.occurredAt ?? new Date()).toISOString(),
      title: subject.title,
      url: subject.url,
      ...subject.parts,
    };
    const { count } = await ctx.db.notificationDelivery.createMany({
      data: [{ id, channelId: channel.id, event, payload: body as unknown as Prisma.InputJsonValue }],
      skipDuplicates: true,
    });
    if (count === 0) continue; // notified already
    await enqueue(ctx, 'notification.deliver', { deliveryId: id });
    queued += 1;
  }
  return queued;
}

/** A UUID (version 8, name-based) from channel, event and subject: the same three, the same row. */
export function deliveryIdFor(channelId: string, event: string, subjectKey: string): string {
  return stableUuid(`${channelId}\n${event}\n${subjectKey}`);
}

/**
 * Called where a run has just finished (completed or failed): notifies what the row now says —
 * backup.failed / backup.completed, restore.failed / restore.completed, verification.failed.
 */
export async function notifyRunEnded(ctx: AppContext, model: 'backup' | 'restore' | 'verification', id: string): Promise<void> {
  try {
    await withTimeout(notifyRunEndedNow(ctx, model, id), NOTIFY_DEADLINE_MS, NOTIFY_DEADLINE_PASSED);
  } catch (error) {
    ctx.logger.warn({ model, id, err: errorMessage(error) }, 'notification could not be queued (the run itself is unaffected)');
  }
}

async function notifyRunEndedNow(ctx: AppContext, model: 'backup' | 'restore' | 'verification', id: string): Promise<void> {
  const link = (path: string) => uiLink(ctx.config.PUBLIC_URL, path);
  if (model === 'backup') {
    const row = await ctx.db.backup.findUnique({ where: { id } });
    if (!row || (row.status !== 'completed' && row.status !== 'failed')) return;
    const event = row.status === 'failed' ? 'backup.failed' : 'backup.completed';
    const title = `Backup "${row.name}" of ${row.sourceName} ${row.status === 'failed' ? 'failed' : `completed (${formatBytes(Number(row.sizeBytes ?? 0))})`}`;
    await notify(ctx, event, { key: row.id, title, url: link(`/backups/${row.id}`), occurredAt: row.completedAt, parts: { backup: backupSummary(row) } });
  } else if (model === 'restore') {
    const row = await ctx.db.restore.findUnique({ where: { id }, include: { backup: { select: { name: true } }, targetSource: { select: { name: true } } } });
    if (!row || (row.status !== 'completed' && row.status !== 'failed')) return;
    const event = row.status === 'failed' ? 'restore.failed' : 'restore.completed';
    const title = `Restore of "${row.backup.name}" into ${describeRestoreTarget(row)} ${row.status}`;
    await notify(ctx, event, { key: row.id, title, url: link(`/restores/${row.id}`), occurredAt: row.completedAt, parts: { restore: restoreSummary(row) } });
  } else {
    const row = await ctx.db.verification.findUnique({ where: { id }, include: { backup: { select: { name: true } } } });
    if (!row || !(row.status === 'failed' || (row.status === 'completed' && row.result === 'failed'))) return;
    const title = `Verification of backup "${row.backup.name}" failed`;
    await notify(ctx, 'verification.failed', { key: row.id, title, url: link(`/verifications/${row.id}`), occurredAt: row.completedAt, parts: { verification: verificationSummary(row) } });
  }
}

export interface MaintenanceFindings {
  overdue: number;
  fullDestinations: number;
  requeued: number;
}

/**
 * The maintenance run's notifications: configurations overdue (once per episode: until a backup
 * completes), local destinations above 80 % used (at most once a day each), and deliveries whose
 * enqueue was lost (Redis away when the run ended) queued again. Never throws.
 */
export async function notifyMaintenanceFindings(ctx: AppContext, logger: Logger, now = new Date()): Promise<MaintenanceFindings> {
  const findings: MaintenanceFindings = { overdue: 0, fullDestinations: 0, requeued: 0 };
  const link = (path: string) => uiLink(ctx.config.PUBLIC_URL, path);
  try {
    for (const c of (await listConfigurations(ctx, now)).filter((c) => c.overdue)) {
      findings.overdue += 1;
      await notify(ctx, 'configuration.overdue', {
        key: `${c.id}:${c.lastCompletedAt ?? 'never'}`,
        title: `Configuration "${c.name}" is overdue: ${c.lastCompletedAt ? `its last successful backup was at ${c.lastCompletedAt}` : 'it never completed a backup'}`,
        url: link(`/configurations/${c.id}`),
        occurredAt: now,
        parts: { configuration: { id: c.id, name: c.name, lastCompletedAt: c.lastCompletedAt, schedule: c.scheduleDescription } },
      });
    }
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, 'overdue configurations could not be checked for notifications');
  }
  try {
    // The same measure and threshold as GET /api/system shows (80 % used).
    for (const d of (await systemReport(ctx)).destinations) {
      if (!d.usage?.warning) continue;
      findings.fullDestinations += 1;
      await notify(ctx, 'disk.warning', {
        key: `${d.id}:${now.toISOString().slice(0, 10)}`,
        title: `Destination "${d.name}" is ${d.usage.usedPercent} % full (${formatBytes(d.usage.freeBytes)} free)`,
        url: link('/destinations'),
        occurredAt: now,
        parts: { destination: { id: d.id, name: d.name, path: d.location, usedPercent: d.usage.usedPercent, freeBytes: d.usage.freeBytes } },
      });
    }
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, 'destinations could not be checked for free space');
  }
  try {
    const lost = await ctx.db.notificationDelivery.findMany({
      where: { status: 'pending', attempts: 0, createdAt: { lt: new Date(now.getTime() - 2 * 60_000) } },
      select: { id: true },
      take: 500,
    });
    // A job that exists already makes this a no-op (job ids derive from the delivery).
    for (const { id } of lost) await enqueue(ctx, 'notification.deliver', { deliveryId: id });
    findings.requeued = lost.length;
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, 'pending notifications could not be queued again');
  }
  return findings;
}

/** The handler of the notifications feature's job (jobs.ts). */
export const notificationHandlers = {
  'notification.deliver': (ctx, payload, hooks) => deliverNotification(ctx, payload.deliveryId, hooks),
} satisfies Pick<JobHandlers, 'notification.deliver'>;
