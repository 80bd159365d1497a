// Reads a resource and reads it again every few seconds, so that statuses change on screen without
// a reload. One request at a time; a failed poll keeps the last data and reports the error. A 404
// ends the polling: what does not exist (a mistyped or deleted id in a link) will not appear.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, apiGet } from '../api/client';

export const POLL_MS = 2500;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** The data shown belongs to earlier arguments (a new page or filter is being read). */
  stale: boolean;
  /** The arguments (deps) the data was read for, as JSON: compare with the current ones without waiting for an effect. */
  dataFor: string | undefined;
  reload: () => Promise<void>;
}

export function usePolling<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], intervalMs: number | null = POLL_MS): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [stale, setStale] = useState(false);
  const [dataFor, setDataFor] = useState<string>();
  const depsKey = JSON.stringify(deps);
  const depsRef = useRef(depsKey);
  depsRef.current = depsKey;
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const inFlight = useRef<AbortController | null>(null);
  const missing = useRef(false);

  const run = useCallback(async (mine: number) => {
    const readFor = depsRef.current;
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    try {
      const value = await loadRef.current(controller.signal);
      if (generation.current !== mine) return;
      setData(value);
      setDataFor(readFor);
      setStale(false);
      setError(undefined);
      missing.current = false;
    } catch (caught) {
      if ((caught as Error).name === 'AbortError' || generation.current !== mine) return;
      missing.current = caught instanceof ApiError && caught.status === 404;
      setError(caught as Error);
      setStale(false);
    } finally {
      if (generation.current === mine) setLoading(false);
      if (inFlight.current === controller) inFlight.current = null;
    }
  }, []);

  useEffect(() => {
    generation.current += 1;
    const mine = generation.current;
    setLoading(true);
    setStale(true);
    missing.current = false;
    void run(mine);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (generation.current !== mine || missing.current) return;
      if (!inFlight.current && document.visibilityState !== 'hidden') await run(mine);
      if (generation.current === mine && !missing.current) timer = setTimeout(tick, intervalMs!);
    };
    if (intervalMs) timer = setTimeout(tick, intervalMs);
    return () => {
      generation.current += 1;
      clearTimeout(timer);
      inFlight.current?.abort();
      inFlight.current = null;
    };
  }, [...deps, intervalMs, run]);

  const reload = useCallback(() => run(generation.current), [run]);
  return { data, error, loading, stale, dataFor, reload };
}

/** GET a path of the API, polled. */
export function useApi<T>(path: string | null, intervalMs: number | null = POLL_MS): Polled<T> {
  return usePolling<T>((signal) => (path ? apiGet<T>(path, signal) : Promise.resolve(undefined as T)), [path], path ? intervalMs : null);
}
