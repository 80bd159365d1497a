// A whole coffre serving the built web UI on a real port, for browser tests: the test stack's
// metadata database, queues, workers and API, with createApp pointed at services/web/dist.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { join, resolve } from 'node:path';
import { createApp } from '@coffre/api';
import { createTestStack, type TestStack } from '../../../../test/support/stack.js';
import { createDatabase } from '../../../../test/support/pg.js';
import { withClient } from '../../../../test/support/pg.js';

export const WEB_DIR = resolve(import.meta.dirname, '../..');
export const WEB_DIST = join(WEB_DIR, 'dist');

export interface WebStack {
  stack: TestStack;
  url: string;
  sourceUrl: string;
  /**
   * Inserts finished history rows spread over the last 30 days (no artifacts: for lists, pages and
   * charts only), named `<prefix>-NNN`.
   */
  seedHistory(count: number, prefix?: string): Promise<void>;
  /** Creates a user with a password through the API and returns its credentials. */
  user(role: 'admin' | 'operator' | 'viewer'): Promise<{ username: string; password: string }>;
  /** An authenticated call to the API with the admin token. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** `port`: listen there (a test that must name the URL in settings beforehand); `env`: more settings. */
export async function createWebStack(options: { port?: number; env?: Record<string, string> } = {}): Promise<WebStack> {
  ensureWebBuilt();
  const source = await createDatabase('coffre_websrc');
  await withClient(source.url, async (client) => {
    await client.query('CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now())');
    await client.query("INSERT INTO customers (name) SELECT 'customer ' || n FROM generate_series(1, 500) AS n");
    await client.query('CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric)');
    await client.query('INSERT INTO orders (customer_id, total) SELECT 1 + n % 500, n * 1.5 FROM generate_series(1, 2000) AS n');
  });
  // Seeded history rows sit outside any configuration: MAX_BACKUPS must not prune them mid-test.
  const stack = await createTestStack({ sourceUrl: source.url, env: { MAX_BACKUPS: '10000', ...options.env } });
  const app = createApp(stack.ctx, { webRoot: WEB_DIST });
  const server: Server = app.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let users = 0;

  const api = async <T,>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${stack.adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  return {
    stack,
    url,
    sourceUrl: source.url,
    api,
    async seedHistory(count, prefix = 'archive') {
      const now = Date.now();
      const types = ['full', 'full', 'schema', 'data'] as const;
      await stack.ctx.db.backup.createMany({
        data: Array.from({ length: count }, (_, i) => {
          const createdAt = new Date(now - ((i * 29) / Math.max(1, count - 1)) * 86_400_000 - 3_600_000);
          const failed = i % 9 === 4;
          const durationMs = 2000 + ((i * 7919) % 40_000);
          return {
            name: `${prefix}-${String(i + 1).padStart(3, '0')}`,
            type: types[i % types.length]!,
            status: failed ? 'failed' : 'completed',
            trigger: i % 3 === 0 ? 'manual' : 'schedule',
            sourceName: 'archive-db',
            sizeBytes: failed ? null : BigInt(3_000_000 + ((i * 104_729) % 9_000_000)),
            durationMs,
            errorMessage: failed ? 'pg_dump: error: connection to server failed: timeout expired' : null,
            startedAt: createdAt,
            completedAt: new Date(createdAt.getTime() + durationMs),
            createdAt,
          } as const;
        }),
      });
    },
    async user(role) {
      users += 1;
      const credentials = { username: `${role}${users}`, password: `correct horse ${role} ${users}` };
      const answer = await api('POST', '/api/users', { ...credentials, role });
      if (answer.status !== 201) throw new Error(`creating a user answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return credentials;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await stack.close();
    },
  };
}

/** Builds the UI when dist/ is missing or older than its sources (`pnpm test` builds it first). */
export function ensureWebBuilt(): void {
  const index = join(WEB_DIST, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  if (built && newestSource(join(WEB_DIR, 'src')) <= built) return;
  // vitest sets NODE_ENV=test, which Vite would bake in: React's development build (double effects
  // under StrictMode, slower) instead of what operators get.
  execFileSync('pnpm', ['run', 'build'], { cwd: WEB_DIR, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}
