// Sessions of the web UI: an httpOnly cookie holds the session token; changes also need the CSRF
// token (sent in a header), which a page of another site cannot read. A session lives no longer than
// what opened it: a session opened with an API token ends when the token is revoked or expires, one
// opened with a password ends when its user is deleted or disabled. Its role is read from the user or
// token at every request, never remembered.
import { randomBytes } from 'node:crypto';
import type { SessionView } from '@coffre/contract';
import type { Db, Role } from '../../infra/db.js';
import { NotFoundError } from '../../infra/errors.js';
import { hashToken } from './auth.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { requireUuid } from '../../infra/validation.js';

export const SESSION_HOURS = 12;
const LAST_SEEN_EVERY_MS = 60_000;

/** What opened the session: a user's password, or an API token. */
export type SessionOrigin = { userId: string; tokenId?: never } | { tokenId: string; userId?: never };

export interface NewSession {
  role: Role;
  actorName: string;
  ip?: string | null;
  userAgent?: string | null;
}

export async function createSession(db: Db, origin: SessionOrigin, who: NewSession) {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  let expiresAt = new Date(Date.now() + SESSION_HOURS * 3600_000);
  if (origin.tokenId) {
    // A token that expires sooner takes its sessions with it.
    const row = await db.apiToken.findUnique({ where: { id: origin.tokenId }, select: { expiresAt: true } });
    if (row?.expiresAt && row.expiresAt < expiresAt) expiresAt = row.expiresAt;
  }
  const session = await db.session.create({
    data: {
      tokenHash: hashToken(token),
      csrfHash: hashToken(csrf),
      userId: origin.userId ?? null,
      tokenId: origin.tokenId ?? null,
      role: who.role,
      actorName: who.actorName,
      ip: who.ip ?? null,
      userAgent: who.userAgent?.slice(0, 300) ?? null,
      expiresAt,
    },
  });
  return { token, csrf, session };
}

export interface AuthenticatedSession {
  actor: Actor;
  csrfHash: string;
  sessionId: string;
}

/** The session of a cookie, when it is still valid: not expired, and what opened it still valid too. */
export async function authenticateSession(db: Db, token: string): Promise<AuthenticatedSession | null> {
  if (!token || token.length > 200) return null;
  const session = await db.session.findUnique({ where: { tokenHash: hashToken(token) }, include: { user: true, token: { include: { user: true } } } });
  if (!session || session.expiresAt < new Date()) return null;
  let actor: Actor;
  if (session.userId) {
    if (!session.user || session.user.disabledAt) return null;
    actor = { type: 'user', id: session.userId, name: session.actorName, role: session.user.role };
  } else if (session.tokenId) {
    const t = session.token;
    if (!t || t.revokedAt || (t.expiresAt && t.expiresAt < new Date()) || t.user?.disabledAt) return null;
    actor = { type: 'token', id: session.tokenId, name: session.actorName, role: t.role };
  } else {
    return null;
  }
  if (Date.now() - session.lastSeenAt.getTime() > LAST_SEEN_EVERY_MS) {
    void db.session.update({ where: { id: session.id }, data: { lastSeenAt: new Date() } }).catch(() => {});
  }
  return { actor, csrfHash: session.csrfHash, sessionId: session.id };
}

export async function endSession(db: Db, token: string): Promise<void> {
  await db.session.deleteMany({ where: { tokenHash: hashToken(token) } });
}

/** The caller's own sessions (a user's, or those opened with the calling token); every one for `all`. */
export async function listSessions(db: Db, actor: Actor, options: { all?: boolean; currentId?: string | null } = {}): Promise<SessionView[]> {
  const rows = await db.session.findMany({
    where: { expiresAt: { gt: new Date() }, ...(options.all ? {} : ownedBy(actor)) },
    orderBy: { createdAt: 'desc' },
    take: 500,
  });
  return rows.map((row) => ({
    id: row.id,
    current: row.id === options.currentId,
    actorName: row.actorName,
    role: row.role,
    openedWith: row.tokenId ? ('token' as const) : ('password' as const),
    ip: row.ip,
    userAgent: row.userAgent,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  }));
}

/** Ends one session: the caller's own, or anyone's for an admin. Another's session is a 404 to others. */
export async function endSessionById(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const session = await ctx.db.session.findFirst({ where: { id: requireUuid(id, 'Session'), ...(actor.role === 'admin' ? {} : ownedBy(actor)) } });
  if (!session) throw new NotFoundError(`Session ${id}`);
  await ctx.db.session.delete({ where: { id: session.id } });
  await recordAudit(ctx.db, actor, { action: 'session.end', targetType: 'session', targetId: session.id, summary: { before: { actorName: session.actorName, role: session.role } } });
}

function ownedBy(actor: Actor) {
  if (actor.type === 'user' && actor.id) return { userId: actor.id };
  if (actor.type === 'token' && actor.id) return { tokenId: actor.id };
  // Nothing is owned by coffre itself.
  return { id: { in: [] as string[] } };
}
