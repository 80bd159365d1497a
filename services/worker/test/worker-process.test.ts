// Workers as real processes (the built dist/), killed and stopped in the middle of a dump.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { requestBackup, systemActor } from '@coffre/shared';
import { createDatabase, withClient } from '../../../test/support/pg.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: pnpm build (the test runs the built worker)');
  const source = await createDatabase('coffre_wp_src');
  // About 150 MB: a dump that lasts a few seconds, long enough to be interrupted.
  await withClient(source.url, (c) =>
    c.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || repeat('z', 40) AS body, now() AS at FROM generate_series(1, 1500000) g"),
  );
  stack = await createTestStack({ sourceUrl: source.url, env: { STALL_SECONDS: '5' } });
});

afterAll(async () => {
  await stack?.close();
});

/** Starts a worker process and waits until it takes jobs. */
async function startWorker(env: Record<string, string> = {}) {
  const child = stack.spawnWorker(env);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += String(d);
      if (output.includes('worker ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready: ${output}`)));
  });
  return child;
}

async function stopWorker(child: ReturnType<typeof stack.spawnWorker>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function rowOf(id: string) {
  return stack.ctx.db.backup.findUniqueOrThrow({ where: { id } });
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files outside the temporary directory: every one must belong to a completed backup. */
async function publishedFiles(): Promise<string[]> {
  const root = stack.config.BACKUP_DIR;
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, '.tmp'))).map((e) => join(e.parentPath, e.name));
}

async function waitRunningWithProgress(id: string) {
  await eventually(async () => {
    const row = await rowOf(id);
    return row.status === 'running' && row.progressBytes > 0n;
  }, 60_000, 'the dump to be under way');
}

describe('a worker killed or stopped mid-dump', () => {
  it('SIGKILL: the job is taken back within the stall window and completes on another worker; nothing partial is published', async () => {
    const first = await startWorker();
    const backup = await requestBackup(stack.ctx, {}, systemActor);
    await waitRunningWithProgress(backup.id);
    first.kill('SIGKILL');
    await once(first, 'exit');
    expect(await publishedFiles()).toEqual([]);
    const killedAt = Date.now();
    const second = await startWorker();
    const done = await eventually(async () => {
      const row = await rowOf(backup.id);
      return row.status === 'completed' || row.status === 'failed' ? row : undefined;
    }, 120_000, 'the backup to finish on the second worker');
    await stopWorker(second);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    // Taken back within the stall window (5 s lock + 5 s check), then dumped again.
    expect(done.startedAt!.getTime() - killedAt).toBeLessThan(20_000);
    const files = await publishedFiles();
    const database = files.find((f) => f.includes('database.dump'));
    expect(database).toBeDefined();
    expect(await sha256(database!)).toBe(done.checksumSha256);
    expect(files.every((f) => f.includes(backup.id))).toBe(true);
  });

  it('SIGTERM with no grace: the worker hands the job back and exits 0; another worker completes it', async () => {
    const worker = await startWorker({ SHUTDOWN_GRACE_SECONDS: '0' });
    const backup = await requestBackup(stack.ctx, {}, systemActor);
    await waitRunningWithProgress(backup.id);
    worker.kill('SIGTERM');
    const [code] = await once(worker, 'exit');
    expect(code).toBe(0);
    const handedBack = await rowOf(backup.id);
    expect(handedBack.status).toBe('running');
    expect(handedBack.errorMessage).toMatch(/worker stopped/);
    const other = await startWorker();
    const done = await eventually(async () => {
      const row = await rowOf(backup.id);
      return row.status === 'completed' || row.status === 'failed' ? row : undefined;
    }, 120_000);
    expect(done.status).toBe('completed');
    await stopWorker(other);
  });

  it('SIGTERM with time to spare: the running backup finishes, then the worker exits 0', async () => {
    const worker = await startWorker({ SHUTDOWN_GRACE_SECONDS: '120' });
    const backup = await requestBackup(stack.ctx, {}, systemActor);
    await waitRunningWithProgress(backup.id);
    worker.kill('SIGTERM');
    const [code] = await once(worker, 'exit');
    expect(code).toBe(0);
    const row = await rowOf(backup.id);
    expect(row.status).toBe('completed');
    expect(row.attempts).toBe(1);
  });
});
