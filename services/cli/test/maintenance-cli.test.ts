// coffre cleanup stuck, coffre storage reconcile and doctor's stuck-runs check, run where coffre runs
// (its environment), against rows, queue jobs and files made to look like what dead runs leave.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_TAG, TEMP_DIR_NAME } from '@coffre/shared';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { startWorkers } from '../../worker/src/workers.js';
import { handlers } from '../../worker/src/handlers.js';
import { privateHome, removePrivateHomes, runCli } from './support/cli.js';
import { enqueue } from '@coffre/shared';

let stack: TestStack;
let home: string;

beforeAll(async () => {
  stack = await createTestStack();
  home = privateHome();
});

afterAll(async () => {
  removePrivateHomes();
  await stack?.close();
});

const coffre = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...stack.env, HOME: home, ...extra } });

/** A backup row that says `running` since `minutesAgo`; with a queued job (a worker may yet take it) or without (its worker is gone). */
async function runningBackup(minutesAgo: number, withJob: boolean) {
  const source = await stack.ctx.db.source.findFirstOrThrow();
  const startedAt = new Date(Date.now() - minutesAgo * 60_000);
  const row = await stack.ctx.db.backup.create({
    data: { name: `running-${randomUUID().slice(0, 8)}`, type: 'full', status: 'running', trigger: 'manual', sourceId: source.id, sourceName: source.name, startedAt, createdAt: startedAt },
  });
  if (withJob) await enqueue(stack.ctx, 'backup.run', { backupId: row.id });
  return row.id;
}

const statusOf = async (id: string) => stack.ctx.db.backup.findUniqueOrThrow({ where: { id }, select: { status: true, errorMessage: true } });

describe('coffre cleanup stuck', () => {
  it('--dry-run lists the run whose worker is gone and the one over the limit, and changes nothing', async () => {
    const lost = await runningBackup(60, false);
    const long = await runningBackup(180, true);
    const young = await runningBackup(10, true);
    const result = await coffre(['cleanup', 'stuck', '--hours', '2', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.lostWorker.map((r: { id: string }) => r.id)).toContain(lost);
    expect(report.overLimit.map((r: { id: string }) => r.id)).toEqual([long]);
    expect(report.overLimit.map((r: { id: string }) => r.id)).not.toContain(young);
    for (const id of [lost, long, young]) expect((await statusOf(id)).status).toBe('running');
  });

  it('fails the run whose worker is gone and the one running longer than --hours; a younger one keeps running', async () => {
    const lost = await runningBackup(60, false);
    const long = await runningBackup(180, true);
    const young = await runningBackup(10, true);
    const result = await coffre(['cleanup', 'stuck', '--hours', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(long);
    expect(result.stdout).toMatch(/Marked \d+ stuck run\(s\) failed/);
    expect(await statusOf(lost)).toMatchObject({ status: 'failed', errorMessage: expect.stringMatching(/Worker lost/) });
    expect(await statusOf(long)).toMatchObject({ status: 'failed', errorMessage: expect.stringMatching(/Marked failed by coffre cleanup stuck: it had been running since .* more than 2 h/) });
    expect((await statusOf(young)).status).toBe('running');
  });

  it('says so and exits 1 when Redis does not answer, changing nothing', async () => {
    const lost = await runningBackup(60, false);
    const result = await coffre(['cleanup', 'stuck'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Redis does not answer/);
    expect((await statusOf(lost)).status).toBe('running');
  });
});

describe('coffre cleanup stuck: temporaries', () => {
  it('removes at once what a dead worker left (its process sends no heartbeat), and keeps what a live worker writes', async () => {
    const folder = join(stack.config.BACKUP_DIR, TEMP_DIR_NAME);
    await mkdir(folder, { recursive: true });
    const minuteAgo = new Date(Date.now() - 60_000);
    // Named as coffre names temporaries: <process tag>.<uuid>.part; the dead one by a process that is gone.
    const dead = `deadhost-4242-a1b2c3.${randomUUID()}.part`;
    const live = `${PROCESS_TAG}.${randomUUID()}.part`;
    const unknown = `${randomUUID()}.part`;
    for (const name of [dead, live, unknown]) {
      await writeFile(join(folder, name), 'half an upload');
      await utimes(join(folder, name), minuteAgo, minuteAgo);
    }
    // A worker in this process (on a queue with nothing to do): this process beats, its temporaries belong to a live run.
    const workers = startWorkers(stack.ctx, handlers, { concurrency: 1, stallSeconds: stack.config.STALL_SECONDS, workerId: 'temporaries-test', queues: ['maintenance'] });
    try {
      const result = await coffre(['cleanup', 'stuck']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/removed [1-9]\d* stale temporary file\(s\)/);
    } finally {
      await workers.close(5000);
    }
    const left = await readdir(folder);
    expect(left).not.toContain(dead);
    expect(left).toContain(live);
    // A name of no process (an older coffre's) goes by age only: 6 h.
    expect(left).toContain(unknown);
  });
});

describe('coffre doctor: stuck runs', () => {
  it('warns about a run whose worker is gone; --fix fails it through reconciliation and leaves a live one to cleanup', async () => {
    const lost = await runningBackup(30, false);
    const long = await runningBackup(180, true);
    const env = { STUCK_AFTER_HOURS: '2' };
    const before = JSON.parse((await coffre(['doctor', '--json'], env)).stdout);
    const stuck = before.checks.find((c: { id: string }) => c.id === 'stuck-runs');
    expect(stuck.status).toBe('warn');
    expect(stuck.message).toContain(`backup ${lost}`);
    expect(stuck.message).toContain(`backup ${long}`);

    const after = JSON.parse((await coffre(['doctor', '--json', '--fix'], env)).stdout);
    const fixed = after.checks.find((c: { id: string }) => c.id === 'stuck-runs');
    expect(fixed.fixed).toMatch(/marked \d+ lost run\(s\) failed/);
    expect((await statusOf(lost)).status).toBe('failed');
    // A run a worker may still hold is not failed by --fix: that is cleanup stuck's decision.
    expect((await statusOf(long)).status).toBe('running');
    expect(fixed.status).toBe('warn');
    expect(fixed.fix).toContain('coffre cleanup stuck --hours 2');
  });
});

describe('coffre storage reconcile', () => {
  it('reports an orphan object and a missing one; --dry-run changes nothing; --fix-orphans --fix-missing repairs both', async () => {
    const destination = await stack.ctx.db.destination.findUniqueOrThrow({ where: { name: 'local' } });
    const orphanKey = `${randomUUID()}/database.dump.zst`;
    const orphanPath = join(stack.config.BACKUP_DIR, orphanKey);
    await mkdir(join(orphanPath, '..'), { recursive: true });
    await writeFile(orphanPath, 'left by nobody');
    // Files coffre never writes (found by an attacker: a destination's other files were deleted as orphans).
    const foreign = [join(stack.config.BACKUP_DIR, 'authorized_keys'), join(stack.config.BACKUP_DIR, 'notes', 'readme.txt')];
    await mkdir(join(stack.config.BACKUP_DIR, 'notes'), { recursive: true });
    for (const path of foreign) await writeFile(path, 'not coffre\'s');
    const source = await stack.ctx.db.source.findFirstOrThrow();
    const gone = await stack.ctx.db.backup.create({
      data: { name: 'lost-objects', type: 'full', status: 'completed', trigger: 'manual', sourceId: source.id, sourceName: source.name, completedAt: new Date() },
    });
    await stack.ctx.db.backupArtifact.create({
      data: { backupId: gone.id, destinationId: destination.id, kind: 'database', key: `${gone.id}/database.dump.zst`, sizeBytes: 10n, checksumSha256: 'a'.repeat(64) },
    });

    const dry = await coffre(['storage', 'reconcile', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report.orphanObjects.map((o: { key: string }) => o.key)).toEqual([orphanKey]);
    expect(report.foreignObjects).toBe(2);
    expect(report.missingObjects.map((o: { backupId: string }) => o.backupId)).toEqual([gone.id]);
    expect((await stat(orphanPath)).isFile()).toBe(true);
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: gone.id } })).deletedAt).toBeNull();

    const reportOnly = await coffre(['storage', 'reconcile']);
    expect(reportOnly.stdout).toContain(orphanKey);
    expect(reportOnly.stderr).toMatch(/pass --fix-orphans and\/or --fix-missing/);
    expect((await stat(orphanPath)).isFile()).toBe(true);

    const fixed = await coffre(['storage', 'reconcile', '--fix-orphans', '--fix-missing']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/1 orphan object\(s\) \(1 deleted\), 1 missing object\(s\) \(1 marked deleted\)/);
    await expect(stat(orphanPath)).rejects.toThrow();
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: gone.id } })).deletedAt).not.toBeNull();
    expect(fixed.stdout).toMatch(/2 object\(s\) coffre did not write were left alone/);
    for (const path of foreign) expect((await stat(path)).isFile()).toBe(true);
    for (const path of foreign) await rm(path, { force: true });
  });
});
