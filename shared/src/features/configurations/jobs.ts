// The configurations feature's jobs, fired by its job schedulers (schedulers.ts): a scheduled backup,
// and a scheduled verification of the newest backup. Their handlers are configurationHandlers in
// firings.ts.
import { z } from 'zod';
import { defineJob, keepFirings, rowId } from '../../infra/jobs/definition.js';

export const configurationJobs = {
  /** Fired by a configuration's job scheduler: creates a Backup row (trigger `schedule`) and queues it. */
  'configuration.scheduled': defineJob({
    queue: 'backup',
    payload: z.object({ configurationId: rowId }).strict(),
    attempts: 3,
    backoffMs: 5_000,
    keep: keepFirings,
  }),
  /** Fired by a configuration's verify schedule: verifies its newest completed backup. */
  'configuration.verify': defineJob({
    queue: 'restore',
    payload: z.object({ configurationId: rowId }).strict(),
    attempts: 1,
    backoffMs: 0,
    keep: keepFirings,
  }),
};
