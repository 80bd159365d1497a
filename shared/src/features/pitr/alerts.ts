// Alerts of point-in-time recovery, through the notification channels that listen to disk.warning:
// a slot holding more WAL than PITR_SLOT_ALERT_BYTES (storage failing: the source's disk fills), and a
// break in a source's stored WAL (restores past it are impossible).
import type { Source } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { notify } from '../notifications/notifications.js';
import { recoveryWindow } from './window.js';

export async function alertSlotGrowing(ctx: AppContext, source: Source, bytes: number): Promise<void> {
  ctx.logger.warn({ source: source.name, slot: source.pitrSlot, bytes }, 'the replication slot holds more WAL than PITR_SLOT_ALERT_BYTES: WAL is not being stored');
  const now = new Date();
  await notify(ctx, 'disk.warning', {
    key: `pitr-slot:${source.id}:${now.toISOString().slice(0, 13)}`,
    title: `Source "${source.name}": its replication slot holds ${Math.round(bytes / 1048576)} MiB of WAL not yet stored; the server's disk fills until storage works again`,
    url: null,
    occurredAt: now,
    parts: {},
  });
}

export async function alertWalGap(ctx: AppContext, source: Source, gap: { from: string; to: string | null }): Promise<void> {
  const now = new Date();
  await notify(ctx, 'disk.warning', {
    key: `pitr-gap:${source.id}:${gap.from}`,
    title: `Source "${source.name}": its stored WAL breaks at ${gap.from}: restores are possible only up to then${gap.to ? ` and again from ${gap.to}` : ''}`,
    url: null,
    occurredAt: now,
    parts: {},
  });
}

/** Every break in the stored WAL of the sources with point-in-time recovery on, each alerted (once per break). */
export async function alertWalGaps(ctx: AppContext): Promise<number> {
  let found = 0;
  for (const source of await ctx.db.source.findMany({ where: { pitrEnabled: true } })) {
    const window = await recoveryWindow(ctx, source.id, { checkStorage: true });
    for (const gap of window.gaps) {
      found += 1;
      ctx.logger.warn({ source: source.name, gap }, 'the stored WAL of a source breaks');
      await alertWalGap(ctx, source, { from: `${gap.fromLsn} (${gap.file} ${gap.reason}${gap.lastReachable ? `, last reachable moment ${gap.lastReachable.toISOString()}` : ''})`, to: gap.toLsn });
    }
  }
  return found;
}
