// A new installation: the API and the workers start at the same moment and each makes sure the default
// source and destination exist. None of them may fail for it (a worker that did would never run a job).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultDestination, ensureDefaultSource } from '@coffre/shared';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('starting together on an empty database', () => {
  it('ten processes making sure of the default source and destination all succeed, and one of each exists', async () => {
    for (let round = 0; round < 5; round++) {
      await stack.ctx.db.source.deleteMany({ where: { name: 'default' } });
      await stack.ctx.db.destination.deleteMany({ where: { name: 'local' } });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => Promise.all([ensureDefaultSource(stack.ctx), ensureDefaultDestination(stack.ctx)])),
      );
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(await stack.ctx.db.source.count({ where: { name: 'default' } })).toBe(1);
      expect(await stack.ctx.db.destination.count({ where: { name: 'local' } })).toBe(1);
      const ids = new Set(results.map((r) => (r as PromiseFulfilledResult<[{ id: string } | null, { id: string }]>).value[0]!.id));
      expect(ids.size).toBe(1);
    }
  });
});
