// Bounded waits: a dependency that does not answer holds nothing for longer than its bound, and what
// it does after the bound (a late failure) goes nowhere.
import { describe, expect, it } from 'vitest';
import { waitAtMost, withTimeout } from '@coffre/shared';

const never = () => new Promise<never>(() => {});

describe('withTimeout', () => {
  it('answers what the work answers when it is in time', async () => {
    await expect(withTimeout(Promise.resolve('PONG'), 1000)).resolves.toBe('PONG');
    await expect(withTimeout(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused');
  });

  it('fails with the sentence it was given once the bound has passed', async () => {
    await expect(withTimeout(never(), 20)).rejects.toThrow('no answer within 20 ms');
    await expect(withTimeout(never(), 20, 'no answer from the queue within 20 ms')).rejects.toThrow('no answer from the queue within 20 ms');
  });

  it('lets a failure that comes after the bound go unreported', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      let fail!: (error: Error) => void;
      const late = new Promise<never>((_, reject) => (fail = reject));
      await expect(withTimeout(late, 10)).rejects.toThrow('no answer within 10 ms');
      fail(new Error('too late'));
      // Unhandled rejections are reported after the microtasks of the turn: give them a macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});

describe('waitAtMost', () => {
  it('waits no longer than its bound and never fails', async () => {
    const started = Date.now();
    await expect(waitAtMost(never(), 30)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(waitAtMost(Promise.reject(new Error('Redis is away')), 1000)).resolves.toBeUndefined();
  });
});
