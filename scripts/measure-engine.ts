// Measures coffre's engine against the plain tools an operator would script, on a database of
// about 1 GB built for the occasion (a pgbench table and a wide table of text, jsonb and timestamps
// that compresses like application data), then drops it.
//
//   npx tsx --conditions source scripts/measure-engine.ts [--rounds 3] [--scale 1] [--diagnose] [--keep] [--database NAME] [--only A,B]
//
// Backups: `pg_dump -Fc -Z0 | zstd -1 > file` against runDatabaseBackup (zstd at its default level,
// then with age encryption). Restores: `zstd -dc file | pg_restore -d` against runDatabaseRestore.
// Runs alternate (A, B, C, A, B, C …) so that a noisy neighbour on the machine hits every side;
// medians are reported. The engine runs in a child node process that reports its own peak RSS
// (VmHWM), after a small warm-up job (a worker's code is compiled by its first job). CPU seconds
// (the tools' and the engine's, and the PostgreSQL backends') are reported too: unlike wall time,
// they hardly move when other work shares the machine. The engine child's start (loading modules,
// the warm-up) is left out of both. --diagnose adds variants that tell where time goes (no row
// counts, zstd -3, count(*) alone).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The engine's own modules rather than the package index: the child's peak RSS is then the engine's,
// not that of Prisma, BullMQ or the AWS SDK, which the index also loads.
import { generateIdentity, parseIdentity } from '../shared/src/crypto/age.js';
import { createLogger } from '../shared/src/infra/logger.js';
import { parsePostgresUrl } from '../shared/src/engine/postgres.js';
import { runDatabaseBackup } from '../shared/src/engine/backup-pipeline.js';
import { dropDatabase as dropDatabaseOf, runDatabaseRestore } from '../shared/src/engine/restore-pipeline.js';
import { createLocalStorage } from '../shared/src/storage/local.js';
import { ADMIN_URL, PG_BIN, buildSourceDatabase, databaseInfo, dropDatabase, log, mb, median, shell, timed, urlOf } from '../bench/lib.js';
import { type Sample, childrenCpu, countEveryTable, cpuText, peakRssMb, totalCpu, watchBackends, type ChildReport } from './measure-engine-probes.js';

/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat. */
interface BackupJob {
  kind: 'backup';
  url: string;
  dir: string;
  key: string;
  level?: number;
  recipient?: string;
  countRows: boolean;
}

interface RestoreJob {
  kind: 'restore';
  url: string;
  dir: string;
  key: string;
  sizeBytes: number;
  checksumSha256: string;
  identity?: string;
}


if (process.argv[2] === 'engine-child') {
  const report = await engineChild(JSON.parse(process.argv[3]!) as BackupJob | RestoreJob);
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  await main(parseArgs(process.argv.slice(2)));
}

async function main(options: Options): Promise<void> {
  const database = options.database ?? `coffre_measure_${Math.random().toString(36).slice(2, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), 'coffre-measure-'));
  const restored: string[] = [];
  const { identity, recipient } = generateIdentity();
  const load = [loadavg()[0]!];
  try {
    if (!options.database) {
      log(`building ${database} (scale ${options.scale}) …`);
      const buildMs = await timed(() => buildSourceDatabase(database, options.scale));
      log(`built in ${(buildMs / 1000).toFixed(1)} s`);
    }
    const info = await databaseInfo(database);
    log(`${database}: ${mb(info.bytes)} on disk, ${info.rows.toLocaleString('en')} rows`);
    const url = urlOf(database);

    // Backups.
    const backupVariants: Variant[] = [
      {
        name: 'pg_dump -Fc -Z0 | zstd -1 > file',
        watch: () => database,
        run: async (round) => {
          const file = join(dir, `plain-${round}.dump.zst`);
          const ms = await timed(() => shell(`"$1/pg_dump" -Fc -Z0 -d "$2" | zstd -q -1 > "$3"`, [PG_BIN, url, file]));
          return { ms, sizeBytes: (await stat(file)).size };
        },
      },
      {
        name: 'coffre zstd (default level)',
        watch: () => database,
        run: (round) => engineBackup({ kind: 'backup', url, dir, key: `coffre-${round}.dump.zst`, countRows: true }),
      },
      {
        name: 'coffre zstd + age',
        watch: () => database,
        run: (round) => engineBackup({ kind: 'backup', url, dir, key: `coffre-${round}.dump.zst.age`, recipient, countRows: true }),
      },
    ];
    if (options.diagnose) {
      backupVariants.push(
        {
          name: 'coffre zstd, no row counts',
          watch: () => database,
          run: (round) => engineBackup({ kind: 'backup', url, dir, key: `nocount-${round}.dump.zst`, countRows: false }),
        },
        {
          name: 'coffre zstd -3',
          watch: () => database,
          run: (round) => engineBackup({ kind: 'backup', url, dir, key: `l3-${round}.dump.zst`, level: 3, countRows: true }),
        },
        {
          name: 'pg_dump -Fc -Z0 | zstd -3 > file',
          watch: () => database,
          run: async (round) => {
            const file = join(dir, `plain3-${round}.dump.zst`);
            const ms = await timed(() => shell(`"$1/pg_dump" -Fc -Z0 -d "$2" | zstd -q -3 > "$3"`, [PG_BIN, url, file]));
            return { ms, sizeBytes: (await stat(file)).size };
          },
        },
        {
          name: 'count(*) of every table alone',
          watch: () => database,
          run: async () => ({ ms: await timed(() => countEveryTable(database)) }),
        },
      );
    }
    const backups = await alternate(only(backupVariants, options.only), options.rounds);
    load.push(loadavg()[0]!);

    // Restores, all from coffre's own artifacts of the last round.
    const last = options.rounds - 1;
    const artifactOf = (name: string) => backups.find((b) => b.name === name)?.samples[last];
    const plainArtifact = artifactOf('coffre zstd (default level)');
    const sealedArtifact = artifactOf('coffre zstd + age');
    const restoreVariants: Variant[] = [
      {
        name: 'createdb; zstd -dc file | pg_restore -d',
        watch: (round) => `${database}_plain_${round}`,
        run: async (round) => {
          const target = `${database}_plain_${round}`;
          restored.push(target);
          const file = join(dir, `coffre-${last}.dump.zst`);
          return {
            ms: await timed(() =>
              shell(`"$1/createdb" -h 127.0.0.1 -U postgres "$2" && zstd -dc "$3" | "$1/pg_restore" -d "$4"`, [PG_BIN, target, file, urlOf(target)]),
            ),
          };
        },
      },
      {
        name: 'coffre restore (zstd)',
        watch: (round) => `${database}_coffre_${round}`,
        run: (round) => {
          const target = `${database}_coffre_${round}`;
          restored.push(target);
          return engine({ kind: 'restore', url: urlOf(target), dir, key: `coffre-${last}.dump.zst`, sizeBytes: plainArtifact!.sizeBytes!, checksumSha256: plainArtifact!.checksumSha256! });
        },
      },
      {
        name: 'coffre restore (zstd + age)',
        watch: (round) => `${database}_age_${round}`,
        run: (round) => {
          const target = `${database}_age_${round}`;
          restored.push(target);
          return engine({
            kind: 'restore',
            url: urlOf(target),
            dir,
            key: `coffre-${last}.dump.zst.age`,
            sizeBytes: sealedArtifact!.sizeBytes!,
            checksumSha256: sealedArtifact!.checksumSha256!,
            identity,
          });
        },
      },
    ];
    // Restores read the artifacts of both coffre backups: with --only, they run when both were taken.
    const restoring = plainArtifact && sealedArtifact ? only(restoreVariants, options.only) : [];
    const restores = await alternate(restoring, options.rounds, async () => {
      while (restored.length) await dropDatabase(restored.pop()!);
    });
    load.push(loadavg()[0]!);

    report({ database, info, backups, restores, load });
  } finally {
    while (restored.length) await dropDatabase(restored.pop()!).catch(() => {});
    if (!options.keep && !options.database) await dropDatabase(database).catch((error: Error) => log(`could not drop ${database}: ${error.message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

interface Variant {
  name: string;
  /** The database whose server processes do this variant's work. */
  watch: (round: number) => string;
  run: (round: number) => Promise<Sample>;
}

interface Series {
  name: string;
  samples: Sample[];
}

/** Runs every variant once per round, in turn, so that a noisy neighbour hits all of them alike. */
async function alternate(
  variants: Variant[],
  rounds: number,
  afterRound?: () => Promise<void>,
): Promise<Series[]> {
  const series = variants.map((v) => ({ name: v.name, samples: [] as Sample[] }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, variant] of variants.entries()) {
      const clientBefore = await childrenCpu();
      const server = watchBackends(variant.watch(round));
      const sample = await variant.run(round);
      sample.serverCpu = await server.stop();
      sample.clientCpu = (await childrenCpu()) - clientBefore - (sample.startCpu ?? 0);
      series[i]!.samples.push(sample);
      const rss = sample.peakRssMb ? `, peak RSS ${sample.peakRssMb.toFixed(0)} MB (${sample.startRssMb!.toFixed(0)} MB before the job)` : '';
      const cpu = `CPU ${sample.clientCpu.toFixed(2)} s tools/engine + ${sample.serverCpu.toFixed(2)} s server`;
      log(`round ${round + 1}/${rounds} ${variant.name}: ${(sample.ms / 1000).toFixed(2)} s, ${cpu}${rss} (load ${loadavg()[0]!.toFixed(1)})`);
    }
    await afterRound?.();
  }
  return series;
}

function report(result: { database: string; info: { bytes: number; rows: number }; backups: Series[]; restores: Series[]; load: number[] }): void {
  const lines: string[] = [];
  lines.push('', `# Engine measurement (${new Date().toISOString()})`, '');
  lines.push(`Database: ${mb(result.info.bytes)} on disk, ${result.info.rows.toLocaleString('en')} rows. Load average (1 min) at start/after backups/end: ${result.load.map((l) => l.toFixed(1)).join(' / ')} on 2 cores.`, '');
  for (const [title, series] of [
    ['Backups', result.backups],
    ['Restores', result.restores],
  ] as const) {
    if (series.length === 0) continue;
    const base = median(series[0]!.samples.map((s) => s.ms));
    const baseCpu = median(series[0]!.samples.map(totalCpu));
    lines.push(
      `## ${title}`,
      '',
      '| variant | runs (s) | median (s) | × baseline | CPU s (client + server), median | CPU × baseline | size | peak RSS (MB) | RSS before the job (MB) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const s of series) {
      const m = median(s.samples.map((x) => x.ms));
      const sizes = s.samples.map((x) => x.sizeBytes).filter((x): x is number => x !== undefined);
      const rss = s.samples.map((x) => x.peakRssMb).filter((x): x is number => x !== undefined);
      const startRss = s.samples.map((x) => x.startRssMb).filter((x): x is number => x !== undefined);
      lines.push(
        `| ${s.name.replace(/\|/g, '\\|')} | ${s.samples.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} | ${(m / 1000).toFixed(2)} | ${(m / base).toFixed(3)} | ${cpuText(s.samples)} | ${(median(s.samples.map(totalCpu)) / baseCpu).toFixed(3)} | ${sizes.length ? mb(median(sizes)) : ''} | ${rss.length ? Math.max(...rss).toFixed(0) : ''} | ${startRss.length ? Math.max(...startRss).toFixed(0) : ''} |`,
      );
    }
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function engineBackup(job: BackupJob): Promise<Sample> {
  return engine(job);
}

/** Runs one engine job in a child node process (same loader and conditions as this one). */
export async function engine(job: BackupJob | RestoreJob): Promise<Sample> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, script, 'engine-child', JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => (out += text));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the engine child failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as ChildReport;
}

async function engineChild(job: BackupJob | RestoreJob): Promise<ChildReport> {
  const storage = createLocalStorage(job.dir);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const tmpDir = join(job.dir, 'tmp');
  await warmUp(job, storage, logger, tmpDir);
  const startRssMb = process.memoryUsage().rss / 1024 / 1024;
  const { user, system } = process.cpuUsage();
  const startCpu = (user + system) / 1e6 + (await childrenCpu());
  const started = performance.now();
  if (job.kind === 'backup') {
    const result = await runDatabaseBackup({
      connection: parsePostgresUrl(job.url),
      type: 'full',
      compression: 'zstd',
      compressionLevel: job.level,
      recipients: job.recipient ? [job.recipient] : [],
      targets: [{ driver: storage, key: job.key }],
      tmpDir,
      countRows: job.countRows,
      logger,
    });
    return { ms: performance.now() - started, peakRssMb: await peakRssMb(), startRssMb, startCpu, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 };
  }
  await runDatabaseRestore({
    artifact: {
      open: () => storage.get(job.key),
      sizeBytes: job.sizeBytes,
      checksumSha256: job.checksumSha256,
      encrypted: job.identity !== undefined,
    },
    compression: 'zstd',
    identities: job.identity ? [parseIdentity(job.identity)] : [],
    target: parsePostgresUrl(job.url),
    createDatabase: true,
    type: 'full',
    tmpDir,
    logger,
  });
  return { ms: performance.now() - started, peakRssMb: await peakRssMb(), startRssMb, startCpu };
}

/**
 * A worker has run jobs before: one small backup (and restore) of the nearly empty `postgres`
 * database first, so that the measured job does not pay for compiling the engine's code.
 */
async function warmUp(job: BackupJob | RestoreJob, storage: ReturnType<typeof createLocalStorage>, logger: ReturnType<typeof createLogger>, tmpDir: string): Promise<void> {
  const source = { ...parsePostgresUrl(job.url), database: new URL(ADMIN_URL).pathname.slice(1) };
  const key = `warmup-${process.pid}.dump.zst`;
  const taken = await runDatabaseBackup({ connection: source, type: 'full', compression: 'zstd', recipients: [], targets: [{ driver: storage, key }], tmpDir, logger });
  if (job.kind === 'restore') {
    const target = { ...source, database: `coffre_measure_warmup_${process.pid}` };
    await runDatabaseRestore({
      artifact: { open: () => storage.get(key), sizeBytes: taken.sizeBytes, checksumSha256: taken.checksumSha256, encrypted: false },
      compression: 'zstd',
      identities: [],
      target,
      createDatabase: true,
      type: 'full',
      tmpDir,
      logger,
    });
    await dropDatabaseOf(target);
  }
  await storage.delete(key);
}

interface Options {
  rounds: number;
  scale: number;
  diagnose: boolean;
  /** Keep the database built for the run (to measure again with --database). */
  keep: boolean;
  /** Measure an existing database instead of building one (it is never dropped). */
  database?: string;
  /** Only the variants whose name holds one of these (comma-separated after --only). */
  only?: string[];
}

function only(variants: Variant[], names: string[] | undefined): Variant[] {
  return names ? variants.filter((v) => names.some((n) => v.name.includes(n))) : variants;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    rounds: Number(value('--rounds') ?? 3),
    scale: Number(value('--scale') ?? 1),
    diagnose: argv.includes('--diagnose'),
    keep: argv.includes('--keep'),
    database: value('--database'),
    only: value('--only')?.split(','),
  };
}
