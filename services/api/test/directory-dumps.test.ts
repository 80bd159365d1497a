// Parallel dumps through the service: a configuration (or a one-off request) asks for dumpJobs, a
// worker dumps with pg_dump --format=directory --jobs, and the backup restores into a new database,
// over an existing one (the swap), in a verification, and from its download with standard tools.
// Real PostgreSQL, Redis, pg_dump, pg_restore, zstd and tar.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, createDatabase, withClient } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums, schemaDump } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { databaseUrl } from '../../../test/support/env.js';

let stack: TestStack;
let source: { name: string; url: string };
let auth: { Authorization: string };
let sourceId: string;

beforeAll(async () => {
  source = await createDatabase('coffre_dirapi_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url, env: { RESTORE_JOBS: '2' } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  stack.startWorkers({ concurrency: 2 });
});

afterAll(async () => {
  await stack?.close();
});

async function finished<T extends { status: string }>(path: string, what: string): Promise<T> {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? (res.body as T) : undefined;
  }, 120_000, what);
}

type BackupBody = { id: string; name: string; status: string; dumpFormat: string; errorMessage: string | null; recordsCount: number; tablesCount: number; sizeBytes: number; checksumSha256: string; artifacts: { kind: string; key: string }[] };

describe('dumpJobs is validated and needs the right role', () => {
  it.each([0, 33, 2.5, 'two'])('dumpJobs %s in a backup request is a 400 with a sentence naming it', async (value) => {
    const res = await request(stack.app).post('/api/backups').set(auth).send({ dumpJobs: value });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^dumpJobs must be .*\.$/);
  });

  it('dumpJobs out of range in a configuration is a 400, on create and on update', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'bad-jobs', sourceId, dumpJobs: 64 });
    expect(created.status).toBe(400);
    expect(created.body.error.message).toBe('dumpJobs must be between 1 and 32 (got 64).');
    const good = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'jobs-later', sourceId });
    expect(good.status).toBe(201);
    expect(good.body.dumpJobs).toBe(1);
    const updated = await request(stack.app).put(`/api/configurations/${good.body.id}`).set(auth).send({ dumpJobs: -1 });
    expect(updated.status).toBe(400);
    expect(updated.body.error.message).toMatch(/^dumpJobs must be between 1 and 32/);
  });

  it('a viewer can set it neither on a configuration nor on a backup request', async () => {
    const viewer = { Authorization: `Bearer ${await stack.token('viewer')}` };
    const backups = await stack.ctx.db.backup.count();
    const res = await request(stack.app).post('/api/backups').set(viewer).send({ dumpJobs: 2 });
    expect(res.status).toBe(403);
    const config = await request(stack.app).post('/api/configurations').set(viewer).send({ name: 'viewer-jobs', sourceId, dumpJobs: 2 });
    expect(config.status).toBe(403);
    const existing = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'viewer-target', sourceId });
    const changed = await request(stack.app).put(`/api/configurations/${existing.body.id}`).set(viewer).send({ dumpJobs: 4 });
    expect(changed.status).toBe(403);
    expect((await request(stack.app).get(`/api/configurations/${existing.body.id}`).set(auth)).body.dumpJobs).toBe(1);
    expect(await stack.ctx.db.backup.count()).toBe(backups);
  });
});

describe('a configuration with dumpJobs 2', () => {
  let backup: BackupBody;

  beforeAll(async () => {
    const config = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'parallel', sourceId, dumpJobs: 2 });
    expect(config.status).toBe(201);
    expect(config.body.dumpJobs).toBe(2);
    const run = await request(stack.app).post(`/api/configurations/${config.body.id}/run`).set(auth).send();
    expect(run.status).toBe(202);
    backup = await finished<BackupBody>(`/api/backups/${run.body.id}`, 'the parallel backup');
  });

  it('dumps in the directory format, recorded on the row and in the manifest, with the same counts as a custom-format backup', async () => {
    expect(backup.errorMessage).toBeNull();
    expect(backup.status).toBe('completed');
    expect(backup.dumpFormat).toBe('directory');
    expect(backup.artifacts.find((a) => a.kind === 'database')!.key).toMatch(/\/database\.tar\.zst$/);
    const manifestKey = backup.artifacts.find((a) => a.kind === 'manifest')!.key;
    const manifest = JSON.parse(await readStored(manifestKey)) as { dumpFormat: string; dumpJobs: number };
    expect(manifest).toMatchObject({ dumpFormat: 'directory', dumpJobs: 2 });
    const notes = await readStored(backup.artifacts.find((a) => a.kind === 'restore-notes')!.key);
    expect(notes).toContain('| tar -x');
    expect(notes).toContain('pg_restore --clean --if-exists --no-owner --exit-on-error --jobs=4 -d restored database');

    const custom = await request(stack.app).post('/api/backups').set(auth).send({ name: 'custom-beside' });
    const customDone = await finished<BackupBody>(`/api/backups/${custom.body.id}`, 'the custom backup');
    expect(customDone.dumpFormat).toBe('custom');
    expect(backup.tablesCount).toBe(customDone.tablesCount);
    expect(backup.recordsCount).toBe(customDone.recordsCount);
  });

  it('restores into a new database with pg_restore --jobs', async () => {
    const target = `coffre_dirapi_new_${Date.now()}`;
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target, confirm: backup.name });
    expect(res.status).toBe(202);
    const restore = await finished<{ status: string; errorMessage: string | null; method: string; log?: string }>(`/api/restores/${res.body.id}`, 'the restore');
    try {
      expect(restore.errorMessage).toBeNull();
      expect(restore).toMatchObject({ status: 'completed', method: 'new-database' });
      expect((await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: res.body.id } })).log).toMatch(/bytes of dump\); pg_restore --jobs=2 loaded it/);
      expect(await dataChecksums(databaseUrl(target))).toEqual(await dataChecksums(source.url));
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
    }
  });

  it('restores over an existing database by the swap', async () => {
    const target = await createDatabase('coffre_dirapi_over');
    await withClient(target.url, (c) => c.query("CREATE TABLE old_content (v text); INSERT INTO old_content VALUES ('before')"));
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target.name, confirm: backup.name });
    expect(res.status).toBe(202);
    expect(res.body.createDatabase).toBe(false);
    const restore = await finished<{ status: string; errorMessage: string | null; method: string; keptDatabase: string }>(`/api/restores/${res.body.id}`, 'the swap restore');
    try {
      expect(restore.errorMessage).toBeNull();
      expect(restore).toMatchObject({ status: 'completed', method: 'swap' });
      expect(schemaDump(target.url)).toBe(schemaDump(source.url));
      expect(await dataChecksums(target.url)).toEqual(await dataChecksums(source.url));
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${restore.keptDatabase}" WITH (FORCE)`);
    }
  });

  it('passes a verification: every table and row found', async () => {
    const res = await request(stack.app).post(`/api/backups/${backup.id}/verify`).set(auth).send();
    expect(res.status).toBe(202);
    const verification = await finished<{ status: string; result: string; errorMessage: string | null; recordsFound: number; recordsExpected: number }>(`/api/verifications/${res.body.id}`, 'the verification');
    expect(verification.errorMessage).toBeNull();
    expect(verification).toMatchObject({ status: 'completed', result: 'passed' });
    expect(verification.recordsFound).toBe(backup.recordsCount);
  });

  it('its download restores with zstd -dc | tar -x and pg_restore -j 2', async () => {
    const download = await request(stack.app).get(`/api/backups/${backup.id}/download`).set(auth).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(download.status).toBe(200);
    expect(download.headers['x-checksum-sha256']).toBe(backup.checksumSha256);
    const dir = await mkdtemp(join(tmpdir(), 'coffre-dirapi-'));
    try {
      const file = join(dir, 'database.tar.zst');
      await writeFile(file, download.body as Buffer);
      await mkdir(join(dir, 'out'));
      const target = await createDatabase('coffre_dirapi_cli');
      const run = spawnSync('bash', ['-o', 'pipefail', '-c', 'cd "$1/out" && zstd -dc "$2" | tar -x && pg_restore -j 2 --no-owner -d "$3" database', 'restore', dir, file, target.url]);
      expect(run.status, run.stderr.toString()).toBe(0);
      expect(await dataChecksums(target.url)).toEqual(await dataChecksums(source.url));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an on-demand request may ask for it too', async () => {
    const res = await request(stack.app).post('/api/backups').set(auth).send({ name: 'one-off-parallel', dumpJobs: 3 });
    expect(res.status).toBe(202);
    const done = await finished<BackupBody>(`/api/backups/${res.body.id}`, 'the one-off backup');
    expect(done.errorMessage).toBeNull();
    expect(done).toMatchObject({ status: 'completed', dumpFormat: 'directory' });
    const row = await request(stack.app).get(`/api/backups/${done.id}`).set(auth);
    expect(row.body.log).toMatch(/pg_dump --format=directory --jobs=3/);
  });
});

async function readStored(key: string): Promise<string> {
  return readFile(join(stack.config.BACKUP_DIR, key), 'utf8');
}
