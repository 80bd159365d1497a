// The RPO of point-in-time recovery, measured: under pgbench -c 4, how long after a commit the WAL
// holding it is in storage. A probe commits a row every 200 ms and notes the WAL insert position
// after its commit; the test watches the stored WAL (polled every 100 ms) and notes when it first
// covers each probe. The target: p99 ≤ WAL_FLUSH_SECONDS + 2 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import pg from 'pg';
import { parseLsn, setPitr, systemActor } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';

const FLUSH_SECONDS = 10;
const LOAD_SECONDS = Number(process.env.PITR_RPO_SECONDS ?? 40);
let cluster: PostgresCluster;
let stack: TestStack;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const pgbench = '/usr/lib/postgresql/15/bin/pgbench';
  execFileSync(pgbench, ['-i', '-q', '-s', '5', cluster.url('postgres')], { stdio: 'ignore' });
  await sql('CREATE TABLE probes (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())');
  stack = await createTestStack({ sourceUrl: cluster.url('postgres'), env: { WAL_FLUSH_SECONDS: String(FLUSH_SECONDS) } });
  stack.startWorkers({ concurrency: 2 });
});

afterAll(async () => {
  await stack?.close();
  await cluster?.destroy();
});

async function sql(text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('RPO under load', () => {
  it(`stores each commit's WAL within WAL_FLUSH_SECONDS + 2 s (p99) under pgbench -c 4`, async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    await setPitr(ctx, source.id, true, systemActor);
    await eventually(async () => (await ctx.db.walFile.count({ where: { sourceId: source.id } })) > 0, 60_000, 'the first stored WAL');

    const load = spawn('/usr/lib/postgresql/15/bin/pgbench', ['-c', '4', '-T', String(LOAD_SECONDS), '-n', cluster.url('postgres')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let loadOutput = '';
    load.stdout!.on('data', (d) => (loadOutput += String(d)));
    const loadDone = new Promise<number | null>((resolve) => load.on('exit', resolve));

    const probes: { at: number; lsn: bigint; storedAt?: number }[] = [];
    const client = new pg.Client({ connectionString: cluster.url('postgres') });
    await client.connect();
    let probing = true;
    const probe = (async () => {
      while (probing) {
        await client.query('INSERT INTO probes DEFAULT VALUES');
        const at = Date.now();
        const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        probes.push({ at, lsn: parseLsn(rows[0]!.lsn) });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const watch = (async () => {
      while (probing || probes.some((p) => p.storedAt === undefined)) {
        const files = await ctx.db.walFile.findMany({ where: { sourceId: source.id, kind: { not: 'history' } }, select: { endLsn: true } });
        const covered = files.reduce((max, f) => (parseLsn(f.endLsn) > max ? parseLsn(f.endLsn) : max), 0n);
        const now = Date.now();
        for (const p of probes) if (p.storedAt === undefined && p.lsn <= covered) p.storedAt = now;
        if (!probing && now - probes.at(-1)!.at > 60_000) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    expect(await loadDone).toBe(0);
    probing = false;
    await probe;
    await client.end();
    await watch;

    const delays = probes.map((p) => (p.storedAt ?? Infinity) - p.at).sort((a, b) => a - b);
    const tps = /tps = ([\d.]+)/.exec(loadOutput)?.[1];
    const figures = { probes: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays.at(-1), pgbenchTps: tps, walFlushSeconds: FLUSH_SECONDS, loadSeconds: LOAD_SECONDS };
    console.info(`pitr rpo: ${JSON.stringify(figures)}`);
    expect(delays.length).toBeGreaterThan(LOAD_SECONDS * 3);
    expect(figures.p99).toBeLessThanOrEqual((FLUSH_SECONDS + 2) * 1000);
  });
});
