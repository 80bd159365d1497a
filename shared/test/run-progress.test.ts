// Progress counters of running runs: writes that land out of order never move a counter backwards.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createSource, onFailpoint, recordProgress, requestBackup, systemActor } from '@coffre/shared';
import { createDatabase, withClient } from '../../test/support/pg.js';
import { createTestStack, eventually, type TestStack } from '../../test/support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  await stack?.close();
});

test("a restore's progress never goes backwards when an older count lands after a newer one", async () => {
  const source = await stack.ctx.db.source.findFirstOrThrow();
  const backup = await stack.ctx.db.backup.create({ data: { name: 'progress-of', type: 'full', status: 'completed', trigger: 'manual', sourceId: source.id, sourceName: source.name } });
  const restore = await stack.ctx.db.restore.create({ data: { backupId: backup.id, status: 'running', targetDatabase: 'somewhere' } });
  await recordProgress(stack.ctx, 'restore', restore.id, 4_000_000);
  await recordProgress(stack.ctx, 'restore', restore.id, 1_000_000);
  expect(Number((await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } })).progressBytes)).toBe(4_000_000);
  await recordProgress(stack.ctx, 'restore', restore.id, 5_000_000);
  expect(Number((await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } })).progressBytes)).toBe(5_000_000);
});

test("once a backup's bytes are stored, its row counts all of them while the run finishes (progress is otherwise written once a second)", async () => {
  // Enough rows for the dump to be written in many pieces: the count written last is not the total.
  const database = await createDatabase('coffre_progress_final');
  await withClient(database.url, (c) => c.query("CREATE TABLE t AS SELECT g, md5(random()::text) AS filler FROM generate_series(1, 300000) g"));
  const source = await createSource(stack.ctx, { name: 'progress-final', url: database.url }, systemActor);
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let seen: bigint | null = null;
  const stop = onFailpoint('backup.before-complete', async (id) => {
    seen = (await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: id! } })).progressBytes;
    await held;
  });
  const workers = stack.startWorkers();
  try {
    const backup = await requestBackup(stack.ctx, { sourceId: source.id, name: 'progress-final' }, systemActor);
    await eventually(async () => seen !== null, 60_000, 'the run to reach before-complete');
    release();
    const row = await eventually(async () => {
      const found = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
      return found.status === 'completed' ? found : undefined;
    }, 60_000, 'the backup to complete');
    expect(Number(seen)).toBeGreaterThan(0);
    expect(Number(seen)).toBe(Number(row.sizeBytes));
  } finally {
    release();
    stop();
    await workers.close(5000);
  }
});
