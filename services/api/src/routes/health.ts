// GET /api/health answers anyone with a cached status only; with a token (or the UI's session) it
// adds what was checked — database, Redis, storage, pg_dump — and the workers alive, computed at most
// every 30 s. GET /api/health/live says the process answers.
import type { Request, Response } from 'express';
import { COFFRE_VERSION, healthReport, healthStatus, type AppContext } from '@coffre/shared';
import { authenticate, SESSION_COOKIE } from '../http/auth.js';
import type { Api } from '../http/routes.js';

export function healthRoutes(api: Api, ctx: AppContext): void {
  const identify = authenticate(ctx);
  api.route('health.live', () => ({ status: 'ok' as const }));
  api.route('health.get', async (_input, { req, res }) => {
    if (!(await signedIn(req, res))) {
      const status = await healthStatus(ctx);
      res.status(status === 'ok' ? 200 : 503).json({ status });
      return;
    }
    const report = await healthReport(ctx);
    res.status(report.status === 'ok' ? 200 : 503).json({ status: report.status, version: COFFRE_VERSION, checkedAt: report.checkedAt, checks: report.checks, workers: report.workers });
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
