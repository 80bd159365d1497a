// Numbers, dates and settings as an operator reads them.
import type { ConfigurationView } from '@coffre/contract';

type Retention = ConfigurationView['retention'];

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The time rule: every absolute time names its zone. In the viewer's zone unless `zone` is given
 * (a schedule's times are shown in the schedule's own zone): "5 May 2026, 02:30 CEST". With `seconds`
 * (moments of point-in-time recovery): "5 May 2026, 02:30:17 CEST".
 */
export function formatDateTime(iso: string | null | undefined, zone?: string, seconds = false): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    timeZoneName: 'short',
    ...(zone ? { timeZone: zone } : {}),
  });
}

/** The viewer's time zone (the browser's), as an IANA name. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Whether two zones show the same wall-clock time at `iso` (then one of them is enough). */
export function sameOffset(iso: string, zone: string, other = viewerZone()): boolean {
  const at = new Date(iso);
  const offset = (timeZone: string) => at.toLocaleString('en-US', { timeZone, timeZoneName: 'longOffset' }).split(' ').pop();
  return offset(zone) === offset(other);
}

/** "in 5 min", "3 h ago", relative to `now`. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - now;
  const minutes = Math.round(Math.abs(diff) / 60_000);
  const text =
    minutes < 1 ? 'less than a minute' : minutes < 60 ? `${minutes} min` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(digits).replace(/\.0+$/, '')} %`;
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString();
}

export function describeRetention(r: Retention): string {
  const parts = [
    r.keepLast ? `last ${r.keepLast}` : '',
    r.maxAgeDays ? `${r.maxAgeDays} days` : '',
    r.daily ? `${r.daily} daily` : '',
    r.weekly ? `${r.weekly} weekly` : '',
    r.monthly ? `${r.monthly} monthly` : '',
    r.yearly ? `${r.yearly} yearly` : '',
    r.maxTotalBytes ? `at most ${formatBytes(r.maxTotalBytes)} in all` : '',
    r.minKeep ? `never fewer than ${r.minKeep}` : '',
  ].filter(Boolean);
  return parts.length ? `Keeps ${parts.join(', ')}` : 'Keeps every backup';
}

/** When a configuration runs next: "in 3 h (5 May 2026, 02:30 CEST)", in the schedule's zone, or why it does not. */
export function describeNextRun(c: { nextRunAt: string | null; active: boolean; schedule?: { timezone: string } }): string {
  if (c.nextRunAt) return `${formatRelative(c.nextRunAt)} (${formatDateTime(c.nextRunAt, c.schedule?.timezone)})`;
  return c.active ? 'Only when run by hand' : 'Inactive';
}

/** A log line's time, to the second, in the viewer's zone with its label: "Nov 30, 02:29:56 AM EST". */
export function formatLogTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}
