// A small in-process cache for answers that may be a few seconds old (history counts, stats, token
// lookups). One computation per key is in flight at a time: a burst of identical requests costs one
// query. With `staleMs`, an answer up to that much older than the TTL is still served while the next
// is computed (stale while revalidating), so that no request of a busy key waits for a refresh; an
// answer older than that is not served: the caller waits for a fresh one.
export interface TtlCache<V> {
  get(key: string, compute: () => Promise<V>): Promise<V>;
  clear(): void;
}

interface Entry<V> {
  at: number;
  /** The last answer that arrived. */
  value?: V;
  /** The computation in flight, if any. */
  pending?: Promise<V>;
}

export interface TtlCacheOptions {
  maxEntries?: number;
  /** How long past its TTL an answer is still served while a fresh one is computed (0: never). */
  staleMs?: number;
}

export function createTtlCache<V>(ttlMs: number, { maxEntries = 1000, staleMs = 0 }: TtlCacheOptions = {}): TtlCache<V> {
  const entries = new Map<string, Entry<V>>();

  function refresh(key: string, entry: Entry<V>, compute: () => Promise<V>): Promise<V> {
    const pending = compute().then(
      (value) => {
        entry.value = value;
        entry.at = Date.now();
        entry.pending = undefined;
        return value;
      },
      (error: unknown) => {
        // A failure is not remembered: the next call computes again.
        entry.pending = undefined;
        if (!('value' in entry)) entries.delete(key);
        throw error;
      },
    );
    entry.pending = pending;
    return pending;
  }

  return {
    get(key, compute) {
      let entry = entries.get(key);
      if (!entry) {
        entry = { at: 0 };
        entries.set(key, entry);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      const age = Date.now() - entry.at;
      if ('value' in entry && age < ttlMs + staleMs) {
        if (age >= ttlMs && !entry.pending) refresh(key, entry, compute).catch(() => {});
        return Promise.resolve(entry.value as V);
      }
      return entry.pending ?? refresh(key, entry, compute);
    },
    clear() {
      entries.clear();
    },
  };
}
