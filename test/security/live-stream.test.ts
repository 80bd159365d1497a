// The live stream (GET /api/events) is held to what every request is held to while it stays open: a
// revoked token, a logout, a deleted user or an expired session ends it (within the stream's check
// period, or at the expiry itself). And streams are bounded: a few per user or token (a 429 beyond,
// another caller unaffected), a total per API process (a 503), a closed stream freeing its slot.
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventStreams } from '../../services/api/src/routes/events.js';
import { createTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let server: Server;
let url = '';
let admin: { Authorization: string };
const defaults = { ...eventStreams };
const password = 'correct horse battery staple';

beforeAll(async () => {
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  server = stack.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  Object.assign(eventStreams, defaults);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  await stack?.close();
});

interface Stream {
  status: number;
  body: string;
  /** Resolves with the milliseconds the stream took to end on the server's side, or rejects after `withinMs`. */
  ended(withinMs: number): Promise<number>;
  close(): void;
}

/** Opens GET /api/events with these headers; an answer other than 200 is read whole. */
async function openStream(headers: Record<string, string>): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(`${url}/api/events`, { headers, signal: abort.signal });
  if (response.status !== 200) return { status: response.status, body: await response.text(), ended: () => Promise.reject(new Error('not a stream')), close: () => {} };
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain('event: ready');
  return {
    status: 200,
    body: first,
    async ended(withinMs) {
      const start = Date.now();
      const timeout = setTimeout(() => abort.abort(), withinMs);
      try {
        for (;;) {
          const { done } = await reader.read();
          if (done) return Date.now() - start;
        }
      } catch {
        throw new Error(`the stream was still open after ${withinMs} ms`);
      } finally {
        clearTimeout(timeout);
      }
    },
    close: () => abort.abort(),
  };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function newToken(name: string): Promise<{ id: string; token: string }> {
  const res = await request(stack.app).post('/api/tokens').set(admin).send({ name, role: 'viewer' });
  expect(res.status).toBe(201);
  return res.body;
}

async function newUserSession(username: string): Promise<{ userId: string; cookie: string; csrf: string }> {
  const created = await request(stack.app).post('/api/users').set(admin).send({ username, password, role: 'viewer' });
  expect(created.status).toBe(201);
  const res = await request(stack.app).post('/api/auth/login').send({ username, password });
  expect(res.status).toBe(200);
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0]!;
  return { userId: created.body.id, cookie: `${value('coffre_session')}; ${value('coffre_csrf')}`, csrf: res.body.csrfToken };
}

/** Retries opening until the answer is not `status` (a slot is freed when the server sees the close). */
async function openOnceFreed(headers: Record<string, string>, status: number): Promise<Stream> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const stream = await openStream(headers);
    if (stream.status !== status || Date.now() > deadline) return stream;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('an open stream ends when its caller no longer authenticates', () => {
  it('revoking the token ends its stream within the check period, while another token keeps its own', async () => {
    eventStreams.recheckMs = 300;
    const revoked = await newToken('revoked soon');
    const kept = await newToken('kept');
    const stream = await openStream(bearer(revoked.token));
    const other = await openStream(bearer(kept.token));
    expect([stream.status, other.status]).toEqual([200, 200]);

    expect((await request(stack.app).delete(`/api/tokens/${revoked.id}`).set(admin)).status).toBe(204);
    expect((await request(stack.app).get('/api/backups').set(bearer(revoked.token))).status).toBe(401);
    expect(await stream.ended(3000)).toBeLessThan(3000);
    await expect(other.ended(1000)).rejects.toThrow(/still open/);
  });

  it('logging out, or deleting the user, ends the session’s stream', async () => {
    eventStreams.recheckMs = 300;
    const leaving = await newUserSession('leaving');
    const stream = await openStream({ Cookie: leaving.cookie });
    expect(stream.status).toBe(200);
    expect((await request(stack.app).post('/api/auth/logout').set('Cookie', leaving.cookie).set('X-CSRF-Token', leaving.csrf)).status).toBeLessThan(300);
    expect(await stream.ended(3000)).toBeLessThan(3000);

    const deleted = await newUserSession('deleted');
    const second = await openStream({ Cookie: deleted.cookie });
    expect(second.status).toBe(200);
    expect((await request(stack.app).delete(`/api/users/${deleted.userId}`).set(admin)).status).toBe(204);
    expect(await second.ended(3000)).toBeLessThan(3000);
  });

  it('ends at the session’s expiry, without waiting for the next check', async () => {
    eventStreams.recheckMs = 60_000;
    const expiring = await newUserSession('expiring');
    await stack.ctx.db.session.updateMany({ where: { userId: expiring.userId }, data: { expiresAt: new Date(Date.now() + 1500) } });
    const stream = await openStream({ Cookie: expiring.cookie });
    expect(stream.status).toBe(200);
    expect(await stream.ended(5000)).toBeLessThan(5000);
  });
});

describe('streams are bounded', () => {
  it('one token gets at most perActor streams (429 beyond), another token still gets one, and a closed stream frees its slot', async () => {
    eventStreams.perActor = 3;
    const busy = await newToken('busy');
    const calm = await newToken('calm');
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await openStream(bearer(busy.token)));
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);

    const refused = await openStream(bearer(busy.token));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'too_many_streams', message: expect.stringMatching(/Too many live streams open .*the most is 3/) } });

    const other = await openStream(bearer(calm.token));
    expect(other.status).toBe(200);

    streams.shift()!.close();
    const again = await openOnceFreed(bearer(busy.token), 429);
    expect(again.status).toBe(200);
    expect((await openStream(bearer(busy.token))).status).toBe(429);

    for (const stream of [...streams, other, again]) stream.close();
  });

  it('parallel opens cannot slip past the bound', async () => {
    eventStreams.perActor = 4;
    const rush = await newToken('rush');
    const all = await Promise.all(Array.from({ length: 12 }, () => openStream(bearer(rush.token))));
    expect(all.filter((s) => s.status === 200)).toHaveLength(4);
    expect(all.filter((s) => s.status === 429)).toHaveLength(8);
    all.forEach((s) => s.close());
  });

  it('the whole API serves at most `total` streams (503 beyond), and a stream ended by the server frees its slot', async () => {
    eventStreams.total = 2;
    eventStreams.recheckMs = 300;
    // Earlier tests' streams are closed by now: wait until both slots are free.
    const first = await openOnceFreed(bearer((await newToken('first')).token), 503);
    const doomed = await newToken('doomed');
    const second = await openOnceFreed(bearer(doomed.token), 503);
    expect([first.status, second.status]).toEqual([200, 200]);

    const refused = await openStream(bearer((await newToken('third')).token));
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error.code).toBe('unavailable');

    // Revoked: the server ends that stream, and its slot goes to the next caller.
    expect((await request(stack.app).delete(`/api/tokens/${doomed.id}`).set(admin)).status).toBe(204);
    await second.ended(3000);
    const next = await openOnceFreed(bearer((await newToken('next')).token), 503);
    expect(next.status).toBe(200);
    first.close();
    next.close();
  });
});
