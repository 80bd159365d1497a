// Database names are data, never options or connection strings: a name that looks like a flag, a
// libpq keyword list, a URI or a shell command is backed up from, and restored into, exactly the
// database it names, and nothing it spells out happens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import { parsePostgresUrl } from '@coffre/shared';
import { backup, createWorkspace, restore, type Workspace } from '../../test/support/engine.js';
import { PG_ADMIN_URL, databaseUrl } from '../../test/support/env.js';
import { adminQuery } from '../../test/support/pg.js';

const S = randomBytes(3).toString('hex');
/** Databases a misread name would reach instead of the named one: they must stay as they are. */
const DECOY = `coffre_decoy_${S}`;
const DECOY_TARGET = `${DECOY}_r`;

const HOSTILE = [
  `--file=/tmp/coffre-pwned-${S}`,
  '-f',
  `x host=evil.example ${S}`,
  `dbname=${DECOY}`,
  `postgresql:///${DECOY}`,
  `it's "quoted" ${S}`,
  `semi;colon ${S}; DROP DATABASE postgres; --`,
  `$(touch /tmp/coffre-pwned2-${S})`,
  `\`touch /tmp/coffre-pwned3-${S}\``,
  `back\\slash ${S}`,
  `100% sure ${S}`,
  `line\nbreak ${S}`,
];

const created = new Set<string>();
let ws: Workspace;

beforeAll(async () => {
  ws = await createWorkspace();
  for (const decoy of [DECOY, DECOY_TARGET]) {
    await createNamed(decoy);
    await inDatabase(decoy, (c) => c.query(`CREATE TABLE marker (name text); INSERT INTO marker VALUES ('decoy')`));
  }
});

afterAll(async () => {
  for (const name of created) await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await ws.cleanup();
});

describe.each(HOSTILE)('a database named %j', (name) => {
  const target = `${name}_r`;

  it('is backed up from, and restored into, exactly the database it names', async () => {
    // A leftover of an interrupted run (the names without a random part) is cleared first.
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target)} WITH (FORCE)`);
    await createNamed(name);
    await inDatabase(name, async (c) => {
      await c.query('CREATE TABLE marker (name text); CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');
      await c.query('INSERT INTO marker VALUES ($1)', [name]);
    });

    const taken = await backup(ws, urlOf(name));
    expect(taken.recordsCount).toBe(1001);

    // Into a new database it creates, then over it again as an existing database.
    created.add(target);
    await restore(ws, taken, urlOf(target), { createDatabase: true });
    expect(await markerOf(target)).toEqual([name]);
    await inDatabase(target, (c) => c.query("UPDATE marker SET name = 'changed'"));
    await restore(ws, taken, urlOf(target));
    expect(await markerOf(target)).toEqual([name]);

    // The data-only path (pg_restore into psql) reads the name too.
    const dataOnly = await backup(ws, urlOf(name), { type: 'data' });
    await inDatabase(target, (c) => c.query("UPDATE marker SET name = 'changed again'"));
    await restore(ws, dataOnly, urlOf(target), { type: 'data', tables: dataOnly.tableCounts });
    expect(await markerOf(target)).toEqual([name]);

    expect(await markerOf(name)).toEqual([name]);
    expect(await markerOf(DECOY)).toEqual(['decoy']);
    expect(await markerOf(DECOY_TARGET)).toEqual(['decoy']);
    expect(await pwnedFiles()).toEqual([]);
  });
});

it('a name with a % that the URL does not encode gets a sentence saying how to write it', () => {
  expect(() => parsePostgresUrl('postgresql://postgres@127.0.0.1:5432/100%')).toThrow(
    'The database name in the database URL holds a % that is not followed by two hex digits: write a literal % as %25.',
  );
});

it('no name left a file behind, and the server still has its postgres database', async () => {
  expect(await pwnedFiles()).toEqual([]);
  const { rowCount } = await adminQuery("SELECT 1 FROM pg_database WHERE datname = 'postgres'");
  expect(rowCount).toBe(1);
});

async function createNamed(name: string): Promise<void> {
  created.add(name);
  await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
}

/** The URL of a database on the test server, its name percent-encoded as a URL must carry it. */
function urlOf(name: string): string {
  return databaseUrl('placeholder', PG_ADMIN_URL).replace(/\/placeholder$/, `/${encodeURIComponent(name)}`);
}

async function markerOf(name: string): Promise<string[]> {
  const { rows } = await inDatabase(name, (c) => c.query<{ name: string }>('SELECT name FROM marker'));
  return rows.map((r) => r.name);
}

/** A client for a database given by name (pg's own URL parsing leaves %3D, %2F and the like encoded). */
async function inDatabase<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(PG_ADMIN_URL);
  const client = new pg.Client({ host: admin.hostname, port: Number(admin.port || 5432), user: decodeURIComponent(admin.username), database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function pwnedFiles(): Promise<string[]> {
  return (await readdir('/tmp')).filter((f) => f.startsWith('coffre-pwned'));
}
