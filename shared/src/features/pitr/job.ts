// The handlers of the point-in-time recovery feature's jobs (jobs.ts).
import type { JobHandlers } from '../catalog.js';
import { runPitrRestoreJob } from './restore.js';
import { runWalStream } from './stream.js';

export const pitrHandlers = {
  'pitr.stream': (ctx, payload, hooks) => runWalStream(ctx, payload.sourceId, hooks),
  'pitr.restore': (ctx, payload, hooks) => runPitrRestoreJob(ctx, payload.restoreId, hooks),
} satisfies Pick<JobHandlers, 'pitr.stream' | 'pitr.restore'>;
