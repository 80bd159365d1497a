// GET /api/health answers anyone with a cached status only; with a token (or the UI's session) it
// adds what was checked — database, Redis, storage, pg_dump — and the workers alive, computed at most
// every 30 s. GET /api/health/live says the process answers.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { COFFRE_VERSION, healthReport, healthStatus, type AppContext } from '@coffre/shared';
import { authenticate, SESSION_COOKIE } from '../http/auth.js';
import type { Api } from '../http/routes.js';

const check = z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number().optional() });
export const workerSchema = z.object({
  workerId: z.string(),
  process: z.string(),
  host: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  queues: z.array(z.string()),
  beatAt: z.string(),
});
const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string().optional().describe('with a token only'),
    checkedAt: z.string().optional().describe('with a token only: when the checks ran (they are reused for 30 s)'),
    checks: z.record(z.string(), check).optional().describe('with a token only'),
    workers: z.object({ alive: z.number(), items: z.array(workerSchema) }).optional().describe('with a token only: workers whose heartbeat is current'),
  })
  .meta({ id: 'Health' });

export function healthRoutes(api: Api, ctx: AppContext): void {
  const identify = authenticate(ctx);
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
    summary: 'Readiness (503 when degraded). Anonymous: a cached status only; with a token: the checks and the workers alive',
    tag: 'health',
    access: 'public',
    responses: { 200: { description: 'Ready.', schema: healthSchema }, 503: { description: 'Degraded.', schema: healthSchema } },
    handler: async (req, res) => {
      if (!(await signedIn(req, res))) {
        const status = await healthStatus(ctx);
        res.status(status === 'ok' ? 200 : 503).json({ status });
        return;
      }
      const report = await healthReport(ctx);
      res.status(report.status === 'ok' ? 200 : 503).json({ status: report.status, version: COFFRE_VERSION, checkedAt: report.checkedAt, checks: report.checks, workers: report.workers });
    },
  });

  /** Whether the caller sent credentials, checked as on every other route (a wrong token is a 401). */
  async function signedIn(req: Request, res: Response): Promise<boolean> {
    if (!req.get('authorization') && !req.cookies?.[SESSION_COOKIE]) return false;
    await new Promise<void>((resolve, reject) => {
      Promise.resolve(identify(req, res, (error?: unknown) => (error ? reject(error) : resolve()))).catch(reject);
    });
    return true;
  }
}
