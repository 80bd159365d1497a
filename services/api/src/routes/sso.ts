// Single sign-on (OpenID Connect) and the second step of a password login with TOTP: public, mounted
// before authentication. The account's own TOTP routes and the admin's reset are mounted after it.
import type { Request, RequestHandler, Router } from 'express';
import {
  AppError,
  OidcClient,
  OidcRefusal,
  UnauthorizedError,
  UnavailableError,
  checkSecondFactor,
  completeOidcLogin,
  confirmTotpEnrolment,
  disableTotp,
  oidcSettings,
  openLoginChallenge,
  recordAudit,
  resetUserTotp,
  startOidcLogin,
  startTotpEnrolment,
  totpStatus,
  OIDC_PENDING_MS,
  type AppContext,
} from '@coffre/shared';
import type { Api } from '../http/routes.js';
import { openSession } from './auth.js';

/** Holds the sealed state, nonce and PKCE verifier between the start of a login and its callback. */
const OIDC_COOKIE = 'coffre_oidc';
const OIDC_COOKIE_PATH = '/api/auth/oidc';

export function publicSsoRoutes(api: Api, router: Router, ctx: AppContext, options: { secureCookies: boolean; limiter: RequestHandler }): void {
  const settings = oidcSettings(ctx.config);
  const client = settings ? new OidcClient(settings) : null;
  const from = (req: Request) => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });

  api.route('auth.providers', () => ({ oidc: settings ? { name: settings.providerName } : null }));

  api.route('auth.oidc.start', async (_input, { res }) => {
    if (!client) throw notConfigured();
    let started: Awaited<ReturnType<typeof startOidcLogin>>;
    try {
      started = await startOidcLogin(client, ctx.secrets);
    } catch (error) {
      // A browser followed a link: it gets the login page with the sentence, not a JSON error.
      if (!(error instanceof UnavailableError)) throw error;
      res.redirect(302, `/login?error=${encodeURIComponent(error.message)}`);
      return;
    }
    const { url, pending } = started;
    // Lax, not Strict: the provider's redirect back is a navigation from another site.
    res.cookie(OIDC_COOKIE, pending, { httpOnly: true, sameSite: 'lax', secure: options.secureCookies, path: OIDC_COOKIE_PATH, maxAge: OIDC_PENDING_MS });
    res.set('Cache-Control', 'no-store');
    res.redirect(302, url);
  });

  api.route('auth.oidc.callback', async (_input, { req, res }) => {
    if (!client) throw notConfigured();
    res.clearCookie(OIDC_COOKIE, { path: OIDC_COOKIE_PATH });
    res.set('Cache-Control', 'no-store');
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    try {
      const login = await completeOidcLogin(ctx, client, query, req.cookies?.[OIDC_COOKIE] as string | undefined);
      const { actor } = await openSession(res, ctx, { origin: { userId: login.userId }, role: login.role, actorName: login.username }, from(req), options.secureCookies);
      await recordAudit(ctx.db, actor, {
        action: 'auth.login',
        targetType: 'user',
        targetId: login.userId,
        summary: { after: { method: 'oidc', role: login.role, created: login.created }, ...(login.previousRole ? { before: { role: login.previousRole } } : {}) },
      });
      res.redirect(302, '/');
    } catch (error) {
      if (error instanceof UnavailableError) return res.redirect(302, `/login?error=${encodeURIComponent(error.message)}`);
      if (!(error instanceof OidcRefusal)) throw error;
      await recordAudit(ctx.db, { type: 'user', id: null, name: error.claimed, role: 'viewer', ...from(req) }, { action: 'auth.login', outcome: 'failure', summary: { after: { method: 'oidc', reason: error.message } } });
      res.redirect(302, `/login?error=${encodeURIComponent(error.message)}`);
    }
  });

  // The code step shares the password step's limit: wrong codes count as failed logins of the address.
  router.post('/api/auth/login/totp', options.limiter);
  // And each user's: five wrong codes in 15 minutes lock that user's code step, whichever address they come from.
  const wrongCodes = new Map<string, number[]>();
  api.route('auth.login.totp', async ({ body }, { req, res }) => {
    const userId = openLoginChallenge(ctx.secrets, body.challenge);
    const recent = (wrongCodes.get(userId) ?? []).filter((at) => Date.now() - at < 15 * 60_000);
    const user = await ctx.db.user.findUnique({ where: { id: userId } });
    const ok = recent.length < 5 && user && !user.disabledAt && (await checkSecondFactor(ctx, userId, 'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode }));
    const method = 'code' in body ? 'totp' : 'recovery code';
    if (!ok || !user) {
      wrongCodes.set(userId, [...recent, Date.now()]);
      await recordAudit(ctx.db, { type: 'user', id: userId, name: user?.username ?? 'unknown', role: user?.role ?? 'viewer', ...from(req) }, { action: 'auth.login', outcome: 'failure', summary: { after: { method } } });
      if (recent.length >= 5) {
        res.status(429).json({ error: { code: 'too_many_attempts', message: 'Too many wrong codes for this user: wait 15 minutes and try again.' } });
        return;
      }
      throw new UnauthorizedError('The code is wrong or was already used: type the code the authenticator shows now, or a recovery code.');
    }
    wrongCodes.delete(userId);
    const { actor, answer } = await openSession(res, ctx, { origin: { userId }, role: user.role, actorName: user.username }, from(req), options.secureCookies);
    await recordAudit(ctx.db, actor, { action: 'auth.login', summary: { after: { method } } });
    return answer;
  });
}

export function totpRoutes(api: Api, ctx: AppContext): void {
  api.route('totp.status', (_input, { actor }) => totpStatus(ctx.db, actor));
  api.route('totp.enrol', async (_input, { res, actor }) => {
    res.set('Cache-Control', 'no-store');
    return startTotpEnrolment(ctx, actor);
  });
  api.route('totp.confirm', async ({ body }, { res, actor }) => {
    res.set('Cache-Control', 'no-store');
    return confirmTotpEnrolment(ctx, actor, body.code);
  });
  api.route('totp.disable', ({ body }, { actor }) => disableTotp(ctx, actor, 'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode }));
  api.route('users.totp.reset', ({ params }, { actor }) => resetUserTotp(ctx, params.id, actor));
}

function notConfigured(): AppError {
  return new AppError(404, 'not_found', 'Single sign-on is not configured here (OIDC_ISSUER is not set): log in with a password or a token.');
}
