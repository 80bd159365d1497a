// How far a database restore is, through the API: it reads its artifact in a moment and then loads
// for most of its time, so its progress counts the rows loaded of the rows the backup holds (the web
// UI showed 99 % from the end of the read to the end of the load). The load here is made slow by a
// check that sleeps a little per row, so that it is seen under way whatever the machine's speed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { adminQuery, createDatabase, withClient } from '../../../test/support/pg.js';
import { uniqueName } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

const ROWS = 12_000;

let stack: TestStack;
let auth: { Authorization: string };
const targets: string[] = [];

beforeAll(async () => {
  const source = await createDatabase('coffre_restore_progress');
  await withClient(source.url, async (c) => {
    await c.query(`CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0002); RETURN true; END $$`);
    await c.query('CREATE TABLE slow (id int, filler text)');
    await c.query(`INSERT INTO slow SELECT g, repeat('x', 50) FROM generate_series(1, ${ROWS}) g`);
    // Checked once here would take as long as the load: added unchecked, then marked valid (as it is),
    // so that pg_dump writes it into CREATE TABLE and every row the restore loads goes through it.
    await c.query('ALTER TABLE slow ADD CONSTRAINT slow_check CHECK (slow_ok(id)) NOT VALID');
    await c.query("UPDATE pg_constraint SET convalidated = true WHERE conname = 'slow_check'");
    await c.query('CREATE TABLE quick AS SELECT g AS id FROM generate_series(1, 1000) g');
  });
  stack = await createTestStack({ sourceUrl: source.url });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
});

afterAll(async () => {
  for (const database of targets) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
  await stack?.close();
});

interface RestoreBody {
  status: string;
  phase: string | null;
  progressBytes: number;
  loadedRows: number | null;
  expected: { rows?: number | null; basis: string } | null;
  log?: string | null;
}

it('shows the rows loaded of the rows the backup holds while pg_restore loads, and all of them once checked', async () => {
  const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'progress-of-a-load' });
  expect(created.status).toBe(202);
  const backup = await eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${created.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 120_000, 'the backup');
  expect(backup.status, backup.errorMessage).toBe('completed');
  expect(backup.recordsCount).toBe(ROWS + 1000);

  const target = uniqueName('coffre_restore_progress_into');
  targets.push(target);
  const requested = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name, targetDatabase: target });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);

  const seen: RestoreBody[] = [];
  const done = await eventually(async () => {
    const res = await request(stack.app).get(`/api/restores/${requested.body.id}`).set(auth);
    seen.push(res.body as RestoreBody);
    await new Promise((resolve) => setTimeout(resolve, 150));
    return ['completed', 'failed'].includes(res.body.status) ? (res.body as RestoreBody) : undefined;
  }, 180_000, 'the restore');
  expect(done.status).toBe('completed');

  // Under way: loading, with some rows in and not all, counted towards the backup's rows.
  const during = seen.filter((r) => r.status === 'running' && r.phase === 'loading' && r.loadedRows !== null && r.loadedRows > 0 && r.loadedRows < ROWS + 1000);
  expect(during.length, JSON.stringify(seen.map((r) => [r.status, r.phase, r.loadedRows]))).toBeGreaterThan(0);
  expect(during[0]!.expected?.rows).toBe(ROWS + 1000);
  expect(during[0]!.expected?.basis).toContain('the rows the backup holds');
  // Never backwards.
  const counts = seen.map((r) => r.loadedRows ?? 0);
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  // Once checked, every row.
  expect(done.loadedRows).toBe(ROWS + 1000);
  expect(done.log).toMatch(/phase: checking the artifact\s[\s\S]*phase: loading\s[\s\S]*phase: counting rows/);
});
