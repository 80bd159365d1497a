// `pnpm bench`: what coffre costs over a hand-written `pg_dump | zstd` script, measured here, side by
// side in one run. Not part of the tests.
//
//   pnpm bench [--scale 1] [--rounds 3] [--fresh] [--drop-source]
//   pnpm bench --only api      (step 4 alone, on a small source: a minute)
//   pnpm bench --only engine   (steps 1-3: backups and restores)
//   pnpm bench --only physical (step 3's base backups alone)
//   pnpm bench --only pitr     (step 3's restore to a moment alone; `--only physical,pitr` both)
//   pnpm bench --only backup   (steps 1-3 without the restores: the backup ratios alone)
//   pnpm bench --only directory (the parallel dump alone: dumpJobs 2 against pg_dump -Fd -j 2)
//   pnpm bench --only restore  (one backup, then the restores alone)
//
// 1. A source database of about `scale` GB (kept between runs; --fresh rebuilds it).
// 2. coffre's API and one worker, as real processes, on their own metadata database.
// 3. Alternating A/B rounds: backups through the API (zstd; zstd + age; and gzip) against
//    `pg_dump -Fc -Z0 | zstd -1 > file` and `pg_dump -Fc` (its default gzip); restores through the API
//    against `zstd -dc file | pg_restore -d`. Medians, ratios, peak RSS of the worker and the API.
//    A parallel dump (dumpJobs 2: pg_dump -Fd -j 2, tarred) against `pg_dump -Fd -j 2 -Z0` then
//    `tar | zstd -1 > file`.
//    Physical base backups (type physical, of the whole server the source lives on; compressed, and
//    compressed and encrypted) against `pg_basebackup -Ft -D - -X none | zstd -1 > file`; then point-in-time recovery: about `scale` GB
//    of WAL streamed (the worker's peak RSS), and a restore to a moment near its end into a new
//    database, its time in parts (fetch, replay, dump, load). Both on the bench's server when it
//    accepts replication, else on a cluster of the bench's own (bench/physical.ts).
// 4. GET /api/backups (filtered) and GET /api/backups/stats over 100,000 history rows at 200 requests/s.
// 5. Scheduling delay: from a scheduler's due time to its backup starting.
// Reports go to bench/results/<time>.json and .md; the table is printed.
import { type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LOAD_SESSION_OPTIONS, generateIdentity } from '@coffre/shared';
import { ADMIN_URL, buildSourceDatabase, databaseExists, databaseInfo, dropDatabase, log, mb, median, settle, shell, timed, urlOf, withDatabase } from './lib.js';
import { client, cpuSeconds, load, sampleRss, schedulingDelay, seedHistory, startService, waitFor, waitForRow, META } from './services.js';
import { benchBaseBackups, benchPitr, pitrWorkDir, replicationServer, REFERENCE_BASE_BACKUP, type PitrMeasure } from './physical.js';
import { measureApiLatency } from './api-latency.js';

interface Options {
  /** `api`: only the list, stats and dashboard latencies (bench/api-latency.ts). */
  only: string | null;
  scale: number;
  rounds: number;
  fresh: boolean;
  dropSource: boolean;
}

interface Row {
  measure: string;
  coffre: string;
  reference: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

const SOURCE = process.env.BENCH_SOURCE_DB ?? 'coffre_bench_source';
/** The worker's node flags, as `pnpm worker` and docker-compose.yml run it (BENCH_NODE_FLAGS replaces them). */

const options = parseArgs(process.argv.slice(2));
if (options.only === 'api') await apiOnly();
else await main(options);

async function apiOnly(): Promise<void> {
  const { list, stats, summary } = await measureApiLatency();
  const row = (measure: string, r: typeof list, target: number): Row => ({
    measure: `${measure} p50 / p99`,
    coffre: `${r.p50} / ${r.p99} ms`,
    reference: `${r.requests} requests, ${r.errors} errors`,
    ratio: null,
    target: `p99 ≤ ${target} ms`,
    met: r.p99 <= target && r.errors === 0,
  });
  const rows = [row('GET /api/backups (filtered)', list, 25), row('GET /api/backups/stats', stats, 50), row('GET /api/dashboard/protection', summary, 50)];
  process.stdout.write(['| measure | coffre | reference | target | met |', '| --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r.measure} | ${r.coffre} | ${r.reference} | ${r.target} | ${r.met ? 'yes' : 'no'} |`), ''].join('\n'));
}

export async function main(opts: Options): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'coffre-bench-'));
  const rows: Row[] = [];
  const raw: Record<string, unknown> = { options: opts, machine: { cpus: cpus().length, memoryBytes: totalmem(), node: process.version }, loadAtStart: loadavg() };
  const services: ChildProcess[] = [];
  const restoredDatabases: string[] = [];
  // Interrupted (bench/physical.ts removes its cluster on a signal, then exits), the `finally` below does not run: the services and the work directory go with the bench all the same.
  process.once('exit', () => {
    for (const child of services) if (child.exitCode === null) child.kill('SIGTERM');
    if (!process.env.BENCH_KEEP_WORK) rmSync(work, { recursive: true, force: true });
  });
  try {
    await prepareSource(opts);
    const info = await databaseInfo(SOURCE);
    raw.source = info;
    log(`source: ${mb(info.bytes)} on disk, ${info.rows.toLocaleString()} rows`);

    // coffre's own database and processes.
    await dropDatabase(META);
    await shell('DATABASE_URL="$1" node --experimental-wasm-modules --no-warnings=ExperimentalWarning scripts/migrations.mjs deploy >/dev/null', [urlOf(META)]);
    const { identity, recipient } = generateIdentity();
    const identityFile = join(work, 'age-key.txt');
    await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
    const token = `cof_${randomBytes(24).toString('base64url')}`;
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: urlOf(META),
      REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `coffrebench${process.pid}`,
      BACKUP_DIR: join(work, 'backups'),
      SECRET_KEY: randomBytes(32).toString('hex'),
      ADMIN_TOKEN: token,
      SOURCE_DATABASE_URL: urlOf(SOURCE),
      AGE_RECIPIENTS: recipient,
      AGE_IDENTITY_FILE: identityFile,
      PORT: '0',
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '1',
      // Maintenance would otherwise run at the top of an hour in the middle of a measurement, and
      // expire the seeded history rows the list and stats latencies are measured against.
      MAINTENANCE_CRON: '0 0 1 1 *',
      MAX_BACKUPS: '1000000',
      PITR_WORK_DIR: await pitrWorkDir(work),
    };
    const worker = await startService('worker', env, /worker ready/, work);
    services.push(worker.child);
    const apiService = await startService('api', env, /API listening/, work);
    services.push(apiService.child);
    const base = /"address":"([^"]+)"/.exec(apiService.output())![1]!;
    const api = client(base, token);
    const sourceId = ((await api('GET', '/api/sources')) as { items: { id: string }[] }).items[0]!.id;
    const config = async (name: string, body: Record<string, unknown>) =>
      ((await api('POST', '/api/configurations', { name, sourceId, ...body })) as { id: string }).id;
    // Encryption said outright: the installation has recipients, and would encrypt the first and last too.
    const zstd = await config('bench-zstd', { compression: 'zstd', encrypt: false });
    const encrypted = await config('bench-zstd-age', { compression: 'zstd', encrypt: true });
    const gzip = await config('bench-gzip', { compression: 'gzip', encrypt: false });

    const rss = { worker: [] as number[], api: [] as number[] };
    // CPU seconds of the API's and the worker's node processes themselves during each zstd backup.
    const cpu = { worker: [] as number[], api: [] as number[] };
    const coffreBackup = async (configurationId: string) => {
      const cpuBefore = await Promise.all([cpuSeconds(worker.child.pid!), cpuSeconds(apiService.child.pid!)]);
      const sampler = sampleRss([worker.child.pid!, apiService.child.pid!]);
      const backup = (await api('POST', `/api/configurations/${configurationId}/run`)) as { id: string };
      const done = await waitForRow(api, 'Backup', backup.id, `/api/backups/${backup.id}`);
      const peaks = await sampler.stop();
      rss.worker.push(peaks[0]!);
      rss.api.push(peaks[1]!);
      const cpuAfter = await Promise.all([cpuSeconds(worker.child.pid!), cpuSeconds(apiService.child.pid!)]);
      if (configurationId === zstd) {
        cpu.worker.push(cpuAfter[0]! - cpuBefore[0]!);
        cpu.api.push(cpuAfter[1]! - cpuBefore[1]!);
      }
      if (done.status !== 'completed') throw new Error(`a benchmark backup failed: ${done.errorMessage}`);
      return { ms: Date.parse(done.completedAt) - Date.parse(done.createdAt), bytes: done.sizeBytes, id: backup.id, name: done.name };
    };
    /** The report of a step run alone (--only): its rows and the worker's peak RSS during it. */
    const reportWithPeak = async (during: string) => {
      const workerPeak = Math.max(...rss.worker);
      rows.push({ measure: `worker peak RSS during ${during}`, coffre: `${workerPeak.toFixed(0)} MB`, reference: '—', ratio: null, target: '≤ 150 MB', met: workerPeak <= 150 });
      raw.rss = rss;
      raw.rows = rows;
      raw.durationMs = Date.now() - started;
      raw.loadAverage = loadavg();
      await writeReport(rows, raw);
    };
    if (opts.only === 'directory') {
      rows.push(await benchDirectoryBackups({ config, coffreBackup, work, rounds: opts.rounds, raw }));
      await reportWithPeak('the parallel dumps');
      return;
    }
    // Base backups and a restore to a moment: on a server that accepts replication (bench/physical.ts).
    const replicationSteps = async (steps: { physical: boolean; pitr: boolean }): Promise<Row[]> => {
      const server = await replicationServer({ api, defaultSourceId: sourceId, database: SOURCE }).catch((error: Error) => error);
      if (server instanceof Error) {
        log(`no server for base backups and a restore to a moment: ${server.stack ?? server.message}`);
        const reason = server.message.trim().split('\n').at(-1)!;
        return [{ measure: 'base backup (physical) and restore to a moment', coffre: 'not measured', reference: reason, ratio: null, target: '—', met: null }];
      }
      raw.replicationServer = server.description;
      const out: Row[] = [];
      try {
        if (steps.physical) {
          const series = await benchBaseBackups({ api, server, work, rounds: opts.rounds, workerPid: worker.child.pid! });
          raw.baseBackups = series;
          rss.worker.push(...series.workerRssMb);
          out.push(pair(`base backup (physical, zstd, ${mb(series.coffreBytes)} stored vs ${mb(series.referenceBytes)})`, series.coffre, series.reference, REFERENCE_BASE_BACKUP, 1.1));
          out.push(pair('base backup (physical), zstd + age encryption', series.coffreAge, series.reference, REFERENCE_BASE_BACKUP, 1.15));
          const peak = Math.max(...series.workerRssMb);
          out.push({ measure: 'worker peak RSS during the base backups', coffre: `${peak.toFixed(0)} MB`, reference: 'VmHWM of the worker, reset before each base backup', ratio: null, target: '≤ 150 MB', met: peak <= 150 });
        }
        if (steps.pitr) {
          log(`point-in-time recovery on ${server.description}`);
          const measure = await benchPitr({ api, server, database: SOURCE, walBytes: Math.round(opts.scale * 1024 ** 3), workerPid: worker.child.pid!, work });
          raw.pitr = measure;
          out.push(...pitrRows(measure));
        }
      } finally {
        await server.close();
      }
      return out;
    };
    const only = new Set((opts.only ?? '').split(','));
    if (only.has('physical') || only.has('pitr')) {
      rows.push(...(await replicationSteps({ physical: only.has('physical'), pitr: only.has('pitr') })));
      raw.rows = rows;
      raw.durationMs = Date.now() - started;
      raw.loadAverage = loadavg();
      await writeReport(rows, raw);
      return;
    }
    const refZstd = join(work, 'reference.dump.zst');
    const refGzip = join(work, 'reference.dump');
    // Exactly what an operator would type, its file synced as coffre's artifacts are.
    const server = new URL(ADMIN_URL);
    const referenceZstd = () =>
      timed(() =>
        shell('PGPORT="$3" PGUSER="$4" pg_dump -h "$5" -Fc -Z0 "$1" | zstd -q -1 > "$2"; sync "$2"', [
          SOURCE,
          refZstd,
          server.port || '5432',
          decodeURIComponent(server.username || 'postgres'),
          server.hostname,
        ]),
      );
    const referenceGzip = () => timed(() => shell('pg_dump -Fc -d "$1" -f "$2"', [urlOf(SOURCE), refGzip]));

    // Backups, alternating.
    const series = { coffreZstd: [] as number[], coffreAge: [] as number[], refZstd: [] as number[], coffreGzip: [] as number[], refGzip: [] as number[] };
    let lastZstd: { id: string; name: string; bytes: number } | null = null;
    // --only restore: one backup to restore from (and its reference file), then the restores.
    const backupRounds = opts.only === 'restore' ? 1 : opts.rounds;
    for (let round = 1; round <= backupRounds; round++) {
      log(`backup round ${round}/${backupRounds}`);
      const a = await coffreBackup(zstd);
      series.coffreZstd.push(a.ms);
      lastZstd = a;
      series.refZstd.push(await referenceZstd());
      series.coffreAge.push((await coffreBackup(encrypted)).ms);
      log(`  coffre zstd ${s(a.ms)} (${mb(a.bytes)}), pg_dump|zstd -1 ${s(series.refZstd.at(-1)!)}, coffre zstd+age ${s(series.coffreAge.at(-1)!)}`);
    }
    // The default-gzip script is slow: fewer rounds of it.
    for (let round = 1; round <= (opts.only === 'engine' || opts.only === 'backup' || opts.only === 'restore' ? 0 : Math.max(1, Math.ceil(opts.rounds / 2))); round++) {
      series.refGzip.push(await referenceGzip());
      series.coffreGzip.push((await coffreBackup(gzip)).ms);
      log(`  pg_dump -Fc (gzip) ${s(series.refGzip.at(-1)!)}, coffre gzip ${s(series.coffreGzip.at(-1)!)}`);
    }
    const refZstdBytes = (await stat(refZstd)).size;
    raw.backups = { ...series, refZstdBytes, coffreZstdBytes: lastZstd?.bytes, refGzipBytes: series.refGzip.length ? (await stat(refGzip)).size : null };
    rows.push(pair('backup, zstd', series.coffreZstd, series.refZstd, 'pg_dump -h 127.0.0.1 -Fc -Z0 | zstd -1 > f; sync f', 1.1));
    raw.cpu = cpu;
    const cpuRow = (who: string, values: number[]): Row => ({
      measure: `${who} node CPU during a zstd backup`,
      coffre: `${median(values).toFixed(2)} CPU-s (median of ${values.length}, ${spread(values, (v) => v.toFixed(2))})`,
      reference: '—',
      ratio: null,
      target: '—',
      met: null,
    });
    rows.push(cpuRow('worker', cpu.worker), cpuRow('API (not asked anything during the backup)', cpu.api));
    rows.push(pair('backup, zstd + age encryption', series.coffreAge, series.refZstd, 'pg_dump -h 127.0.0.1 -Fc -Z0 | zstd -1 > f; sync f', 1.15));
    if (series.refGzip.length > 0) {
      rows.push(pair('backup, zstd, against the default-gzip script', series.coffreZstd, series.refGzip, 'pg_dump -Fc (gzip)', 0.5));
      rows.push(pair('backup, gzip', series.coffreGzip, series.refGzip, 'pg_dump -Fc (gzip)', null));
    }

    if (opts.only !== 'restore') rows.push(await benchDirectoryBackups({ config, coffreBackup, work, rounds: opts.rounds, raw }));

    if (opts.only === 'backup') {
      await reportWithPeak('the backups');
      return;
    }

    if (opts.only !== 'restore') rows.push(...(await replicationSteps({ physical: true, pitr: opts.only === null })));

    // Restores, alternating with the reference: into a new database, then over that database (load + swap).
    const restoreSeries = { coffreNew: [] as number[], coffreOver: [] as number[], swapMs: [] as number[], reference: [] as number[], floor: [] as number[], floorJustWritten: [] as number[] };
    // The floor of any restore through pg_restore here: its --jobs alone (as many as coffre's, with
    // coffre's session options), from an uncompressed dump pg_dump wrote to a file (its TOC has the
    // data offsets), with nothing read, decompressed or checked.
    const floorDump = join(work, 'floor.dump');
    const jobs = Number(process.env.RESTORE_JOBS ?? availableParallelism());
    await shell('pg_dump -Fc -Z0 -d "$1" -f "$2"', [urlOf(SOURCE), floorDump]);
    const restoreRounds = Math.max(1, Math.min(opts.rounds, 3));
    const coffreRestore = async (target: string) => {
      const sampler = sampleRss([worker.child.pid!, apiService.child.pid!]);
      const restore = (await api('POST', `/api/backups/${lastZstd!.id}/restore`, { confirm: lastZstd!.name, targetDatabase: target })) as { id: string };
      const done = await waitFor(api, `/api/restores/${restore.id}`);
      const peaks = await sampler.stop();
      rss.worker.push(peaks[0]!);
      rss.api.push(peaks[1]!);
      if (done.status !== 'completed') throw new Error(`a benchmark restore failed: ${done.errorMessage}`);
      return { ms: Date.parse(done.completedAt) - Date.parse(done.createdAt), method: done.method as string, keptDatabase: done.keptDatabase as string | null, swapMs: done.swapMs as number | null };
    };
    for (let round = 1; round <= restoreRounds; round++) {
      log(`restore round ${round}/${restoreRounds}`);
      const target = `${SOURCE}_restore_${round}`;
      await dropDatabase(target);
      restoredDatabases.push(target);
      await settle();
      const fresh = await coffreRestore(target);
      restoreSeries.coffreNew.push(fresh.ms);
      await settle();
      const over = await coffreRestore(target);
      if (over.method !== 'swap') throw new Error(`the restore over an existing database ran ${over.method}, not swap`);
      restoreSeries.coffreOver.push(over.ms);
      restoreSeries.swapMs.push(over.swapMs ?? NaN);
      if (over.keptDatabase) await dropDatabase(over.keptDatabase);
      await dropDatabase(target);
      const reference = `${SOURCE}_reference_${round}`;
      restoredDatabases.push(reference);
      await dropDatabase(reference);
      await settle();
      restoreSeries.reference.push(
        await timed(async () => {
          await shell('psql -X -q -d "$1" -c "CREATE DATABASE $2"', [ADMIN_URL, reference]);
          await shell('zstd -dc "$1" | pg_restore --no-owner --exit-on-error -d "$2"', [refZstd, urlOf(reference)]);
        }),
      );
      await dropDatabase(reference);
      await settle();
      restoreSeries.floor.push(
        await timed(async () => {
          await shell('psql -X -q -d "$1" -c "CREATE DATABASE $2"', [ADMIN_URL, reference]);
          await shell('PGOPTIONS="$3" pg_restore --no-owner --exit-on-error --jobs="$4" -d "$2" "$1"', [floorDump, urlOf(reference), LOAD_SESSION_OPTIONS, String(jobs)]);
        }),
      );
      await dropDatabase(reference);
      // The same from a copy of that dump written just before (not timed) and held during the load,
      // as a restore through a temporary file holds one: on some machines that alone slows the load.
      const justWritten = join(work, 'floor-just-written.dump');
      await shell('cp "$1" "$2"', [floorDump, justWritten]);
      restoreSeries.floorJustWritten.push(
        await timed(async () => {
          await shell('psql -X -q -d "$1" -c "CREATE DATABASE $2"', [ADMIN_URL, reference]);
          await shell('PGOPTIONS="$3" pg_restore --no-owner --exit-on-error --jobs="$4" -d "$2" "$1"', [justWritten, urlOf(reference), LOAD_SESSION_OPTIONS, String(jobs)]);
        }),
      );
      await rm(justWritten, { force: true });
      await dropDatabase(reference);
      log(
        `  coffre into a new database ${s(fresh.ms)}, over it (load + swap, unavailable ${over.swapMs} ms) ${s(over.ms)}, createdb + zstd -dc | pg_restore ${s(restoreSeries.reference.at(-1)!)}, ` +
          `pg_restore --jobs=${jobs} alone ${s(restoreSeries.floor.at(-1)!)}, from a copy just written ${s(restoreSeries.floorJustWritten.at(-1)!)}`,
      );
    }
    await rm(floorDump, { force: true });
    raw.restores = restoreSeries;
    rows.push(pair('restore into a new database (checked read, pg_restore -j, counts checked)', restoreSeries.coffreNew, restoreSeries.reference, 'zstd -dc | pg_restore -d', 0.75));
    rows.push(pair('restore over an existing database (load beside + swap)', restoreSeries.coffreOver, restoreSeries.reference, 'zstd -dc | pg_restore -d', 0.85));
    rows.push(pair(`floor: pg_restore --jobs=${jobs} alone, from an uncompressed dump with offsets (nothing read, checked or swapped)`, restoreSeries.floor, restoreSeries.reference, 'zstd -dc | pg_restore -d', null));
    rows.push(pair(`floor through a temporary file: the same from a copy of that dump written just before (copy not timed)`, restoreSeries.floorJustWritten, restoreSeries.reference, 'zstd -dc | pg_restore -d', null));
    rows.push({
      measure: 'restore over an existing database: unavailability at the swap',
      coffre: `${median(restoreSeries.swapMs).toFixed(1)} ms (median of ${restoreSeries.swapMs.length}, ${spread(restoreSeries.swapMs, (v) => `${v.toFixed(1)} ms`)})`,
      reference: '—',
      ratio: null,
      target: '< 1000 ms',
      met: Math.max(...restoreSeries.swapMs) < 1000,
    });

    const workerPeak = Math.max(...rss.worker);
    const apiPeak = Math.max(...rss.api);
    raw.rss = rss;
    rows.push({ measure: 'worker peak RSS during the runs', coffre: `${workerPeak.toFixed(0)} MB`, reference: '—', ratio: null, target: '≤ 150 MB', met: workerPeak <= 150 });
    rows.push({ measure: 'API peak RSS during the runs', coffre: `${apiPeak.toFixed(0)} MB`, reference: '—', ratio: null, target: '—', met: null });

    if (opts.only === 'engine' || opts.only === 'restore') {
      raw.rows = rows;
      raw.durationMs = Date.now() - started;
      raw.loadAverage = loadavg();
      await writeReport(rows, raw);
      return;
    }

    // The API over a large history.
    log('API latency over 100,000 history rows at 200 requests/s');
    await seedHistory(sourceId, 100_000);
    const list = await load(`${base}/api/backups?status=completed&type=full&pageSize=20&page=3`, token);
    const stats = await load(`${base}/api/backups/stats`, token);
    raw.api = { list, stats };
    rows.push({ measure: 'GET /api/backups (filtered) p50 / p99', coffre: `${list.p50} / ${list.p99} ms`, reference: `${list.requests} requests, ${list.errors} errors`, ratio: null, target: 'p99 ≤ 25 ms', met: list.p99 <= 25 && list.errors === 0 });
    rows.push({ measure: 'GET /api/backups/stats p50 / p99', coffre: `${stats.p50} / ${stats.p99} ms`, reference: `${stats.requests} requests, ${stats.errors} errors`, ratio: null, target: 'p99 ≤ 50 ms', met: stats.p99 <= 50 && stats.errors === 0 });

    // Scheduling delay.
    log('scheduling delay (waits for the next minute)');
    const delay = await schedulingDelay(api, sourceId);
    raw.scheduling = delay;
    rows.push({ measure: 'scheduling delay (due time → backup started)', coffre: `${delay.toFixed(0)} ms`, reference: '—', ratio: null, target: '≤ 2000 ms', met: delay <= 2000 });

    raw.rows = rows;
    raw.durationMs = Date.now() - started;
    raw.loadAverage = loadavg();
    await writeReport(rows, raw);
  } finally {
    for (const child of services) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(services.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    for (const database of restoredDatabases) await dropDatabase(database).catch(() => {});
    await dropDatabase(META).catch(() => {});
    if (opts.dropSource) await dropDatabase(SOURCE).catch(() => {});
    if (process.env.BENCH_KEEP_WORK) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

/**
 * Parallel dumps, alternating: coffre (dumpJobs 2, zstd, through the API) against pg_dump's directory
 * format with two jobs and no compression, then tar through `zstd -1` into a synced file (the
 * directory removed afterwards, as coffre removes its own).
 */
async function benchDirectoryBackups(input: {
  config: (name: string, body: Record<string, unknown>) => Promise<string>;
  coffreBackup: (configurationId: string) => Promise<{ ms: number; bytes: number }>;
  work: string;
  rounds: number;
  raw: Record<string, unknown>;
}): Promise<Row> {
  const directory = await input.config('bench-directory-2', { compression: 'zstd', dumpJobs: 2 });
  const folder = join(input.work, 'reference-directory');
  const file = join(input.work, 'reference.dir.tar.zst');
  const server = new URL(ADMIN_URL);
  const referenceName = 'pg_dump -Fd -j 2 -Z0 -f d; tar -c d | zstd -1 > f; sync f';
  const reference = () =>
    timed(() =>
      shell('PGPORT="$4" PGUSER="$5" pg_dump -h "$6" -Fd -j 2 -Z0 -f "$2" "$1" && tar -cf - -C "$2" . | zstd -q -1 > "$3"; sync "$3"; rm -rf "$2"', [
        SOURCE,
        folder,
        file,
        server.port || '5432',
        decodeURIComponent(server.username || 'postgres'),
        server.hostname,
      ]),
    );
  const series = { coffre: [] as number[], reference: [] as number[], coffreBytes: 0, referenceBytes: 0 };
  for (let round = 1; round <= input.rounds; round++) {
    log(`parallel dump round ${round}/${input.rounds}`);
    const done = await input.coffreBackup(directory);
    series.coffre.push(done.ms);
    series.coffreBytes = done.bytes;
    series.reference.push(await reference());
    series.referenceBytes = (await stat(file)).size;
    log(`  coffre dumpJobs 2 ${s(series.coffre.at(-1)!)} (${mb(series.coffreBytes)}), pg_dump -Fd -j 2 + tar | zstd -1 ${s(series.reference.at(-1)!)} (${mb(series.referenceBytes)})`);
  }
  input.raw.directoryBackups = series;
  return pair(`backup, zstd, dumpJobs 2 (directory format; ${mb(series.coffreBytes)} stored vs ${mb(series.referenceBytes)})`, series.coffre, series.reference, referenceName, 1.1);
}

async function prepareSource(opts: Options): Promise<void> {
  if (opts.fresh) await dropDatabase(SOURCE);
  if (await databaseExists(SOURCE)) {
    const scale = await withDatabase(SOURCE, async (c) => (await c.query<{ scale: string }>("SELECT obj_description('orders'::regclass) AS scale")).rows[0]?.scale);
    if (scale === sourceMark(opts.scale)) return log(`reusing the source database ${SOURCE} (scale ${scale}; --fresh rebuilds it)`);
    await dropDatabase(SOURCE);
  }
  log(`building the source database ${SOURCE} (about ${opts.scale} GB)…`);
  const ms = await timed(() => buildSourceDatabase(SOURCE, opts.scale));
  await withDatabase(SOURCE, (c) => c.query(`COMMENT ON TABLE orders IS '${sourceMark(opts.scale)}'`));
  log(`  built in ${s(ms)}`);
}

/** What the source was built as: its scale, and the version of its shape (narrow readings beside the wide orders). */
function sourceMark(scale: number): string {
  return `${scale}/narrow-and-wide`;
}

/** The restore to a moment, in parts as its log records them (GET /api/restores/:id), and the stream's memory. */
function pitrRows(m: PitrMeasure): Row[] {
  const t = m.restore.timings;
  const other = t.totalMs - t.fetchMs - t.replayMs - t.dumpMs - t.loadMs;
  const how = "the restore's log, GET /api/restores/:id";
  const part = (name: string, ms: number, detail: string): Row => ({ measure: `  ${name}`, coffre: s(ms), reference: `${detail} (${how})`, ratio: null, target: '—', met: null });
  return [
    {
      measure: `WAL streamed while ${m.batches} batches of UPDATE pgbench_accounts committed`,
      coffre: `${mb(m.walBytes)} in ${s(m.generateMs)}; stored up to the last commit ${s(m.catchUpMs)} after it`,
      reference: "pg_wal_lsn_diff over the batches; then GET /api/sources/:id/pitr every 0.5 s until the newest stored WAL file ends past the server's LSN after the last commit, and the window past its time",
      ratio: null,
      target: '—',
      met: null,
    },
    {
      measure: 'worker peak RSS while streaming that WAL',
      coffre: `${m.workerRssMb.toFixed(0)} MB`,
      reference: "VmHWM of the worker's node process, reset (clear_refs) before the first batch, read once the last commit was stored; pg_receivewal not counted",
      ratio: null,
      target: '≤ 150 MB',
      met: m.workerRssMb <= 150,
    },
    {
      measure: `restore to a moment (${m.moment}, just after the last batch) into a new database`,
      coffre: `${s(t.totalMs)} (one run; ${s(m.restore.queuedToCompletedMs)} from request to completed)`,
      reference: `durationMs of the restore, claimed to completed (${how})`,
      ratio: null,
      target: '—',
      met: null,
    },
    part('fetch', t.fetchMs, `from storage, decrypted and checked: the base backup unpacked in ${s(t.baseBackupMs)}, then ${t.walFiles} WAL files`),
    part('replay', t.replayMs, 'the private instance replaying to the moment'),
    part('dump', t.dumpMs, 'pg_dump of the database from the private instance, and its stop'),
    part('load', t.loadMs, 'pg_restore into the new database'),
    { measure: '  other', coffre: s(other), reference: 'the total less the four parts: target checks, the work directory made and removed', ratio: null, target: '—', met: null },
    {
      measure: 'restored database as of the moment',
      coffre: m.check.found === m.check.expected ? 'exact' : `differs: sum(abalance) ${m.check.found}, expected ${m.check.expected}`,
      reference: 'sum(abalance) of pgbench_accounts against the batches committed before the moment',
      ratio: null,
      target: 'exact',
      met: m.check.found === m.check.expected,
    },
  ];
}

function pair(measure: string, coffre: number[], reference: number[], referenceName: string, maxRatio: number | null): Row {
  const a = median(coffre);
  const b = median(reference);
  const ratio = Math.round((a / b) * 1000) / 1000;
  return {
    measure,
    coffre: `${s(a)} (median of ${coffre.length}, ${spread(coffre, s)})`,
    reference: `${referenceName}: ${s(b)} (median of ${reference.length}, ${spread(reference, s)})`,
    ratio,
    target: maxRatio === null ? '—' : maxRatio < 1 ? `≤ ${maxRatio}× (at least ${(1 / maxRatio).toFixed(2)}× faster)` : `≤ ${maxRatio}×`,
    met: maxRatio === null ? null : ratio <= maxRatio,
  };
}

async function writeReport(rows: Row[], raw: Record<string, unknown>): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = resolve('bench/results');
  await mkdir(dir, { recursive: true });
  const lines = [
    `# coffre benchmark, ${new Date().toISOString()}`,
    '',
    `Machine: ${cpus().length} cores, ${mb(totalmem())} memory, Node ${process.version}. Source: ${mb((raw.source as { bytes: number }).bytes)} on disk.`,
    `Load average (1, 5, 15 min): ${loads(raw.loadAtStart)} at the start, ${loads(raw.loadAverage)} at the end (the machine is shared: a loaded run's figures are not the targets' measure).`,
    ...(raw.replicationServer ? ['', `Base backups and the restore to a moment ran on ${raw.replicationServer as string}.`] : []),
    '',
    '| measure | coffre | reference | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.measure} | ${r.coffre} | ${r.reference} | ${r.ratio ?? '—'} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} |`),
    '',
    'Ratios are medians of coffre over medians of the reference, runs alternating A/B in one session; ranges are min–max.',
    'coffre restores after reading the whole artifact once (size, SHA-256, decryption) into a private file, with pg_restore -j',
    '(RESTORE_JOBS), then checks every table\'s row count (from the new database\'s server counters when they show exactly the',
    'backup\'s rows loaded, else by count(*)); over an existing database it loads beside it and swaps the names.',
    'The two floors differ only in a copy of the dump written just before the timed load and held during it, as a restore through a',
    'temporary file (coffre\'s, which pg_restore -j needs) holds one: on some machines that alone slows the load.',
    'Peak RSS is each process\'s high-water mark (VmHWM), reset before each run.',
    'Latencies come from an open-loop load: one request every 5 ms, timed from when it was due.',
    '',
  ];
  const markdown = lines.join('\n');
  await writeFile(join(dir, `${stamp}.md`), markdown);
  await writeFile(join(dir, `${stamp}.json`), `${JSON.stringify(raw, null, 2)}\n`);
  process.stdout.write(`${markdown}\nreports: bench/results/${stamp}.md and .json (total ${s(raw.durationMs as number)})\n`);
}

function loads(values: unknown): string {
  return Array.isArray(values) ? values.map((v: number) => v.toFixed(2)).join(', ') : '?';
}

/** The range of a series, as "min–max". */
function spread(values: number[], format: (v: number) => string): string {
  return values.length > 1 ? `${format(Math.min(...values))}–${format(Math.max(...values))}` : 'one run';
}

export function s(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    only: value('--only') ?? null,
    scale: Number(value('--scale') ?? process.env.BENCH_SCALE ?? 1),
    rounds: Number(value('--rounds') ?? 3),
    fresh: argv.includes('--fresh'),
    dropSource: argv.includes('--drop-source'),
  };
}
