// The maintenance run (MAINTENANCE_CRON, hourly by default, and on demand): retention, then
// reconciliation of rows, queue and storage.
import type { AppContext } from '../../infra/context.js';
import type { RunHooks } from '../../runs/life-cycle.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { applyRetention, type RetentionReport } from './retention.js';
import { dropExpiredRestoreCopies, type DroppedCopies } from '../restores/undo.js';
import { notifyMaintenanceFindings } from '../notifications/notifications.js';
import type { JobHandlers } from '../catalog.js';
import { ensureWalStreams } from '../pitr/commands.js';
import { alertWalGaps } from '../pitr/alerts.js';
import { pruneWal } from '../pitr/retention.js';

export interface MaintenanceReport {
  retention: RetentionReport;
  restoreCopies: DroppedCopies;
  reconcile: ReconcileReport;
}

export async function runMaintenance(ctx: AppContext, options: { fixMissing?: boolean }, hooks: Pick<RunHooks, 'logger'>): Promise<MaintenanceReport> {
  const retention = await applyRetention(ctx);
  const restoreCopies = await dropExpiredRestoreCopies(ctx);
  const report = await reconcile(ctx, { checkStorage: true, fixMissing: options.fixMissing ?? false, liveWindowMs: liveWindowMs(ctx) });
  await notifyMaintenanceFindings(ctx, hooks.logger); // overdue configurations, full disks; never throws
  // Point-in-time recovery: streams queued again if Redis lost them, breaks in the stored WAL alerted.
  await ensureWalStreams(ctx).catch((error: unknown) => hooks.logger.warn({ err: error }, 'the WAL streams could not be queued'));
  const wal = await pruneWal(ctx).catch((error: unknown) => (hooks.logger.warn({ err: error }, 'the WAL no base backup needs could not be removed'), null));
  if (wal?.deleted) hooks.logger.info({ deleted: wal.deleted, bytes: wal.bytes }, 'removed the WAL older than the oldest kept base backup');
  await alertWalGaps(ctx).catch((error: unknown) => hooks.logger.warn({ err: error }, 'the stored WAL could not be checked for breaks'));
  hooks.logger.info(
    {
      expired: retention.expired.length,
      expiryFailures: retention.failures.length,
      droppedRestoreCopies: restoreCopies.dropped.length,
      restoreCopyFailures: restoreCopies.failures.length,
      failedRunning: report.failedRunning.length,
      requeuedPending: report.requeuedPending.length,
      removedTemporaries: report.removedTemporaries,
      orphanObjects: report.orphanObjects.length,
      missingObjects: report.missingObjects.length,
    },
    'maintenance done',
  );
  return { retention, restoreCopies, reconcile: report };
}

/** How long a running row may go unwritten before a lost job means a lost worker. */
export function liveWindowMs(ctx: AppContext): number {
  return Math.max(60_000, 2 * ctx.config.STALL_SECONDS * 1000);
}

/** The handler of the maintenance feature's job (jobs.ts). */
export const maintenanceHandlers = {
  'maintenance.run': (ctx, payload, hooks) => runMaintenance(ctx, payload, hooks),
} satisfies Pick<JobHandlers, 'maintenance.run'>;
