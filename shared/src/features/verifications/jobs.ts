// The verifications feature's job. Its handler is verificationHandlers in job.ts.
import { z } from 'zod';
import { defineJob, rowId } from '../../infra/jobs/definition.js';

export const verificationJobs = {
  /** A test restore of a backup into a scratch database (or a bucket's scratch folder). */
  'verification.run': defineJob({
    queue: 'restore',
    payload: z.object({ verificationId: rowId }).strict(),
    attempts: 2,
    backoffMs: 30_000,
    jobId: (p) => `verification-${p.verificationId}`,
    run: (p) => ({ model: 'verification', id: p.verificationId }),
  }),
};
