// Verifications through the API: a test restore into a scratch database on the source's server,
// compared with the counts taken in the dump's own snapshot. A good backup passes and leaves no
// scratch database; a damaged artifact is refused before any database is created; counts that differ
// from what the backup recorded fail the verification with every difference listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { createDatabase, adminQuery } from '../../../test/support/pg.js';
import { createRichDatabase, rowCounts } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;
let source: { name: string; url: string };
let auth: { Authorization: string };

beforeAll(async () => {
  source = await createDatabase('coffre_verify_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers({ concurrency: 2 });
});

afterAll(async () => {
  await stack?.close();
});

async function completedBackup(name: string) {
  const created = await request(stack.app).post('/api/backups').set(auth).send({ name });
  expect(created.status).toBe(202);
  const backup = await eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${created.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, `backup ${name}`);
  expect(backup.status).toBe('completed');
  return backup as { id: string; name: string; artifacts: { kind: string; key: string }[]; recordsCount: number; tablesCount: number };
}

async function verify(backupId: string) {
  const res = await request(stack.app).post(`/api/backups/${backupId}/verify`).set(auth).send();
  expect(res.status).toBe(202);
  expect(res.body.status).toBe('pending');
  return eventually(async () => {
    const row = await request(stack.app).get(`/api/verifications/${res.body.id}`).set(auth);
    return ['completed', 'failed'].includes(row.body.status) ? row.body : undefined;
  }, 90_000, `verification ${res.body.id}`);
}

async function databasesLike(pattern: string): Promise<string[]> {
  const { rows } = await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [pattern]);
  return rows.map((r) => r.datname);
}

describe('verifying backups', () => {
  it('a good backup passes: every table and row found, and the scratch database is dropped afterwards', async () => {
    const backup = await completedBackup('verify-good');
    const verification = await verify(backup.id);
    expect(verification.errorMessage).toBeNull();
    expect(verification).toMatchObject({ status: 'completed', result: 'passed', differences: [] });
    expect(verification.tablesFound).toBe(verification.tablesExpected);
    expect(verification.recordsFound).toBe(verification.recordsExpected);
    expect(verification.tablesExpected).toBe(backup.tablesCount);
    expect(verification.recordsExpected).toBe(backup.recordsCount);
    // The rich fixture's tables, counted independently of coffre.
    const counts = await rowCounts(source.url);
    expect(verification.recordsExpected).toBe(
      Object.entries(counts)
        .filter(([table]) => !table.endsWith('_seq') && !['public.mood_counts'].includes(table))
        .reduce((sum, [, n]) => sum + n, 0),
    );
    expect(verification.scratchDatabase).toMatch(/^coffre_verify_/);
    expect(await databasesLike(verification.scratchDatabase)).toEqual([]);
  });

  it('a backup whose artifact was damaged in storage fails with the integrity sentence, and no scratch database is left', async () => {
    const backup = await completedBackup('verify-damaged');
    const key = backup.artifacts.find((a) => a.kind === 'database')!.key;
    const path = join(stack.config.BACKUP_DIR, key);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(path, bytes);
    const verification = await verify(backup.id);
    expect(verification.status).toBe('failed');
    expect(verification.result).toBe('failed');
    expect(verification.errorMessage).toMatch(/^The artifact was altered: its SHA-256 is [0-9a-f]{64}, the backup recorded [0-9a-f]{64}\. Nothing was restored\.$/);
    expect(verification.tablesFound).toBeNull();
    expect(await databasesLike(verification.scratchDatabase)).toEqual([]);
    const row = await stack.ctx.db.verification.findUniqueOrThrow({ where: { id: verification.id } });
    expect(row.attempts).toBe(1);
  });

  it('a backup whose recorded counts differ fails with every difference listed', async () => {
    const backup = await completedBackup('verify-tampered');
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    const recorded = row.tableCounts as { schema: string; table: string; kind: string; rows: number }[];
    const tampered = recorded
      .filter((t) => t.table !== 'audit_log')
      .map((t) => (t.table === 'orders' ? { ...t, rows: t.rows + 5 } : t))
      .concat({ schema: 'public', table: 'invented', kind: 'r', rows: 3 });
    await stack.ctx.db.backup.update({ where: { id: backup.id }, data: { tableCounts: tampered } });
    const verification = await verify(backup.id);
    expect(verification.status).toBe('completed');
    expect(verification.result).toBe('failed');
    expect(verification.errorMessage).toBe('3 table(s) differ from what the backup recorded.');
    expect(verification.differences).toEqual(
      expect.arrayContaining([
        { table: 'public.orders', expected: 2005, found: 2000 },
        { table: 'public.invented', expected: 3, found: null },
        { table: 'public.audit_log', expected: null, found: 20 },
      ]),
    );
    expect(verification.differences).toHaveLength(3);
    expect(await databasesLike(verification.scratchDatabase)).toEqual([]);
  });

  it("a configuration's verify schedule verifies its newest completed backup", async () => {
    const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    const created = await request(stack.app)
      .post('/api/configurations')
      .set(auth)
      .send({ name: 'verified-nightly', sourceId, verifySchedule: 'daily' });
    expect(created.status).toBe(201);
    const configurationId = created.body.id as string;
    const restoreQueue = stack.ctx.queues.queue('restore');
    const schedulers = await restoreQueue.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key)).toContain(`verify-${configurationId}`);

    const run = await request(stack.app).post(`/api/configurations/${configurationId}/run`).set(auth).send();
    expect(run.status).toBe(202);
    const backup = await eventually(async () => {
      const row = await stack.ctx.db.backup.findUnique({ where: { id: run.body.id } });
      return row?.status === 'completed' ? row : undefined;
    }, 90_000, 'the configuration’s backup');
    // What the scheduler fires at 04:30, fired now.
    await new Queue('restore', { connection: stack.ctx.queues.redis, prefix: stack.ctx.queues.prefix }).add('configuration.verify', { configurationId });
    const verification = await eventually(
      () => stack.ctx.db.verification.findFirst({ where: { backupId: backup.id, status: { in: ['completed', 'failed'] } } }),
      90_000,
      'the scheduled verification',
    );
    expect(verification).toMatchObject({ trigger: 'schedule', status: 'completed', result: 'passed' });
  });
});
