// The maintenance run (MAINTENANCE_CRON, hourly by default, and on demand): retention, then
// reconciliation of rows, queue and storage.
import type { AppContext } from '../../infra/context.js';
import type { RunHooks } from '../../runs/life-cycle.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { applyRetention, type RetentionReport } from './retention.js';
import { dropExpiredRestoreCopies, type DroppedCopies } from '../restores/undo.js';
import { notifyMaintenanceFindings } from '../notifications/notifications.js';
import type { JobHandlers } from '../catalog.js';

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
