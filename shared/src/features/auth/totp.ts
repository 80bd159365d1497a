// The optional second factor of password users: TOTP (otplib), with ten single-use recovery codes.
// The secret is sealed with SECRET_KEY (it must be read back to check codes); recovery codes are
// stored as SHA-256 and shown once. A code is never accepted twice (the last accepted time step is
// kept). Between the password and the code, the browser holds a sealed challenge that names the user
// and expires after five minutes.
import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import type { TotpStatus } from '@coffre/contract';
import type { Db } from '../../infra/db.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../../infra/errors.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { requireUuid } from '../../infra/validation.js';
import { recordAudit } from '../audit/audit.js';
import { hashToken } from './auth.js';

export const RECOVERY_CODES = 10;
export const CHALLENGE_MS = 5 * 60_000;
/** Codes of the step before and after the current one pass too (clocks drift, people type slowly). */
const TOLERANCE_SECONDS = 30;

export async function totpStatus(db: Db, actor: Actor): Promise<TotpStatus> {
  const user = actor.type === 'user' && actor.id ? await db.user.findUnique({ where: { id: actor.id } }) : null;
  if (!user || user.passwordHash === 'oidc') return { available: false, enabled: false, pending: false, recoveryCodesLeft: 0 };
  const left = await db.recoveryCode.count({ where: { userId: user.id, usedAt: null } });
  return { available: true, enabled: Boolean(user.totpEnabledAt), pending: Boolean(user.totpSecret && !user.totpEnabledAt), recoveryCodesLeft: user.totpEnabledAt ? left : 0 };
}

/** Starts (or restarts) an enrolment: a new secret, in force once a code from it is confirmed. */
export async function startTotpEnrolment(ctx: AppContext, actor: Actor): Promise<{ secret: string; uri: string }> {
  const user = await passwordUser(ctx.db, actor);
  if (user.totpEnabledAt) throw new ConflictError('Two-factor authentication is already on: disable it first to enrol a new authenticator.');
  const secret = generateSecret();
  await ctx.db.user.update({ where: { id: user.id }, data: { totpSecret: ctx.secrets.seal(secret), totpLastStep: null } });
  await recordAudit(ctx.db, actor, { action: 'auth.totp.enrol', targetType: 'user', targetId: user.id });
  return { secret, uri: generateURI({ issuer: 'coffre', label: user.username, secret }) };
}

/** Confirms the enrolment with a code of the new secret: the second factor is on, and the recovery codes are shown once. */
export async function confirmTotpEnrolment(ctx: AppContext, actor: Actor, code: string): Promise<{ recoveryCodes: string[] }> {
  const user = await passwordUser(ctx.db, actor);
  if (user.totpEnabledAt) throw new ConflictError('Two-factor authentication is already on.');
  if (!user.totpSecret) throw new ValidationError('No enrolment is under way: start one first.');
  const step = await acceptedStep(ctx.secrets.open(user.totpSecret), code, null);
  if (step === null) throw new ValidationError('The code does not match: check the authenticator’s clock and type the code it shows now.');
  const recoveryCodes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  await ctx.db.$transaction([
    ctx.db.recoveryCode.deleteMany({ where: { userId: user.id } }),
    ctx.db.recoveryCode.createMany({ data: recoveryCodes.map((c) => ({ userId: user.id, codeHash: hashRecoveryCode(c) })) }),
    ctx.db.user.update({ where: { id: user.id }, data: { totpEnabledAt: new Date(), totpLastStep: step } }),
  ]);
  await recordAudit(ctx.db, actor, { action: 'auth.totp.enable', targetType: 'user', targetId: user.id });
  return { recoveryCodes };
}

/** Turns the second factor off; it takes a current code (or a recovery code), not just the session. */
export async function disableTotp(ctx: AppContext, actor: Actor, proof: SecondFactor): Promise<void> {
  const user = await passwordUser(ctx.db, actor);
  if (!user.totpEnabledAt) throw new ValidationError('Two-factor authentication is not on.');
  if (!(await checkSecondFactor(ctx, user.id, proof))) throw new ValidationError('The code does not match: type the code the authenticator shows now, or a recovery code.');
  await clearTotp(ctx.db, user.id);
  await recordAudit(ctx.db, actor, { action: 'auth.totp.disable', targetType: 'user', targetId: user.id });
}

/** An admin turns a user's second factor off (a lost phone): the user logs in with the password alone. */
export async function resetUserTotp(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const user = await ctx.db.user.findUnique({ where: { id: requireUuid(id, 'User') } });
  if (!user) throw new NotFoundError(`User ${id}`);
  await clearTotp(ctx.db, user.id);
  await recordAudit(ctx.db, actor, { action: 'user.totp.reset', targetType: 'user', targetId: user.id, summary: { before: { username: user.username, totp: Boolean(user.totpEnabledAt) } } });
}

async function clearTotp(db: Db, userId: string): Promise<void> {
  await db.$transaction([
    db.recoveryCode.deleteMany({ where: { userId } }),
    db.user.update({ where: { id: userId }, data: { totpSecret: null, totpEnabledAt: null, totpLastStep: null } }),
  ]);
}

export type SecondFactor = { code: string; recoveryCode?: never } | { recoveryCode: string; code?: never };

/** Whether the code (or recovery code) is good for the user now; a good one is spent. */
export async function checkSecondFactor(ctx: AppContext, userId: string, proof: SecondFactor): Promise<boolean> {
  const user = await ctx.db.user.findUnique({ where: { id: userId } });
  if (!user?.totpEnabledAt || !user.totpSecret) return false;
  if (proof.recoveryCode !== undefined) {
    // Spent in the same statement that finds it: two logins racing with one code cannot both pass.
    const spent = await ctx.db.recoveryCode.updateMany({ where: { userId, codeHash: hashRecoveryCode(proof.recoveryCode), usedAt: null }, data: { usedAt: new Date() } });
    return spent.count === 1;
  }
  const step = await acceptedStep(ctx.secrets.open(user.totpSecret), proof.code, user.totpLastStep);
  if (step === null) return false;
  const taken = await ctx.db.user.updateMany({ where: { id: userId, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] }, data: { totpLastStep: step } });
  return taken.count === 1;
}

async function acceptedStep(secret: string, code: string, after: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({ secret, token: code, epochTolerance: TOLERANCE_SECONDS, ...(after === null ? {} : { afterTimeStep: after }) });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

/** The second step of a login: a sealed note that the password was right, for five minutes. */
export function createLoginChallenge(secrets: SecretBox, userId: string): string {
  return secrets.seal(JSON.stringify({ kind: 'totp-login', userId, expiresAt: Date.now() + CHALLENGE_MS }));
}

export function openLoginChallenge(secrets: SecretBox, challenge: string): string {
  try {
    const note = JSON.parse(secrets.open(challenge)) as { kind?: string; userId?: string; expiresAt?: number };
    if (note.kind === 'totp-login' && typeof note.userId === 'string' && typeof note.expiresAt === 'number' && note.expiresAt > Date.now()) return note.userId;
  } catch {
    // Not one of ours: the same answer as an expired one.
  }
  throw new UnauthorizedError('This login step has expired: type your username and password again.');
}

function newRecoveryCode(): string {
  const text = randomBytes(8).toString('hex');
  return `${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8, 12)}-${text.slice(12)}`;
}

function hashRecoveryCode(code: string): string {
  return hashToken(`recovery:${code.toLowerCase().replace(/[^0-9a-f]/g, '')}`);
}

async function passwordUser(db: Db, actor: Actor) {
  if (actor.type !== 'user' || !actor.id) throw new ValidationError('Two-factor authentication belongs to users who log in with a password: an API token has none.');
  const user = await db.user.findUnique({ where: { id: actor.id } });
  if (!user) throw new NotFoundError('Your user');
  if (user.passwordHash === 'oidc') throw new ValidationError('You log in with single sign-on: your provider handles the second factor.');
  return user;
}
