import { z } from 'zod';
import { checkHealth, COFFRE_VERSION, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

const check = z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number().optional() });
const healthSchema = z
  .object({ status: z.enum(['ok', 'degraded']), version: z.string(), checks: z.record(z.string(), check) })
  .meta({ id: 'Health' });

export function healthRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/health/live',
    summary: 'Liveness: the process answers',
    tag: 'health',
    access: 'public',
    responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
    handler: (_req, res) => {
      res.json({ status: 'ok' });
    },
  });
  api.route({
    method: 'get',
    path: '/api/health',
    summary: 'Readiness: database, Redis, storage writable, pg_dump present (503 when degraded)',
    tag: 'health',
    access: 'public',
    responses: { 200: { description: 'Ready.', schema: healthSchema }, 503: { description: 'Degraded.', schema: healthSchema } },
    handler: async (_req, res) => {
      const report = await checkHealth(ctx);
      res.status(report.status === 'ok' ? 200 : 503).json({ ...report, version: COFFRE_VERSION });
    },
  });
}
