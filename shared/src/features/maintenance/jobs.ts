// The maintenance feature's job, fired by the maintenance scheduler (MAINTENANCE_CRON). Its handler
// is maintenanceHandlers in maintenance.ts.
import { z } from 'zod';
import { defineJob, keepFirings } from '../../infra/jobs/definition.js';

export const maintenanceJobs = {
  /** Retention, reconciliation, overdue and disk checks. */
  'maintenance.run': defineJob({
    queue: 'maintenance',
    payload: z.object({ fixMissing: z.boolean().optional() }).strict(),
    attempts: 1,
    backoffMs: 0,
    keep: keepFirings,
  }),
};
