// The restores feature's job. Its handler is restoreHandlers in job.ts.
import { z } from 'zod';
import { defineJob, rowId } from '../../infra/jobs/definition.js';

export const restoreJobs = {
  /** Restores a Restore row's backup into its target, after a safety backup of the target. */
  'restore.run': defineJob({
    queue: 'restore',
    payload: z.object({ restoreId: rowId }).strict(),
    // A restore is not retried on its own: the operator decides after reading the error.
    attempts: 1,
    backoffMs: 0,
    jobId: (p) => `restore-${p.restoreId}`,
    run: (p) => ({ model: 'restore', id: p.restoreId }),
  }),
};
