// The notifications feature's job. Its handler is notificationHandlers in notifications.ts.
import { z } from 'zod';
import { defineJob, rowId } from '../../infra/jobs/definition.js';

export const notificationJobs = {
  /** Delivers one notification to one channel. */
  'notification.deliver': defineJob({
    queue: 'notifications',
    payload: z.object({ deliveryId: rowId }).strict(),
    attempts: 6,
    backoffMs: 2_000,
    jobId: (p) => `delivery-${p.deliveryId}`,
  }),
};
