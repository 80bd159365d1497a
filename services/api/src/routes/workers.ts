// GET /api/workers: the workers alive, from their heartbeats, for the dashboard and scripts.
import { z } from 'zod';
import { UnavailableError, liveWorkers, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';
import { workerSchema } from './health.js';

export function workerRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/workers',
    summary: 'The workers alive: those whose heartbeat is current',
    tag: 'health',
    access: 'viewer',
    responses: { 200: { description: 'The workers, oldest first.', schema: z.object({ items: z.array(workerSchema) }).meta({ id: 'Workers' }) } },
    handler: async (_req, res) => {
      const items = await liveWorkers(ctx).catch((error: Error) => {
        throw new UnavailableError(`The job queue (Redis) is unavailable, so the workers cannot be listed: ${error.message}`);
      });
      res.json({ items });
    },
  });
}
