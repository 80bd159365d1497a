// The point-in-time recovery feature's jobs. Their handlers are pitrHandlers in job.ts.
import { z } from 'zod';
import { defineJob, rowId } from '../../infra/jobs/definition.js';

export const pitrJobs = {
  /**
   * The WAL stream of one source: it runs as long as the source streams. A worker that dies stops
   * renewing its lock and the job is taken over after the stall window; one job id per source, so
   * there is never a second one. A stream that ended (its source's PITR turned off, or failing past its
   * retries) leaves nothing in Redis, so that the next start of a worker or maintenance run queues it again.
   */
  'pitr.stream': defineJob({
    queue: 'wal',
    payload: z.object({ sourceId: rowId }).strict(),
    attempts: 6,
    backoffMs: 2000,
    jobId: (p) => `wal-stream-${p.sourceId}`,
    keep: { completed: 0, failed: 0 },
  }),
  /** Recovers a base backup up to a moment in a private instance and restores one database of it (a Restore row with targetTime). */
  'pitr.restore': defineJob({
    queue: 'restore',
    payload: z.object({ restoreId: rowId }).strict(),
    attempts: 1,
    backoffMs: 0,
    jobId: (p) => `pitr-restore-${p.restoreId}`,
    run: (p) => ({ model: 'restore', id: p.restoreId }),
  }),
};
