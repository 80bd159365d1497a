// The UI's one live connection (GET /api/events, server-sent events): the API says which topics
// changed ("backups", "restores"…) and every list or panel that shows one of them reads again. No
// page polls. After the stream was cut and comes back, everything reads again (changes may have been
// missed meanwhile). A stream the API refuses (the session ended) asks who is logged in, which sends
// a logged-out browser to the login page.
import { createContext, useContext, useEffect, useRef, type ReactNode } from 'react';
import type { LiveChange, LiveTopic } from '@coffre/contract';
import { apiGet } from './api/client';

type Listener = (topics: readonly LiveTopic[]) => void;

// The contract's liveTopics, by type only: importing its values would bring zod into the shell.
const liveTopics = ['backups', 'restores', 'verifications', 'configurations', 'sources', 'destinations', 'notifications', 'users', 'workers'] as const satisfies readonly LiveTopic[];

interface Live {
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<Live | null>(null);

export function LiveProvider({ children }: { children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const live = useRef<Live>({
    subscribe(listener) {
      listeners.current.add(listener);
      return () => listeners.current.delete(listener);
    },
  });
  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let cut = false;
    const tell = (topics: readonly LiveTopic[]) => listeners.current.forEach((listener) => listener(topics));
    const open = () => {
      source = new EventSource('/api/events');
      source.addEventListener('ready', () => {
        if (cut) tell(liveTopics);
        cut = false;
      });
      source.addEventListener('change', (event) => tell((JSON.parse((event as MessageEvent<string>).data) as LiveChange).topics));
      source.onerror = () => {
        cut = true;
        // EventSource reconnects by itself after a network cut, not after a refusal (401): then
        // ask the API who is logged in (a 401 there logs the UI out), and open again later.
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          void apiGet('/api/auth/me').catch(() => {});
          retry = setTimeout(open, 5000);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, []);
  return <LiveContext.Provider value={live.current}>{children}</LiveContext.Provider>;
}

/** Calls `onChange` when one of `topics` changes (nothing when topics is null or outside a LiveProvider). */
export function useLive(topics: readonly LiveTopic[] | null, onChange: () => void): void {
  const live = useContext(LiveContext);
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = topics?.join(',') ?? '';
  useEffect(() => {
    if (!live || !key) return;
    const wanted = key.split(',');
    return live.subscribe((changed) => {
      if (changed.some((topic) => wanted.includes(topic))) callback.current();
    });
  }, [live, key]);
}

/** The topics a GET of the API reads: what it must read again when they change. */
export function topicsOf(path: string): LiveTopic[] {
  const route = path.split('?')[0]!;
  if (route.startsWith('/api/dashboard')) return ['backups', 'restores', 'verifications', 'configurations', 'sources', 'destinations'];
  if (route.startsWith('/api/backups')) return ['backups', 'verifications', 'restores'];
  if (route.startsWith('/api/restores')) return ['restores'];
  if (route.startsWith('/api/verifications')) return ['verifications'];
  if (route.startsWith('/api/configurations')) return ['configurations', 'backups'];
  if (route.startsWith('/api/sources')) return ['sources'];
  if (route.startsWith('/api/destinations') || route.startsWith('/api/system')) return ['destinations', 'backups'];
  if (route.startsWith('/api/notification-channels')) return ['notifications'];
  if (route.startsWith('/api/users')) return ['users'];
  if (route.startsWith('/api/workers')) return ['workers'];
  return [];
}
