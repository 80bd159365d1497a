// `pnpm bench --only api`: the API's list and stats latency alone, without the 1 GB backups and
// restores around it: coffre's API as a real process on its own metadata database, 100,000 seeded
// history rows, then an open-loop load at 200 requests/s (bench/services.ts `load`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { adminQuery, dropDatabase, log, shell, urlOf } from './lib.js';
import { client, load, seedHistory, startService, META } from './services.js';

const SOURCE = process.env.BENCH_API_SOURCE_DB ?? 'coffre_bench_api_source';

export async function measureApiLatency(rows = 100_000) {
  const work = await mkdtemp(join(tmpdir(), 'coffre-bench-api-'));
  await dropDatabase(META);
  await dropDatabase(SOURCE);
  await adminQuery(`CREATE DATABASE "${SOURCE}"`);
  await shell('DATABASE_URL="$1" node --experimental-wasm-modules --no-warnings=ExperimentalWarning scripts/migrations.mjs deploy >/dev/null', [urlOf(META)]);
  const token = `cof_${randomBytes(24).toString('base64url')}`;
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: urlOf(META),
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `coffrebenchapi${process.pid}`,
    BACKUP_DIR: join(work, 'backups'),
    SECRET_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: token,
    SOURCE_DATABASE_URL: urlOf(SOURCE),
    PORT: '0',
    LOG_LEVEL: 'info',
    MAINTENANCE_CRON: '0 0 1 1 *',
    MAX_BACKUPS: '1000000',
  };
  const api = await startService('api', env, /API listening/, work);
  try {
    const base = /"address":"([^"]+)"/.exec(api.output())![1]!;
    const sourceId = ((await client(base, token)('GET', '/api/sources')) as { items: { id: string }[] }).items[0]!.id;
    log(`API latency over ${rows.toLocaleString()} history rows at 200 requests/s`);
    await seedHistory(sourceId, rows);
    const list = await load(`${base}/api/backups?status=completed&type=full&pageSize=20&page=3`, token);
    const stats = await load(`${base}/api/backups/stats`, token);
    const summary = await load(`${base}/api/dashboard/protection`, token);
    return { list, stats, summary };
  } finally {
    api.child.kill('SIGTERM');
    await new Promise((r) => api.child.once('exit', r));
    await dropDatabase(META).catch(() => {});
    await dropDatabase(SOURCE).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}
