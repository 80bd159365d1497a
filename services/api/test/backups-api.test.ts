// The service end to end, in one process: the API enqueues, workers run, rows move through their
// statuses, artifacts restore. Real PostgreSQL, Redis, pg_dump and pg_restore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import pg from 'pg';
import { createDatabase, withClient } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { createSource, systemActor } from '@coffre/shared';

let stack: TestStack;
let source: { name: string; url: string };
let auth: { Authorization: string };

beforeAll(async () => {
  source = await createDatabase('coffre_api_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers({ concurrency: 3 });
});

afterAll(async () => {
  await stack?.close();
});

async function waitForBackup(id: string, statuses = ['completed', 'failed']) {
  return eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${id}`).set(auth);
    return statuses.includes(res.body.status) ? res.body : undefined;
  }, 90_000, `backup ${id} to finish`);
}

describe('backups through the API', () => {
  it('POST /api/backups answers 202 pending; a worker completes it with size, checksum and counts', async () => {
    const res = await request(stack.app).post('/api/backups').set(auth).send({});
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('pending');
    expect(res.headers.location).toBe(`/api/backups/${res.body.id}`);
    const done = await waitForBackup(res.body.id);
    expect(done.status).toBe('completed');
    expect(done.sizeBytes).toBeGreaterThan(1000);
    expect(done.checksumSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.tablesCount).toBeGreaterThan(5);
    expect(done.recordsCount).toBeGreaterThan(2500);
    expect(done.artifacts.map((a: { kind: string }) => a.kind).sort()).toEqual(['database', 'manifest', 'restore-notes']);
    expect(done.log).toMatch(/pg_dump 15/);
  });

  it('a completed backup restores into a new database through the API', async () => {
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'restore-me' });
    const backup = await waitForBackup(created.body.id);
    expect(backup.status).toBe('completed');
    const target = `coffre_api_restored_${Date.now()}`;
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target, confirm: 'restore-me' });
    expect(res.status).toBe(202);
    expect(res.body.createDatabase).toBe(true);
    const restore = await eventually(async () => {
      const r = await request(stack.app).get(`/api/restores/${res.body.id}`).set(auth);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 90_000);
    expect(restore.errorMessage).toBeNull();
    expect(restore.status).toBe('completed');
    const url = new URL(source.url);
    url.pathname = `/${target}`;
    try {
      expect(await dataChecksums(url.toString())).toEqual(await dataChecksums(source.url));
    } finally {
      await withClient(source.url, (c) => c.query(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`));
    }
  });

  it('a restore with the wrong confirmation gets 400 and leaves the target untouched', async () => {
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'confirm-me' });
    await waitForBackup(created.body.id);
    const before = await dataChecksums(source.url);
    const res = await request(stack.app).post(`/api/backups/${created.body.id}/restore`).set(auth).send({ confirm: 'confirm-m' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('type "confirm-me"');
    expect(await stack.ctx.db.restore.count()).toBeGreaterThanOrEqual(0);
    expect(await stack.ctx.db.restore.count({ where: { backupId: created.body.id } })).toBe(0);
    expect(await dataChecksums(source.url)).toEqual(before);
  });

  it('a restore over an existing database keeps the one it replaced, which holds the changed state', async () => {
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'over-existing' });
    await waitForBackup(created.body.id);
    // The target changes after the backup: the kept database must hold the changed state.
    await withClient(source.url, (c) => c.query("INSERT INTO audit_log (note) VALUES ('after the backup')"));
    const res = await request(stack.app).post(`/api/backups/${created.body.id}/restore`).set(auth).send({ confirm: 'over-existing' });
    expect(res.status).toBe(202);
    expect(res.body.createDatabase).toBe(false);
    const restore = await eventually(async () => {
      const r = await request(stack.app).get(`/api/restores/${res.body.id}`).set(auth);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 120_000);
    expect(restore.errorMessage).toBeNull();
    expect(restore.method).toBe('swap');
    expect(restore.undoable).toBe(true);
    const keptUrl = source.url.replace(/\/[^/?]+(\?|$)/, `/${restore.keptDatabase}$1`);
    try {
      const { rows } = await withClient(source.url, (c) => c.query("SELECT count(*)::int AS n FROM audit_log WHERE note = 'after the backup'"));
      expect(rows[0].n).toBe(0);
      const kept = await withClient(keptUrl, (c) => c.query("SELECT count(*)::int AS n FROM audit_log WHERE note = 'after the backup'"));
      expect(kept.rows[0].n).toBe(1);
    } finally {
      await withClient(source.url.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), (c) => c.query(`DROP DATABASE IF EXISTS "${restore.keptDatabase}" WITH (FORCE)`));
    }
  });

  it('a second restore into a target while one is queued gets 409', async () => {
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'twice' });
    await waitForBackup(created.body.id);
    const target = `coffre_api_twice_${Date.now()}`;
    const first = await request(stack.app).post(`/api/backups/${created.body.id}/restore`).set(auth).send({ targetDatabase: target, confirm: 'twice' });
    const second = await request(stack.app).post(`/api/backups/${created.body.id}/restore`).set(auth).send({ targetDatabase: target, confirm: 'twice' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('restore_running');
    await eventually(async () => {
      const r = await request(stack.app).get(`/api/restores/${first.body.id}`).set(auth);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 120_000);
    await withClient(source.url, (c) => c.query(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`));
  });

  it('20 concurrent backup requests of one source all complete, and no two dumps overlap', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => request(stack.app).post('/api/backups').set(auth).send({ name: `burst-${i}` })));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    // Watch the source's server: at most one pg_dump connection to the source database at any time.
    let maxDumps = 0;
    const watcher = new pg.Client({ connectionString: source.url });
    await watcher.connect();
    let watching = true;
    const watching$ = (async () => {
      while (watching) {
        const { rows } = await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'coffre' AND query LIKE 'COPY %'", [source.name]);
        maxDumps = Math.max(maxDumps, rows[0].n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const finished = await Promise.all(responses.map((r) => waitForBackup(r.body.id)));
    watching = false;
    await watching$;
    await watcher.end();
    expect(finished.map((b) => b.status)).toEqual(Array(20).fill('completed'));
    const spans = finished.map((b) => [new Date(b.startedAt).getTime(), new Date(b.completedAt).getTime()] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(maxDumps).toBeLessThanOrEqual(1);
  });

  it('lists with filters and pagination, and reports stats', async () => {
    const page = await request(stack.app).get('/api/backups').query({ status: 'completed', pageSize: 5, page: 2 }).set(auth);
    expect(page.status).toBe(200);
    expect(page.body.page).toBe(2);
    expect(page.body.items).toHaveLength(5);
    expect(page.body.total).toBeGreaterThanOrEqual(20);
    const searched = await request(stack.app).get('/api/backups').query({ q: 'burst-1' }).set(auth);
    expect(searched.body.items.every((b: { name: string }) => b.name.includes('burst-1'))).toBe(true);
    expect(searched.body.total).toBe(11); // burst-1 and burst-10 … burst-19
    const stats = await request(stack.app).get('/api/backups/stats').set(auth);
    expect(stats.status).toBe(200);
    expect(stats.body.byStatus.completed).toBeGreaterThanOrEqual(20);
    expect(stats.body.successRate).toBeGreaterThan(0);
    expect(stats.body.last7Days.total).toBe(stats.body.total);
  });

  it('q matches % and _ as the characters they are, not as wildcards', async () => {
    const names = ['100%-sure', '100x-sure', 'snake_case', 'snakeXcase'];
    for (const name of names) {
      const created = await request(stack.app).post('/api/backups').set(auth).send({ name });
      expect(created.status).toBe(202);
      await waitForBackup(created.body.id);
    }
    const found = async (q: string) => ((await request(stack.app).get('/api/backups').query({ q }).set(auth)).body.items as { name: string }[]).map((b) => b.name);
    expect(await found('100%')).toEqual(['100%-sure']);
    expect(await found('snake_')).toEqual(['snake_case']);
    expect(await found('%')).toEqual(['100%-sure']);
    expect(await found('\\')).toEqual([]);
  });

  it('reports backups per day by status and the bytes stored at the end of each day', async () => {
    const res = await request(stack.app).get('/api/backups/daily').query({ days: 7 }).set(auth);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(7);
    const today = res.body.items.at(-1);
    expect(today.date).toBe(new Date().toISOString().slice(0, 10));
    const rows = await stack.ctx.db.backup.findMany({ where: { status: 'completed' } });
    expect(today.completed).toBe(rows.filter((r) => r.createdAt.toISOString().slice(0, 10) === today.date).length);
    const stored = rows.filter((r) => !r.deletedAt).reduce((sum, r) => sum + Number(r.sizeBytes), 0);
    expect(today.storedBytes).toBe(stored);
    expect(res.body.items[0].storedBytes).toBeLessThanOrEqual(today.storedBytes);
    expect((await request(stack.app).get('/api/backups/daily').query({ days: 400 }).set(auth)).status).toBe(400);
  });

  it('downloads the artifact with its length and checksum, and byte ranges', async () => {
    const { body } = await request(stack.app).get('/api/backups').query({ status: 'completed', pageSize: 1 }).set(auth);
    const backup = body.items[0];
    const full = await request(stack.app).get(`/api/backups/${backup.id}/download`).set(auth).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(full.status).toBe(200);
    expect(Number(full.headers['content-length'])).toBe(backup.sizeBytes);
    expect(full.headers['x-checksum-sha256']).toBe(backup.checksumSha256);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(full.body as Buffer).digest('hex')).toBe(backup.checksumSha256);
    const part = await request(stack.app).get(`/api/backups/${backup.id}/download`).set(auth).set('Range', 'bytes=10-19').buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(part.status).toBe(206);
    expect((part.body as Buffer).equals((full.body as Buffer).subarray(10, 20))).toBe(true);
  });

  it('deleting a backup removes its artifacts and keeps the row, hidden from lists', async () => {
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'delete-me' });
    const backup = await waitForBackup(created.body.id);
    const res = await request(stack.app).delete(`/api/backups/${backup.id}`).set(auth);
    expect(res.status).toBe(204);
    const after = (await request(stack.app).get(`/api/backups/${backup.id}`).set(auth)).body;
    expect(after.deletedAt).not.toBeNull();
    expect(after.artifacts).toEqual([]);
    const listed = await request(stack.app).get('/api/backups').query({ q: 'delete-me' }).set(auth);
    expect(listed.body.total).toBe(0);
    const withDeleted = await request(stack.app).get('/api/backups').query({ q: 'delete-me', includeDeleted: 'true' }).set(auth);
    expect(withDeleted.body.total).toBe(1);
    const download = await request(stack.app).get(`/api/backups/${backup.id}/download`).set(auth);
    expect(download.status).toBe(409);
  });
});

describe('asking for backups again and again', () => {
  it('keeps at most 20 of one source waiting: the next is a 409 with a sentence (found by an attacker: 200 queued at once by one operator)', async () => {
    const operator = { Authorization: `Bearer ${await stack.token('operator')}` };
    const source = await createSource(stack.ctx, { name: 'flooded', url: (await createDatabase('coffre_flooded')).url }, systemActor);
    // Paused, the backup queue keeps what was asked for waiting for as long as the test needs.
    const backups = stack.ctx.queues.queue('backup');
    await backups.pause();
    try {
      const statuses = [];
      for (let i = 0; i < 22; i++) statuses.push((await request(stack.app).post('/api/backups').set(operator).send({ sourceId: source.id })).status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(20);
      const refused = await request(stack.app).post('/api/backups').set(operator).send({ sourceId: source.id });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toBe('Source "flooded" already has 20 backups waiting for a worker (the most is 20): wait for them to run, or delete some, before asking for more.');
      // Other sources are not held up by it.
      expect((await request(stack.app).post('/api/backups').set(operator).send({ name: 'elsewhere' })).status).toBe(202);
    } finally {
      await stack.ctx.db.backup.updateMany({ where: { sourceId: source.id, status: 'pending' }, data: { status: 'failed', errorMessage: 'test: not run' } });
      await backups.resume();
    }
  });
});
