// A source database's own settings are meant for its application: the timeouts an operator sets there
// must not cut off a backup (pg_dump overrides them for its session; coffre's sessions must too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropCreatedDatabases, withClient } from '../../test/support/pg.js';
import { join } from 'node:path';
import { parsePostgresUrl, runDatabaseBackup } from '@coffre/shared';
import { backup, createWorkspace, restore, type Workspace } from '../../test/support/engine.js';

let ws: Workspace;
let source: { name: string; url: string };
const ROWS = 600_000;

beforeAll(async () => {
  ws = await createWorkspace();
  source = await createDatabase('coffre_settings');
  await withClient(source.url, (c) =>
    c.query(`CREATE TABLE filler AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS body FROM generate_series(1, ${ROWS}) g`),
  );
  // Applied to every new session of the database: far shorter than the dump, and than counting its rows.
  await withClient(source.url, (c) =>
    c.query(`ALTER DATABASE "${source.name}" SET idle_in_transaction_session_timeout = '100ms'; ALTER DATABASE "${source.name}" SET statement_timeout = '20ms'`),
  );
});

afterAll(async () => {
  await dropCreatedDatabases();
  await ws.cleanup();
});

describe('timeouts set on the source database', () => {
  it('a dump longer than idle_in_transaction_session_timeout and statement_timeout completes, with exact counts', async () => {
    const taken = await backup(ws, source.url);
    expect(taken.tableCounts).toEqual([{ schema: 'public', table: 'filler', kind: 'r', rows: ROWS }]);
    expect(taken.recordsCount).toBe(ROWS);
    // It took longer than the idle timeout, so the snapshot's transaction did outlive it.
    expect(taken.durationMs).toBeGreaterThan(100);

    const target = await createDatabase('coffre_settings_rt');
    await restore(ws, taken, target.url);
    const { rows } = await withClient(target.url, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM filler'));
    expect(Number(rows[0]!.n)).toBe(ROWS);
  });
});

describe('row counts', () => {
  it('with exact counts off, rows are unknown (-1) and pg_class estimates are recorded beside them', async () => {
    const estimated = await createDatabase('coffre_estimates');
    await withClient(estimated.url, (c) =>
      c.query('CREATE TABLE analyzed AS SELECT g FROM generate_series(1, 5000) g; ANALYZE analyzed; CREATE TABLE never_analyzed (g int)'),
    );
    const taken = await runDatabaseBackup({
      connection: parsePostgresUrl(estimated.url),
      type: 'full',
      compression: 'zstd',
      recipients: [],
      targets: [{ driver: ws.storage, key: 'estimated.dump.zst' }],
      tmpDir: join(ws.dir, 'tmp'),
      countRows: false,
      logger: ws.logger,
    });
    expect(taken.recordsCount).toBeNull();
    expect(taken.tableCounts).toEqual([
      { schema: 'public', table: 'analyzed', kind: 'r', rows: -1, estimatedRows: 5000 },
      { schema: 'public', table: 'never_analyzed', kind: 'r', rows: -1 },
    ]);
  });
});
