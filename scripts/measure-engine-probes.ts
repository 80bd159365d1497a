// What scripts/measure-engine.ts reads beside a run: the CPU of its children and of the database
// server's backends, the peak memory of a process, and counts that warm the server up.

import { readFile } from 'node:fs/promises';
import pg from 'pg';
// The engine's own modules rather than the package index: the child's peak RSS is then the engine's,
// not that of Prisma, BullMQ or the AWS SDK, which the index also loads.

import { ADMIN_URL, median, withDatabase } from '../bench/lib.js';

const CLOCK_TICKS = 100;

export interface Sample extends Partial<ChildReport> {
  ms: number;
  /** CPU seconds of this process's children (the tools, or the engine child and its tools). */
  clientCpu?: number;
  /** CPU seconds of the PostgreSQL backends serving the watched database. */
  serverCpu?: number;
}

export function totalCpu(sample: Sample): number {
  return (sample.clientCpu ?? 0) + (sample.serverCpu ?? 0);
}

export function cpuText(samples: Sample[]): string {
  const client = median(samples.map((x) => x.clientCpu ?? 0));
  const server = median(samples.map((x) => x.serverCpu ?? 0));
  return `${median(samples.map(totalCpu)).toFixed(2)} (${client.toFixed(2)} + ${server.toFixed(2)})`;
}

/** CPU seconds of every child this process has waited for (and of their own waited-for children). */
export async function childrenCpu(): Promise<number> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3 of stat, so cutime (16) and cstime (17) are at 13 and 14 here.
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/**
 * Follows the server processes connected to a database (found in pg_stat_activity every 50 ms) and
 * sums their CPU seconds, the last reading of each. What a backend used in its last 50 ms may be missed.
 */
export function watchBackends(database: string): { stop(): Promise<number> } {
  const latest = new Map<number, number>();
  let running = true;
  const client = new pg.Client({ connectionString: ADMIN_URL });
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
      for (const { pid } of rows) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
        if (!stat) continue;
        const fields = stat.split(') ')[1]!.split(' ');
        latest.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...latest.values()].reduce((a, b) => a + b, 0);
    },
  };
}

export async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function countEveryTable(database: string): Promise<void> {
  await withDatabase(database, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      "SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables ORDER BY 1",
    );
    for (const row of rows) await client.query(`SELECT count(*) FROM ONLY ${row.name}`);
  });
}

/** What a child process measuring one run reports back. */
export interface ChildReport {
  ms: number;
  peakRssMb: number;
  /** RSS once the modules are loaded, before the job: what the process costs before the engine works. */
  startRssMb?: number;
  /** CPU seconds the child (and the tools of its warm-up) spent before the job. */
  startCpu?: number;
  sizeBytes?: number;
  checksumSha256?: string;
}
