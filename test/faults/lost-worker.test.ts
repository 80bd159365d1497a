// The only worker SIGKILLed in the middle of a backup. Its job still looks active in Redis, so the
// queue alone cannot tell; its heartbeat can: as soon as it lapses, `coffre cleanup stuck --dry-run`
// and `coffre doctor` name the run lost and the worker gone (not after STUCK_AFTER_HOURS, not at the
// next worker start), and `coffre cleanup stuck` fails the run and removes the .part file it left.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestBackup, systemActor, TEMP_DIR_NAME } from '@coffre/shared';
import { createDatabase, withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { childrenNamed, quickly, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { privateHome, removePrivateHomes, runCli } from '../../services/cli/test/support/cli.js';

let stack: TestStack;
let home: string;
let worker: WorkerProcess | null = null;

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: pnpm build (the test runs the built worker and CLI)');
  const source = await createDatabase('coffre_lost_src');
  // About 150 MB: a dump of a few seconds, long enough to kill its worker in the middle.
  await withClient(source.url, (c) =>
    c.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || repeat('z', 40) AS body FROM generate_series(1, 1500000) g"),
  );
  stack = await createTestStack({ sourceUrl: source.url, env: { STALL_SECONDS: '5' } });
  home = privateHome();
});

afterAll(async () => {
  await worker?.crash();
  removePrivateHomes();
  await stack?.close();
});

const coffre = async (args: string[]) => {
  const result = await runCli(args, { env: { ...stack.env, HOME: home } });
  return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
};
const doctorCheck = (report: Record<string, unknown>, id: string) => (report.checks as { id: string; status: string; message: string; details: Record<string, unknown> }[]).find((c) => c.id === id)!;
const partFiles = async () => (await readdir(join(stack.config.BACKUP_DIR, TEMP_DIR_NAME)).catch(() => [] as string[])).filter((name) => name.endsWith('.part'));

describe('a worker killed in the middle of a backup, with no other worker', () => {
  it('doctor names the worker alive while it runs', async () => {
    worker = await startWorkerProcess(stack);
    const workers = doctorCheck((await coffre(['doctor', '--json'])).json(), 'workers');
    expect(workers.status).toBe('ok');
    expect(workers.message).toMatch(new RegExp(`^1 worker\\(s\\) alive: \\S+ pid ${worker.pid}\\.$`));
  });

  it('its run is seen lost from the missing heartbeat; cleanup stuck fails it and removes its .part file', async () => {
    const backup = await requestBackup(stack.ctx, {}, systemActor);
    await quickly(async () => (await childrenNamed(worker!.pid, 'pg_dump'))[0], 30_000, 'pg_dump to start in the worker');
    await quickly(async () => (await partFiles()).length > 0, 30_000, 'the unfinished upload to appear');
    await worker!.crash();
    const killedAt = Date.now();
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } })).status).toBe('running');
    // BullMQ still holds the job as active: only the heartbeat says its worker is gone.
    expect(await (await stack.ctx.queues.queue('backup').getJob(`backup-${backup.id}`))!.getState()).toBe('active');

    const dryRun = await eventually(async () => {
      const report = (await coffre(['cleanup', 'stuck', '--dry-run', '--json'])).json();
      const lost = (report.lostWorker as { id: string; reason: string }[]).find((r) => r.id === backup.id);
      return lost ? lost : undefined;
    }, 60_000, 'cleanup stuck --dry-run to name the run lost');
    expect(Date.now() - killedAt).toBeLessThan(45_000);
    expect(dryRun.reason).toMatch(/^Worker lost: worker \S+ stopped sending heartbeats, and no worker is alive to take the backup over\.$/);
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } })).status).toBe('running');

    // Its .part counts as left by a dead run once untouched for a heartbeat's lifetime too.
    const doctor = await eventually(async () => {
      const report = (await coffre(['doctor', '--json'])).json();
      return doctorCheck(report, 'stale-temporaries').status === 'warn' ? report : undefined;
    }, 30_000, 'doctor to see the .part file of the dead run');
    expect(doctorCheck(doctor, 'stuck-runs')).toMatchObject({ status: 'warn', message: expect.stringContaining(`backup ${backup.id}`) });
    expect(doctorCheck(doctor, 'workers')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^No worker is alive/) });
    const temporaries = doctorCheck(doctor, 'stale-temporaries');
    expect(temporaries.status).toBe('warn');
    expect(temporaries.message).toMatch(/whose worker is dead \(no heartbeat\)/);

    const cleanup = await coffre(['cleanup', 'stuck']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(row.status).toBe('failed');
    expect(row.errorMessage).toMatch(/^Worker lost: worker \S+ stopped sending heartbeats, and no worker is alive to take the backup over\.$/);
    expect(await partFiles()).toEqual([]);
  });
});
