// The time rule on screen: an absolute time with its zone's label and, beside it, how long ago or
// how soon. A schedule's times show in the schedule's zone, and in the viewer's too when they differ.
import { useEffect, useState } from 'react';
import { formatDateTime, formatRelative, sameOffset, viewerZone } from '../lib/format';

interface TimeProps {
  at: string | null | undefined;
  /** The schedule's zone: shown first, the viewer's after it when the two differ. */
  zone?: string;
  /** Leave the relative time out (a table column that shows many). */
  absoluteOnly?: boolean;
  /** Show the seconds (a moment to restore to). */
  seconds?: boolean;
}

export function Time({ at, zone, absoluteOnly, seconds }: TimeProps) {
  // Read again on every tick of the clock; the relative time counts from the moment of rendering.
  useNow();
  if (!at) return <span>—</span>;
  const other = zone && !sameOffset(at, zone) ? formatDateTime(at, undefined, seconds) : null;
  return (
    <time dateTime={at} title={`${new Date(at).toISOString()} (UTC)`} className="time">
      <span className="time-absolute">{formatDateTime(at, zone, seconds)}</span>
      {other ? <span className="time-viewer"> · {other}</span> : null}
      {absoluteOnly ? null : <span className="time-relative muted"> ({formatRelative(at)})</span>}
    </time>
  );
}

// One clock for every time on screen: a single timer, started while something shows a time.
const listeners = new Set<(now: number) => void>();
let clock: ReturnType<typeof setInterval> | undefined;

/** Now, refreshed every 30 s so that "3 min ago" moves without asking the API anything. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    listeners.add(setNow);
    clock ??= setInterval(() => listeners.forEach((listener) => listener(Date.now())), 30_000);
    return () => {
      listeners.delete(setNow);
      if (listeners.size === 0) {
        clearInterval(clock);
        clock = undefined;
      }
    };
  }, []);
  return now;
}

export { viewerZone };
