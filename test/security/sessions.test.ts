// The web UI's session cookie: every state change must carry the session's own CSRF token, and
// password guessing is slowed down (10 failed logins per 15 minutes per address; successes do not count).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '@coffre/api';
import { createTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
const password = 'correct horse battery staple';

beforeAll(async () => {
  stack = await createTestStack();
  for (const [username, role] of [['alice', 'admin'], ['bob', 'operator']] as const) {
    const res = await request(stack.app).post('/api/users').set('Authorization', `Bearer ${stack.adminToken}`).send({ username, password, role });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  await stack?.close();
});

interface Session {
  cookie: string;
  csrf: string;
}

async function login(app: Parameters<typeof request>[0], username: string): Promise<Session> {
  const res = await request(app).post('/api/auth/login').send({ username, password });
  expect(res.status).toBe(200);
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0]!;
  const csrf = value('coffre_csrf').split('=')[1]!;
  expect(res.body.csrfToken).toBe(csrf);
  expect(cookies.find((c) => c.startsWith('coffre_session='))).toMatch(/HttpOnly/i);
  expect(cookies.find((c) => c.startsWith('coffre_session='))).toMatch(/SameSite=Strict/i);
  return { cookie: `${value('coffre_session')}; ${value('coffre_csrf')}`, csrf };
}

describe('CSRF on cookie sessions', () => {
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    alice = await login(stack.app, 'alice');
    bob = await login(stack.app, 'bob');
  });

  const changes = [
    { method: 'post', path: '/api/backups', body: {} },
    { method: 'post', path: '/api/sources', body: { name: 'csrf-probe', url: 'postgresql://postgres@127.0.0.1:5432/postgres' } },
    { method: 'post', path: '/api/tokens', body: { name: 'csrf-probe', role: 'admin' } },
    { method: 'delete', path: '/api/backups/0195a3c1-7b2e-7c3d-8e4f-0123456789ab', body: undefined },
  ] as const;

  const send = (method: string, path: string, session: Session) =>
    (request(stack.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set('Cookie', session.cookie);

  it('a read needs no CSRF token', async () => {
    const res = await request(stack.app).get('/api/backups').set('Cookie', alice.cookie);
    expect(res.status).toBe(200);
  });

  it('a change without the header, with a wrong one, or with another session’s token is refused with 403, and nothing happens', async () => {
    const before = { backups: await stack.ctx.db.backup.count(), sources: await stack.ctx.db.source.count(), tokens: await stack.ctx.db.apiToken.count() };
    let refusals = 0;
    for (const change of changes) {
      for (const header of [undefined, '', 'wrong-token', alice.csrf.slice(0, -1), `${alice.csrf}x`, bob.csrf]) {
        const req = send(change.method, change.path, alice);
        if (header !== undefined) req.set('X-CSRF-Token', header);
        const res = await req.send(change.body);
        expect({ change: change.path, header, status: res.status, code: res.body.error?.code }).toEqual({ change: change.path, header, status: 403, code: 'forbidden' });
        refusals += 1;
      }
    }
    // A cross-site form cannot set the header; and the token in a cookie alone is not enough.
    const forged = await send('post', '/api/backups', alice).set('Sec-Fetch-Site', 'same-origin').send({});
    expect(forged.status).toBe(403);
    expect({ backups: await stack.ctx.db.backup.count(), sources: await stack.ctx.db.source.count(), tokens: await stack.ctx.db.apiToken.count() }).toEqual(before);
    console.info(`CSRF: ${refusals + 1} forged changes refused`);
  });

  it('the session’s own token lets the change through', async () => {
    const res = await send('post', '/api/backups', alice).set('X-CSRF-Token', alice.csrf).send({});
    expect(res.status).toBe(202);
    const other = await send('post', '/api/backups', bob).set('X-CSRF-Token', bob.csrf).send({});
    expect(other.status).toBe(202);
  });

  it('Bull Board accepts a session change only from its own origin', async () => {
    const crossSite = await request(stack.app).put('/admin/queues/api/queues/backup/pause').set('Cookie', alice.cookie).set('Sec-Fetch-Site', 'cross-site').send();
    expect(crossSite.status).toBe(403);
    const noHint = await request(stack.app).put('/admin/queues/api/queues/backup/pause').set('Cookie', alice.cookie).send();
    expect(noHint.status).toBe(403);
    expect(await stack.ctx.queues.queue('backup').isPaused()).toBe(false);
  });

  it('after logout the cookie opens nothing', async () => {
    const session = await login(stack.app, 'bob');
    const out = await request(stack.app).post('/api/auth/logout').set('Cookie', session.cookie).set('X-CSRF-Token', session.csrf).send();
    expect(out.status).toBe(204);
    const res = await request(stack.app).get('/api/backups').set('Cookie', session.cookie);
    expect(res.status).toBe(401);
  });
});

describe('failed logins are rate-limited', () => {
  // A fresh app: the limiter counts per app instance, and the logins above were successes anyway.
  let app: ReturnType<typeof createApp>;

  beforeAll(() => {
    app = createApp(stack.ctx);
  });

  const attempt = (body: object, forwardedFor?: string) => {
    const req = request(app).post('/api/auth/login');
    if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
    return req.send(body);
  };

  it('10 failures are answered 401, successes in between do not count, and the 11th failure gets 429 — and so does the right password then', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt({ username: 'alice', password: `guess-${i}-wrong` })).status);
    // Successes, by password and by token, do not count against the address.
    for (let i = 0; i < 3; i++) statuses.push((await attempt({ username: 'alice', password })).status);
    statuses.push((await attempt({ token: stack.adminToken })).status);
    for (let i = 5; i < 9; i++) statuses.push((await attempt({ username: 'nobody', password: `guess-${i}-wrong` })).status);
    statuses.push((await attempt({ token: 'cof_forged-token-value' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 200, 200, 200, 200, 401, 401, 401, 401, 401]);

    const limited = await attempt({ username: 'alice', password: 'one-more-guess' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toEqual({ code: 'too_many_attempts', message: 'Too many failed logins from this address: wait 15 minutes and try again.' });
    expect((await attempt({ username: 'alice', password })).status).toBe(429);
    // A forged X-Forwarded-For does not make a new address (no proxy is trusted by default).
    expect((await attempt({ username: 'alice', password }, '203.0.113.9')).status).toBe(429);
  });

  it('the failures are in the audit log, without the passwords tried', async () => {
    const failures = await stack.ctx.db.auditEvent.findMany({ where: { action: 'auth.login', outcome: 'failure' } });
    expect(failures.length).toBeGreaterThanOrEqual(10);
    const text = JSON.stringify(failures);
    expect(text).not.toContain('guess-');
    expect(text).not.toContain('one-more-guess');
  });
});
