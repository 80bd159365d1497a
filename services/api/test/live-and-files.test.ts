// The web UI's transport: one server-sent events stream that says what changed (written by any
// process: the triggers of coffre_changes), and the UI's files served compressed, the hashed ones
// cached for a year.
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '@coffre/api';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;
let server: Server;
let url = '';

beforeAll(async () => {
  stack = await createTestStack();
  server = stack.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  await stack?.close();
});

/** Reads server-sent events until `wanted` is among them or the deadline passes. */
async function readEvents(response: Response, wanted: (events: { event: string; data: string }[]) => boolean, timeoutMs = 10_000) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (!wanted(events)) {
    if (Date.now() > deadline) throw new Error(`no such event within ${timeoutMs} ms: ${JSON.stringify(events)}`);
    const { value, done } = await Promise.race([reader.read(), new Promise<{ value: undefined; done: true }>((r) => setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now()))]);
    if (done && !value) continue;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event) events.push({ event, data: data ?? '' });
    }
  }
  await reader.cancel();
  return events;
}

describe('GET /api/events', () => {
  it('refuses a caller without a token or session', async () => {
    const response = await fetch(`${url}/api/events`);
    expect(response.status).toBe(401);
  });

  it('says "backups" changed when another process writes a history row straight to the database', async () => {
    const token = await stack.token('viewer');
    const response = await fetch(`${url}/api/events`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readEvents(response, (all) => all.some((e) => e.event === 'change' && JSON.parse(e.data).topics.includes('backups')));
    // Written straight to the database, as a worker would: the stream hears it through the triggers.
    const source = await stack.ctx.db.source.findFirstOrThrow();
    await new Promise((r) => setTimeout(r, 300));
    await stack.ctx.db.backup.create({ data: { name: 'heard-by-the-stream', type: 'full', status: 'pending', trigger: 'manual', sourceId: source.id, sourceName: source.name } });
    const heard = await events;
    expect(heard[0]).toEqual({ event: 'ready', data: '{}' });
    expect(heard.filter((e) => e.event === 'change').flatMap((e) => JSON.parse(e.data).topics)).toContain('backups');
  });
});

describe('the web UI files', () => {
  let app: ReturnType<typeof createApp>;
  const script = `console.log(${JSON.stringify('coffre '.repeat(400))});\n`;

  beforeAll(async () => {
    const root = join(stack.dir, 'web');
    await mkdir(join(root, 'assets'), { recursive: true });
    await writeFile(join(root, 'index.html'), '<!doctype html><title>coffre</title>');
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const asset = join(root, 'assets', 'index-AbC12_-z.js');
    await writeFile(asset, script);
    await writeFile(`${asset}.br`, brotliCompressSync(script));
    await writeFile(`${asset}.gz`, gzipSync(script));
    app = createApp(stack.ctx, { webRoot: root });
  });

  it('serves a hashed file in brotli when the browser accepts it, immutable for a year', async () => {
    const response = await request(app).get('/assets/index-AbC12_-z.js').set('Accept-Encoding', 'gzip, deflate, br').buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers.vary).toMatch(/Accept-Encoding/i);
  });

  it('serves gzip to a browser without brotli, and the plain file to one that accepts neither', async () => {
    const gzip = await request(app).get('/assets/index-AbC12_-z.js').set('Accept-Encoding', 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.text).toBe(script);
    const plain = await request(app).get('/assets/index-AbC12_-z.js').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe(script);
  });

  it('revalidates index.html and the files whose name does not change', async () => {
    expect((await request(app).get('/')).headers['cache-control']).toBe('no-cache');
    expect((await request(app).get('/history')).headers['cache-control']).toBe('no-cache');
    expect((await request(app).get('/favicon.svg')).headers['cache-control']).toBe('public, max-age=3600');
  });
});

describe('Bull Board', () => {
  it('sends a logged-out browser to the login page, and still answers 401 to a script', async () => {
    const browser = await request(stack.app).get('/admin/queues/').set('Accept', 'text/html,application/xhtml+xml');
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toBe('/login');
    const script = await request(stack.app).get('/admin/queues/').set('Accept', 'application/json');
    expect(script.status).toBe(401);
  });
});

describe('the API documentation', () => {
  it('sends a logged-out browser to the login page (pnpm start prints its address), a script gets 401, a token the page', async () => {
    const browser = await request(stack.app).get('/api/docs').set('Accept', 'text/html,application/xhtml+xml');
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toBe('/login');
    expect((await request(stack.app).get('/api/docs').set('Accept', 'application/json')).status).toBe(401);
    const page = await request(stack.app).get('/api/docs').set('Accept', 'text/html').set('Authorization', `Bearer ${stack.adminToken}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
  });
});
