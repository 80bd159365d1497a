// Progress counters of running runs: writes that land out of order never move a counter backwards.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { recordProgress } from '@coffre/shared';
import { createTestStack, type TestStack } from '../../test/support/stack.js';

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
