// No worker while an every-minute configuration is due: its first firing waits in the queue and the
// next ones never get a job (BullMQ schedules the next firing only when a worker takes one). When
// workers come back — two at once — the firings no worker ran are recorded as failed rows that say
// so, one notification tells it, exactly one catch-up backup runs, and /api/health names the workers.
import { existsSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, createConfiguration, nextRunAt, scheduleFromColumns, setConfigurationActive, systemActor } from '@coffre/shared';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

let stack: TestStack;
let receiver: HttpReceiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: pnpm build (the test runs the built worker)');
  receiver = await startHttpReceiver();
  stack = await createTestStack({ env: { STALL_SECONDS: '5' } });
  await createChannel(stack.ctx, { name: 'ops', kind: 'webhook', url: receiver.url('/hooks/ops'), events: ['backup.failed'] }, systemActor);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.crash()));
  await stack?.close();
  await receiver?.stop();
});

const minute = 60_000;
const hhmm = (at: Date) => at.toISOString().slice(0, 16).replace('T', ' ');

describe('firings while no worker runs', () => {
  it('are recorded as failed rows saying no worker ran them, notified once, and followed by exactly one catch-up backup', async () => {
    const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    const configuration = await createConfiguration(stack.ctx, { name: 'every-minute', sourceId, schedule: { kind: 'cron', cron: '* * * * *', timezone: 'UTC' } }, systemActor);
    const row = await stack.ctx.db.backupConfiguration.findUniqueOrThrow({ where: { id: configuration.id } });
    const first = nextRunAt(scheduleFromColumns(row), new Date())!;
    const second = new Date(first.getTime() + minute);
    // No worker at either firing: wait (by the clock) until the second one is past.
    await eventually(async () => Date.now() > second.getTime() + 2_000, 3 * minute, 'the second firing to pass');

    const back = await Promise.all([startWorkerProcess(stack), startWorkerProcess(stack)]);
    workers.push(...back);
    const restartedAt = new Date();
    const next = nextRunAt(scheduleFromColumns(row), restartedAt)!;

    const health = await request(stack.app).get('/api/health').set('Authorization', `Bearer ${stack.adminToken}`);
    expect(health.body.workers.alive).toBe(2);
    expect(health.body.workers.items.map((w: { pid: number }) => w.pid).sort()).toEqual(back.map((w) => w.pid).sort());

    const catchUp = await eventually(async () => {
      const rows = await stack.ctx.db.backup.findMany({ where: { configurationId: configuration.id, status: { not: 'failed' } } });
      return rows.length > 0 && rows.every((r) => r.status === 'completed') ? rows : undefined;
    }, 60_000, 'the catch-up backup to complete');
    await setConfigurationActive(stack.ctx, configuration.id, false, systemActor);
    expect(catchUp).toHaveLength(1);
    expect(catchUp[0]!.trigger).toBe('schedule');
    expect(catchUp[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(restartedAt.getTime() - 1_000);
    expect(catchUp[0]!.createdAt.getTime()).toBeLessThan(next.getTime());

    const missed = await stack.ctx.db.backup.findMany({ where: { configurationId: configuration.id, status: 'failed' }, orderBy: { createdAt: 'asc' } });
    // Every firing from the first to the restart; none after it.
    const expected: Date[] = [];
    for (let at = first; at <= restartedAt; at = new Date(at.getTime() + minute)) expected.push(at);
    expect(missed.map((m) => m.createdAt.toISOString())).toEqual(expected.map((at) => at.toISOString()));
    for (const [i, m] of missed.entries()) {
      expect(m.trigger).toBe('schedule');
      expect(m.errorMessage).toMatch(new RegExp(`^No worker ran this scheduled backup at ${hhmm(expected[i]!)} UTC: no worker was running, or none was free, until .+\\. One catch-up backup was started at .+\\.$`));
    }

    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/ops');
    expect(hit!.json).toMatchObject({ event: 'backup.failed', title: expect.stringMatching(new RegExp(`^Configuration "every-minute" missed ${expected.length} scheduled backup\\(s\\): no worker ran those from ${hhmm(first)} UTC`)) });
    expect(await stack.ctx.db.notificationDelivery.count({ where: { event: 'backup.failed' } })).toBe(1);
  });
});
