// A whole coffre for one test file: its own metadata database, queue prefix and backup directory,
// the Express app, and workers (in this process, or as real child processes for kill tests).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import {
  bootstrapAdmin,
  createAppContext,
  createDb,
  createJobQueues,
  createLogger,
  ensureDefaultDestination,
  loadConfig,
  newToken,
  hashToken,
  type AppContext,
  type Config,
} from '@coffre/shared';
import { createApp } from '@coffre/api';
import { startWorkers, type RunningWorkers } from '../../services/worker/src/workers.js';
import { handlers } from '../../services/worker/src/handlers.js';
import { createDatabase, createMetadataDatabase, dropCreatedDatabases } from './pg.js';
import { REDIS_URL, SECRET_KEY, uniqueName } from './env.js';

export interface TestStack {
  config: Config;
  env: Record<string, string>;
  ctx: AppContext;
  app: Express;
  dir: string;
  adminToken: string;
  logs: string[];
  /** Creates an API token with a role and returns its value. */
  token(role: 'admin' | 'operator' | 'viewer'): Promise<string>;
  startWorkers(options?: { concurrency?: number }): RunningWorkers;
  /** A worker as a real process (needs the built dist/). */
  spawnWorker(extraEnv?: Record<string, string>): ChildProcess;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  /** Source database URL registered as `default` (a fresh empty database when not given). */
  sourceUrl?: string;
}

export async function createTestStack(options: StackOptions = {}): Promise<TestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-stack-'));
  const meta = await createMetadataDatabase();
  const source = options.sourceUrl ?? (await createDatabase('coffre_source')).url;
  const adminToken = newToken();
  const env: Record<string, string> = {
    DATABASE_URL: meta.url,
    REDIS_URL,
    QUEUE_PREFIX: uniqueName('coffretest'),
    BACKUP_DIR: join(dir, 'backups'),
    SECRET_KEY,
    ADMIN_TOKEN: adminToken,
    SOURCE_DATABASE_URL: source,
    LOG_LEVEL: 'info',
    STALL_SECONDS: '5',
    // Tests keep the files they back up and restore in temporary directories.
    FILES_ROOTS: tmpdir(),
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    }),
  });
  const db = createDb(config.DATABASE_URL, { max: 5 });
  const queues = createJobQueues({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, role: 'api' });
  const ctx = createAppContext({ config, db, queues, logger });
  await ensureDefaultDestination(ctx);
  const { ensureDefaultSource } = await import('@coffre/shared');
  await ensureDefaultSource(ctx);
  await bootstrapAdmin(ctx);
  const app = createApp(ctx, { webRoot: join(dir, 'no-web') });
  const workers: RunningWorkers[] = [];
  const children: ChildProcess[] = [];
  return {
    config,
    env,
    ctx,
    app,
    dir,
    adminToken,
    logs,
    async token(role) {
      const value = newToken();
      await db.apiToken.create({ data: { name: `test ${role}`, role, tokenHash: hashToken(value), prefix: value.slice(0, 8) } });
      return value;
    },
    startWorkers(opts = {}) {
      const running = startWorkers(ctx, handlers, {
        concurrency: opts.concurrency ?? 2,
        stallSeconds: config.STALL_SECONDS,
        workerId: `test-${process.pid}-${workers.length}`,
      });
      workers.push(running);
      return running;
    },
    spawnWorker(extraEnv = {}) {
      const child = spawn(process.execPath, [resolve('services/worker/dist/main.js')], {
        env: { PATH: process.env.PATH, ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d) => logs.push(String(d)));
      child.stderr?.on('data', (d) => logs.push(String(d)));
      children.push(child);
      return child;
    },
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.close(1000)));
      await queues.close();
      await clearRedisPrefix(config.QUEUE_PREFIX);
      await db.$disconnect();
      await dropCreatedDatabases();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes every key under a queue prefix (the test's queues and locks). */
export async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false && value !== null) return value as T;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
