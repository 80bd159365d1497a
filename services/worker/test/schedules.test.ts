// Configurations on schedules, retention and reconciliation, against real Redis and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { reconcile, requestBackup, runMaintenance, selectBeyondMaxBackups, syncAllSchedulers, systemActor } from '@coffre/shared';
import { createTestStack, clearRedisPrefix, eventually, type TestStack } from '../../../test/support/stack.js';
import { scheduleJob } from '@coffre/shared';

let stack: TestStack;
let auth: { Authorization: string };
let sourceId: string;

beforeAll(async () => {
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
});

afterAll(async () => {
  await stack?.close();
});

const configuration = (overrides: Record<string, unknown> = {}) => ({ name: `cfg-${Math.random().toString(36).slice(2, 8)}`, sourceId, ...overrides });

describe('validation of configurations', () => {
  it.each([
    [{ schedule: { kind: 'cron', cron: '61 * * * *' } }, /schedule\.cron/],
    [{ retention: { maxAgeDays: 0 } }, /retention\.maxAgeDays must be between 1 and 365 \(got 0\)/],
    [{ retention: { maxAgeDays: 366 } }, /retention\.maxAgeDays must be between 1 and 365 \(got 366\)/],
    [{ sourceId: '0195a3c1-7b2e-7c3d-8e4f-0123456789ab' }, /sourceId: there is no source/],
    [{ schedule: { kind: 'daily', time: '25:00' } }, /schedule\.time/],
    [{ typo: true }, /typo/],
  ])('%j gets a 400 with a sentence naming the field', async (body, message) => {
    const res = await request(stack.app).post('/api/configurations').set(auth).send(configuration(body));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });
});

describe('schedules', () => {
  it('an every-minute cron produces backups with trigger schedule at the minute', async () => {
    const created = await request(stack.app)
      .post('/api/configurations')
      .set(auth)
      .send(configuration({ schedule: { kind: 'cron', cron: '* * * * *', timezone: 'UTC' } }));
    expect(created.status).toBe(201);
    expect(created.body.scheduleDescription).toMatch(/\* \* \* \* \*/);
    expect(new Date(created.body.nextRunAt).getUTCSeconds()).toBe(0);
    const workers = stack.startWorkers();
    const backups = await eventually(async () => {
      const rows = await stack.ctx.db.backup.findMany({ where: { configurationId: created.body.id }, orderBy: { createdAt: 'asc' } });
      return rows.filter((r) => r.status === 'completed').length >= 2 ? rows : undefined;
    }, 200_000, 'two scheduled backups');
    for (const backup of backups) {
      expect(backup.trigger).toBe('schedule');
      // Created within seconds after a minute boundary.
      expect(backup.createdAt.getUTCSeconds()).toBeLessThan(15);
    }
    const gap = backups[1]!.createdAt.getTime() - backups[0]!.createdAt.getTime();
    expect(gap).toBeGreaterThan(45_000);
    expect(gap).toBeLessThan(75_000);
    await request(stack.app).post(`/api/configurations/${created.body.id}/deactivate`).set(auth).expect(200);
    const schedulers = await stack.ctx.queues.queue('backup').getJobSchedulers(0, -1);
    expect(schedulers.some((s) => s.key === `configuration-${created.body.id}`)).toBe(false);
    await workers.close(5000);
  }, 240_000);

  it('two workers starting at once leave exactly one scheduler per active configuration', async () => {
    if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: pnpm build');
    const ids: string[] = [];
    for (const [i, active] of [true, true, true, false].entries()) {
      const res = await request(stack.app)
        .post('/api/configurations')
        .set(auth)
        .send(configuration({ active, schedule: { kind: 'daily', time: `0${i}:30`, timezone: 'Europe/Paris' }, verifySchedule: i === 0 ? 'weekly' : 'none' }));
      ids.push(res.body.id);
    }
    // Lose the schedulers, and leave one of a configuration that no longer exists.
    const backupsQueue = stack.ctx.queues.queue('backup');
    for (const s of await backupsQueue.getJobSchedulers(0, -1)) await backupsQueue.removeJobScheduler(s.key);
    await scheduleJob(stack.ctx, 'configuration.scheduled', 'configuration-0195a3c1-7b2e-7c3d-8e4f-000000000000', { pattern: '0 1 * * *' }, { configurationId: '0195a3c1-7b2e-7c3d-8e4f-000000000000' });
    const children = [stack.spawnWorker(), stack.spawnWorker()];
    await Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
        if (out.includes('worker ready')) resolve();
      });
      child.once('exit', () => reject(new Error(out)));
    })));
    const schedulers = (await backupsQueue.getJobSchedulers(0, -1)).map((s) => s.key).sort();
    const active = await stack.ctx.db.backupConfiguration.findMany({ where: { active: true, scheduleKind: { not: 'manual' } } });
    expect(schedulers).toEqual(active.map((c) => `configuration-${c.id}`).sort());
    expect(schedulers).toContain(`configuration-${ids[0]}`);
    expect(schedulers).not.toContain(`configuration-${ids[3]}`);
    const verify = (await stack.ctx.queues.queue('restore').getJobSchedulers(0, -1)).map((s) => s.key);
    expect(verify).toEqual([`verify-${ids[0]}`]);
    const maintenance = await stack.ctx.queues.queue('maintenance').getJobSchedulers(0, -1);
    expect(maintenance.map((s) => s.key)).toEqual(['maintenance']);
    for (const child of children) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    // And once more from here: idempotent.
    await syncAllSchedulers(stack.ctx);
    expect((await backupsQueue.getJobSchedulers(0, -1)).map((s) => s.key).sort()).toEqual(schedulers);
  });
});

describe('retention', () => {
  it('keepLast 2 is applied as each run completes, without waiting for maintenance: the others lose their artifacts but keep their rows', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send(configuration({ retention: { keepLast: 2 } }));
    const workers = stack.startWorkers();
    const ids: string[] = [];
    const kept = () => stack.ctx.db.backup.count({ where: { configurationId: created.body.id, status: 'completed', deletedAt: null } });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await request(stack.app).post(`/api/configurations/${created.body.id}/run`).set(auth).expect(202);
        ids.push(res.body.id);
        await eventually(async () => (await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: res.body.id } })).status === 'completed', 60_000);
        // Right after each run (the worker applies it once the row is completed): never more than
        // keepLast backups kept, though the hourly sweep has not run.
        await eventually(async () => (await kept()) === Math.min(i + 1, 2), 10_000, `keepLast 2 to be applied after run ${i + 1}`);
      }
    } finally {
      await workers.close(5000);
    }
    // The maintenance run stays as a safety net: it finds nothing left to expire.
    const report = await runMaintenance(stack.ctx, {}, { logger: stack.ctx.logger });
    expect(report.retention.expired.filter((e) => ids.includes(e.backupId))).toEqual([]);
    const rows = await stack.ctx.db.backup.findMany({ where: { id: { in: ids } }, include: { artifacts: true }, orderBy: { createdAt: 'asc' } });
    for (const [i, row] of rows.entries()) {
      const expired = i < 2;
      expect({ i, deleted: row.deletedAt !== null }).toEqual({ i, deleted: expired });
      for (const artifact of row.artifacts) {
        expect(existsSync(join(stack.config.BACKUP_DIR, artifact.key))).toBe(!expired);
      }
    }
    const listed = await request(stack.app).get('/api/backups').query({ configurationId: created.body.id }).set(auth);
    expect(listed.body.total).toBe(2);
  });

  it('outside any configuration, MAX_BACKUPS newest completed backups are kept per source, as selectBeyondMaxBackups says', async () => {
    const other = await request(stack.app).post('/api/sources').set(auth)
      .send({ name: `max-${Math.random().toString(36).slice(2, 8)}`, url: stack.config.SOURCE_DATABASE_URL }).expect(201);
    const workers = stack.startWorkers();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const backup = await requestBackup(stack.ctx, { sourceId: other.body.id }, systemActor);
      ids.push(backup.id);
      await eventually(async () => (await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } })).status === 'completed', 60_000);
    }
    await workers.close(5000);
    const before = await stack.ctx.db.backup.findMany({ where: { sourceId: other.body.id } });
    const expected = selectBeyondMaxBackups(before, 2).map((b) => b.id);
    expect(expected).toEqual(ids.slice(0, 3));

    const report = await runMaintenance({ ...stack.ctx, config: { ...stack.config, MAX_BACKUPS: 2 } }, {}, { logger: stack.ctx.logger });
    expect(report.retention.expired.filter((e) => ids.includes(e.backupId)).map((e) => e.backupId)).toEqual(expected);
    const after = await stack.ctx.db.backup.findMany({ where: { id: { in: ids } }, include: { artifacts: true }, orderBy: { createdAt: 'asc' } });
    expect(after.map((row) => row.deletedAt !== null)).toEqual([true, true, true, false, false]);
    for (const row of after) {
      for (const artifact of row.artifacts) expect(existsSync(join(stack.config.BACKUP_DIR, artifact.key))).toBe(row.deletedAt === null);
    }
  });
});

describe('reconciliation', () => {
  it('Redis emptied while backups are pending: after reconciliation every one runs; none is lost', async () => {
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(await requestBackup(stack.ctx, { name: `lost-${i}` }, systemActor));
    // Redis restarted empty, as far as this installation's keys go.
    await clearRedisPrefix(stack.config.QUEUE_PREFIX);
    expect(await stack.ctx.queues.queue('backup').getJob(`backup-${pending[0]!.id}`)).toBeUndefined();
    const report = await reconcile(stack.ctx, { pendingGraceMs: 0 });
    expect(report.requeuedPending.map((r) => r.id).sort()).toEqual(pending.map((p) => p.id).sort());
    const workers = stack.startWorkers();
    const rows = await eventually(async () => {
      const all = await stack.ctx.db.backup.findMany({ where: { id: { in: pending.map((p) => p.id) } } });
      return all.every((r) => r.status === 'completed' || r.status === 'failed') ? all : undefined;
    }, 120_000);
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('completed'));
    await workers.close(5000);
  });

  it('a running row whose job is gone is marked failed with "worker lost"', async () => {
    const backup = await requestBackup(stack.ctx, { name: 'orphan-run' }, systemActor);
    await stack.ctx.db.backup.update({ where: { id: backup.id }, data: { status: 'running', startedAt: new Date() } });
    await stack.ctx.queues.queue('backup').remove(`backup-${backup.id}`);
    const report = await reconcile(stack.ctx);
    expect(report.failedRunning.map((r) => r.id)).toContain(backup.id);
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(row.status).toBe('failed');
    expect(row.errorMessage).toMatch(/^Worker lost/);
  });
});
