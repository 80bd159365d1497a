// Every route of the published OpenAPI document, walked: no token → 401, a viewer changing things →
// 403, hostile input → a 4xx JSON error, never a 500. New routes are covered as they are declared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let admin: string;
let viewer: string;
let operator: string;
let routes: { method: string; path: string; access: string; stream: boolean }[];
let hostileCalls = 0;

beforeAll(async () => {
  stack = await createTestStack();
  admin = stack.adminToken;
  viewer = await stack.token('viewer');
  operator = await stack.token('operator');
  const doc = await request(stack.app).get('/api/openapi.json').set('Authorization', `Bearer ${admin}`);
  expect(doc.status).toBe(200);
  routes = [];
  type Operation = { description: string; responses?: Record<string, { content?: Record<string, unknown> }> };
  for (const [path, methods] of Object.entries(doc.body.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const access = /No authentication/.test(op.description) ? 'public' : /needs the (\w+) role/i.exec(op.description)?.[1] ?? '?';
      const stream = Object.keys(op.responses?.['200']?.content ?? {}).includes('text/event-stream');
      routes.push({ method, path, access, stream });
    }
  }
});

afterAll(async () => {
  console.info(`access: ${hostileCalls} hostile ids and bodies sent`);
  await stack?.close();
});

const sampleId = '0195a3c1-7b2e-7c3d-8e4f-0123456789ab';
const concrete = (path: string, id = sampleId) => path.replace(/\{[^}]+\}/g, id);
/** An endless stream (the live events) is read up to its first bytes, then dropped; anything else whole. */
const untilFirstBytes = (res: NodeJS.ReadableStream & { headers: Record<string, string | undefined>; destroy(): void }, done: (error: Error | null, body: unknown) => void) => {
  const chunks: Buffer[] = [];
  const streaming = String(res.headers['content-type']).startsWith('text/event-stream');
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (streaming) {
      res.destroy();
      done(null, {});
    }
  });
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      done(null, text && String(res.headers['content-type']).includes('json') ? JSON.parse(text) : text);
    } catch {
      done(null, text);
    }
  });
};
const send = (method: string, path: string) => (request(stack.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).buffer(true).parse(untilFirstBytes as never);

describe('authentication and roles on every route', () => {
  it('the document lists the core routes', () => {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of ['post /api/backups', 'get /api/backups', 'get /api/backups/stats', 'get /api/backups/{id}/download', 'post /api/backups/{id}/restore', 'delete /api/backups/{id}', 'get /api/restores', 'get /api/sources']) {
      expect(paths).toContain(expected);
    }
    expect(routes.every((r) => r.access !== '?')).toBe(true);
    expect(routes.filter((r) => r.stream).map((r) => r.path)).toContain('/api/events');
  });

  it('every route but health answers 401 without a token, as JSON', async () => {
    for (const route of routes) {
      const res = await send(route.method, concrete(route.path)).send(route.method === 'get' ? undefined : {});
      if (route.access === 'public') {
        expect({ route, status: res.status < 500 }).toEqual({ route, status: true });
        continue;
      }
      expect({ route, status: res.status }).toEqual({ route, status: 401 });
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('a wrong or revoked token is refused', async () => {
    const res = await request(stack.app).get('/api/backups').set('Authorization', 'Bearer cof_not-a-real-token');
    expect(res.status).toBe(401);
    const basic = await request(stack.app).get('/api/backups').set('Authorization', 'Basic YWRtaW46YWRtaW4=');
    expect(basic.status).toBe(401);
  });

  it('a viewer may read but every change answers 403', async () => {
    for (const route of routes.filter((r) => r.access === 'operator' || r.access === 'admin')) {
      const res = await send(route.method, concrete(route.path)).set('Authorization', `Bearer ${viewer}`).send({});
      expect({ route, status: res.status }).toEqual({ route, status: 403 });
    }
    for (const route of routes.filter((r) => r.access === 'viewer' && r.method === 'get')) {
      const res = await send('get', concrete(route.path)).set('Authorization', `Bearer ${viewer}`);
      expect({ route, status: [200, 404].includes(res.status) }).toEqual({ route, status: true });
    }
  });

  it('an operator may back up but not restore, delete or manage sources', async () => {
    const backup = await request(stack.app).post('/api/backups').set('Authorization', `Bearer ${operator}`).send({});
    expect(backup.status).toBe(202);
    for (const route of routes.filter((r) => r.access === 'admin' && r.method !== 'get')) {
      const res = await send(route.method, concrete(route.path)).set('Authorization', `Bearer ${operator}`).send({});
      expect({ route, status: res.status }).toEqual({ route, status: 403 });
    }
  });

  it('each role reaches exactly what its rank allows: never 401 or 403 where it may go', async () => {
    const rank = { viewer: 1, operator: 2, admin: 3 } as const;
    let calls = 0;
    for (const [role, token] of [['viewer', viewer], ['operator', operator], ['admin', admin]] as const) {
      for (const route of routes.filter((r) => r.access !== 'public')) {
        const allowed = rank[role] >= rank[route.access as keyof typeof rank];
        const res = await send(route.method, concrete(route.path)).set('Authorization', `Bearer ${token}`).send(route.method === 'get' ? undefined : {});
        const outcome = [401, 403].includes(res.status) ? 'refused' : 'reached';
        expect({ role, route: `${route.method} ${route.path}`, outcome }).toEqual({ role, route: `${route.method} ${route.path}`, outcome: allowed ? 'reached' : 'refused' });
        expect(res.status).toBeLessThan(500);
        calls += 1;
      }
    }
    console.info(`access: ${routes.length} documented routes, ${calls} role × route calls`);
  });

  it('Bull Board needs an admin', async () => {
    expect((await request(stack.app).get('/admin/queues')).status).toBe(401);
    expect((await request(stack.app).get('/admin/queues').set('Authorization', `Bearer ${viewer}`)).status).toBe(403);
    expect((await request(stack.app).get('/admin/queues/api/queues').set('Authorization', `Bearer ${operator}`)).status).toBe(403);
    const ok = await request(stack.app).get('/admin/queues/api/queues').set('Authorization', `Bearer ${admin}`);
    expect(ok.status).toBe(200);
    expect(JSON.stringify(ok.body)).toContain('backup');
  });
});

describe('hostile input never yields a 500', () => {
  const badIds = ['not-a-uuid', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', '1', `${'a'.repeat(5000)}`, "1'%20OR%201=1", '%00'];

  it('malformed ids and traversal in ids get a 4xx JSON error', async () => {
    for (const route of routes.filter((r) => r.path.includes('{'))) {
      for (const id of badIds) {
        hostileCalls += 1;
        const res = await send(route.method, concrete(route.path, id)).set('Authorization', `Bearer ${admin}`).send({});
        expect({ route: `${route.method} ${route.path}`, id, ok: res.status >= 400 && res.status < 500 && typeof res.body?.error?.message === 'string' }).toEqual({
          route: `${route.method} ${route.path}`,
          id,
          ok: true,
        });
      }
    }
  });

  it('unknown fields, wrong types and broken JSON get 400 with a sentence', async () => {
    const bodies: unknown[] = [{ unexpected: 1 }, { name: 42 }, { type: 'everything' }, [], 'text', null, { sourceId: '../../etc' }];
    for (const route of routes.filter((r) => r.method === 'post' || r.method === 'put')) {
      for (const body of bodies) {
        hostileCalls += 1;
        const res = await send(route.method, concrete(route.path)).set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expect({ route: `${route.method} ${route.path}`, body, status: res.status < 500 }).toEqual({ route: `${route.method} ${route.path}`, body, status: true });
        if (res.status >= 400) expect(typeof res.body.error.message).toBe('string');
      }
      const broken = await send(route.method, concrete(route.path)).set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').send('{"name": ');
      expect(broken.status).toBe(400);
      expect(broken.body.error.code).toBe('invalid_json');
    }
    const unknown = await request(stack.app).post('/api/backups').set('Authorization', `Bearer ${admin}`).send({ sourceId: sampleId, bogus: true });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/\bbogus\b.*\bnot a known field\b/i);
  });

  it('an oversized body gets 413', async () => {
    const res = await request(stack.app)
      .post('/api/backups')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(200_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('bad query parameters get 400 with a sentence', async () => {
    for (const query of [{ page: '0' }, { pageSize: '1000' }, { status: 'exploded' }, { from: 'yesterday' }, { sourceId: '../x' }, { extra: '1' }]) {
      const res = await request(stack.app).get('/api/backups').query(query).set('Authorization', `Bearer ${admin}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
  });

  it('unknown routes answer 404 JSON to an authenticated caller', async () => {
    const res = await request(stack.app).get('/api/nothing-here').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
