// Temporary files (unfinished uploads, passfiles) carry the tag of the process that writes them:
// `<process tag>.<uuid><suffix>`. A worker's heartbeat carries the same tag, so that what a process
// left when it died (SIGKILL, OOM, power) is recognised as soon as its heartbeat lapses, rather than
// by age alone after hours.
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** This process: host, pid and a few random bytes (a pid is reused after a restart, the tag is not). */
export const PROCESS_TAG = `${hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host'}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** A fresh temporary name owned by this process, e.g. `web1-4242-a1b2c3.<uuid>.part`. */
export function temporaryName(suffix = ''): string {
  return `${PROCESS_TAG}.${randomUUID()}${suffix}`;
}

const TEMPORARY_NAME = /^([A-Za-z0-9-]+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[A-Za-z]+)?$/;

/** The process tag in a temporary's name, or null for a name of another form (older versions). */
export function temporaryOwner(name: string): string | null {
  return TEMPORARY_NAME.exec(name)?.[1] ?? null;
}
