// Who is calling: a bearer token, or the web UI's session cookie (with its CSRF token on every
// state change). Every route but /api/health needs one; roles are checked per route.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import {
  ForbiddenError,
  UnauthorizedError,
  authenticateSession,
  authenticateToken,
  roleAllows,
  type Actor,
  type AppContext,
  type AuthenticatedSession,
} from '@coffre/shared';

export const SESSION_COOKIE = 'coffre_session';
export const CSRF_COOKIE = 'coffre_csrf';
export const CSRF_HEADER = 'x-csrf-token';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      actor?: Actor;
      /** The web UI session the request came with, if any. */
      sessionId?: string;
    }
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authenticate(ctx: AppContext, options: { sameOriginIsEnough?: boolean } = {}): RequestHandler {
  return async (req, _res, next) => {
    const { actor, session } = await identify(ctx, req);
    req.actor = actor;
    if (!session) return next();
    // Known before the CSRF check, so that a refused change is recorded under the session's actor.
    req.sessionId = session.sessionId;
    if (!SAFE_METHODS.has(req.method) && !csrfOk(req, session.csrfHash, options.sameOriginIsEnough ?? false)) throw new CsrfRefusedError();
    next();
  };
}

/**
 * Who sent the request: its bearer token, or else its session cookie; an UnauthorizedError when
 * neither is (still) valid. The check of every request, and of a live stream while it stays open.
 */
export async function identify(ctx: AppContext, req: Request): Promise<{ actor: Actor; session?: AuthenticatedSession }> {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const actor = match ? await authenticateToken(ctx.db, match[1]!) : null;
    if (!actor) throw new UnauthorizedError('The bearer token is invalid, expired or revoked.');
    return { actor: withOrigin(actor, req) };
  }
  const cookie = req.cookies?.[SESSION_COOKIE] as string | undefined;
  if (!cookie) throw new UnauthorizedError();
  const session = await authenticateSession(ctx.db, cookie);
  if (!session) throw new UnauthorizedError('Your session has expired: log in again.');
  return { actor: withOrigin(session.actor, req), session };
}

/** A change sent with a session cookie but without the session's CSRF token. */
export class CsrfRefusedError extends ForbiddenError {
  constructor() {
    super('The CSRF token is missing or wrong: reload the page and try again.');
  }
}

export function csrfOk(req: Request, csrfHash: string, sameOriginIsEnough = false): boolean {
  const sent = req.get(CSRF_HEADER);
  if (sent) {
    const a = Buffer.from(createHash('sha256').update(sent).digest('hex'));
    const b = Buffer.from(csrfHash);
    return a.length === b.length && timingSafeEqual(a, b);
  }
  // Bull Board's own page cannot send our header: there, a same-origin request is required instead.
  return sameOriginIsEnough && req.get('sec-fetch-site') === 'same-origin';
}

export function withOrigin(actor: Actor, req: Request): Actor {
  return { ...actor, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

export function requireRole(role: 'viewer' | 'operator' | 'admin'): RequestHandler {
  return (req, _res, next) => {
    if (!req.actor) throw new UnauthorizedError();
    if (!roleAllows(req.actor.role, role)) {
      throw new ForbiddenError(`This action needs the ${role} role; you are ${req.actor.role === 'admin' ? 'an' : 'a'} ${req.actor.role}.`);
    }
    next();
  };
}

export function actorOf(req: Request): Actor {
  if (!req.actor) throw new UnauthorizedError();
  return req.actor;
}
