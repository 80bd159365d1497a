// Run limits against a real server: a backup held up by a lock past its configuration's 5 s time
// limit, and one that grows past its maximum size. Each is stopped (its pg_dump gone from the
// server), ends failed with a sentence saying which limit, notifies, leaves nothing published, and
// the next run of the same configuration works.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';

let stack: TestStack;
let auth: { Authorization: string };
let receiver: HttpReceiver;
let source: { name: string; url: string };
let sourceId: string;
const figures: Record<string, number> = {};

beforeAll(async () => {
  source = await createDatabase('coffre_limits_src');
  // Bytes zstd cannot shrink much: the dump is well over 100 kB.
  await withClient(source.url, (c) => c.query("CREATE TABLE held (id int PRIMARY KEY, bytes bytea); INSERT INTO held SELECT g, decode(md5(g::text) || md5((g * 7)::text), 'hex') FROM generate_series(1, 20000) g"));
  stack = await createTestStack({ sourceUrl: source.url });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  receiver = await startHttpReceiver();
  sourceId = (await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'default' } })).id;
  const channel = await request(stack.app).post('/api/notification-channels').set(auth).send({ name: 'limits-hook', kind: 'webhook', url: receiver.url('/limits') });
  expect(channel.status, JSON.stringify(channel.body)).toBe(201);
  stack.startWorkers({ concurrency: 1 });
});

afterAll(async () => {
  console.info(`run limits: ${JSON.stringify(figures)}`);
  await stack?.close();
  await receiver?.stop();
});

async function createConfiguration(body: Record<string, unknown>): Promise<string> {
  const res = await request(stack.app).post('/api/configurations').set(auth).send({ sourceId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function runAndWait(configurationId: string) {
  const created = await request(stack.app).post(`/api/configurations/${configurationId}/run`).set(auth);
  expect(created.status).toBe(202);
  return eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${created.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 120_000, 'the backup to end');
}

/** Every file under the backup directory whose name is a final one (temporaries start with a dot or end in .tmp). */
async function publishedFiles(): Promise<string[]> {
  const entries = await readdir(stack.config.BACKUP_DIR, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(stack.config.BACKUP_DIR.length + 1));
}

/** The statements of the source database's sessions waiting on a lock (pg_dump's LOCK TABLE … ACCESS SHARE behind the test's). */
const waitingStatements = () =>
  withClient(source.url, async (c) => {
    const { rows } = await c.query<{ query: string }>("SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    return rows.map((r) => r.query);
  });

describe('a time limit', () => {
  it('stops a backup held up by a lock past 5 s: failed with the sentence, its pg_dump gone, nothing published, notified; the next run works', async () => {
    const configurationId = await createConfiguration({ name: 'held-up', timeLimitSeconds: 5 });
    const shown = await request(stack.app).get(`/api/configurations/${configurationId}`).set(auth);
    expect(shown.body.timeLimitSeconds).toBe(5);
    const before = await publishedFiles();

    // A transaction holding ACCESS EXCLUSIVE on the table: pg_dump's ACCESS SHARE waits behind it.
    const holder = new pg.Client({ connectionString: source.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
    let failed;
    try {
      const started = Date.now();
      const ending = runAndWait(configurationId);
      // pg_dump is connected and waiting on the lock before the limit stops it.
      await eventually(async () => (await waitingStatements()).includes('LOCK TABLE public.held IN ACCESS SHARE MODE'), 5000, 'pg_dump to wait on the lock');
      failed = await ending;
      figures.timedOutAfterMs = Date.now() - started;
      expect(failed.status).toBe('failed');
      expect(failed.errorMessage).toBe('The run timed out after 5 s: its tools were stopped and nothing was published.');
      const ranMs = new Date(failed.completedAt).getTime() - new Date(failed.startedAt).getTime();
      figures.runMs = ranMs;
      expect(ranMs).toBeGreaterThanOrEqual(5000);
      expect(ranMs).toBeLessThan(30_000);
      // The dump was waiting on the lock until it was stopped; its session is gone while the lock is still held.
      await eventually(async () => (await waitingStatements()).length === 0, 10_000, 'pg_dump to leave the server');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
    expect(await publishedFiles()).toEqual(before);
    expect(await stack.ctx.db.backupArtifact.count({ where: { backupId: failed.id } })).toBe(0);
    const [notice] = await receiver.waitFor(1, (r) => r.raw.includes(failed.id), 60_000);
    expect(notice!.raw).toContain('timed out after 5 s');

    const next = await runAndWait(configurationId);
    expect(next.status, next.errorMessage).toBe('completed');
    expect((await publishedFiles()).some((file) => file.includes(next.id))).toBe(true);
  });
});

describe('a maximum backup size', () => {
  it('stops a backup that grows past maxBackupBytes: failed saying so, nothing published; the same configuration with a larger maximum works', async () => {
    const configurationId = await createConfiguration({ name: 'too-big', maxBackupBytes: 64 * 1024, compression: 'none' });
    const before = await publishedFiles();
    const failed = await runAndWait(configurationId);
    expect(failed.status).toBe('failed');
    expect(failed.errorMessage).toBe('The backup grew past its maximum of 65536 bytes (maxBackupBytes of configuration "too-big") and was stopped: nothing was published.');
    expect(await publishedFiles()).toEqual(before);
    expect(await stack.ctx.db.backupArtifact.count({ where: { backupId: failed.id } })).toBe(0);

    const raised = await request(stack.app).put(`/api/configurations/${configurationId}`).set(auth).send({ maxBackupBytes: 64 * 1024 * 1024 });
    expect(raised.status).toBe(200);
    expect(raised.body.maxBackupBytes).toBe(64 * 1024 * 1024);
    const next = await runAndWait(configurationId);
    expect(next.status, next.errorMessage).toBe('completed');
    figures.backupBytes = next.sizeBytes;
    expect(next.sizeBytes).toBeGreaterThan(64 * 1024);
  });
});

describe('retention by total size, with a floor', () => {
  it('removes the oldest backups of a configuration past maxTotalBytes, but never below minKeep', async () => {
    const configurationId = await createConfiguration({ name: 'capped', retention: { maxTotalBytes: 1, minKeep: 2 } });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runAndWait(configurationId));
    for (const run of runs) expect(run.status).toBe('completed');
    const rows = await eventually(async () => {
      const found = await stack.ctx.db.backup.findMany({ where: { configurationId }, orderBy: { createdAt: 'asc' } });
      return found[0]?.deletedAt ? found : undefined;
    }, 30_000, 'the oldest backup to expire');
    expect(rows.map((r) => r.deletedAt !== null)).toEqual([true, false, false]);
  });
});

describe('a time limit on a restore', () => {
  // A whole backup over an existing database is loaded beside it and swapped in, with no safety backup;
  // a data-only one is restored in place, after a safety backup that the lock holds up.
  it('stops a data-only restore whose safety backup is held up by a lock: failed with the sentence, the target untouched', async () => {
    const configurationId = await createConfiguration({ name: 'held-restore', type: 'data', timeLimitSeconds: 5 });
    const backup = await runAndWait(configurationId);
    expect(backup.status, backup.errorMessage).toBe('completed');
    const holder = new pg.Client({ connectionString: source.url });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
    let restore;
    try {
      const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetSourceId: sourceId, targetDatabase: source.name, confirm: backup.name });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      restore = await eventually(async () => {
        const res = await request(stack.app).get(`/api/restores/${started.body.id}`).set(auth);
        return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
      }, 60_000, 'the restore to end');
      await eventually(async () => (await waitingStatements()).length === 0, 10_000, 'the safety pg_dump to leave the server');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
    expect(restore.status).toBe('failed');
    expect(restore.errorMessage).toBe('The run timed out after 5 s: its tools were stopped and nothing was published.');
    figures.restoreRunMs = new Date(restore.completedAt).getTime() - new Date(restore.startedAt).getTime();
    const rows = await withClient(source.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM held')).rows[0].n);
    expect(rows).toBe(20000);
  });
});
