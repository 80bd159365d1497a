// The job catalog is typed end to end: a handler's payload comes from its job's schema (a handler
// that reads a field its payload lacks does not compile), a worker refuses to start without a handler
// for every job, and a job that reaches a queue that is not its own is refused rather than run.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, jobCatalog, jobNames, requestBackup, systemActor } from '@coffre/shared';
import { checkHandlers, startWorkers } from '../src/workers.js';
import { handlers } from '../src/handlers.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

const run = promisify(execFile);
const scratch = resolve('services/worker/.typecheck');

/** Type-checks one handler declaration against the catalog, as the worker's own code is checked. */
async function typecheck(handlerBody: string): Promise<string> {
  await mkdir(scratch, { recursive: true });
  await writeFile(
    join(scratch, 'handler.ts'),
    `import type { JobHandlers } from '@coffre/shared';\nexport const handler = {\n  'backup.run': async (_ctx, payload) => { ${handlerBody} },\n} satisfies Pick<JobHandlers, 'backup.run'>;\n`,
  );
  await writeFile(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../tsconfig.json', compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false }, include: ['handler.ts'] }),
  );
  const result = await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', join(scratch, 'tsconfig.json')]).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
  return result;
}

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  await stack?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('handlers typed from the catalog', () => {
  it('a handler reading its payload as declared compiles', async () => {
    expect(await typecheck('return { length: payload.backupId.length };')).toBe('');
  });

  it('a handler reading a field its payload lacks does not compile', async () => {
    expect(await typecheck('return { id: payload.configurationId };')).toMatch(/error TS2339: Property 'configurationId' does not exist on type '\{ backupId: string; \}'/);
  });
});

describe('a worker starting', () => {
  it('has one handler for each of the catalog’s jobs', () => {
    expect(Object.keys(handlers).sort()).toEqual([...jobNames].sort());
  });

  it('refuses to start without a handler for every job, or with one for a job that does not exist', () => {
    const { 'maintenance.run': _missing, ...withoutOne } = handlers;
    expect(() => checkHandlers(withoutOne)).toThrow('The worker cannot start: no handler for job(s) maintenance.run.');
    expect(() => checkHandlers({ ...handlers, 'backup.restart': async () => {} })).toThrow('handler(s) for unknown job(s) backup.restart');
  });
});

describe('a job on a queue that is not its own', () => {
  it('is refused, not run: its row is left as it was', async () => {
    const backup = await requestBackup(stack.ctx, { name: 'wrong-queue' }, systemActor);
    // Taken off its own queue, and added by hand to the restore queue.
    await stack.ctx.queues.queue('backup').obliterate({ force: true });
    const wrong = await stack.ctx.queues.queue('restore').add('backup.run', { backupId: backup.id }, { attempts: 1 });
    const workers = startWorkers(stack.ctx, handlers, { concurrency: 1, stallSeconds: stack.config.STALL_SECONDS, workerId: 'test-wrong-queue', queues: ['restore'] });
    try {
      const job = await eventually(async () => {
        const found = await stack.ctx.queues.queue('restore').getJob(wrong.id!);
        return found && (await found.isFailed()) ? found : undefined;
      }, 30_000, 'the job to be refused');
      expect(job.failedReason).toBe('job backup.run belongs to queue backup, not restore');
      const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
      expect({ status: row.status, attempts: row.attempts }).toEqual({ status: 'pending', attempts: 0 });
    } finally {
      await workers.close(5000);
    }
  });

  it('enqueue puts a job on the queue the catalog gives it, with the catalog’s options', async () => {
    const backup = await requestBackup(stack.ctx, { name: 'right-queue' }, systemActor);
    const job = await enqueue(stack.ctx, 'backup.run', { backupId: backup.id });
    expect(job.queueName).toBe(jobCatalog['backup.run'].queue);
    expect(job.opts.attempts).toBe(jobCatalog['backup.run'].attempts);
    await expect(enqueue(stack.ctx, 'backup.run', { backupId: 'not-a-uuid' })).rejects.toThrow();
  });
});
