// What a job scheduler's firings leave in Redis. A scheduler fires forever, and Redis runs with
// noeviction: every firing must carry the catalog's options (attempts, backoff, and how many finished
// firings are kept), or each one stays in Redis for good. ctx.queues.schedule is the only way in.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfiguration, jobCatalog, systemActor } from '@coffre/shared';
import { startWorkers } from '../src/workers.js';
import { handlers } from '../src/handlers.js';
import { REDIS_URL } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { scheduleJob } from '@coffre/shared';

const FIRINGS = 200;

let stack: TestStack;
let redis: Redis;

beforeAll(async () => {
  stack = await createTestStack();
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.close();
});

async function keysOf(queue: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${stack.config.QUEUE_PREFIX}:${queue}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

describe('job scheduler firings', () => {
  it(`${FIRINGS} firings of a configuration scheduler that complete leave a bounded number of Redis keys`, async () => {
    const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    // Inactive: each firing runs the real handler, which finds nothing to do and completes.
    const configuration = await createConfiguration(stack.ctx, { name: 'fired-often', sourceId, active: false }, systemActor);
    const schedulerId = `configuration-${configuration.id}`;
    const workers = startWorkers(stack.ctx, handlers, { concurrency: 2, stallSeconds: stack.config.STALL_SECONDS, workerId: 'firings-test', queues: ['backup'] });
    let completed = 0;
    let firing: Job | undefined;
    workers.workers[0]!.on('completed', (job) => {
      if (job.name !== 'configuration.scheduled') return;
      completed += 1;
      firing ??= job;
    });
    try {
      await scheduleJob(stack.ctx, 'configuration.scheduled', schedulerId, { every: 20 }, { configurationId: configuration.id });
      await eventually(async () => completed >= FIRINGS, 120_000, `${FIRINGS} firings to complete`);
      await stack.ctx.queues.queue('backup').removeJobScheduler(schedulerId);
    } finally {
      await workers.close(5000);
    }
    expect(firing!.opts.attempts).toBe(jobCatalog['configuration.scheduled'].attempts);
    expect(firing!.opts.backoff).toEqual({ type: 'exponential', delay: jobCatalog['configuration.scheduled'].backoffMs });
    const queue = stack.ctx.queues.queue('backup');
    expect(await queue.getCompletedCount()).toBeLessThanOrEqual(jobCatalog['configuration.scheduled'].keep!.completed);
    // The queue's own keys (meta, events, id, …) and the kept firings: not one key per firing.
    expect((await keysOf('backup')).length).toBeLessThan(50);
  });

  it(`${FIRINGS} firings of a verify scheduler that fail leave a bounded number of Redis keys`, async () => {
    const configurationId = '0195a3c1-7b2e-7c3d-8e4f-00000000f1f1';
    const schedulerId = `verify-${configurationId}`;
    let failed = 0;
    // A processor that refuses every firing: whatever makes a firing fail, its job must not stay forever.
    const worker = new Worker('restore', async () => {
      throw new UnrecoverableError('this firing fails on purpose');
    }, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: stack.config.QUEUE_PREFIX, concurrency: 2 });
    worker.on('failed', () => (failed += 1));
    try {
      await scheduleJob(stack.ctx, 'configuration.verify', schedulerId, { every: 20 }, { configurationId });
      await eventually(async () => failed >= FIRINGS, 120_000, `${FIRINGS} firings to fail`);
      await stack.ctx.queues.queue('restore').removeJobScheduler(schedulerId);
    } finally {
      await worker.close();
      await worker.disconnect();
    }
    expect(await stack.ctx.queues.queue('restore').getFailedCount()).toBeLessThanOrEqual(jobCatalog['configuration.verify'].keep!.failed);
    expect((await keysOf('restore')).length).toBeLessThan(80);
  });

  it('no code schedules a job but through scheduleJob and the queues it uses (the catalog’s options and payload schema)', async () => {
    const roots = ['shared/src', 'services/api/src', 'services/worker/src', 'services/cli/src'];
    const callers: string[] = [];
    for (const root of roots) {
      for (const file of await sourceFiles(root)) {
        if (file === 'shared/src/infra/jobs/queues.ts') continue;
        if (/\.upsertJobScheduler\s*\(/.test(await readFile(file, 'utf8'))) callers.push(file);
      }
    }
    expect(callers).toEqual([]);
  });
});

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'generated') files.push(...(await sourceFiles(path)));
    else if (entry.isFile() && /\.tsx?$/.test(entry.name)) files.push(path);
  }
  return files;
}
