// The bench's coffre: its API and worker started as real processes, an HTTP client of the API, the
// worker's memory sampled, a seeded history, and paced load on the API.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withDatabase } from './lib.js';

export const META = process.env.BENCH_META_DB ?? 'coffre_bench_meta';
export const NODE_FLAGS = { worker: ['--optimize-for-size', '--max-semi-space-size=1'], api: [] as string[] };

interface Run {
  status: string;
  name: string;
  sizeBytes: number;
  errorMessage: string | null;
  createdAt: string;
  completedAt: string;
}

export type Api = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

export function client(base: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

/**
 * Waits for a run by reading its row in coffre's database, without asking the API, then reads it
 * once through the API: what the API's process costs during a run is then its own, not the poll's.
 */
export async function waitForRow(api: Api, table: 'Backup' | 'Restore', id: string, path: string): Promise<Run> {
  await withDatabase(META, async (c) => {
    for (;;) {
      const { rows } = await c.query<{ status: string }>(`SELECT status FROM "${table}" WHERE id = $1`, [id]);
      if (rows[0]?.status === 'completed' || rows[0]?.status === 'failed') return;
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  return (await api('GET', path)) as unknown as Run;
}

export async function waitFor(api: Api, path: string): Promise<Run> {
  for (;;) {
    const row = (await api('GET', path)) as unknown as Run;
    if (row.status === 'completed' || row.status === 'failed') return row;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startService(name: 'api' | 'worker', env: Record<string, string | undefined>, ready: RegExp, logDir: string) {
  const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : NODE_FLAGS[name];
  const logFile = join(logDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...flags, resolve(`services/${name}/dist/main.js`)], {
    env: name === 'worker' ? { MALLOC_ARENA_MAX: '2', ...env } : env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  // Logs go to a file, not to a pipe this process reads: a pipe that fills while the benchmark is busy
  // would block the service's log writes and show up as its latency.
  const output = () => readFileSync(logFile, 'utf8');
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setInterval(() => {
      if (ready.test(output())) {
        clearInterval(timer);
        resolvePromise();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`the ${name} exited (${code}): ${output().slice(-2000)}`));
    });
  });
  return { child, output };
}

/**
 * The peak resident memory of processes over one run: each one's high-water mark (VmHWM) is reset
 * first (clear_refs 5), then read at the end, so that no short peak falls between two samples.
 * Where the reset is refused (not root), VmRSS sampled every 50 ms stands in.
 */
/** CPU seconds a process itself has used so far (utime + stime of /proc/<pid>/stat, 100 ticks a second; its children, pg_dump and zstd, not counted). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line, counted from 1; the slice starts at field 3.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

export function sampleRss(pids: number[]): { stop(): Promise<number[]> } {
  const kb = (status: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  const status = (pid: number) => readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const resettable = pids.map((pid) => {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  });
  const sampled = pids.map(() => 0);
  const read = async () => {
    for (const [i, pid] of pids.entries()) sampled[i] = Math.max(sampled[i]!, kb(await status(pid), 'VmRSS'));
  };
  void read();
  const timer = setInterval(() => void read(), 50);
  return {
    async stop() {
      clearInterval(timer);
      await read();
      return Promise.all(pids.map(async (pid, i) => (resettable[i] ? Math.max(kb(await status(pid), 'VmHWM'), sampled[i]!) : sampled[i]!)));
    },
  };
}

export async function seedHistory(sourceId: string, count: number): Promise<void> {
  await withDatabase(META, (c) =>
    c.query(
      `INSERT INTO "Backup" (id, name, type, status, trigger, "sourceId", "sourceName", compression, "sizeBytes", "checksumSha256",
                             "durationMs", "startedAt", "completedAt", "createdAt", "updatedAt", "tablesCount", "recordsCount")
       SELECT gen_random_uuid(), 'history-' || g,
              (ARRAY['full', 'full', 'full', 'schema', 'data'])[1 + g % 5]::"BackupType",
              (ARRAY['completed', 'completed', 'completed', 'completed', 'failed'])[1 + (g / 7) % 5]::"RunStatus",
              (ARRAY['manual', 'schedule', 'schedule', 'cli'])[1 + g % 4], $1, 'default', 'zstd',
              (random() * 1e9)::bigint, md5(g::text) || md5((g + 1)::text), (random() * 60000)::int,
              now() - (g * interval '30 seconds'), now() - (g * interval '30 seconds') + interval '20 seconds',
              now() - (g * interval '30 seconds'), now(), 12, 1000000
         FROM generate_series(1, $2::int) g`,
      [sourceId, count],
    ),
  );
  // As autovacuum leaves a table that has lived a while; otherwise it starts on the 100,000 new rows in
  // the middle of the measurement, and its work shows up as the API's latency.
  await withDatabase(META, (c) => c.query('VACUUM ANALYZE "Backup"'));
  // And as the server would have written them out long since: otherwise the checkpoint that follows
  // 100,000 inserts lands in the middle of the measurement, and its disk writes stall every query
  // for hundreds of milliseconds (the p99 of 39 ms the issue measured, and more on a busy disk).
  await withDatabase(META, (c) => c.query('CHECKPOINT'));
}

/**
 * An open-loop load at a fixed rate: one request every 1/rate s, each timed from the moment it was due
 * (so that a stall delays the requests behind it in the figures too), on up to 50 keep-alive
 * connections. autocannon's rate mode is not used: it sends each second's quota as one burst and
 * fills latencies in at 1 ms steps, which gives a no-op node server a p99 of about 28 ms here.
 */
export async function load(url: string, token: string, rate = 200, seconds = 15) {
  await pacedLoad(url, token, rate, 2); // warms the connections, the caches and the JIT
  return pacedLoad(url, token, rate, seconds);
}

async function pacedLoad(url: string, token: string, rate: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  const latencies: number[] = [];
  let errors = 0;
  const send = (due: number) =>
    new Promise<void>((done) => {
      const request = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.once('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - due);
          done();
        });
      });
      request.once('error', () => {
        errors++;
        done();
      });
    });
  const start = performance.now() + 20;
  const sent: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(send(due));
  }
  await Promise.all(sent);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  return { requests: latencies.length + errors, errors, p50: quantile(0.5), p99: quantile(0.99), max: latencies.at(-1) ?? 0, perSecond: rate };
}

export async function schedulingDelay(api: Api, sourceId: string): Promise<number> {
  const cfg = (await api('POST', '/api/configurations', { name: 'bench-every-minute', sourceId, type: 'schema', schedule: { kind: 'cron', cron: '* * * * *', timezone: 'UTC' } })) as { id: string; nextRunAt: string };
  const due = Date.parse(cfg.nextRunAt);
  for (;;) {
    const page = (await api('GET', `/api/backups?configurationId=${cfg.id}&pageSize=1`)) as { items: { createdAt: string; startedAt: string | null }[] };
    const first = page.items[0];
    if (first?.startedAt) {
      await api('POST', `/api/configurations/${cfg.id}/deactivate`);
      return Date.parse(first.startedAt) - due;
    }
    if (Date.now() - due > 120_000) throw new Error('the scheduler did not fire within two minutes of its due time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
