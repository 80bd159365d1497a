// Logging in to the web UI (session cookie + CSRF token), and managing API tokens and users.
import { rateLimit } from 'express-rate-limit';
import {
  UnauthorizedError,
  authenticateSession,
  authenticateTokenNow,
  createApiToken,
  createLoginChallenge,
  createSession,
  createUser,
  deleteUser,
  endSession,
  hashPassword,
  loginSchema,
  parseInput,
  recordAudit,
  revokeApiToken,
  tokenToApi,
  updateUser,
  verifyPassword,
  type Actor,
  type AppContext,
  type Role,
  type SessionOrigin,
} from '@coffre/shared';
import { CSRF_COOKIE, CsrfRefusedError, SESSION_COOKIE, csrfOk, withOrigin } from '../http/auth.js';
import type { Api } from '../http/routes.js';
import type { RequestHandler, Response, Router } from 'express';

/**
 * Failed logins only count (a wrong password, token or code: a 401), 10 per 15 minutes per address,
 * shared by the password step and the code step of a login.
 */
export function loginLimiter(): RequestHandler {
  return rateLimit({
    windowMs: 15 * 60_000,
    limit: 10,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401 && res.statusCode !== 429,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({ error: { code: 'too_many_attempts', message: 'Too many failed logins from this address: wait 15 minutes and try again.' } });
    },
  });
}

export interface LoggedIn {
  origin: SessionOrigin;
  role: Role;
  actorName: string;
}

/** Opens a web UI session: its cookies are set on the answer; returns the actor for the audit. */
export async function openSession(res: Response, ctx: AppContext, who: LoggedIn, from: { ip: string | null; userAgent: string | null }, secureCookies: boolean) {
  const { token, csrf, session } = await createSession(ctx.db, who.origin, { role: who.role, actorName: who.actorName, ...from });
  const cookie = { sameSite: 'strict' as const, secure: secureCookies, path: '/', maxAge: Math.max(0, session.expiresAt.getTime() - Date.now()) };
  res.cookie(SESSION_COOKIE, token, { ...cookie, httpOnly: true });
  res.cookie(CSRF_COOKIE, csrf, { ...cookie, httpOnly: false });
  const actor: Actor = { type: who.origin.userId ? 'user' : 'token', id: who.origin.userId ?? who.origin.tokenId ?? null, name: who.actorName, role: who.role, ...from };
  return { actor, answer: { actor: { name: actor.name, role: actor.role, type: actor.type }, csrfToken: csrf } };
}

/** Login and logout are mounted before authentication; the rest after it. */
export function loginRoutes(router: Router, ctx: AppContext, options: { secureCookies: boolean; limiter: RequestHandler }): void {
  const { limiter } = options;
  // A hash to compare against when the user does not exist, so that timing does not tell.
  const dummyHash = hashPassword('coffre-dummy-password');

  router.post('/api/auth/login', limiter, async (req, res) => {
    const input = parseInput(loginSchema, req.body ?? {});
    const from = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
    let who: LoggedIn | null = null;
    let secondFactor = false;
    if ('token' in input) {
      // Read now, not from the lookup cache: a token revoked a second ago must not open a session.
      const actor = await authenticateTokenNow(ctx.db, input.token);
      if (actor?.id) who = { origin: { tokenId: actor.id }, role: actor.role, actorName: actor.name };
    } else {
      const user = await ctx.db.user.findUnique({ where: { username: input.username } });
      const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash));
      if (user && ok && !user.disabledAt) {
        who = { origin: { userId: user.id }, role: user.role, actorName: user.username };
        secondFactor = Boolean(user.totpEnabledAt);
      }
    }
    if (!who) {
      const claimed = 'token' in input ? 'a token' : input.username;
      await recordAudit(ctx.db, { type: 'user', id: null, name: claimed, role: 'viewer', ...from }, { action: 'auth.login', outcome: 'failure' });
      throw new UnauthorizedError('token' in input ? 'The token is invalid, expired or revoked.' : 'Wrong username or password.');
    }
    if (secondFactor && who.origin.userId) {
      // The password was right; the session opens once the code is (POST /api/auth/login/totp).
      res.set('Cache-Control', 'no-store');
      res.json({ secondFactor: 'totp', challenge: createLoginChallenge(ctx.secrets, who.origin.userId) });
      return;
    }
    const { actor, answer } = await openSession(res, ctx, who, from, options.secureCookies);
    await recordAudit(ctx.db, actor, { action: 'auth.login' });
    res.json(answer);
  });

  // Logging out is a change like any other: without the session's CSRF token, another site could end it.
  router.post('/api/auth/logout', async (req, res) => {
    const token = req.cookies?.[SESSION_COOKIE] as string | undefined;
    const session = token ? await authenticateSession(ctx.db, token) : null;
    if (token && session) {
      req.actor = withOrigin(session.actor, req);
      if (!csrfOk(req, session.csrfHash)) throw new CsrfRefusedError();
      await endSession(ctx.db, token);
      await recordAudit(ctx.db, req.actor, { action: 'auth.logout' });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.clearCookie(CSRF_COOKIE, { path: '/' });
    res.status(204).end();
  });
}

export function accountRoutes(api: Api, ctx: AppContext): void {
  api.route('auth.me', (_input, { actor }) => ({ name: actor.name, role: actor.role, type: actor.type }));
  api.route('tokens.list', async () => ({ items: (await ctx.db.apiToken.findMany({ orderBy: { createdAt: 'desc' } })).map(tokenToApi) }));
  api.route('tokens.create', async ({ body }, { res, actor }) => {
    const { token, view } = await createApiToken(ctx, body, actor);
    res.set('Cache-Control', 'no-store');
    return { ...view, token };
  });
  api.route('tokens.revoke', ({ params }, { actor }) => revokeApiToken(ctx, params.id, actor));
  api.route('users.list', async () => ({ items: (await ctx.db.user.findMany({ orderBy: { username: 'asc' } })).map((u) => userToApi(u)) }));
  api.route('users.create', async ({ body }, { actor }) => {
    const { disabledAt: _d, ...view } = userToApi(await createUser(ctx, body, actor));
    return view;
  });
  api.route('users.update', async ({ params, body }, { actor }) => {
    const { disabledAt: _d, ...view } = userToApi(await updateUser(ctx, params.id, body, actor));
    return view;
  });
  api.route('users.delete', ({ params }, { actor }) => deleteUser(ctx, params.id, actor));
}

function userToApi(user: { id: string; username: string; role: Role; createdAt: Date; disabledAt: Date | null; totpEnabledAt: Date | null; passwordHash: string }) {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    disabledAt: user.disabledAt?.toISOString() ?? null,
    twoFactor: Boolean(user.totpEnabledAt),
    sso: user.passwordHash === 'oidc',
  };
}
