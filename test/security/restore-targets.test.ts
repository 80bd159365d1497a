// Restores never reach coffre's own metadata database, whatever the spelling of its server, and reach
// the system databases (postgres, template0, template1: every later CREATE DATABASE copies template1)
// only when an admin says so in the request. The API refuses with a sentence and queues nothing; the
// worker checks again right before restoring (a row queued by other means is refused there too).
// System databases are attacked on a private PostgreSQL of the test's own, never the shared server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { enqueue } from '@coffre/shared';

let stack: TestStack;
let server: PrivatePostgres;
let admin: { Authorization: string };
let backup: { id: string; name: string };
let privateSource: string;
const figures = { refusedByApi: 0, refusedByWorker: 0 };

const MARKER = 'restored_marker_7c1e';

beforeAll(async () => {
  server = await startPrivatePostgres();
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
  await withClient(stack.env.SOURCE_DATABASE_URL!, (c) => c.query(`CREATE TABLE ${MARKER} (v text); INSERT INTO ${MARKER} VALUES ('from the backup')`));
  const created = await request(stack.app).post('/api/backups').set(admin).send({ name: 'marker-backup' });
  backup = await finished('backup', created.body.id);
  expect(backup).toMatchObject({ status: 'completed' });
  const source = await request(stack.app).post('/api/sources').set(admin).send({ name: 'private', url: server.url('postgres', server.superuser.password, 'postgres') });
  expect(source.status).toBe(201);
  privateSource = source.body.id;
}, 180_000);

afterAll(async () => {
  console.info(`restore targets: ${JSON.stringify(figures)}`);
  await stack?.close();
  await server?.stop();
});

async function finished<T>(model: 'backup' | 'restore', id: string): Promise<T> {
  return eventually(async () => {
    const row = await (stack.ctx.db[model] as unknown as { findUnique(a: object): Promise<{ status: string } | null> }).findUnique({ where: { id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? (row as T) : null;
  }, 120_000, `${model} ${id} to finish`);
}

const restore = (body: object) => request(stack.app).post(`/api/backups/${backup.id}/restore`).set(admin).send({ confirm: backup.name, ...body });

async function markerIn(database: string): Promise<boolean> {
  const { rows } = await server.query<{ found: boolean }>(`SELECT to_regclass('public.${MARKER}') IS NOT NULL AS found`, [], database);
  return rows[0]!.found;
}

async function metadataHasMarker(): Promise<boolean> {
  return withClient(stack.config.DATABASE_URL, async (c) => (await c.query<{ found: boolean }>(`SELECT to_regclass('public.${MARKER}') IS NOT NULL AS found`)).rows[0]!.found);
}

describe("coffre's own metadata database", () => {
  it('is refused as a target, however its server is spelled, even with allowSystemDatabase', async () => {
    const metadata = new URL(stack.config.DATABASE_URL);
    const database = metadata.pathname.slice(1);
    const spellings = [stack.config.DATABASE_URL, stack.config.DATABASE_URL.replace('127.0.0.1', 'localhost'), stack.config.DATABASE_URL.replace('@127.0.0.1:', '@[::ffff:127.0.0.1]:')];
    const restoresBefore = await stack.ctx.db.restore.count();
    for (const [i, url] of spellings.entries()) {
      const source = await request(stack.app).post('/api/sources').set(admin).send({ name: `coffre-itself-${i}`, url });
      expect(source.status).toBe(201);
      for (const body of [{ targetSourceId: source.body.id }, { targetSourceId: source.body.id, allowSystemDatabase: true }]) {
        const res = await restore(body);
        expect({ url, body, status: res.status, code: res.body.error?.code }).toEqual({ url, body, status: 400, code: 'protected_database' });
        expect(res.body.error.message).toBe(`Database "${database}" on ${new URL(url).hostname.replace(/^\[|\]$/g, '')}:${new URL(url).port} is coffre's own metadata database (DATABASE_URL): coffre never restores into it. Choose another target database.`);
        figures.refusedByApi += 1;
      }
    }
    // The backup's own source, told to restore into a database of that name on its server.
    const byName = await restore({ targetDatabase: database });
    expect({ status: byName.status, code: byName.body.error?.code }).toEqual({ status: 400, code: 'protected_database' });
    expect(await stack.ctx.db.restore.count()).toBe(restoresBefore);
    expect(await stack.ctx.db.auditEvent.count({ where: { action: 'backup.restore', outcome: 'failure', summary: { path: ['reason'], equals: 'protected-database' } } })).toBeGreaterThanOrEqual(1);
  });

  it('a restore queued by other means is refused by the worker before anything is touched', async () => {
    const itself = await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'coffre-itself-0' } });
    const row = await stack.ctx.db.restore.create({
      data: { backupId: backup.id, status: 'pending', targetKind: 'database', targetSourceId: itself.id, targetDatabase: new URL(stack.config.DATABASE_URL).pathname.slice(1), requestedBy: 'test' },
    });
    await enqueue(stack.ctx, 'restore.run', { restoreId: row.id });
    const done = await finished<{ status: string; errorMessage: string; safetyBackupId: string | null }>('restore', row.id);
    expect({ status: done.status, safety: done.safetyBackupId }).toEqual({ status: 'failed', safety: null });
    expect(done.errorMessage).toMatch(/is coffre's own metadata database \(DATABASE_URL\): coffre never restores into it/);
    expect(await metadataHasMarker()).toBe(false);
    figures.refusedByWorker += 1;
  });
});

describe('system databases', () => {
  it.each(['postgres', 'template0', 'template1'])('%s is refused unless an admin sends allowSystemDatabase: true', async (database) => {
    const restoresBefore = await stack.ctx.db.restore.count();
    const res = await restore({ targetSourceId: privateSource, targetDatabase: database });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'protected_database' });
    expect(res.body.error.message).toBe(
      `Database "${database}" on 127.0.0.1:${server.port} is a system database, which every new database or connection relies on: restoring into it is refused unless an admin sends allowSystemDatabase: true. Choose another target database.`,
    );
    expect(await stack.ctx.db.restore.count()).toBe(restoresBefore);
    figures.refusedByApi += 1;
  });

  it('an in-place restore of a source whose URL names postgres is refused too', async () => {
    const res = await restore({ targetSourceId: privateSource });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'protected_database' });
    figures.refusedByApi += 1;
  });

  it('a restore into template1 queued by other means is refused by the worker, and template1 stays clean', async () => {
    const row = await stack.ctx.db.restore.create({
      data: { backupId: backup.id, status: 'pending', targetKind: 'database', targetSourceId: privateSource, targetDatabase: 'template1', requestedBy: 'test' },
    });
    await enqueue(stack.ctx, 'restore.run', { restoreId: row.id });
    const done = await finished<{ status: string; errorMessage: string }>('restore', row.id);
    expect(done.status).toBe('failed');
    expect(done.errorMessage).toMatch(/"template1" .* is a system database/);
    expect(await markerIn('template1')).toBe(false);
    figures.refusedByWorker += 1;
  });

  it('an admin who says so explicitly restores into postgres', async () => {
    const res = await restore({ targetSourceId: privateSource, targetDatabase: 'postgres', allowSystemDatabase: true });
    expect(res.status).toBe(202);
    const done = await finished<{ status: string; errorMessage: string | null }>('restore', res.body.id);
    expect({ status: done.status, error: done.errorMessage }).toEqual({ status: 'completed', error: null });
    expect(await markerIn('postgres')).toBe(true);
  });

  it('allowSystemDatabase from anyone but an admin is refused', async () => {
    const operator = await stack.token('operator');
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set('Authorization', `Bearer ${operator}`).send({ confirm: backup.name, targetSourceId: privateSource, allowSystemDatabase: true });
    expect(res.status).toBe(403);
  });
});
