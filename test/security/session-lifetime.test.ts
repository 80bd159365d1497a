// A web UI session lives no longer than what opened it: revoking or expiring the token a session was
// opened with ends the session at once (it can neither read nor mint a new token); deleting a user
// ends theirs. People see their own sessions, the current one marked, and end them; admins end
// anyone's; logging out needs the session's CSRF token like every other change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let admin: { Authorization: string };
const password = 'correct horse battery staple';

beforeAll(async () => {
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  for (const [username, role] of [['carol', 'operator'], ['dave', 'viewer'], ['erin', 'viewer']] as const) {
    expect((await request(stack.app).post('/api/users').set(admin).send({ username, password, role })).status).toBe(201);
  }
});

afterAll(async () => {
  await stack?.close();
});

interface Session {
  cookie: string;
  csrf: string;
  maxAgeSeconds: number;
}

async function login(body: object): Promise<Session> {
  const res = await request(stack.app).post('/api/auth/login').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0]!;
  const maxAge = Number(/Max-Age=(\d+)/i.exec(cookies.find((c) => c.startsWith('coffre_session='))!)?.[1]);
  return { cookie: `${value('coffre_session')}; ${value('coffre_csrf')}`, csrf: res.body.csrfToken, maxAgeSeconds: maxAge };
}

const read = (session: Session) => request(stack.app).get('/api/backups').set('Cookie', session.cookie);
const mintToken = (session: Session) => request(stack.app).post('/api/tokens').set('Cookie', session.cookie).set('X-CSRF-Token', session.csrf).send({ name: 'minted', role: 'admin' });

async function newToken(body: object): Promise<{ id: string; token: string }> {
  const res = await request(stack.app).post('/api/tokens').set(admin).send(body);
  expect(res.status).toBe(201);
  return res.body;
}

describe('a session opened with a token ends with the token', () => {
  it('revoking the token ends its session at once: it can neither read nor mint a new admin token', async () => {
    const opened = await newToken({ name: 'laptop', role: 'admin' });
    const session = await login({ token: opened.token });
    expect((await read(session)).status).toBe(200);
    const own = await request(stack.app).get('/api/auth/sessions').set('Authorization', `Bearer ${opened.token}`);
    expect(own.body.items).toEqual([expect.objectContaining({ openedWith: 'token', role: 'admin', current: false })]);

    expect((await request(stack.app).delete(`/api/tokens/${opened.id}`).set(admin)).status).toBe(204);
    const tokensBefore = await stack.ctx.db.apiToken.count();
    expect({ read: (await read(session)).status, mint: (await mintToken(session)).status }).toEqual({ read: 401, mint: 401 });
    expect(await stack.ctx.db.apiToken.count()).toBe(tokensBefore);
  });

  it('a token revoked by another API process (in the database only) ends the session on its next request', async () => {
    const opened = await newToken({ name: 'elsewhere', role: 'admin' });
    const session = await login({ token: opened.token });
    await stack.ctx.db.apiToken.update({ where: { id: opened.id }, data: { revokedAt: new Date() } });
    expect({ read: (await read(session)).status, mint: (await mintToken(session)).status }).toEqual({ read: 401, mint: 401 });
  });

  it('a session ends when its token expires, and its cookie says so from the start', async () => {
    const opened = await newToken({ name: 'short', role: 'operator', expiresInDays: 1 });
    const session = await login({ token: opened.token });
    expect(session.maxAgeSeconds).toBeLessThanOrEqual(12 * 3600);
    // The clock moves past the token's expiry.
    await stack.ctx.db.apiToken.update({ where: { id: opened.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await read(session)).status).toBe(401);
  });

  it('a token with less than 12 hours left opens a session that ends with it', async () => {
    const opened = await newToken({ name: 'closing', role: 'viewer', expiresInDays: 1 });
    await stack.ctx.db.apiToken.update({ where: { id: opened.id }, data: { expiresAt: new Date(Date.now() + 3600_000) } });
    const session = await login({ token: opened.token });
    expect(session.maxAgeSeconds).toBeLessThanOrEqual(3600);
    const row = await stack.ctx.db.session.findFirstOrThrow({ where: { tokenId: opened.id } });
    expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it('a revoked token cannot open a session, even a moment after it was last used', async () => {
    const opened = await newToken({ name: 'just-revoked', role: 'admin' });
    expect((await request(stack.app).get('/api/backups').set('Authorization', `Bearer ${opened.token}`)).status).toBe(200);
    await stack.ctx.db.apiToken.update({ where: { id: opened.id }, data: { revokedAt: new Date() } });
    expect((await request(stack.app).post('/api/auth/login').send({ token: opened.token })).status).toBe(401);
  });
});

describe('people see and end their own sessions', () => {
  it('a user lists their sessions, the current one marked, and ends another one of theirs', async () => {
    const first = await login({ username: 'carol', password });
    const second = await login({ username: 'carol', password });
    const listed = await request(stack.app).get('/api/auth/sessions').set('Cookie', first.cookie);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(listed.body.items.every((s: { actorName: string; openedWith: string }) => s.actorName === 'carol' && s.openedWith === 'password')).toBe(true);
    const other = listed.body.items.find((s: { current: boolean }) => !s.current);

    const ended = await request(stack.app).delete(`/api/auth/sessions/${other.id}`).set('Cookie', first.cookie).set('X-CSRF-Token', first.csrf);
    expect(ended.status).toBe(204);
    expect({ other: (await read(second)).status, own: (await read(first)).status }).toEqual({ other: 401, own: 200 });
    expect(await stack.ctx.db.auditEvent.count({ where: { action: 'session.end', targetId: other.id } })).toBe(1);
  });

  it("nobody but an admin sees or ends another person's session", async () => {
    const dave = await login({ username: 'dave', password });
    const erin = await login({ username: 'erin', password });
    const everyone = await request(stack.app).get('/api/auth/sessions').query({ all: 'true' }).set(admin);
    const daves = everyone.body.items.find((s: { actorName: string }) => s.actorName === 'dave');
    expect(daves).toBeDefined();

    const erinSees = await request(stack.app).get('/api/auth/sessions').set('Cookie', erin.cookie);
    expect(erinSees.body.items.map((s: { actorName: string }) => s.actorName)).toEqual(['erin']);
    expect((await request(stack.app).get('/api/auth/sessions').query({ all: 'true' }).set('Cookie', erin.cookie)).status).toBe(403);
    const erinEnds = await request(stack.app).delete(`/api/auth/sessions/${daves.id}`).set('Cookie', erin.cookie).set('X-CSRF-Token', erin.csrf);
    expect(erinEnds.status).toBe(404);
    expect((await read(dave)).status).toBe(200);

    expect((await request(stack.app).delete(`/api/auth/sessions/${daves.id}`).set(admin)).status).toBe(204);
    expect((await read(dave)).status).toBe(401);
  });

  it("deleting a user ends the user's sessions", async () => {
    const created = await request(stack.app).post('/api/users').set(admin).send({ username: 'frank', password, role: 'admin' });
    const frank = await login({ username: 'frank', password });
    expect((await read(frank)).status).toBe(200);
    expect((await request(stack.app).delete(`/api/users/${created.body.id}`).set(admin)).status).toBe(204);
    expect({ read: (await read(frank)).status, mint: (await mintToken(frank)).status }).toEqual({ read: 401, mint: 401 });
  });
});

describe('logging out', () => {
  it('needs the CSRF header: without it (or with a wrong one) the session stays open', async () => {
    const session = await login({ username: 'carol', password });
    for (const header of [undefined, 'wrong-token']) {
      const req = request(stack.app).post('/api/auth/logout').set('Cookie', session.cookie);
      if (header) req.set('X-CSRF-Token', header);
      expect((await req.send()).status).toBe(403);
      expect((await read(session)).status).toBe(200);
    }
    const out = await request(stack.app).post('/api/auth/logout').set('Cookie', session.cookie).set('X-CSRF-Token', session.csrf).send();
    expect(out.status).toBe(204);
    expect((await read(session)).status).toBe(401);
  });
});
