// The things coffre stands on failing under it: Redis restarted empty mid-queue, coffre's own
// PostgreSQL stopped and started during a backup, the backup directory full. Each gives a sentence
// an operator can act on, leaves no partial file, and the running services (a worker process and the
// API) recover by themselves: a later backup completes without restarting anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { reconcile } from '@coffre/shared';
import { adminQuery, createDatabase, withClient } from '../support/pg.js';
import { databaseUrl, uniqueName } from '../support/env.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { auditArtifacts } from '../support/artifact-audit.js';
import { childrenNamed, quickly, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.js';

/** A database whose dump lasts a few seconds (long enough to pull something away in the middle of
 * it), kept as a template: each scenario backs up its own copy, dropped with the scenario's stack. */
const SLOW_TEMPLATE = uniqueName('coffre_infra_slow_tpl');

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: npx tsc -b (the test runs the built worker)');
  await adminQuery(`CREATE DATABASE ${SLOW_TEMPLATE}`);
  await withClient(databaseUrl(SLOW_TEMPLATE), (c) =>
    c.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || repeat('z', 40) AS body FROM generate_series(1, 1200000) g"),
  );
});

afterAll(async () => {
  await adminQuery(`DROP DATABASE IF EXISTS ${SLOW_TEMPLATE} WITH (FORCE)`);
});

async function slowSource(): Promise<string> {
  return (await createDatabase('coffre_infra_slow', SLOW_TEMPLATE)).url;
}

interface Harness {
  stack: TestStack;
  worker: WorkerProcess;
  auth: { Authorization: string };
}

async function backupThroughApi(h: Harness, body: object = {}) {
  return request(h.stack.app).post('/api/backups').set(h.auth).send(body);
}

async function settled(h: Harness, id: string, timeoutMs = 90_000) {
  return eventually(async () => {
    const row = await h.stack.ctx.db.backup.findUnique({ where: { id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : undefined;
  }, timeoutMs, `backup ${id} to finish`);
}

async function dumping(h: Harness, backupId: string) {
  await quickly(async () => (await childrenNamed(h.worker.pid, 'pg_dump'))[0], 30_000, 'pg_dump to start in the worker').catch(async (error: Error) => {
    const row = await h.stack.ctx.db.backup.findUnique({ where: { id: backupId } });
    throw new Error(`${error.message}; the row: ${JSON.stringify({ status: row?.status, error: row?.errorMessage })}; the worker: ${h.worker.output().slice(-3000)}`);
  });
}

async function expectNothingPartial(h: Harness) {
  const audit = await auditArtifacts(h.stack.ctx, h.stack.config.BACKUP_DIR);
  expect(audit.mismatches).toEqual([]);
  expect(audit.strayFiles).toEqual([]);
  expect(audit.temporaryFiles.filter((f) => f.endsWith('.part'))).toEqual([]);
}

describe('Redis restarted empty mid-queue', () => {
  let redis: RedisServer;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedisServer();
    const stack = await createTestStack({ sourceUrl: await slowSource(), env: { REDIS_URL: redis.url, STALL_SECONDS: '5', WORKER_CONCURRENCY: '1' } });
    h = { stack, worker: await startWorkerProcess(stack), auth: { Authorization: `Bearer ${stack.adminToken}` } };
  });

  afterAll(async () => {
    await h?.worker.crash();
    await h?.stack.close();
    await redis?.close();
  });

  it('while it is down the API answers 503 with a sentence; afterwards queued rows are requeued, and new backups complete without restarting anything', async () => {
    const running = await backupThroughApi(h);
    expect(running.status).toBe(202);
    await dumping(h, running.body.id);
    const queued = [await backupThroughApi(h), await backupThroughApi(h)];
    expect(queued.map((r) => r.status)).toEqual([202, 202]);

    await redis.stop();
    const refused = await backupThroughApi(h);
    expect(refused.status).toBe(503);
    expect(refused.body.error.message).toMatch(/^The job queue \(Redis\) is unavailable, so the job could not be queued/);
    // The row it had written says so rather than waiting forever as pending.
    const refusedRow = await h.stack.ctx.db.backup.findFirstOrThrow({ where: { status: 'failed' }, orderBy: { createdAt: 'desc' } });
    expect(refusedRow.errorMessage).toMatch(/^The backup could not be queued: The job queue \(Redis\) is unavailable/);
    // Anonymous callers see the status at once (the API's connection knows); a token shows which check failed.
    expect((await request(h.stack.app).get('/api/health')).body).toEqual({ status: 'degraded' });
    const health = await request(h.stack.app).get('/api/health').set(h.auth);
    expect(health.status).toBe(503);
    expect(health.body.checks.redis.ok).toBe(false);

    await redis.start();
    // The dump under way needed Redis for nothing essential: it completes.
    const first = await settled(h, running.body.id);
    expect({ status: first.status, error: first.errorMessage }).toEqual({ status: 'completed', error: null });
    // The queued rows lost their jobs with Redis: reconciliation (the maintenance run) queues them again.
    const report = await reconcile(h.stack.ctx, { pendingGraceMs: 0 });
    expect(report.requeuedPending.map((r) => r.id).sort()).toEqual(queued.map((r) => r.body.id).sort());
    expect(report.failedRunning).toEqual([]);
    for (const r of queued) expect((await settled(h, r.body.id)).status).toBe('completed');

    // Nothing was restarted: the same worker process and the same API take a new backup.
    const later = await backupThroughApi(h);
    expect(later.status).toBe(202);
    expect((await settled(h, later.body.id)).status).toBe('completed');
    expect(h.worker.child.exitCode).toBeNull();
    expect((await request(h.stack.app).get('/api/health')).status).toBe(200);
    await expectNothingPartial(h);
  });

  it("the worker puts the job schedulers back (maintenance and configurations') once Redis is back", async () => {
    const sourceId = (await h.stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    const created = await request(h.stack.app)
      .post('/api/configurations')
      .set(h.auth)
      .send({ name: 'hourly-through-restart', sourceId, schedule: { kind: 'hourly', time: '05', timezone: 'UTC' } });
    expect(created.status).toBe(201);
    const schedulers = async () => (await h.stack.ctx.queues.queue('backup').getJobSchedulers(0, -1)).map((s) => s.key);
    expect(await schedulers()).toContain(`configuration-${created.body.id}`);
    await redis.stop();
    await redis.start();
    await eventually(async () => (await schedulers()).includes(`configuration-${created.body.id}`), 30_000, 'the configuration scheduler to be back');
    const maintenance = await h.stack.ctx.queues.queue('maintenance').getJobSchedulers(0, -1);
    expect(maintenance.map((s) => s.key)).toContain('maintenance');
  });
});

describe("coffre's own PostgreSQL stopped and started during a backup", () => {
  let cluster: PostgresCluster;
  let h: Harness;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    const metadataUrl = cluster.createMetadataDatabase('coffre_meta');
    const stack = await createTestStack({ sourceUrl: await slowSource(), env: { DATABASE_URL: metadataUrl, STALL_SECONDS: '5', WORKER_CONCURRENCY: '1' } });
    h = { stack, worker: await startWorkerProcess(stack), auth: { Authorization: `Bearer ${stack.adminToken}` } };
  });

  afterAll(async () => {
    await h?.worker.crash();
    await h?.stack.close().catch(() => {});
    await cluster?.destroy();
  });

  it('the API says the database is unavailable; the interrupted backup is retried and completes, and a later one too, without restarting anything', async () => {
    const running = await backupThroughApi(h);
    expect(running.status).toBe(202);
    await dumping(h, running.body.id);
    cluster.stop();
    try {
      const refused = await backupThroughApi(h);
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: 'database_unavailable', message: expect.stringMatching(/^coffre's database \(DATABASE_URL\) cannot be reached/) });
      // Anonymous: a status only (a token could not even be checked without the database).
      const health = await request(h.stack.app).get('/api/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'degraded' });
      // The dump itself reads the source, on another server: it runs to its end, then cannot record itself.
      await quickly(async () => (await childrenNamed(h.worker.pid, 'pg_dump')).length === 0, 60_000, 'pg_dump to finish');
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      cluster.start();
    }
    const first = await settled(h, running.body.id, 120_000);
    expect(first.status).toBe('completed');
    expect(first.attempts).toBe(2);
    // The first attempt could not record anything; the worker's log says why.
    expect(h.worker.output()).toMatch(/Can't reach database server at 127\.0\.0\.1:\d+/);
    const later = await backupThroughApi(h);
    expect(later.status).toBe(202);
    expect((await settled(h, later.body.id)).status).toBe('completed');
    expect(h.worker.child.exitCode).toBeNull();
    expect((await request(h.stack.app).get('/api/health')).status).toBe(200);
    await expectNothingPartial(h);
  });
});

describe('a full backup directory', () => {
  let disk: Tmpfs;
  let h: Harness;

  beforeAll(async () => {
    if (!canMountTmpfs()) throw new Error('this test mounts a small tmpfs as BACKUP_DIR: run it as root');
    disk = await mountTmpfs(4 << 20);
    const bulky = await createDatabase('coffre_infra_bulky');
    // ~13 MB of bytes zstd cannot shrink: more than the 4 MB directory holds.
    await withClient(bulky.url, (c) => c.query("CREATE TABLE blobs AS SELECT g AS id, decode(md5(g::text) || md5((g * 3)::text), 'hex') AS bytes FROM generate_series(1, 400000) g"));
    const stack = await createTestStack({ sourceUrl: bulky.url, env: { BACKUP_DIR: join(disk.dir, 'backups'), STALL_SECONDS: '5', WORKER_CONCURRENCY: '1' } });
    h = { stack, worker: await startWorkerProcess(stack), auth: { Authorization: `Bearer ${stack.adminToken}` } };
  });

  afterAll(async () => {
    await h?.worker.crash();
    await h?.stack.close();
    await disk?.unmount();
  });

  it('the run says the directory is full and leaves nothing; once space is freed its retry and a later backup complete', async () => {
    const backup = await backupThroughApi(h);
    expect(backup.status).toBe(202);
    const noted = await eventually(async () => {
      const row = await h.stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.body.id } });
      return row.errorMessage ? row : undefined;
    }, 60_000, 'the first attempt to fail');
    expect(noted.status).toBe('running');
    expect(noted.errorMessage).toBe(
      `Attempt 1 of 3 failed, retrying: The backup directory ${h.stack.config.BACKUP_DIR} is full (no space left on device): free space or move BACKUP_DIR.`,
    );
    // Nothing is left behind: no partial object, no unfinished write, the space is free again.
    await expectNothingPartial(h);
    expect(await h.stack.ctx.db.backupArtifact.count({ where: { backupId: backup.body.id } })).toBe(0);
    expect(await statfsFree(disk.dir)).toBeGreaterThan(3.5 * (1 << 20));

    // The operator frees space (here: the file system grows); the retry, 15 s later, goes through.
    const grown = spawnSync('mount', ['-o', `remount,size=${64 << 20}`, disk.dir], { encoding: 'utf8' });
    expect(grown.status, grown.stderr).toBe(0);
    const retried = await settled(h, backup.body.id, 90_000);
    expect({ status: retried.status, attempts: retried.attempts, error: retried.errorMessage }).toEqual({ status: 'completed', attempts: 2, error: null });

    const later = await backupThroughApi(h);
    expect((await settled(h, later.body.id)).status).toBe('completed');
    expect(h.worker.child.exitCode).toBeNull();
    await expectNothingPartial(h);
  });
});

async function statfsFree(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}
