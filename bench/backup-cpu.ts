// Where a backup's time goes: the engine's backup (runDatabaseBackup, zstd, one local file) with its
// rows counted each way, against `pg_dump -Fc -Z0 | zstd -1 > f; sync f`, alternating, with the CPU
// seconds of every process involved read from /proc while they run: the server's backends of the
// source (the dump's COPY, the counting scan and its parallel workers), pg_dump, zstd and this node.
//
//   pnpm exec tsx bench/backup-cpu.ts [--rounds 5] [--modes reference,snapshot,stream] DATABASE
//
// Not part of the tests. The source is any database of the server at BENCH_PG_URL.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStorage, createLogger, parsePostgresUrl, runDatabaseBackup } from '@coffre/shared';
import { median, urlOf } from './lib.js';

type Mode = 'reference' | 'snapshot' | 'stream' | 'uncounted';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1]! : fallback;
};
const rounds = Number(flag('--rounds', '5'));
const modes = flag('--modes', 'reference,snapshot,stream').split(',') as Mode[];
const database = args[0] ?? 'coffre_bench_source';
const TICK = 100;

interface Sample {
  wallMs: number;
  cpu: Record<string, number>;
  rows: number | null;
}

const work = await mkdtemp(join(tmpdir(), 'coffre-backup-cpu-'));
const storage = createLocalStorage(join(work, 'backups'));
const logger = createLogger({ level: 'warn' });
const results: Record<string, Sample[]> = Object.fromEntries(modes.map((m) => [m, []]));
try {
  for (let round = 0; round < rounds; round++) {
    // Rotated each round, so that no mode always follows the same one.
    const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
    for (const mode of order) {
      const sample = await measure(mode);
      results[mode]!.push(sample);
      process.stderr.write(`round ${round + 1} ${mode}: ${(sample.wallMs / 1000).toFixed(2)} s ${JSON.stringify(sample.cpu)} rows ${sample.rows}\n`);
    }
  }
  const load = loadavg();
  process.stdout.write(`load average at the end: ${load.map((v) => v.toFixed(2)).join(' ')}\n`);
  process.stdout.write('| mode | wall s (median, min–max) | CPU-s by process (medians) | rows |\n| --- | --- | --- | --- |\n');
  for (const mode of modes) {
    const runs = results[mode]!;
    const walls = runs.map((r) => r.wallMs / 1000);
    const names = [...new Set(runs.flatMap((r) => Object.keys(r.cpu)))].sort();
    const cpu = names.map((n) => `${n} ${median(runs.map((r) => r.cpu[n] ?? 0)).toFixed(2)}`).join(', ');
    const total = median(runs.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0)));
    process.stdout.write(`| ${mode} | ${median(walls).toFixed(2)} (${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}) | ${cpu}; total ${total.toFixed(2)} | ${runs[0]!.rows ?? '—'} |\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

async function measure(mode: Mode): Promise<Sample> {
  const sampler = await sampleCpu(database);
  const started = performance.now();
  const own = process.cpuUsage();
  let rows: number | null = null;
  if (mode === 'reference') {
    const file = join(work, 'reference.dump.zst');
    await run('sh', ['-c', 'pg_dump -Fc -Z0 -d "$1" | zstd -q -1 > "$2"; sync "$2"', 'sh', urlOf(database), file]);
  } else {
    const result = await runDatabaseBackup({
      connection: parsePostgresUrl(urlOf(database)),
      type: 'full',
      compression: 'zstd',
      recipients: [],
      targets: [{ driver: storage, key: 'coffre.dump.zst' }],
      tmpDir: join(work, 'tmp'),
      countRows: mode !== 'uncounted',
      countFrom: mode === 'uncounted' ? undefined : mode,
      logger,
    });
    rows = result.recordsCount;
  }
  const wallMs = performance.now() - started;
  const cpu = await sampler.stop();
  const self = process.cpuUsage(own);
  if (mode !== 'reference') cpu.node = (self.user + self.system) / 1e6;
  return { wallMs, cpu, rows };
}

function run(command: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

/**
 * CPU seconds of the processes a backup involves, by kind, as the largest utime + stime each was seen
 * with (read every TICK ms; a process that ends between two reads loses at most that much):
 * this process's children (pg_dump, zstd, sh) and the server's processes working for `db` (backends
 * connected to it and the parallel workers of those backends).
 */
async function sampleCpu(db: string): Promise<{ stop(): Promise<Record<string, number>> }> {
  const kinds = new Map<number, string | null>();
  const seen = new Map<number, number>();
  const backendsOfDb = new Set<number>();
  let stopped = false;
  const tick = async () => {
    const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
    for (const pid of pids) {
      if (kinds.get(pid) === null) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
      if (!stat) continue;
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      if (!kinds.has(pid)) kinds.set(pid, await kindOf(pid, comm, Number(fields[1])));
      const kind = kinds.get(pid);
      if (!kind) continue;
      seen.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    }
  };
  const kindOf = async (pid: number, comm: string, ppid: number): Promise<string | null> => {
    if (ppid === process.pid) return comm === 'stdbuf' ? 'pg_dump' : comm;
    if (comm === 'pg_dump' || comm === 'zstd') return (await isOurs(ppid)) ? comm : null;
    if (comm !== 'postgres') return null;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    const leader = /parallel worker for PID (\d+)/.exec(cmdline);
    if (leader) return backendsOfDb.has(Number(leader[1])) ? 'postgres parallel worker' : null;
    if (cmdline.includes(` ${db} `)) {
      backendsOfDb.add(pid);
      return 'postgres backend';
    }
    return null;
  };
  // pg_dump | zstd under sh: grandchildren.
  const isOurs = async (pid: number) => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
  };
  // What the processes alive now had used before: not this run's.
  await tick();
  const before = new Map(seen);
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, TICK));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await tick();
      const sums: Record<string, number> = {};
      for (const [pid, seconds] of seen) {
        const kind = kinds.get(pid)!;
        sums[kind] = Math.round(((sums[kind] ?? 0) + seconds - (before.get(pid) ?? 0)) * 100) / 100;
      }
      return sums;
    },
  };
}
