// Users and API tokens (UI sessions are in sessions.ts). Tokens are random, shown once, stored as SHA-256; passwords
// are hashed with scrypt. Roles: admin (everything), operator (run backups, read), viewer (read).
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { TokenRequest, TokenView, UserRequest, UserUpdate } from '@coffre/contract';
import type { Db, Role } from '../../infra/db.js';
import { ConflictError, isUniqueViolation, NotFoundError, ValidationError } from '../../infra/errors.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { recordAudit } from '../audit/audit.js';
import { requireUuid } from '../../infra/validation.js';
import { createTtlCache, type TtlCache } from '../../infra/ttl-cache.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAllows(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return `cof_${randomBytes(24).toString('base64url')}`;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// A token's lookup is remembered for a few seconds: under load, one query per token instead of one per
// request. A revoked token therefore stops working within TOKEN_CACHE_MS.
export const TOKEN_CACHE_MS = 5000;
const tokenCaches = new WeakMap<Db, TtlCache<Actor | null>>();

/** Resolves a bearer token to who it is, or null. */
export async function authenticateToken(db: Db, token: string): Promise<Actor | null> {
  if (!token || token.length > 200) return null;
  if (!tokenCaches.has(db)) tokenCaches.set(db, createTtlCache<Actor | null>(TOKEN_CACHE_MS, { maxEntries: 10_000 }));
  return tokenCaches.get(db)!.get(hashToken(token), () => lookUpToken(db, token));
}

/** The same answer read from the database now, never remembered: for what outlives the request (a session). */
export async function authenticateTokenNow(db: Db, token: string): Promise<Actor | null> {
  if (!token || token.length > 200) return null;
  return lookUpToken(db, token);
}

/** Forgets every remembered token lookup (after a revocation, so that it applies at once here). */
export function forgetTokenLookups(db: Db): void {
  tokenCaches.get(db)?.clear();
}

async function lookUpToken(db: Db, token: string): Promise<Actor | null> {
  const row = await db.apiToken.findUnique({ where: { tokenHash: hashToken(token) }, include: { user: true } });
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt < new Date()) || row.user?.disabledAt) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    void db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  }
  return { type: 'token', id: row.id, name: row.user ? `${row.user.username} (${row.name})` : `token ${row.name}`, role: row.role };
}

/**
 * At first start: when no admin exists, creates an admin token — with ADMIN_TOKEN's value when set,
 * otherwise a new one that is returned so that `main` prints it once.
 */
export async function bootstrapAdmin(ctx: AppContext): Promise<{ token: string | null; created: boolean }> {
  const configured = ctx.config.ADMIN_TOKEN;
  if (configured) {
    const existing = await ctx.db.apiToken.findUnique({ where: { tokenHash: hashToken(configured) } });
    if (existing) return { token: null, created: false };
  }
  const admins = (await ctx.db.user.count({ where: { role: 'admin', disabledAt: null } })) + (await ctx.db.apiToken.count({ where: { role: 'admin', revokedAt: null } }));
  if (admins > 0 && !configured) return { token: null, created: false };
  if (admins > 0 && configured) {
    // An admin exists already: ADMIN_TOKEN only bootstraps; it does not add tokens to a running installation.
    ctx.logger.warn('ADMIN_TOKEN is set but an admin already exists: it was not added (create tokens through the API)');
    return { token: null, created: false };
  }
  const token = configured ?? newToken();
  try {
    await ctx.db.apiToken.create({ data: { name: 'bootstrap admin', role: 'admin', tokenHash: hashToken(token), prefix: token.slice(0, 8) } });
  } catch (error) {
    // Several API instances starting together with the same ADMIN_TOKEN: one of them stored it.
    if (isUniqueViolation(error)) return { token: null, created: false };
    throw error;
  }
  return { token: configured ? null : token, created: true };
}

export async function createApiToken(ctx: AppContext, request: TokenRequest, actor: Actor) {
  const token = newToken();
  const row = await ctx.db.apiToken.create({
    data: {
      name: request.name,
      role: request.role,
      tokenHash: hashToken(token),
      prefix: token.slice(0, 8),
      expiresAt: request.expiresInDays ? new Date(Date.now() + request.expiresInDays * 86_400_000) : null,
    },
  });
  await recordAudit(ctx.db, actor, { action: 'token.create', targetType: 'token', targetId: row.id, summary: { after: { name: row.name, role: row.role, prefix: row.prefix } } });
  return { token, view: tokenToApi(row) };
}

export function tokenToApi(row: { id: string; name: string; role: Role; prefix: string; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date | null; revokedAt: Date | null }): TokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export async function revokeApiToken(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const row = await ctx.db.apiToken.findUnique({ where: { id: requireUuid(id, 'Token') } });
  if (!row) throw new NotFoundError(`Token ${id}`);
  await ctx.db.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  // The web UI sessions opened with it end with it.
  await ctx.db.session.deleteMany({ where: { tokenId: id } });
  forgetTokenLookups(ctx.db);
  await recordAudit(ctx.db, actor, { action: 'token.revoke', targetType: 'token', targetId: id, summary: { before: { name: row.name, role: row.role, prefix: row.prefix } } });
}

export async function createUser(ctx: AppContext, request: UserRequest, actor: Actor) {
  if (await ctx.db.user.findUnique({ where: { username: request.username } })) throw new ConflictError(`User "${request.username}" already exists.`);
  const user = await ctx.db.user.create({
    data: { username: request.username, role: request.role, passwordHash: await hashPassword(request.password) },
  });
  await recordAudit(ctx.db, actor, { action: 'user.create', targetType: 'user', targetId: user.id, summary: { after: { username: user.username, role: user.role } } });
  return user;
}

export async function deleteUser(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const user = await ctx.db.user.findUnique({ where: { id: requireUuid(id, 'User') } });
  if (!user) throw new NotFoundError(`User ${id}`);
  if (user.role === 'admin') await refuseLosingLastAdmin(ctx, 'This is the last admin: create another admin before deleting it.');
  // Its sessions and tokens go with it (cascade); remembered lookups of its tokens too.
  await ctx.db.user.delete({ where: { id } });
  forgetTokenLookups(ctx.db);
  await recordAudit(ctx.db, actor, { action: 'user.delete', targetType: 'user', targetId: id, summary: { before: { username: user.username, role: user.role } } });
}

/**
 * Changes a user's role or password. The last admin keeps its role; a new password ends the user's
 * open sessions (whoever knew the old one is logged out); a new role applies to them at once.
 */
export async function updateUser(ctx: AppContext, id: string, change: UserUpdate, actor: Actor) {
  const user = await ctx.db.user.findUnique({ where: { id: requireUuid(id, 'User') } });
  if (!user) throw new NotFoundError(`User ${id}`);
  if (user.role === 'admin' && change.role && change.role !== 'admin') {
    await refuseLosingLastAdmin(ctx, 'This is the last admin: make another user admin before changing its role.');
  }
  const updated = await ctx.db.user.update({
    where: { id },
    data: { ...(change.role ? { role: change.role } : {}), ...(change.password ? { passwordHash: await hashPassword(change.password) } : {}) },
  });
  if (change.password) await ctx.db.session.deleteMany({ where: { userId: id } });
  else if (change.role) await ctx.db.session.updateMany({ where: { userId: id }, data: { role: change.role } });
  await recordAudit(ctx.db, actor, {
    action: 'user.update',
    targetType: 'user',
    targetId: id,
    summary: { before: { username: user.username, role: user.role }, after: { username: updated.username, role: updated.role, ...(change.password ? { password: 'reset' } : {}) } },
  });
  return updated;
}

/** Refuses (with `sentence`) when one admin user or unattached admin token is all that is left. */
async function refuseLosingLastAdmin(ctx: AppContext, sentence: string): Promise<void> {
  const admins = await ctx.db.user.count({ where: { role: 'admin', disabledAt: null } });
  const adminTokens = await ctx.db.apiToken.count({ where: { role: 'admin', revokedAt: null, userId: null } });
  if (admins + adminTokens <= 1) throw new ValidationError(sentence);
}
