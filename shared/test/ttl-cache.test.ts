import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTtlCache } from '@coffre/shared';

afterEach(() => {
  vi.useRealTimers();
});

describe('the TTL cache behind counts, stats and token lookups', () => {
  it('computes once for a burst of identical requests', async () => {
    const cache = createTtlCache<number>(1000);
    let calls = 0;
    const compute = () => new Promise<number>((resolve) => setTimeout(() => resolve(++calls), 10));
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', compute)));
    expect(answers).toEqual(Array(50).fill(1));
    expect(calls).toBe(1);
  });

  it('with a TTL of 0, callers share the computation in flight and nothing is kept after it (the dashboard)', async () => {
    const cache = createTtlCache<number>(0);
    let calls = 0;
    const compute = () => new Promise<number>((resolve) => setTimeout(() => resolve(++calls), 10));
    expect(await Promise.all(Array.from({ length: 20 }, () => cache.get('k', compute)))).toEqual(Array(20).fill(1));
    expect(await cache.get('k', compute)).toBe(2);
    expect(calls).toBe(2);
  });

  it('with staleMs, serves a recent answer while the next one is computed, without waiting', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const cache = createTtlCache<string>(1000, { staleMs: 4000 });
    await cache.get('k', async () => 'first');
    vi.setSystemTime(1500);
    let release!: (v: string) => void;
    const slow = () => new Promise<string>((resolve) => (release = resolve));
    expect(await cache.get('k', slow)).toBe('first');
    release('second');
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get('k', async () => 'third')).toBe('second');
  });

  it('does not serve an answer older than its TTL and staleMs', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const cache = createTtlCache<string>(1000, { staleMs: 4000 });
    await cache.get('k', async () => 'old');
    vi.setSystemTime(5000);
    expect(await cache.get('k', async () => 'new')).toBe('new');
  });

  it('without staleMs (token lookups), an expired answer is never served: a revocation applies within the TTL', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const cache = createTtlCache<string>(1000);
    await cache.get('k', async () => 'valid');
    vi.setSystemTime(999);
    expect(await cache.get('k', async () => 'revoked')).toBe('valid');
    vi.setSystemTime(1000);
    expect(await cache.get('k', async () => 'revoked')).toBe('revoked');
  });

  it('does not remember a failure', async () => {
    const cache = createTtlCache<string>(1000);
    await expect(cache.get('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'up')).toBe('up');
  });

  it('forgets everything on clear', async () => {
    const cache = createTtlCache<string>(60_000);
    await cache.get('k', async () => 'before');
    cache.clear();
    expect(await cache.get('k', async () => 'after')).toBe('after');
  });
});
