// The backups feature's job: its name, queue, payload and retries (the catalog entry). Its handler
// is backupHandlers in job.ts; the transitions it makes are those of runs/transitions.ts.
import { z } from 'zod';
import { defineJob, rowId } from '../../infra/jobs/definition.js';

export const backupJobs = {
  /** Takes the backup of a Backup row (pending → running → completed | failed). */
  'backup.run': defineJob({
    queue: 'backup',
    payload: z.object({ backupId: rowId }).strict(),
    attempts: 3,
    backoffMs: 15_000,
    jobId: (p) => `backup-${p.backupId}`,
    run: (p) => ({ model: 'backup', id: p.backupId }),
  }),
};
