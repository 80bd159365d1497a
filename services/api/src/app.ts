// The Express application: exported apart from `listen` (main.ts), so that tests drive it directly.
// Order matters: security headers and logging, public routes (health, login, the UI's files), then
// authentication, then every API route, Bull Board for admins, and one error handler at the end.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import expressStaticGzip from 'express-static-gzip';
import cookieParser from 'cookie-parser';
import { pinoHttp } from 'pino-http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { queueNames, COFFRE_VERSION, tracingEnabled, type AppContext } from '@coffre/shared';
import { authenticate, requireRole } from './http/auth.js';
import { errorHandler, notFound } from './http/errors.js';
import { refuseNulCharacters } from './http/input.js';
import { auditRefusals } from './http/refusals.js';
import { Api } from './http/routes.js';
import { traceRequests } from './http/tracing.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { backupRoutes } from './routes/backups.js';
import { sourceRoutes } from './routes/sources.js';
import { historyRoutes } from './routes/history.js';
import { auditRoutes } from './routes/audit.js';
import { accountRoutes, loginLimiter, loginRoutes } from './routes/auth.js';
import { publicSsoRoutes, totpRoutes } from './routes/sso.js';
import { extraRoutes } from './routes/index.js';
import { metricsScraperAccess } from './routes/metrics.js';

export interface AppOptions {
  /** Directory of the built web UI (services/web/dist). */
  webRoot?: string;
}

export function createApp(ctx: AppContext, options: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', process.env.TRUST_PROXY ? Number(process.env.TRUST_PROXY) || process.env.TRUST_PROXY : false);
  app.set('query parser', 'simple');
  // First, so that the span covers the whole request; only in a process that exports traces.
  if (tracingEnabled()) app.use(traceRequests());

  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/api/health/live' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(refuseNulCharacters);
  app.use(cookieParser());

  const router = express.Router();
  app.use(router);

  const registry = Api.registry();
  healthRoutes(new Api(router, registry), ctx);
  const login = { secureCookies: ctx.config.COOKIE_SECURE, limiter: loginLimiter() };
  loginRoutes(router, ctx, login);
  publicSsoRoutes(new Api(router, registry), router, ctx, login);

  // The web UI's files are public (the login page must load); everything it shows comes from the API.
  const webRoot = options.webRoot ?? defaultWebRoot();
  if (webRoot && existsSync(join(webRoot, 'index.html'))) {
    // Source maps are the UI's source code: for signed-in people (the browser sends the session cookie), not for anyone.
    app.get(/\.map$/i, authenticate(ctx));
    // Only for the UI's own paths: a stat() of every API request's path in the web root was a
    // thread-pool round trip on each call of the API (found profiling GET /api/backups under load).
    const files = webFiles(webRoot);
    app.use((req, res, next) => (/^\/(api|admin|metrics)(\/|$)/.test(req.path) ? next() : files(req, res, next)));
    app.get(/^\/(?!api\/|admin\/|metrics).*/, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(webRoot, 'index.html'));
    });
  }

  // Bull Board: admins only, behind the same authentication.
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: queueNames.map((name) => new BullMQAdapter(ctx.queues.queue(name), { readOnlyMode: false, allowRetries: true })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'coffre queues' } },
  });
  // A browser with no session (a bookmark, the link after logging out, the API documentation pnpm
  // start prints) is sent to the login page, not shown a JSON 401.
  const toLogin: express.RequestHandler = (req, res, next) =>
    !req.headers.authorization && !req.cookies?.coffre_session && req.method === 'GET' && req.accepts(['json', 'html']) === 'html' ? res.redirect(302, '/login') : next();
  app.use('/admin/queues', toLogin);
  app.get('/api/docs', toLogin);
  app.use('/admin/queues', authenticate(ctx, { sameOriginIsEnough: true }), requireRole('admin'), board.getRouter());

  // Everything else under /api needs a token or a session.
  const secured = express.Router();
  // A METRICS_TOKEN opens /metrics and nothing else.
  app.use('/metrics', metricsScraperAccess(ctx));
  app.use(['/api', '/metrics'], authenticate(ctx));
  app.use(secured);
  const api = new Api(secured, registry);
  for (const register of [backupRoutes, sourceRoutes, historyRoutes, auditRoutes, accountRoutes, totpRoutes, ...extraRoutes]) register(api, ctx);
  docsRoutes(api, () => api.document(COFFRE_VERSION));

  app.use(notFound);
  app.use(auditRefusals(ctx));
  app.use(errorHandler);
  return app;
}

/**
 * The UI's files: brotli or gzip copies written by the build when the browser accepts them (the
 * build names them <file>.br and <file>.gz), hashed files (assets/*-<hash>.js) cached for a year
 * as immutable (their name changes with their content), others revalidated.
 */
function webFiles(webRoot: string) {
  return expressStaticGzip(webRoot, {
    enableBrotli: true,
    orderPreference: ['br', 'gzip'],
    index: false,
    serveStatic: {
      index: false,
      setHeaders: (res, path) => {
        const hashed = /[/\\]assets[/\\][^/\\]+-[\w-]{8}\.(js|css)$/.test(path.replace(/\.(br|gz)$/, ''));
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : path.endsWith('.html') ? 'no-cache' : 'public, max-age=3600');
      },
    },
  });
}

function defaultWebRoot(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidate = resolve(here, '../../web/dist');
  return existsSync(candidate) ? candidate : undefined;
}
