// Watching every process on the machine while the engine runs: what a local user (or root) could
// read in /proc is where a password passed the wrong way would show.
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessView {
  pid: number;
  /** Arguments joined by NUL, as the kernel keeps them. */
  cmdline: string;
  /** NAME=value entries joined by NUL, as the process was started. */
  environ: string;
}

/**
 * Reads /proc/<pid>/cmdline and /proc/<pid>/environ of every process, again and again, until `done`
 * settles; calls `visit` for each process seen. Returns how many full scans were made.
 */
export async function scanProcessesUntil(done: Promise<unknown>, visit: (process: ProcessView) => Promise<void> | void): Promise<number> {
  let settled = false;
  void done.then(
    () => (settled = true),
    () => (settled = true),
  );
  let scans = 0;
  while (!settled) {
    for (const entry of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const [cmdline, environ] = await Promise.all([read(`/proc/${entry}/cmdline`), read(`/proc/${entry}/environ`)]);
      if (cmdline === null && environ === null) continue;
      await visit({ pid: Number(entry), cmdline: cmdline ?? '', environ: environ ?? '' });
    }
    scans += 1;
  }
  return scans;
}

/** The value of one variable in a NUL-separated environment block. */
export function environValue(environ: string, name: string): string | undefined {
  return environ
    .split('\0')
    .find((entry) => entry.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

async function read(path: string): Promise<string | null> {
  // A process may exit between readdir and read.
  return readFile(path).then(
    (bytes) => bytes.toString('utf8'),
    () => null,
  );
}
