// The bench's steps that need a replication connection: base backups (type physical) against
// `pg_basebackup | zstd -1`, and a restore to a moment after about `scale` GB of WAL streamed.
//
// They run on the bench's server when it accepts replication connections (BENCH_PG_URL), and
// otherwise on a cluster of the bench's own: the tests' test/support/postgres-cluster.ts (initdb of
// the newest /usr/lib/postgresql/<major>/bin in a temporary directory, 127.0.0.1 on a free port,
// replication allowed), the source database copied into it. That cluster is removed afterwards,
// whatever happens: at close(), and on SIGINT, SIGTERM or SIGHUP before it.
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRestoreTimings, type RestoreTimings } from '@coffre/shared';
import { startPostgresCluster } from '../test/support/postgres-cluster.js';
import { ADMIN_URL, PG_BIN, log, mb, shell, timed, urlOf, withUrl } from './lib.js';
import { sampleRss, waitForRow, type Api } from './services.js';

export interface ReplicationServer {
  /** Where the steps ran, in words, for the report. */
  description: string;
  url(database: string): string;
  /** coffre's source for the bench database on this server. */
  sourceId: string;
  close(): Promise<void>;
}

/**
 * The bench's server when it accepts a replication connection, else a cluster of the bench's own
 * with `database` copied into it from the bench's server and registered as a coffre source.
 */
export async function replicationServer(input: { api: Api; defaultSourceId: string; database: string }): Promise<ReplicationServer> {
  const refusal = await replicationRefusal(ADMIN_URL);
  if (refusal === null) {
    const where = new URL(ADMIN_URL);
    return { description: `the bench's server (${where.host})`, url: urlOf, sourceId: input.defaultSourceId, close: async () => {} };
  }
  log(`the bench's server refuses replication (${refusal}): starting a cluster of the bench's own`);
  const cluster = await startPostgresCluster({ settings: ['max_wal_senders = 4'] });
  let closed: Promise<void> | null = null;
  const close = () => (closed ??= cluster.destroy());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: removing the bench's cluster`);
    void close().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15)));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.once(signal, onSignal);
  const closeAll = async () => {
    for (const signal of signals) process.off(signal, onSignal);
    await close();
  };
  try {
    const copyMs = await timed(async () => {
      await shell('psql -X -q -d "$1" -c "CREATE DATABASE $2"', [cluster.url('postgres'), input.database]);
      await shell('pg_dump -Fc -Z0 -d "$1" | pg_restore --no-owner --exit-on-error -d "$2"', [urlOf(input.database), cluster.url(input.database)]);
      // As a database that has lived a while: autovacuum would otherwise start on the new tables in the
      // middle of a measurement.
      await withUrl(cluster.url(input.database), async (c) => {
        await c.query('VACUUM (FREEZE, ANALYZE)');
        await c.query('CHECKPOINT');
      });
    });
    const version = await withUrl(cluster.url('postgres'), async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v);
    log(`  copied ${input.database} into it in ${(copyMs / 1000).toFixed(1)} s`);
    const source = (await input.api('POST', '/api/sources', { name: 'bench-replication', url: cluster.url(input.database) })) as { id: string };
    return {
      description: `a cluster of the bench's own (initdb, PostgreSQL ${version}, fsync off, 127.0.0.1:${cluster.port}; the bench's server refuses replication)`,
      url: cluster.url,
      sourceId: source.id,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Why the server refuses a replication connection (its last line), or null when it accepts one. */
async function replicationRefusal(url: string): Promise<string | null> {
  const replication = new URL(url);
  replication.searchParams.set('replication', 'true');
  return shell('psql -X -q -d "$1" -c IDENTIFY_SYSTEM', [replication.toString()]).then(
    () => null,
    (error: Error) => error.message.trim().split('\n').at(-1)!,
  );
}

export interface BaseBackupSeries {
  /** Compressed only, as the reference. */
  coffre: number[];
  /** Compressed and encrypted (age). */
  coffreAge: number[];
  reference: number[];
  coffreBytes: number;
  referenceBytes: number;
  workerRssMb: number[];
}

export const REFERENCE_BASE_BACKUP = 'pg_basebackup -h 127.0.0.1 -U postgres -D - -Ft -X none -c fast | zstd -1 > f; sync f';

/**
 * Base backups of the whole server, alternating: coffre (type physical, zstd, through the API) against
 * pg_basebackup's tar on stdout through `zstd -1` into a synced file. Both ask for a fast checkpoint
 * (coffre always does): the default spread checkpoint would time the server's checkpoint pacing, not
 * the copy. An untimed first run of the reference warms the cache for both.
 */
export async function benchBaseBackups(input: { api: Api; server: ReplicationServer; work: string; rounds: number; workerPid: number }): Promise<BaseBackupSeries> {
  const { api } = input;
  // Two configurations, as for the logical backups: compressed only (what the reference does) and
  // compressed and encrypted; the bench's installation has recipients, so encryption is said outright.
  const configuration = (await api('POST', '/api/configurations', { name: 'bench-physical', sourceId: input.server.sourceId, compression: 'zstd', encrypt: false, type: 'physical' })) as { id: string };
  const encrypted = (await api('POST', '/api/configurations', { name: 'bench-physical-age', sourceId: input.server.sourceId, compression: 'zstd', encrypt: true, type: 'physical' })) as { id: string };
  const file = join(input.work, 'reference.base.tar.zst');
  const server = new URL(input.server.url('postgres'));
  const reference = () =>
    timed(() =>
      shell('PGPORT="$2" "$5/pg_basebackup" -h "$3" -U "$4" -D - -Ft -X none -c fast | zstd -q -1 > "$1"; sync "$1"', [
        file,
        server.port || '5432',
        server.hostname,
        decodeURIComponent(server.username || 'postgres'),
        PG_BIN,
      ]),
    );
  const series: BaseBackupSeries = { coffre: [], coffreAge: [], reference: [], coffreBytes: 0, referenceBytes: 0, workerRssMb: [] };
  /** One base backup through the API, from the request to `completed`; deleted after. */
  const coffre = async (id: string) => {
    const sampler = sampleRss([input.workerPid]);
    const backup = (await api('POST', `/api/configurations/${id}/run`)) as { id: string };
    const done = await waitForRow(api, 'Backup', backup.id, `/api/backups/${backup.id}`);
    series.workerRssMb.push((await sampler.stop())[0]!);
    if (done.status !== 'completed') throw new Error(`a benchmark base backup failed: ${done.errorMessage}`);
    await api('DELETE', `/api/backups/${backup.id}`);
    return { ms: Date.parse(done.completedAt) - Date.parse(done.createdAt), bytes: done.sizeBytes };
  };
  await reference();
  for (let round = 1; round <= input.rounds; round++) {
    log(`base backup round ${round}/${input.rounds}`);
    const plain = await coffre(configuration.id);
    series.coffre.push(plain.ms);
    series.coffreBytes = plain.bytes;
    series.reference.push(await reference());
    series.referenceBytes = (await stat(file)).size;
    series.coffreAge.push((await coffre(encrypted.id)).ms);
    log(`  coffre physical ${sec(plain.ms)} (${mb(plain.bytes)}), pg_basebackup | zstd -1 ${sec(series.reference.at(-1)!)} (${mb(series.referenceBytes)}), coffre physical zstd+age ${sec(series.coffreAge.at(-1)!)}`);
  }
  return series;
}

export interface PitrMeasure {
  walBytes: number;
  batches: number;
  generateMs: number;
  /** From the last commit to the stored WAL reaching it: the newest stored file's end LSN past the server's LSN after that commit, and the recovery window past its time (the stream's lag at the end). */
  catchUpMs: number;
  /** The worker's peak RSS from the first batch to the stream caught up. */
  workerRssMb: number;
  baseBackupMs: number;
  moment: string;
  /** The restore as the API shows it: durationMs, and the timings line of its log. */
  restore: { durationMs: number; queuedToCompletedMs: number; timings: RestoreTimings };
  /** sum(abalance) of the restored pgbench_accounts against what was committed up to the moment. */
  check: { expected: number; found: number };
}

/**
 * PITR on for the server's bench source, a base backup, then about `walBytes` of WAL written by
 * committed batches of `UPDATE pgbench_accounts` while coffre streams (the worker's RSS sampled until
 * the stream has stored the last commit), then a restore to a moment just after the last batch (one
 * more commit, a second later, stops the replay) into a new database, its parts read from its log
 * through the API, and its sum(abalance) checked against what was committed by then.
 */
export async function benchPitr(input: { api: Api; server: ReplicationServer; database: string; walBytes: number; workerPid: number; work: string }): Promise<PitrMeasure> {
  const { api, server } = input;
  const sourceId = server.sourceId;
  const pitrPath = `/api/sources/${sourceId}/pitr`;
  const target = `${input.database}_at_moment`;
  await withUrl(server.url('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`));
  let sampler: ReturnType<typeof sampleRss> | null = null;
  await api('PUT', pitrPath, { enabled: true });
  try {
    await until(120_000, 'the first WAL stored', async () => ((await api('GET', pitrPath)) as { lastWal: unknown }).lastWal !== null);
    const base = (await api('POST', '/api/backups', { sourceId, type: 'physical' })) as { id: string };
    const taken = await waitForRow(api, 'Backup', base.id, `/api/backups/${base.id}`);
    if (taken.status !== 'completed') throw new Error(`the base backup failed: ${taken.errorMessage}`);
    const baseBackupMs = Date.parse(taken.completedAt) - Date.parse(taken.createdAt);
    log(`  base backup ${sec(baseBackupMs)} (${mb(taken.sizeBytes)}); writing ${mb(input.walBytes)} of WAL`);

    sampler = sampleRss([input.workerPid]);
    const written = await writeWal(server.url(input.database), input.walBytes);
    log(`  ${mb(written.walBytes)} of WAL in ${written.batches.length} committed batches, ${sec(written.generateMs)}`);
    const lastCommit = written.afterwards.committedBy;
    const catchUpMs = await timed(() =>
      until(1800_000, 'the stored WAL to reach the last commit', async () => {
        const state = (await api('GET', pitrPath)) as { lastWal: { endLsn: string } | null; window: { latest: string | null } };
        const latest = state.window.latest;
        return latest !== null && Date.parse(latest) >= lastCommit && state.lastWal !== null && lsn(state.lastWal.endLsn) >= lsn(written.endLsn);
      }),
    );
    const workerRssMb = (await sampler.stop())[0]!;
    log(`  the stream stored the last commit ${sec(catchUpMs)} after it; worker peak RSS ${workerRssMb.toFixed(0)} MB`);

    // In the second between the last batch and one more commit (one row): every batch is in the
    // database at that moment, that commit is not. The second's margin stands for the ms the times
    // are rounded to (a moment 1 ms after a commit's Date.now() may still precede its commit record).
    const moment = new Date(written.batches.at(-1)!.committedBy + (written.afterwards.startedAt - written.batches.at(-1)!.committedBy) / 2);
    const expected = written.baseline + written.batches.reduce((sum, b) => sum + b.rows, 0);
    const request = (await api('POST', `${pitrPath}/restore`, { targetTime: moment.toISOString(), database: input.database, targetDatabase: target, confirm: target })) as { id: string };
    const done = (await waitForRow(api, 'Restore', request.id, `/api/restores/${request.id}`)) as Awaited<ReturnType<typeof waitForRow>> & { durationMs: number; log: string | null };
    if (done.status !== 'completed') throw new Error(`the restore to a moment failed: ${done.errorMessage}`);
    const timings = parseRestoreTimings(done.log);
    if (!timings) throw new Error(`the restore's log has no timings line:\n${done.log}`);
    const found = await withUrl(server.url(target), async (c) => Number((await c.query<{ sum: string }>('SELECT sum(abalance) AS sum FROM pgbench_accounts')).rows[0]!.sum));
    return {
      walBytes: written.walBytes,
      batches: written.batches.length,
      generateMs: written.generateMs,
      catchUpMs,
      workerRssMb,
      baseBackupMs,
      moment: moment.toISOString(),
      restore: { durationMs: done.durationMs, queuedToCompletedMs: Date.parse(done.completedAt) - Date.parse(done.createdAt), timings },
      check: { expected, found },
    };
  } finally {
    await sampler?.stop();
    await api('PUT', pitrPath, { enabled: false }).catch((error: Error) => log(`turning PITR off: ${error.message}`));
    // The stream stops within seconds; a cluster removed under it would leave the worker retrying.
    await until(60_000, 'the WAL stream to stop', () =>
      withUrl(server.url('postgres'), async (c) => (await c.query("SELECT 1 FROM pg_stat_replication WHERE application_name LIKE 'coffre_wal_%'")).rowCount === 0),
    ).catch((error: Error) => log(error.message));
    await withUrl(server.url('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`)).catch(() => {});
  }
}

interface Batch {
  rows: number;
  startedAt: number;
  /** Date.now() once its COMMIT returned: its commit record's time is at or before it. */
  committedBy: number;
}

/**
 * Committed batches of `UPDATE pgbench_accounts SET abalance = abalance + 1` over ranges of aid, one
 * after the other around the table, until the server's WAL has moved `bytes` past where it was.
 */
async function writeWal(url: string, bytes: number): Promise<{ walBytes: number; batches: Batch[]; afterwards: Batch; generateMs: number; baseline: number; endLsn: string }> {
  return withUrl(url, async (c) => {
    const accounts = Number((await c.query<{ n: string }>('SELECT max(aid) AS n FROM pgbench_accounts')).rows[0]!.n);
    const baseline = Number((await c.query<{ sum: string }>('SELECT sum(abalance) AS sum FROM pgbench_accounts')).rows[0]!.sum);
    const size = Math.max(1000, Math.min(50_000, Math.floor(accounts / 4)));
    const start = (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn;
    const moved = async () => Number((await c.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [start])).rows[0]!.d);
    const batches: Batch[] = [];
    const began = Date.now();
    let walBytes = 0;
    for (let from = 0; walBytes < bytes || batches.length < 3; from = (from + size) % accounts) {
      const startedAt = Date.now();
      const result = await c.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid > $1 AND aid <= $2', [from, from + size]);
      batches.push({ rows: result.rowCount ?? 0, startedAt, committedBy: Date.now() });
      walBytes = await moved();
    }
    const generateMs = Date.now() - began;
    await new Promise((r) => setTimeout(r, 1000));
    const startedAt = Date.now();
    const one = await c.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1');
    const afterwards = { rows: one.rowCount ?? 0, startedAt, committedBy: Date.now() };
    const endLsn = (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn;
    return { walBytes, batches, afterwards, generateMs, baseline, endLsn };
  });
}

/** A directory the postgres OS user can enter, for the worker's private recovery instances (PITR_WORK_DIR). */
export async function pitrWorkDir(work: string): Promise<string> {
  const dir = join(work, 'pitr');
  await mkdir(dir, { recursive: true });
  await chmod(work, 0o755);
  await chmod(dir, 0o755);
  return dir;
}

async function until(ms: number, what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function lsn(text: string): bigint {
  const [high, low] = text.split('/') as [string, string];
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
