// A queue that survives losing its Redis: REDIS_URL names three sentinels watching a primary and its
// replica (Debian's redis-server and redis-sentinel on loopback ports of the test's own). The primary
// is killed (SIGKILL), then in a second scenario demoted by SENTINEL FAILOVER, while a backup dumps
// and two more wait in the queue; the sentinels promote the replica, and the API (in this process, Bull Board included), a worker process and the CLI follow it
// by themselves: no job is lost, no row stays running, and later backups complete.
import { existsSync } from 'node:fs';
import request from 'supertest';
import { reachedRedisAddress, reconcile } from '@coffre/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { childrenNamed, quickly, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.js';
import { privateHome, removePrivateHomes, runCli } from '../../services/cli/test/support/cli.js';

let group: SentinelGroup;
let stack: TestStack;
let worker: WorkerProcess;
const auth = () => ({ Authorization: `Bearer ${stack.adminToken}` });

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: pnpm -s build (the test runs the built worker and CLI)');
  group = await startSentinelGroup();
  // A source whose dump lasts a few seconds, so that the primary dies in the middle of it (dropped with the stack).
  const source = await createDatabase('coffre_failover');
  await withClient(source.url, (c) =>
    c.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || repeat('z', 40) AS body FROM generate_series(1, 1200000) g"),
  );
  // STALL_SECONDS at its default (30 s): a worker's lock outlives a failover of a few seconds.
  stack = await createTestStack({ sourceUrl: source.url, env: { REDIS_URL: group.url, STALL_SECONDS: '30', WORKER_CONCURRENCY: '1' } });
  worker = await startWorkerProcess(stack);
});

afterAll(async () => {
  removePrivateHomes();
  await worker?.crash();
  await stack?.close();
  await group?.close();
});

function backup() {
  return request(stack.app).post('/api/backups').set(auth()).send({});
}

async function settled(id: string, timeoutMs = 90_000) {
  return eventually(async () => {
    const row = await stack.ctx.db.backup.findUnique({ where: { id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : undefined;
  }, timeoutMs, `backup ${id} to finish`).catch(async (error: Error) => {
    const row = await stack.ctx.db.backup.findUnique({ where: { id } });
    const state = await stack.ctx.queues.queue('backup').getJobState(`backup-${id}`).catch((e: Error) => e.message);
    throw new Error(`${error.message}; row ${row?.status} (attempts ${row?.attempts}), job ${state}; the worker: ${worker.output().slice(-4000)}`);
  });
}

describe('a failover in the middle of a backup', () => {
  let killed = 0;

  it('the primary killed (SIGKILL): the sentinels promote the replica; the backup under way and the two queued complete, no row stays running, and a new backup completes', async () => {
    await failoverMidBackup('killed', async () => (killed = await group.killPrimary()));
  });

  it('a failover asked of the sentinels (SENTINEL FAILOVER: the primary demoted to replica, not killed): the same', async () => {
    // The server killed above comes back empty; the sentinels make it a replica of the new primary.
    await group.restartAsReplica(killed);
    await failoverMidBackup('demoted', () => group.failover());
  });
});

/** Backs up while `failover` (which returns the old primary's port) replaces the primary, then checks that nothing was lost. */
async function failoverMidBackup(how: string, failover: () => Promise<number>) {
  const startedAt = Date.now();
  const firstPrimary = await group.primaryPort();
  const before = await stack.ctx.db.backup.count({ where: { status: 'completed' } });
  const running = await backup();
  expect(running.status).toBe(202);
  await quickly(async () => (await childrenNamed(worker.pid, 'pg_dump'))[0], 60_000, 'pg_dump to start in the worker');
  const queued = [await backup(), await backup()];
  expect(queued.map((r) => r.status)).toEqual([202, 202]);
  // The queued jobs are in the replica before the primary goes (replication is asynchronous).
  const ids = [running, ...queued].map((r) => `backup-${r.body.id}`);
  await eventually(async () => (await stack.ctx.queues.queue('backup').getWaitingCount()) === 2, 10_000, 'both queued jobs to wait');
  // Replication is asynchronous: the test waits until the replica has them, as an operator cannot.
  expect(await stack.ctx.queues.redis.call('WAIT', '1', '5000')).toBe(1);

  const failedOverAt = Date.now();
  const old = await failover();
  expect(old).toBe(firstPrimary);
  expect((await childrenNamed(worker.pid, 'pg_dump')).length).toBe(1); // the dump is still under way
  const promoted = await group.waitForPromotion(old);
  const failoverMs = Date.now() - failedOverAt;
  // The API follows the sentinels to the new primary: it queues again.
  let refusal = '';
  const later = await eventually(async () => {
    const res = await backup();
    refusal = `${res.status} ${JSON.stringify(res.body)} (connection ${stack.ctx.queues.redis.status})`;
    return res.status === 202 ? res : undefined;
  }, 30_000, 'the API to queue a backup on the new primary').catch((error: Error) => {
    throw new Error(`${error.message}; its last answer: ${refusal}`);
  });
  const apiBackMs = Date.now() - failedOverAt;

  // What maintenance does every hour: a row whose job Redis lost is queued again, a running row whose job
  // is gone is failed. A demoted primary may have acknowledged writes (a job added, a job completed) in the
  // moment between the replica's promotion and its own demotion: Redis drops them, the history keeps the row.
  await eventually(async () => reachedRedisAddress(stack.ctx.queues.redis) === `127.0.0.1:${promoted}` && (await stack.ctx.queues.redis.ping()) === 'PONG', 30_000, "the API's connection to reach the new primary");
  const report = await reconcile(stack.ctx, { pendingGraceMs: 0 });
  expect(report.failedRunning).toEqual([]);
  if (how === 'killed') expect(report.requeuedPending).toEqual([]); // everything acknowledged before the kill was replicated

  for (const r of [running, ...queued, later]) {
    const row = await settled(r.body.id);
    expect({ id: r.body.id, status: row.status, error: row.errorMessage }).toEqual({ id: r.body.id, status: 'completed', error: null });
  }
  // The backup under way was not taken back and run twice: its one attempt completed.
  expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: running.body.id } })).attempts).toBe(1);
  expect(await stack.ctx.db.backup.count({ where: { status: { in: ['running', 'pending'] } } })).toBe(0);
  // Every job ends completed on the new primary, none waiting, active or failed. A completion the demoted
  // primary acknowledged and Redis dropped leaves its job active: BullMQ's stall check takes it back once its
  // lock lapses (STALL_SECONDS), and the handler finds its row finished ("nothing to do").
  const q = stack.ctx.queues.queue('backup');
  const allIds = [...ids, `backup-${later.body.id}`];
  const states = async () => Promise.all(allIds.map(async (id) => ({ id, state: await q.getJobState(id) })));
  // The backup queued in the moment of a demotion may also have run to its end on the demoted primary
  // before Redis dropped its writes: its row is completed (it ran once) and its job is gone from Redis.
  const settledJob = (j: { id: string; state: string }) => j.state === 'completed' || (how !== 'killed' && j.id === `backup-${later.body.id}` && j.state === 'unknown');
  await eventually(async () => (await states()).every(settledJob), 120_000, 'every job to be completed').catch(async (error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(await states())}`);
  });
  expect(await q.getJobCounts('waiting', 'active', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, failed: 0, delayed: 0 });
  expect(worker.child.exitCode).toBeNull();

  // Bull Board reads the same queues through the new primary.
  const board = await request(stack.app).get('/admin/queues/api/queues').set(auth());
  expect(board.status).toBe(200);
  const backupQueue = (board.body.queues as { name: string; counts: Record<string, number> }[]).find((x) => x.name === 'backup');
  expect(backupQueue?.counts.completed).toBe(before + (await states()).filter((j) => j.state === 'completed').length);
  expect((await request(stack.app).get('/api/health').set(auth())).status).toBe(200);

  // doctor (the CLI, its own process) names the primary the sentinels gave it.
  const doctor = await runCli(['doctor', '--json'], { env: { ...stack.env, HOME: privateHome() } });
  const redisCheck = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((c) => c.id === 'redis');
  expect(redisCheck).toMatchObject({ status: 'ok', message: `Redis at ${group.url} answers (PONG, the primary the sentinels named is 127.0.0.1:${promoted}).` });

  console.log(
    `failover (primary ${how}): the sentinels named the replica ${failoverMs} ms after; the API queued again after ${apiBackMs} ms; ` +
      `requeued by reconciliation: ${report.requeuedPending.length} (${report.requeuedPending.map((r) => (r.id === later.body.id ? 'the backup queued just after' : r.id)).join(', ')}); ` +
      `scenario ${Date.now() - startedAt} ms`,
  );
}
