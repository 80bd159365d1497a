// Reads a resource, and reads it again whenever the live stream says that what it shows changed
// (src/live.tsx), so that statuses change on screen without a reload and without polling. One
// request at a time; a failed read keeps the last data and reports the error. A 404 ends the
// listening: what does not exist (a mistyped or deleted id in a link) will not appear. A change
// heard while the tab is hidden is read when it shows again.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LiveTopic } from '@coffre/contract';
import { ApiError, apiGet } from '../api/client';
import { topicsOf, useLive } from '../live';

/** What a read listens to: topics, or null for a read that is never repeated by itself. */
export type Liveness = readonly LiveTopic[] | null;

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

export function usePolling<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], live: Liveness): Polled<T> {
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
  const again = useRef(false);
  const missing = useRef(false);
  const hiddenChange = useRef(false);

  const run = useCallback(async (mine: number): Promise<void> => {
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
    // A change heard during the read: read once more, so that the screen ends on the newest state.
    if (again.current && generation.current === mine) {
      again.current = false;
      await run(mine);
    }
  }, []);

  useEffect(() => {
    generation.current += 1;
    const mine = generation.current;
    setLoading(true);
    setStale(true);
    missing.current = false;
    again.current = false;
    void run(mine);
    return () => {
      generation.current += 1;
      inFlight.current?.abort();
      inFlight.current = null;
    };
  }, [...deps, run]);

  const onChange = useCallback(() => {
    if (missing.current) return;
    if (document.visibilityState === 'hidden') {
      hiddenChange.current = true;
      return;
    }
    if (inFlight.current) again.current = true;
    else void run(generation.current);
  }, [run]);
  useLive(live, onChange);
  useEffect(() => {
    if (!live) return;
    const onVisible = () => {
      if (document.visibilityState !== 'visible' || !hiddenChange.current) return;
      hiddenChange.current = false;
      onChange();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [live, onChange]);

  const reload = useCallback(() => run(generation.current), [run]);
  return { data, error, loading, stale, dataFor, reload };
}

/** GET a path of the API, read again when its topics change (`null`: never by itself). */
export function useApi<T>(path: string | null, live?: Liveness): Polled<T> {
  return usePolling<T>((signal) => (path ? apiGet<T>(path, signal) : Promise.resolve(undefined as T)), [path], path ? (live === undefined ? topicsOf(path) : live) : null);
}
