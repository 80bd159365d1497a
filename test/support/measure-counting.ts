// What counting rows in the dump's snapshot costs: the same backup of a ~200 MB table taken with and
// without counts, alternately, and the wall times compared. Run after a build:
//   npx tsx test/support/measure-counting.ts [rows]   (default 1,850,000 rows ≈ 200 MB)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLocalStorage, createLogger, parsePostgresUrl, runDatabaseBackup } from '@coffre/shared';
import { PG_ADMIN_URL, databaseUrl } from './env.js';

const rows = Number(process.argv[2] ?? 1_850_000);
const rounds = Number(process.env.ROUNDS ?? 5);
const database = `coffre_count_cost_${process.pid}`;

async function admin<T extends pg.QueryResultRow>(sql: string, url = PG_ADMIN_URL) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<T>(sql);
  } finally {
    await client.end();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'coffre-count-cost-'));
await admin(`CREATE DATABASE ${database}`);
try {
  const url = databaseUrl(database);
  await admin(`CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS body, now() AS at FROM generate_series(1, ${rows}) g`, url);
  await admin('VACUUM ANALYZE filler', url);
  const size = Number((await admin<{ n: string }>("SELECT pg_total_relation_size('filler') AS n", url)).rows[0]!.n);
  const storage = createLocalStorage(join(dir, 'backups'));
  const logger = createLogger({ level: 'silent' });
  const runs: Record<'counted' | 'uncounted', number[]> = { counted: [], uncounted: [] };
  let recorded: number | null = null;
  for (let round = 0; round < rounds; round++) {
    // Alternate, so that caches and other load on the machine weigh on both alike.
    for (const counted of round % 2 === 0 ? [true, false] : [false, true]) {
      const started = Date.now();
      const result = await runDatabaseBackup({
        connection: parsePostgresUrl(url),
        type: 'full',
        compression: 'zstd',
        recipients: [],
        targets: [{ driver: storage, key: `run-${round}-${counted}.dump.zst` }],
        tmpDir: join(dir, 'tmp'),
        countRows: counted,
        logger,
      });
      runs[counted ? 'counted' : 'uncounted'].push(Date.now() - started);
      if (counted) recorded = result.recordsCount;
      await storage.delete(`run-${round}-${counted}.dump.zst`);
    }
  }
  const countStarted = Date.now();
  await admin('SELECT count(*) FROM filler', url);
  const countAlone = Date.now() - countStarted;
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const report = {
    tableBytes: size,
    rows,
    recordedRows: recorded,
    rounds,
    countedMs: runs.counted,
    uncountedMs: runs.uncounted,
    medianCountedMs: median(runs.counted),
    medianUncountedMs: median(runs.uncounted),
    ratio: Math.round((median(runs.counted) / median(runs.uncounted)) * 1000) / 1000,
    countAloneMs: countAlone,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await rm(dir, { recursive: true, force: true });
}
