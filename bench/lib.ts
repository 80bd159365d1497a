// Pieces the benchmark and scripts/measure-engine.ts share: the source database they measure, and
// small timing helpers.
import { spawn } from 'node:child_process';
import pg from 'pg';

export const ADMIN_URL = process.env.BENCH_PG_URL ?? process.env.MEASURE_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const PG_BIN = process.env.BENCH_PG_BIN ?? process.env.MEASURE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function urlOf(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withDatabase<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withUrl(urlOf(database), work);
}

/** One connection to `url` for the length of `work`. */
export async function withUrl<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return withDatabase(new URL(ADMIN_URL).pathname.slice(1), (client) => client.query(sql, params));
}

/**
 * Lets the server settle before a timed restore: waits (up to a minute) until no autovacuum worker is
 * busy, then checkpoints. A restore loads millions of rows, which autovacuum then vacuums and analyzes
 * for seconds, on one of the two cores: without this, each run paid for the previous one's (the run
 * over an existing database for the one into a new database, which it restores over).
 */
export async function settle(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await adminQuery("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'");
    if (rows[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await adminQuery('CHECKPOINT');
}

export async function databaseExists(database: string): Promise<boolean> {
  return ((await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0;
}

export async function dropDatabase(database: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}

/**
 * A source of about `scale` GB that compresses like application data: pgbench's tables (scale 30 per
 * GB), a wide `orders` table of words, e-mail addresses, jsonb, timestamps and hashes, and many narrow
 * rows (`readings`: three small numbers each), where per-row costs dominate.
 */
export async function buildSourceDatabase(database: string, scale: number): Promise<void> {
  await adminQuery(`CREATE DATABASE "${database}"`);
  await shell(`"$1/pgbench" -q -i -I dtGvp -s "$2" "$3"`, [PG_BIN, String(Math.max(1, Math.round(30 * scale))), urlOf(database)]);
  const rows = Math.round(1_300_000 * scale);
  await withDatabase(database, async (client) => {
    await client.query('SET synchronous_commit = off');
    await client.query(`
      CREATE TABLE orders (
        id bigint PRIMARY KEY,
        created_at timestamptz NOT NULL,
        updated_at timestamptz,
        status text NOT NULL,
        customer text NOT NULL,
        email text,
        amount numeric(12, 2),
        payload jsonb,
        note text,
        token text
      )`);
    await client.query(`
      WITH vocabulary AS (
        SELECT string_to_array('the order was shipped to customer after payment confirmed by bank transfer card refund ' ||
          'delivery address changed invoice sent warehouse paris lyon berlin madrid rome parcel delayed weather ' ||
          'carrier returned damaged item replaced quickly support ticket opened closed resolved priority normal ' ||
          'discount applied coupon loyalty points gift wrap express standard pickup store locker signature ' ||
          'required missing tracking number updated contact phone email please call back tomorrow morning', ' ') AS words
      )
      INSERT INTO orders
      SELECT g,
             timestamptz '2021-01-01' + random() * interval '1200 days',
             CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2021-01-01' + random() * interval '1300 days' END,
             (ARRAY['pending', 'paid', 'shipped', 'delivered', 'refunded', 'cancelled'])[1 + (g::bigint * 7919) % 6],
             'customer-' || (random() * 200000)::int,
             v.words[1 + (random() * 80)::int] || '.' || v.words[1 + (random() * 80)::int] || (g % 1000) || '@example.' ||
               (ARRAY['com', 'org', 'net', 'fr', 'de'])[1 + g % 5],
             round((random() * 2000)::numeric, 2),
             jsonb_build_object(
               'sku', upper(substr(md5(g::text), 1, 8)),
               'quantity', 1 + (random() * 9)::int,
               'tags', jsonb_build_array(v.words[1 + (random() * 80)::int], v.words[1 + (random() * 80)::int]),
               'shipping', jsonb_build_object('city', (ARRAY['Paris', 'Lyon', 'Berlin', 'Madrid', 'Rome'])[1 + g % 5],
                                              'express', g % 4 = 0, 'weight_kg', round((random() * 30)::numeric, 3)),
               'score', round(random()::numeric, 4)),
             array_to_string(ARRAY(SELECT v.words[1 + (random() * 80 + g * 0)::int] FROM generate_series(1, 6 + g % 10)), ' '),
             md5(g::text || random()::text)
        FROM generate_series(1, ${rows}) g, vocabulary v`);
    await client.query(`
      CREATE TABLE readings (sensor int NOT NULL, at int NOT NULL, value smallint);
      INSERT INTO readings SELECT g % 5000, g, (g::bigint * 7919 % 1000)::smallint FROM generate_series(1, ${Math.round(4_000_000 * scale)}) g;`);
    await client.query('CREATE INDEX orders_created_at_idx ON orders (created_at)');
    await client.query('CREATE INDEX orders_customer_idx ON orders (customer)');
    await client.query('VACUUM ANALYZE');
  });
}

export async function databaseInfo(database: string): Promise<{ bytes: number; rows: number }> {
  return withDatabase(database, async (client) => {
    const { rows } = await client.query<{ bytes: string; rows: string }>(
      `SELECT pg_database_size(current_database()) AS bytes, (SELECT sum(n_live_tup) FROM pg_stat_user_tables) AS rows`,
    );
    return { bytes: Number(rows[0]!.bytes), rows: Number(rows[0]!.rows) };
  });
}

/** Runs a bash pipeline (pipefail), its arguments passed as $1, $2 … rather than spliced into the text. */
export async function shell(script: string, args: string[]): Promise<void> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', script, 'bench', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} failed (exit ${code}): ${stderr}`);
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

export function log(text: string): void {
  process.stderr.write(`${text}\n`);
}
