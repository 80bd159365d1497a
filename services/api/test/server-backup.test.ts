// Whole-server sources: a cluster started by this test with initdb holds 5 databases (one with a
// non-ASCII name) and two roles with grants; a server backup of it (globals plus each database as
// its own artifact, one manifest) restored into another empty cluster (initdb too) gives the same
// databases, schemas, data, owners, roles, memberships and grants. One database of it restores on
// its own, and a database created after a run is picked up by the next one.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startPostgresCluster, type PostgresCluster } from '../../../test/support/postgres-cluster.js';
import { withClient } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

const DATABASES = ['analytics', 'café_ünï', 'inventory', 'logs', 'shop'];

let stack: TestStack;
let origin: PostgresCluster;
let target: PostgresCluster;
let serverSourceId: string;
let targetSourceId: string;

const admin = (method: 'get' | 'post', path: string) => request(stack.app)[method](path).set('Authorization', `Bearer ${stack.adminToken}`);

async function waitFinished(model: 'backup' | 'restore', id: string) {
  return eventually(async () => {
    const row = await (stack.ctx.db[model] as unknown as { findUnique(a: object): Promise<{ status: string; errorMessage: string | null } | null> }).findUnique({ where: { id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : null;
  }, 180_000, `${model} ${id} to finish`);
}

beforeAll(async () => {
  [origin, target] = await Promise.all([startPostgresCluster(), startPostgresCluster()]);
  await withClient(origin.url('postgres'), async (client) => {
    await client.query("CREATE ROLE app_owner LOGIN PASSWORD 'owner-pw-1' CONNECTION LIMIT 7");
    await client.query('CREATE ROLE app_reader NOLOGIN');
    await client.query('GRANT app_reader TO app_owner');
    for (const name of DATABASES) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} OWNER app_owner`);
    await client.query('GRANT CONNECT ON DATABASE shop TO app_reader');
    await client.query('REVOKE CONNECT ON DATABASE logs FROM PUBLIC');
  });
  await createRichDatabase(origin.url('shop'));
  for (const name of DATABASES.filter((d) => d !== 'shop')) {
    await withClient(origin.url(name), async (client) => {
      await client.query('CREATE SCHEMA sales AUTHORIZATION app_owner');
      await client.query('SET ROLE app_owner');
      await client.query("CREATE TABLE sales.orders (id int PRIMARY KEY, customer text NOT NULL, total numeric(10,2), note text DEFAULT 'ñ – ✓')");
      await client.query(`INSERT INTO sales.orders SELECT g, 'customer ' || g || ' of ' || current_database(), g * 1.5 FROM generate_series(1, ${100 + name.length * 10}) g`);
      await client.query('GRANT USAGE ON SCHEMA sales TO app_reader');
      await client.query('GRANT SELECT ON sales.orders TO app_reader');
      await client.query('RESET ROLE');
    });
  }
  stack = await createTestStack({ sourceUrl: origin.url('postgres') });
  stack.startWorkers();
  const server = await admin('post', '/api/sources').send({ name: 'whole-origin', url: origin.url('postgres'), scope: 'server', excludeDatabases: ['postgres'] });
  expect(server.status).toBe(201);
  expect(server.body).toMatchObject({ scope: 'server', excludeDatabases: ['postgres'] });
  serverSourceId = server.body.id;
  const into = await admin('post', '/api/sources').send({ name: 'whole-target', url: target.url('postgres'), scope: 'server' });
  targetSourceId = into.body.id;
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await Promise.all([origin?.destroy(), target?.destroy()]);
});

/** Everything that must come back: databases with owner and privileges (as a set: their order may differ), roles, memberships, role passwords. */
async function serverPicture(cluster: PostgresCluster) {
  return withClient(cluster.url('postgres'), async (client) => {
    const databases = await client.query(
      "SELECT datname, pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, (SELECT array_agg(item::text ORDER BY item::text) FROM unnest(datacl) item) AS acl FROM pg_database WHERE datname <> ALL ($1) ORDER BY datname COLLATE \"C\"",
      [['postgres', 'template0', 'template1']],
    );
    const roles = await client.query(
      "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit, rolpassword FROM pg_authid WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY rolname",
    );
    const members = await client.query('SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 1, 2');
    return { databases: databases.rows, roles: roles.rows, members: members.rows.filter((row) => !String(row.role).startsWith('pg_')) };
  });
}

/** pg_dump --schema-only with owners and grants, without the lines that differ between any two dumps. */
function schemaWithGrants(url: string): string {
  return execFileSync('pg_dump', ['--schema-only', `--dbname=${url}`], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join('\n');
}

let backupId: string;
let backupName: string;

describe('a server backup', () => {
  it('holds the globals and each database as its own artifact, with one manifest', async () => {
    const res = await admin('post', '/api/backups').send({ sourceId: serverSourceId });
    expect(res.status).toBe(202);
    const done = await waitFinished('backup', res.body.id);
    expect({ status: done.status, error: done.errorMessage }).toEqual({ status: 'completed', error: null });
    backupId = res.body.id;
    const backup = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backupId }, include: { artifacts: true } });
    backupName = backup.name;
    expect(backup.artifacts.map((a) => a.kind).sort()).toEqual(['globals', 'manifest', 'restore-notes', ...DATABASES.map((d) => `database:${d}`)].sort());
    const manifest = JSON.parse(await readFile(join(stack.config.BACKUP_DIR, backup.artifacts.find((a) => a.kind === 'manifest')!.key), 'utf8'));
    expect(manifest.server.databases.map((d: { name: string }) => d.name)).toEqual(DATABASES);
    expect(manifest.server.globals.noRolePasswords).toBe(false);
    expect(manifest.server.failed).toEqual([]);
    // What the web UI shows of it: each database with its artifact's size and recorded counts, the globals.
    const contents = await admin('get', `/api/backups/${backupId}/server`);
    expect(contents.status).toBe(200);
    expect(contents.body.databases.map((d: { name: string }) => d.name)).toEqual(DATABASES);
    for (const entry of manifest.server.databases) {
      const artifact = backup.artifacts.find((a) => a.kind === `database:${entry.name}`)!;
      expect(contents.body.databases.find((d: { name: string }) => d.name === entry.name)).toEqual({ name: entry.name, sizeBytes: Number(artifact.sizeBytes), tables: entry.tables, records: entry.records });
    }
    expect(contents.body).toMatchObject({ failed: [], globals: { noRolePasswords: false, sizeBytes: Number(backup.artifacts.find((a) => a.kind === 'globals')!.sizeBytes) }, manifestError: null });
  });

  it('a backup of one database has no server contents to show: 409 with a sentence', async () => {
    const source = await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    const res = await admin('post', '/api/backups').send({ sourceId: source.id });
    expect((await waitFinished('backup', res.body.id)).status).toBe('completed');
    const contents = await admin('get', `/api/backups/${res.body.id}/server`);
    expect(contents.status).toBe(409);
    expect(contents.body.error.message).toMatch(/is a backup of one database, not of a whole server\.$/);
  });

  it('restored into an empty cluster gives the same databases, schemas, data, roles and grants', async () => {
    const res = await admin('post', `/api/backups/${backupId}/restore`).send({ allDatabases: true, targetSourceId, confirm: backupName });
    expect(res.status).toBe(202);
    const done = await waitFinished('restore', res.body.id);
    expect({ status: done.status, error: done.errorMessage }).toEqual({ status: 'completed', error: null });
    expect(await serverPicture(target)).toEqual(await serverPicture(origin));
    for (const name of DATABASES) {
      expect({ name, schema: schemaWithGrants(target.url(name)) }).toEqual({ name, schema: schemaWithGrants(origin.url(name)) });
      expect({ name, data: await dataChecksums(target.url(name)) }).toEqual({ name, data: await dataChecksums(origin.url(name)) });
    }
  });

  it('restores one of its databases on its own, under another name', async () => {
    const res = await admin('post', `/api/backups/${backupId}/restore`).send({ database: 'café_ünï', targetSourceId, targetDatabase: 'cafe_copy', confirm: backupName });
    expect(res.status).toBe(202);
    const done = await waitFinished('restore', res.body.id);
    expect({ status: done.status, error: done.errorMessage }).toEqual({ status: 'completed', error: null });
    expect(await dataChecksums(target.url('cafe_copy'))).toEqual(await dataChecksums(origin.url('café_ünï')));
  });

  it('refuses a verification with a sentence saying how to prove it instead', async () => {
    const res = await admin('post', `/api/backups/${backupId}/verify`).send();
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/backup of a whole server: .*restoring it/);
  });

  it('says which databases it holds when asked to restore one that it does not', async () => {
    const res = await admin('post', `/api/backups/${backupId}/restore`).send({ targetSourceId, confirm: backupName });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/backup of a whole server: say which database to restore .*"café_ünï"/);
  });

  it('run by a role that may not read every database or pg_authid: fails naming the database, keeps the others, and says the role passwords are left out', async () => {
    await withClient(origin.url('postgres'), async (client) => {
      await client.query('CREATE ROLE backup_user LOGIN IN ROLE app_reader');
    });
    const limited = await admin('post', '/api/sources').send({ name: 'whole-origin-limited', url: origin.url('postgres').replace('postgres@', 'backup_user@'), scope: 'server', excludeDatabases: ['postgres', 'shop'] });
    expect(limited.status).toBe(201);
    const res = await admin('post', '/api/backups').send({ sourceId: limited.body.id });
    const done = await waitFinished('backup', res.body.id);
    // "logs" does not grant CONNECT to PUBLIC (set up above): pg_dump may not open it.
    expect(done.status).toBe('failed');
    expect(done.errorMessage).toMatch(/^Database "logs" \(.*permission denied for database.*\) could not be backed up; the other 3 databases and the globals are kept in this backup\.$/);
    const artifacts = await stack.ctx.db.backupArtifact.findMany({ where: { backupId: res.body.id } });
    expect(artifacts.map((a) => a.kind).sort()).toEqual(['database:analytics', 'database:café_ünï', 'database:inventory', 'globals', 'manifest', 'restore-notes']);
    const manifest = JSON.parse(await readFile(join(stack.config.BACKUP_DIR, artifacts.find((a) => a.kind === 'manifest')!.key), 'utf8'));
    expect(manifest.server.globals.noRolePasswords).toBe(true);
    expect(manifest.server.failed.map((f: { database: string }) => f.database)).toEqual(['logs']);
    const contents = await admin('get', `/api/backups/${res.body.id}/server`);
    expect(contents.body.globals.noRolePasswords).toBe(true);
    expect(contents.body.failed).toEqual(manifest.server.failed);
  });

  it('picks up a database created after the last run at the next run', async () => {
    await withClient(origin.url('postgres'), (client) => client.query('CREATE DATABASE newcomer'));
    const res = await admin('post', '/api/backups').send({ sourceId: serverSourceId });
    const done = await waitFinished('backup', res.body.id);
    expect(done.status).toBe('completed');
    const kinds = (await stack.ctx.db.backupArtifact.findMany({ where: { backupId: res.body.id } })).map((a) => a.kind);
    expect(kinds).toContain('database:newcomer');
  });
});
