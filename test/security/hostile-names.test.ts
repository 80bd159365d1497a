// Database names and URL parts that look like flags, libpq keyword lists, URIs or shell syntax,
// given to the API as source URLs and as restore targets. Each is either refused with 400 or applied
// to exactly the database it names: the backup holds that database's own marker table, a restore
// puts that database back, the decoy databases a misreading would reach stay as they were, and no
// file the name spells out is ever created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import request from 'supertest';
import { PG_ADMIN_URL } from '../support/env.js';
import { adminQuery } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';

const S = randomBytes(3).toString('hex');
const DECOY = `coffre_sec_decoy_${S}`;
const PWNED = [`/tmp/coffre-sec-pwned-${S}`, `/tmp/coffre-sec-pwned2-${S}`, `/tmp/coffre-sec-pwned3-${S}`, `/tmp/coffre-sec-pwned4-${S}`];

/** Names of real databases, each holding its own marker table. */
const NAMES = [
  `--file=${PWNED[0]}`,
  '-f',
  `-d${DECOY}`,
  `x host=evil.example port=1 ${S}`,
  `dbname=${DECOY}`,
  `postgresql:///${DECOY}`,
  `name=with=equals ${S}`,
  `it's "quoted" ${S}`,
  `semi;colon ${S}; DROP DATABASE ${DECOY}; --`,
  `$(touch ${PWNED[1]})`,
  `\`touch ${PWNED[2]}\``,
  `line\nbreak ${S}`,
];

let stack: TestStack;
let auth: { Authorization: string };
const created = new Set<string>();
const figures = { sourcesTried: 0, refusedAt400: 0, backedUpExactly: 0, restoredExactly: 0, targetsRefused: 0 };

async function createNamed(name: string) {
  await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  created.add(name);
}

async function inDatabase<T>(name: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const base = new URL(PG_ADMIN_URL);
  const client = new pg.Client({ host: base.hostname, port: Number(base.port || 5432), user: decodeURIComponent(base.username) || 'postgres', database: name });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const urlOf = (database: string, extra = '') => `postgresql://postgres@127.0.0.1:5432/${encodeURIComponent(database)}${extra}`;

async function finished(path: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, path);
}

async function backupOf(sourceId: string) {
  const res = await request(stack.app).post('/api/backups').set(auth).send({ sourceId });
  expect(res.status).toBe(202);
  return finished(`/api/backups/${res.body.id}`);
}

async function tablesIn(backupId: string): Promise<string[]> {
  const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backupId } });
  return ((row.tableCounts ?? []) as { schema: string; table: string }[]).map((t) => `${t.schema}.${t.table}`);
}

beforeAll(async () => {
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers({ concurrency: 2 });
  await createNamed(DECOY);
  await inDatabase(DECOY, (c) => c.query("CREATE TABLE decoy_marker (v text); INSERT INTO decoy_marker VALUES ('decoy')"));
});

afterAll(async () => {
  console.info(`hostile names: ${JSON.stringify(figures)}`);
  // The databases swaps replaced, kept beside their targets under names cut to fit (<db>__before_restore_<time>).
  const kept = stack ? await stack.ctx.db.restore.findMany({ where: { keptDatabase: { not: null } }, select: { keptDatabase: true } }) : [];
  for (const { keptDatabase } of kept) created.add(keptDatabase!);
  await stack?.close();
  for (const name of created) await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
});

describe.each(NAMES.map((name, i) => ({ name, i })))('a source database named $name', ({ name, i }) => {
  it('is refused with 400, or backed up and restored as exactly that database', async () => {
    await createNamed(name);
    await inDatabase(name, (c) => c.query(`CREATE TABLE marker_${i} (v text); INSERT INTO marker_${i} VALUES ('original')`));
    figures.sourcesTried += 1;
    const source = await request(stack.app).post('/api/sources').set(auth).send({ name: `hostile-${i}`, url: urlOf(name) });
    if (source.status === 400) {
      expect(typeof source.body.error.message).toBe('string');
      figures.refusedAt400 += 1;
      return;
    }
    expect(source.status).toBe(201);
    const backup = await backupOf(source.body.id);
    expect({ status: backup.status, error: backup.errorMessage }).toEqual({ status: 'completed', error: null });
    expect(await tablesIn(backup.id)).toEqual([`public.marker_${i}`]);
    figures.backedUpExactly += 1;

    // The restore goes into the database the source names: the row added since is gone again.
    await inDatabase(name, (c) => c.query(`INSERT INTO marker_${i} VALUES ('added after the backup')`));
    const restoring = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name });
    expect(restoring.status).toBe(202);
    expect(restoring.body.targetDatabase).toBe(name);
    const restore = await finished(`/api/restores/${restoring.body.id}`);
    expect({ status: restore.status, error: restore.errorMessage }).toEqual({ status: 'completed', error: null });
    const rows = await inDatabase(name, (c) => c.query<{ v: string }>(`SELECT v FROM marker_${i}`));
    expect(rows.rows.map((r) => r.v)).toEqual(['original']);
    figures.restoredExactly += 1;
  });
});

describe('URL parts that try to redirect the connection or pass options', () => {
  const target = `coffre_sec_target_${S}`;

  beforeAll(async () => {
    await createNamed(target);
    await inDatabase(target, (c) => c.query("CREATE TABLE target_marker (v text); INSERT INTO target_marker VALUES ('target')"));
  });

  it.each([
    { what: 'query parameters naming another database and pg_dump options', extra: `?dbname=${DECOY}&options=--file%3D${encodeURIComponent(PWNED[3]!)}&application_name=x%27%20dbname%3D${DECOY}` },
    { what: 'an sslmode carrying a keyword list', extra: `?sslmode=disable%27%20dbname%3D%27${DECOY}` },
  ])('$what: the backup is of the database in the path, or fails with a sentence', async ({ extra }) => {
    figures.sourcesTried += 1;
    const source = await request(stack.app).post('/api/sources').set(auth).send({ name: `hostile-url-${figures.sourcesTried}`, url: urlOf(target, extra) });
    if (source.status === 400) {
      figures.refusedAt400 += 1;
      return;
    }
    expect(source.status).toBe(201);
    const backup = await backupOf(source.body.id);
    if (backup.status === 'failed') {
      expect(backup.errorMessage).toMatch(/\w{10,}/);
      expect(backup.errorMessage).not.toContain('decoy_marker');
    } else {
      expect(await tablesIn(backup.id)).toEqual(['public.target_marker']);
      figures.backedUpExactly += 1;
    }
  });

  it('a user name that looks like a flag logs in as that (missing) role and fails with a sentence', async () => {
    figures.sourcesTried += 1;
    const url = `postgresql://${encodeURIComponent(`--file=${PWNED[0]}`)}@127.0.0.1:5432/${target}`;
    const source = await request(stack.app).post('/api/sources').set(auth).send({ name: 'hostile-user', url });
    expect(source.status).toBe(201);
    const backup = await backupOf(source.body.id);
    expect(backup.status).toBe('failed');
    expect(backup.errorMessage).toBe(`PostgreSQL at 127.0.0.1:5432 refused the credentials of user "--file=${PWNED[0]}": check the user and password in the source URL.`);
  });
});

describe('restore targets (targetDatabase)', () => {
  it.each([...NAMES, '../etc', 'a'.repeat(64), '', ' ', 'postgres?options=-c', 'x\0y'])('targetDatabase %j is refused with 400 and nothing is queued', async (targetDatabase) => {
    const backup = await stack.ctx.db.backup.findFirst({ where: { status: 'completed' } });
    expect(backup).not.toBeNull();
    const before = await stack.ctx.db.restore.count();
    const res = await request(stack.app).post(`/api/backups/${backup!.id}/restore`).set(auth).send({ targetDatabase, confirm: backup!.name });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/targetDatabase/);
    expect(await stack.ctx.db.restore.count()).toBe(before);
    figures.targetsRefused += 1;
  });
});

it('the decoy is untouched, the server still has its postgres database, and no name created a file', async () => {
  const rows = await inDatabase(DECOY, (c) => c.query<{ v: string }>('SELECT v FROM decoy_marker'));
  expect(rows.rows).toEqual([{ v: 'decoy' }]);
  expect((await adminQuery("SELECT 1 FROM pg_database WHERE datname = 'postgres'")).rowCount).toBe(1);
  for (const path of PWNED) expect(existsSync(path)).toBe(false);
});
