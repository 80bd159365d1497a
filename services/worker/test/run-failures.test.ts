// What a failed or lost run says about itself: a failure no retry can fix says it will not be
// retried, and a reason quoted inside a message does not end the sentence with two periods.
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, createSource, reconcile, requestBackup, systemActor } from '@coffre/shared';
import { startWorkers } from '../src/workers.js';
import { handlers } from '../src/handlers.js';
import { REDIS_URL, databaseUrl } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { startPrivatePostgres } from '../../../test/support/private-postgres.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('a failed run', () => {
  it('a permanent failure says, in the run log, that it will not be retried', async () => {
    const source = await createSource(stack.ctx, { name: 'gone', url: databaseUrl('coffre_no_such_database') }, systemActor);
    const backup = await requestBackup(stack.ctx, { sourceId: source.id }, systemActor);
    const workers = stack.startWorkers();
    const row = await eventually(async () => {
      const found = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
      return found.status === 'failed' ? found : undefined;
    }, 60_000, 'the backup to fail').finally(() => workers.close(5000));
    expect(row.attempts).toBe(1);
    expect(row.log).toMatch(/attempt 1 of 3 failed and will not be retried \(a retry cannot fix this\): /);
    expect(row.log).not.toMatch(/attempt 1 of 3 failed: /);
  });
});

describe('a base backup the server refuses', () => {
  it('is not retried when pg_hba.conf has no replication line: it fails once, saying which line to add (it was tried 3 times over 45 s)', async () => {
    const server = await startPrivatePostgres();
    try {
      const hba = join(server.dir, 'data', 'pg_hba.conf');
      await writeFile(hba, (await readFile(hba, 'utf8')).split('\n').filter((line) => !/^\s*host\s+replication\b/.test(line)).join('\n'));
      await server.query('SELECT pg_reload_conf()');
      const source = await createSource(stack.ctx, { name: 'no-replication', url: server.url('postgres', server.superuser.password, 'postgres') }, systemActor);
      const backup = await requestBackup(stack.ctx, { sourceId: source.id, type: 'physical' }, systemActor);
      const workers = stack.startWorkers();
      const row = await eventually(async () => {
        const found = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
        return found.status === 'failed' ? found : undefined;
      }, 60_000, 'the base backup to fail').finally(() => workers.close(5000));
      expect(row.attempts).toBe(1);
      expect(row.errorMessage).toMatch(/^pg_basebackup was refused a replication connection: .*no pg_hba\.conf entry for replication connection.*Add a "host replication <user> <this worker's address>\/32 scram-sha-256" line/);
      expect(row.errorMessage).not.toContain(server.superuser.password);
      expect(row.log).toMatch(/will not be retried/);
    } finally {
      await server.stop();
    }
  });
});

describe('a lost run', () => {
  it('whose job failed with a sentence is marked failed with that sentence and one final period', async () => {
    const backup = await requestBackup(stack.ctx, { name: 'failed-job' }, systemActor);
    await stack.ctx.db.backup.update({ where: { id: backup.id }, data: { status: 'running', startedAt: new Date() } });
    // The job fails as a worker that died mid-way would have left it: its reason is a whole sentence.
    const queue = stack.ctx.queues.queue('backup');
    await eventually(async () => (await queue.getWaitingCount()) === 1 && (await queue.getJob(`backup-${backup.id}`)), 10_000, 'the job to wait');
    const worker = new Worker('backup', null, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: stack.config.QUEUE_PREFIX, autorun: false });
    try {
      const job = await worker.getNextJob('test-token');
      expect(job?.id).toBe(`backup-${backup.id}`);
      await job!.moveToFailed(new UnrecoverableError('The dump stopped before its end.'), 'test-token', false);
    } finally {
      await worker.close();
      await worker.disconnect();
    }
    const report = await reconcile(stack.ctx);
    expect(report.failedRunning.find((r) => r.id === backup.id)?.reason).toBe('Worker lost: The dump stopped before its end.');
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(row).toMatchObject({ status: 'failed', errorMessage: 'Worker lost: The dump stopped before its end.' });
  });
});

describe('a job that fails for good', () => {
  it('ends its row failed even when its handler threw before writing anything', async () => {
    const backup = await requestBackup(stack.ctx, { name: 'handler-threw' }, systemActor);
    // A handler that claims the row, then fails before it could record anything (as a crash in its
    // own first lines would): only the worker's failed-for-good listener can end the row.
    const workers = startWorkers(
      stack.ctx,
      {
        ...handlers,
        'backup.run': async (ctx, payload) => {
          await ctx.db.backup.update({ where: { id: payload.backupId }, data: { status: 'running', startedAt: new Date() } });
          throw new PermanentError('The handler broke before it wrote anything.');
        },
      },
      { concurrency: 1, stallSeconds: stack.config.STALL_SECONDS, workerId: 'test-final-failure', queues: ['backup'] },
    );
    try {
      const row = await eventually(async () => {
        const found = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
        return found.status === 'failed' ? found : undefined;
      }, 30_000, 'the row to end failed');
      expect(row.errorMessage).toBe('The job failed for good: The handler broke before it wrote anything.');
    } finally {
      await workers.close(5000);
    }
  });
});

describe('a restore to a moment', () => {
  it('is looked up by its own job (pitr.restore): while that job waits the row is not lost, and a pending row without one gets it back', async () => {
    const base = await requestBackup(stack.ctx, { name: 'base-for-a-moment' }, systemActor);
    const source = await stack.ctx.db.source.findFirstOrThrow({ where: { id: base.sourceId! } });
    const restoreRow = (data: object) =>
      stack.ctx.db.restore.create({
        data: { backupId: base.id, targetKind: 'database', targetSourceId: source.id, targetDatabase: 'coffre_moment_target', targetTime: new Date(), sourceDatabase: 'shop', requestedBy: 'test', ...data },
      });
    const queue = stack.ctx.queues.queue('restore');
    const old = new Date(Date.now() - 10 * 60_000);
    // Running, claimed by a worker that is alive, its job waiting under its own id: nothing to fix.
    const running = await restoreRow({ status: 'running', startedAt: new Date() });
    await queue.add('pitr.restore', { restoreId: running.id }, { jobId: `pitr-restore-${running.id}` });
    // Pending for ten minutes with no job at all: queued again, as a pitr.restore.
    const pending = await restoreRow({ status: 'pending', createdAt: old });
    try {
      const report = await reconcile(stack.ctx);
      expect(report.failedRunning.map((r) => r.id)).not.toContain(running.id);
      expect(report.requeuedPending).toContainEqual({ model: 'restore', id: pending.id });
      const requeued = await queue.getJob(`pitr-restore-${pending.id}`);
      expect(requeued?.name).toBe('pitr.restore');
      expect(await queue.getJob(`restore-${pending.id}`)).toBeUndefined();
      expect((await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: running.id } })).status).toBe('running');
    } finally {
      await queue.obliterate({ force: true });
      await stack.ctx.db.restore.updateMany({ where: { id: { in: [running.id, pending.id] } }, data: { status: 'failed' } });
    }
  });
});
