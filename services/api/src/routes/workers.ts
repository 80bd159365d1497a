// GET /api/workers: the workers alive, from their heartbeats, for the dashboard and scripts.
import { UnavailableError, liveWorkers, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function workerRoutes(api: Api, ctx: AppContext): void {
  api.route('workers.list', async () => {
    const items = await liveWorkers(ctx).catch((error: Error) => {
      throw new UnavailableError(`The job queue (Redis) is unavailable, so the workers cannot be listed: ${error.message}`);
    });
    return { items };
  });
}
