// GET /metrics for Prometheus. Two ways in: any API token or session with the viewer role (the
// authenticated route, documented in OpenAPI), or METRICS_TOKEN, a scraper token that opens this page
// and nothing else. The latter must be mounted before authentication (see metricsScraperAccess).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { AppContext } from '@coffre/shared';
import { collectMetrics } from '@coffre/shared/metrics';
import type { Api } from '../http/routes.js';

export function metricsRoutes(api: Api, ctx: AppContext): void {
  api.route('metrics.get', async (_input, { res }) => {
    const page = await collectMetrics(ctx);
    res.setHeader('Cache-Control', 'no-store');
    res.type(page.contentType).send(page.body);
  });
}

/**
 * Serves /metrics to a request bearing METRICS_TOKEN, before authentication runs (a scraper token is
 * not an API token, so authentication would refuse it). Any other request goes on to authentication.
 * Mount with `app.use('/metrics', metricsScraperAccess(ctx))` ahead of `authenticate`.
 */
export function metricsScraperAccess(ctx: AppContext): RequestHandler {
  const expected = ctx.config.METRICS_TOKEN ? digest(ctx.config.METRICS_TOKEN) : null;
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!expected || !match || req.method !== 'GET' || req.path !== '/' || !timingSafeEqual(digest(match[1]!), expected)) return next();
    const page = await collectMetrics(ctx);
    res.setHeader('Cache-Control', 'no-store');
    res.type(page.contentType).send(page.body);
  };
}

/** Fixed-length digests, so that the comparison takes the same time whatever the token's length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
