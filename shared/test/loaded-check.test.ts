// The check of a loaded database before it is swapped in (checkLoadedDatabase): a table whose server
// counters show exactly the backup's rows loaded (inserted = live, nothing updated or deleted) is not
// scanned again; a table whose counters say anything else is counted, and a count that differs from
// the backup refuses the load, whatever the counters said.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLoadedDatabase } from '../src/engine/database-swap.js';
import { parsePostgresUrl } from '../src/engine/postgres.js';
import type { TableCount } from '../src/engine/counts.js';
import { createDatabase, dropCreatedDatabases, queryRows, withClient, type ScratchDatabase } from '../../test/support/pg.js';

const ROWS = 50_000;
let db: ScratchDatabase;

beforeAll(async () => {
  db = await createDatabase('coffre_loaded_check');
  await withClient(db.url, async (client) => {
    await client.query('CREATE TABLE items (id int PRIMARY KEY, note text)');
    await client.query('CREATE TABLE empty (id int)');
    await client.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  });
  // The session that loaded ended: its counters reach the server's as it exits.
  await countersShow(ROWS);
});

afterAll(async () => {
  await dropCreatedDatabases();
});

const expected = (rows: number): TableCount[] => [
  { schema: 'public', table: 'items', kind: 'r', rows },
  { schema: 'public', table: 'empty', kind: 'r', rows: 0 },
];
const check = (rows: number) => checkLoadedDatabase(parsePostgresUrl(db.url), expected(rows), { jobs: 2, countRows: true });

async function counters() {
  const [row] = await queryRows<{ inserted: string; live: string; scans: string }>(
    db.url,
    "SELECT n_tup_ins::text AS inserted, n_live_tup::text AS live, (seq_scan + coalesce(idx_scan, 0))::text AS scans FROM pg_stat_user_tables WHERE relname = 'items'",
  );
  return { inserted: Number(row!.inserted), live: Number(row!.live), scans: Number(row!.scans) };
}

async function countersShow(inserted: number): Promise<void> {
  for (let tries = 0; (await counters()).inserted !== inserted; tries++) {
    if (tries > 50) throw new Error(`the counters never showed ${inserted} rows inserted`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the check of a loaded database', () => {
  it('takes the rows the counters show loaded without scanning the table; the empty table is counted', async () => {
    const before = (await counters()).scans;
    const result = await check(ROWS);
    expect(result).toEqual({ tables: 2, records: ROWS, confirmed: ROWS });
    // The check's sessions ended: had one scanned items, the counter would show it by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await counters()).scans).toBe(before);
  });

  it('refuses a load with one row fewer than the backup: the counters do not match, the count differs', async () => {
    await expect(check(ROWS + 1)).rejects.toThrow(`The loaded database differs from the backup (public.items: ${ROWS} rows, the backup holds ${ROWS + 1}): the target was left as it was.`);
  });

  it('counts a table changed since its load (a row deleted and another inserted): the count decides', async () => {
    await withClient(db.url, async (client) => {
      await client.query('DELETE FROM items WHERE id = 1');
      await client.query(`INSERT INTO items VALUES (${ROWS + 1}, 'another')`);
    });
    await countersShow(ROWS + 1);
    expect(await check(ROWS)).toEqual({ tables: 2, records: ROWS, confirmed: 0 });
  });

  it('counts a table emptied and loaded again: its counters say more rows inserted than it holds', async () => {
    await withClient(db.url, async (client) => {
      await client.query('TRUNCATE items');
      await client.query(`INSERT INTO items SELECT g, 'again ' || g FROM generate_series(1, ${ROWS - 10}) g`);
    });
    await countersShow(2 * ROWS + 1 - 10);
    await expect(check(ROWS)).rejects.toThrow(`public.items: ${ROWS - 10} rows, the backup holds ${ROWS}`);
  });
});
