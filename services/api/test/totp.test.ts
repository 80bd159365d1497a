// The TOTP second factor of password users, through the HTTP API: enrolment (secret shown once,
// confirmed by a code), a login that asks the code after the password, recovery codes that work
// once, wrong codes refused and rate-limited (per user, and with the address's failed logins),
// turning it off with a code, and an admin's reset. Codes are computed by otplib, as an
// authenticator app would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { generate } from 'otplib';
import type { Express } from 'express';
import { createApp } from '@coffre/api';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;
const admin = () => ({ Authorization: `Bearer ${stack.adminToken}` });

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  await stack?.close();
});

/**
 * The code an authenticator shows now, or `offset` × 30 s from now (the API accepts one step either
 * way). Computed at the moment of the call: distinct offsets give distinct steps, in order, whatever
 * the step boundaries crossed in between.
 */
const codeAt = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });

interface Browser {
  cookie: string;
  csrf: string;
}

async function createUser(app: Express, username: string, password: string): Promise<string> {
  const res = await request(app).post('/api/users').set(admin()).send({ username, password, role: 'operator' });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

function sessionOf(res: request.Response): Browser {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  expect(cookies.some((c) => c.startsWith('coffre_session='))).toBe(true);
  return { cookie: cookies.map((c) => c.split(';')[0]).join('; '), csrf: res.body.csrfToken };
}

const as = (app: Express, who: Browser, method: 'get' | 'post', path: string) => request(app)[method](path).set('Cookie', who.cookie).set('X-CSRF-Token', who.csrf);

/** Enrols a logged-in user, confirming with the code of `confirmOffset` steps from now. */
async function enrol(app: Express, who: Browser, confirmOffset = 0) {
  const started = await as(app, who, 'post', '/api/auth/totp/enrol').send();
  expect(started.status).toBe(200);
  const secret = started.body.secret as string;
  const confirmed = await as(app, who, 'post', '/api/auth/totp/confirm').send({ code: await codeAt(secret, confirmOffset) });
  expect(confirmed.status).toBe(200);
  return { secret, uri: started.body.uri as string, recoveryCodes: confirmed.body.recoveryCodes as string[] };
}

async function passwordStep(app: Express, username: string, password: string): Promise<string> {
  const res = await request(app).post('/api/auth/login').send({ username, password });
  expect(res.status).toBe(200);
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.body.secondFactor).toBe('totp');
  return res.body.challenge as string;
}

describe('enrolment and a login with the code', () => {
  const username = 'totp-alice';
  const password = 'alice-password-7721';
  let app: Express;
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    app = createApp(stack.ctx);
    await createUser(app, username, password);
  });

  it('enrolment shows the secret once as an otpauth URI and takes effect only once a code confirms it', async () => {
    const who = sessionOf(await request(app).post('/api/auth/login').send({ username, password }));
    const started = await as(app, who, 'post', '/api/auth/totp/enrol').send();
    expect(started.status).toBe(200);
    secret = started.body.secret;
    expect(started.body.uri).toBe(`otpauth://totp/coffre:${username}?secret=${secret}&issuer=coffre`);
    expect((await as(app, who, 'get', '/api/auth/totp')).body).toEqual({ available: true, enabled: false, pending: true, recoveryCodesLeft: 0 });
    // Still a password-only login while unconfirmed.
    expect((await request(app).post('/api/auth/login').send({ username, password })).body.csrfToken).toEqual(expect.any(String));

    const wrong = await as(app, who, 'post', '/api/auth/totp/confirm').send({ code: String((Number(await codeAt(secret)) + 1) % 1_000_000).padStart(6, '0') });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/does not match/);

    // The step before now: the login below uses the current one, turning it off the next.
    const confirmed = await as(app, who, 'post', '/api/auth/totp/confirm').send({ code: await codeAt(secret, -1) });
    expect(confirmed.status).toBe(200);
    recoveryCodes = confirmed.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await as(app, who, 'get', '/api/auth/totp')).body).toEqual({ available: true, enabled: true, pending: false, recoveryCodesLeft: 10 });

    // Stored sealed and hashed: neither the secret nor a recovery code is in the rows.
    const user = await stack.ctx.db.user.findUniqueOrThrow({ where: { username }, include: { recoveryCodes: true } });
    expect(user.totpSecret).not.toContain(secret);
    expect(JSON.stringify(user.recoveryCodes)).not.toMatch(new RegExp(recoveryCodes.map((c) => c.replace(/-/g, '-?')).join('|')));
    const actions = (await stack.ctx.db.auditEvent.findMany({ where: { targetId: user.id, action: { startsWith: 'auth.totp' } }, orderBy: { at: 'asc' } })).map((e) => e.action);
    expect(actions).toEqual(['auth.totp.enrol', 'auth.totp.enable']);
  });

  it('the password alone opens no session: the code does, once', async () => {
    const challenge = await passwordStep(app, username, password);
    const code = await codeAt(secret);
    const login = await request(app).post('/api/auth/login/totp').send({ challenge, code });
    expect(login.status).toBe(200);
    const who = sessionOf(login);
    expect((await as(app, who, 'get', '/api/auth/me')).body).toEqual({ name: username, role: 'operator', type: 'user' });
    const event = await stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', actorName: username, outcome: 'success' }, orderBy: { at: 'desc' } });
    expect(event.summary).toEqual({ after: { method: 'totp' } });

    // The same code again (someone who saw it): refused.
    const replay = await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, username, password), code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/wrong or was already used/);
  });

  it('a challenge is not a session, and a forged or altered one opens nothing', async () => {
    const challenge = await passwordStep(app, username, password);
    expect((await request(app).get('/api/auth/me').set('Cookie', `coffre_session=${challenge}`)).status).toBe(401);
    const altered = `${challenge.slice(0, -4)}AAAA`;
    const res = await request(app).post('/api/auth/login/totp').send({ challenge: altered, code: await codeAt(secret, 1) });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired: type your username and password again/);
  });

  it('a recovery code opens one login, once', async () => {
    const first = await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, username, password), recoveryCode: recoveryCodes[3] });
    expect(first.status).toBe(200);
    sessionOf(first);
    const again = await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, username, password), recoveryCode: recoveryCodes[3] });
    expect(again.status).toBe(401);
    const who = sessionOf(await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, username, password), recoveryCode: recoveryCodes[4]!.toUpperCase() }));
    expect((await as(app, who, 'get', '/api/auth/totp')).body.recoveryCodesLeft).toBe(8);
  });

  it('turning it off takes a current code, not just the session', async () => {
    const who = sessionOf(await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, username, password), recoveryCode: recoveryCodes[5] }));
    const without = await as(app, who, 'post', '/api/auth/totp/disable').send({ code: String((Number(await codeAt(secret, 1)) + 1) % 1_000_000).padStart(6, '0') });
    expect(without.status).toBe(400);
    const off = await as(app, who, 'post', '/api/auth/totp/disable').send({ code: await codeAt(secret, 1) });
    expect(off.status).toBe(204);
    const login = await request(app).post('/api/auth/login').send({ username, password });
    expect(login.body.csrfToken).toEqual(expect.any(String));
    expect(await stack.ctx.db.recoveryCode.count({ where: { user: { username } } })).toBe(0);
  });
});

describe('wrong codes', () => {
  it('are refused, and five in a row lock that user’s code step, even for the right code', async () => {
    const app = createApp(stack.ctx);
      await createUser(app, 'totp-bob', 'bob-password-5512');
    const { secret } = await enrol(app, sessionOf(await request(app).post('/api/auth/login').send({ username: 'totp-bob', password: 'bob-password-5512' })), -1);
    const right = await codeAt(secret);
    const wrongCode = (i: number) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, 'totp-bob', 'bob-password-5512'), code: wrongCode(i) })).status);
    const locked = await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, 'totp-bob', 'bob-password-5512'), code: right });
    expect([...statuses, locked.status]).toEqual([401, 401, 401, 401, 401, 429]);
    expect(locked.body.error.message).toBe('Too many wrong codes for this user: wait 15 minutes and try again.');
    const failures = await stack.ctx.db.auditEvent.count({ where: { action: 'auth.login', outcome: 'failure', actorName: 'totp-bob' } });
    expect(failures).toBe(6);
  });

  it('count with wrong passwords against the address: the 11th failure is refused 429, whatever it is', async () => {
    const app = createApp(stack.ctx);
      const users = ['totp-carol', 'totp-dave'];
    const secrets: string[] = [];
    for (const username of users) {
      await createUser(app, username, `${username}-password-1`);
      secrets.push((await enrol(app, sessionOf(await request(app).post('/api/auth/login').send({ username, password: `${username}-password-1` })), -1)).secret);
    }
    const statuses: number[] = [];
    const wrongFor = async (i: number) => String((Number(await codeAt(secrets[i % 2]!)) + 7) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 8; i++) {
      statuses.push((await request(app).post('/api/auth/login/totp').send({ challenge: await passwordStep(app, users[i % 2]!, `${users[i % 2]}-password-1`), code: await wrongFor(i) })).status);
    }
    for (let i = 0; i < 2; i++) statuses.push((await request(app).post('/api/auth/login').send({ username: 'totp-carol', password: `guess-${i}` })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await request(app).post('/api/auth/login/totp').send({ challenge: 'anything', code: await codeAt(secrets[0]!) });
    expect(limited.status).toBe(429);
    expect(limited.body.error.message).toBe('Too many failed logins from this address: wait 15 minutes and try again.');
    expect((await request(app).post('/api/auth/login').send({ username: 'totp-carol', password: 'totp-carol-password-1' })).status).toBe(429);
  });
});

describe('an admin', () => {
  it('resets a user’s second factor (audited): the password alone opens the account again', async () => {
    const app = createApp(stack.ctx);
    const id = await createUser(app, 'totp-erin', 'erin-password-8890');
    await enrol(app, sessionOf(await request(app).post('/api/auth/login').send({ username: 'totp-erin', password: 'erin-password-8890' })), 0);
    await passwordStep(app, 'totp-erin', 'erin-password-8890');
    const reset = await request(app).delete(`/api/users/${id}/totp`).set(admin());
    expect(reset.status).toBe(204);
    expect((await request(app).post('/api/auth/login').send({ username: 'totp-erin', password: 'erin-password-8890' })).body.csrfToken).toEqual(expect.any(String));
    const event = await stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'user.totp.reset', targetId: id } });
    expect({ actorName: event.actorName, summary: event.summary }).toEqual({ actorName: 'token bootstrap admin', summary: { before: { username: 'totp-erin', totp: true } } });
  });

  it('an API token has no second factor to enrol: a 400 with a sentence', async () => {
    const res = await request(stack.app).post('/api/auth/totp/enrol').set(admin()).send();
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/an API token has none/);
    expect((await request(stack.app).get('/api/auth/totp').set(admin())).body.available).toBe(false);
  });
});
