// One handler per job of the catalog; each is a thin call into the application functions.
import {
  deliverNotification,
  runBackupJob,
  runMaintenance,
  runRestoreJob,
  runScheduledConfiguration,
  runVerificationJob,
  systemActor,
  verifyNewestBackup,
} from '@coffre/shared';
import type { Handlers } from './workers.js';

export const handlers: Handlers = {
  'backup.run': (ctx, payload: { backupId: string }, hooks) => runBackupJob(ctx, payload.backupId, hooks),
  'configuration.scheduled': async (ctx, payload: { configurationId: string }, _hooks, job) => {
    // prevMillis: when the scheduler meant this firing to run (a late one means missed firings).
    const at = job.opts.prevMillis ? new Date(job.opts.prevMillis) : null;
    await runScheduledConfiguration(ctx, payload.configurationId, { id: String(job.id), at });
  },
  'restore.run': (ctx, payload: { restoreId: string }, hooks) => runRestoreJob(ctx, payload.restoreId, hooks),
  'verification.run': (ctx, payload: { verificationId: string }, hooks) => runVerificationJob(ctx, payload.verificationId, hooks),
  'configuration.verify': async (ctx, payload: { configurationId: string }) => {
    await verifyNewestBackup(ctx, payload.configurationId, { ...systemActor, name: 'scheduler' });
  },
  'maintenance.run': (ctx, payload: { fixMissing?: boolean }, hooks) => runMaintenance(ctx, payload, hooks),
  'notification.deliver': (ctx, payload: { deliveryId: string }, hooks) => deliverNotification(ctx, payload.deliveryId, hooks),
};
