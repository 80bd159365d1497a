// Destinations, file and bucket backups through the API and workers, against a real S3 server
// (s3rver) started by the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Storage } from '@coffre/shared/s3';
import { createDatabase, forgetDatabase } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../../../test/support/s3.js';

let stack: TestStack;
let s3: S3Server;
let auth: { Authorization: string };
let source: { name: string; url: string };
let files: string;

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('offsite');
  await s3.createBucket('media');
  await s3.createBucket('media-restored');
  source = await createDatabase('coffre_storage_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
  files = await mkdtemp(join(tmpdir(), 'coffre-files-'));
  await mkdir(join(files, 'uploads/2026'), { recursive: true });
  await mkdir(join(files, 'node_modules/left-out'), { recursive: true });
  await writeFile(join(files, 'uploads/2026/photo.bin'), Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256)));
  await writeFile(join(files, 'uploads/été.txt'), 'non-ASCII name');
  await writeFile(join(files, 'node_modules/left-out/index.js'), 'excluded by default');
  await writeFile(join(files, 'debug.log'), 'excluded by default');
  await symlink('uploads/été.txt', join(files, 'link-to-text'));
});

afterAll(async () => {
  await stack?.close();
  await s3?.stop();
  if (files) await rm(files, { recursive: true, force: true });
});

async function finished(path: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 120_000, path);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('several destinations and files beside the database', () => {
  let backup: { id: string; name: string; artifacts: { kind: string; destination: string; key: string; checksumSha256: string; sizeBytes: number }[] };

  it('a configuration writing to local and S3 completes with the same verified copies in both, files included', async () => {
    const offsite = await request(stack.app)
      .post('/api/destinations')
      .set(auth)
      .send({ name: 'offsite', kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: 'offsite', prefix: 'coffre', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    expect(offsite.status).toBe(201);
    expect(JSON.stringify(offsite.body)).not.toContain(S3_SECRET_ACCESS_KEY.toLowerCase() + 'x');
    expect(offsite.body.hasCredentials).toBe(true);
    expect(offsite.body.config.secretAccessKey).toBeUndefined();
    const test = await request(stack.app).post(`/api/destinations/${offsite.body.id}/test`).set(auth);
    expect(test.body).toEqual({ ok: true, message: expect.stringMatching(/writable/) });
    const destinations = (await request(stack.app).get('/api/destinations').set(auth)).body.items;
    const local = destinations.find((d: { name: string }) => d.name === 'local');
    const sourceId = (await request(stack.app).get('/api/sources').set(auth)).body.items[0].id;
    const config = await request(stack.app)
      .post('/api/configurations')
      .set(auth)
      .send({ name: 'two-places', sourceId, destinationIds: [local.id, offsite.body.id], includePaths: [files] });
    expect(config.status).toBe(201);
    const run = await request(stack.app).post(`/api/configurations/${config.body.id}/run`).set(auth);
    backup = await finished(`/api/backups/${run.body.id}`);
    expect(backup).toMatchObject({ status: 'completed', filesCount: 3 });
    const kinds = backup.artifacts.map((a) => `${a.kind}@${a.destination}`).sort();
    expect(kinds).toEqual(['database@local', 'database@offsite', 'files@local', 'files@offsite', 'manifest@local', 'manifest@offsite', 'restore-notes@local', 'restore-notes@offsite']);

    const manifest = JSON.parse((await readFile(join(stack.config.BACKUP_DIR, backup.artifacts.find((a) => a.kind === 'manifest')!.key))).toString());
    const s3Storage = createS3Storage(s3.options('offsite', 'coffre'));
    for (const object of manifest.objects as { kind: string; key: string; checksumSha256: string; sizeBytes: number }[]) {
      const localBytes = await readFile(join(stack.config.BACKUP_DIR, object.key));
      const chunks: Buffer[] = [];
      for await (const chunk of await s3Storage.get(object.key)) chunks.push(chunk as Buffer);
      const remoteBytes = Buffer.concat(chunks);
      expect(sha256(localBytes)).toBe(object.checksumSha256);
      expect(sha256(remoteBytes)).toBe(object.checksumSha256);
      expect(remoteBytes.length).toBe(object.sizeBytes);
    }
  });

  it('a restore works from either copy: from S3 when the local copy is gone', async () => {
    const target = `coffre_from_s3_${Date.now()}`;
    forgetDatabase(target); // dropped with the stack's databases
    const localKey = backup.artifacts.find((a) => a.kind === 'database' && a.destination === 'local')!.key;
    await rm(join(stack.config.BACKUP_DIR, localKey));
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name, targetDatabase: target });
    expect(res.status).toBe(202);
    const restore = await finished(`/api/restores/${res.body.id}`);
    expect(restore.errorMessage).toBeNull();
    expect(restore.log).toMatch(/does not hold/);
    expect(restore.log).toMatch(/from destination offsite/);
    const url = new URL(source.url);
    url.pathname = `/${target}`;
    expect(await dataChecksums(url.toString())).toEqual(await dataChecksums(source.url));
  });

  it('the files restore into a chosen directory, exclusions honoured, links kept', async () => {
    const into = await mkdtemp(join(tmpdir(), 'coffre-restored-'));
    try {
      const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name, artifact: 'files', targetPath: into });
      expect(res.status).toBe(202);
      const restore = await finished(`/api/restores/${res.body.id}`);
      expect(restore.errorMessage).toBeNull();
      const top = (await readdir(into))[0]!;
      const restored = join(into, top);
      expect((await readFile(join(restored, 'uploads/2026/photo.bin'))).equals(await readFile(join(files, 'uploads/2026/photo.bin')))).toBe(true);
      expect(await readFile(join(restored, 'uploads/été.txt'), 'utf8')).toBe('non-ASCII name');
      expect(await readFile(join(restored, 'link-to-text'), 'utf8')).toBe('non-ASCII name');
      expect((await readdir(restored)).sort()).toEqual(['link-to-text', 'uploads']);
    } finally {
      await rm(into, { recursive: true, force: true });
    }
  });

  it('downloads the files artifact from a backup, with its checksum', async () => {
    const res = await request(stack.app).get(`/api/backups/${backup.id}/download`).query({ artifact: 'files' }).set(auth).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(sha256(res.body as Buffer)).toBe(res.headers['x-checksum-sha256']);
    expect(res.headers['content-disposition']).toMatch(/\.tar\.zst"$/);
  });

  it('GET /api/system reports disk usage and bytes stored per destination', async () => {
    const res = await request(stack.app).get('/api/system').set(auth);
    expect(res.status).toBe(200);
    const local = res.body.destinations.find((d: { name: string }) => d.name === 'local');
    expect(local.usage.usedPercent).toBeGreaterThan(0);
    expect(local.usage.freeBytes).toBeGreaterThan(0);
    expect(local.usage.warning).toBe(local.usage.usedPercent > 80);
    const offsite = res.body.destinations.find((d: { name: string }) => d.name === 'offsite');
    expect(offsite.bytesStored).toBeGreaterThan(1000);
    expect(offsite.usage).toBeNull();
  });
});

describe('bucket sources', () => {
  it('a bucket is backed up with its objects and metadata, and restored into another bucket', async () => {
    const media = createS3Storage(s3.options('media'));
    const { Readable } = await import('node:stream');
    for (let i = 0; i < 12; i++) await media.put(`photos/${i % 3}/img-${i}.jpg`, Readable.from([Buffer.from(`image ${i}`.repeat(100 + i))]));
    const created = await request(stack.app)
      .post('/api/sources')
      .set(auth)
      .send({ name: 'media', kind: 's3', endpoint: s3.endpoint, bucket: 'media', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    expect(created.status).toBe(201);
    expect(created.body.url).toMatch(/^s3:\/\/media\//);
    expect((await request(stack.app).post(`/api/sources/${created.body.id}/test`).set(auth)).body.ok).toBe(true);
    const started = await request(stack.app).post('/api/backups').set(auth).send({ sourceId: created.body.id, name: 'media-backup' });
    const backup = await finished(`/api/backups/${started.body.id}`);
    expect(backup).toMatchObject({ status: 'completed', objectsCount: 12 });
    const target = await request(stack.app)
      .post('/api/sources')
      .set(auth)
      .send({ name: 'media-copy', kind: 's3', endpoint: s3.endpoint, bucket: 'media-restored', prefix: 'copy', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: 'media-backup', targetSourceId: target.body.id });
    expect(res.status).toBe(202);
    const restore = await finished(`/api/restores/${res.body.id}`);
    expect(restore.errorMessage).toBeNull();
    const restored = createS3Storage(s3.options('media-restored', 'copy'));
    const keys: string[] = [];
    for await (const object of restored.list()) keys.push(object.key);
    expect(keys.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `photos/${i % 3}/img-${i}.jpg`).sort());
  });
});

describe('a local destination', () => {
  it('is a directory of its own: never the root, a directory of the system, a .ssh directory or coffre\'s own state, however its path is spelled (found by an attacker: /etc was accepted and written into)', async () => {
    const links = await mkdtemp(join(tmpdir(), 'coffre-dest-links-'));
    await symlink('/etc', join(links, 'etc'));
    await symlink(stack.config.BACKUP_DIR, join(links, 'backups'));
    const refused: [string, RegExp][] = [
      ['/', /^path '\/' is the root of the file system/],
      ['/etc', /^path '\/etc' lies in \/etc, a directory of the system/],
      ['/usr/local/backups', /lies in \/usr, a directory of the system/],
      ['/proc/self', /lies in \/proc, a directory of the system/],
      [join(links, 'etc'), /lies in \/etc, a directory of the system \(it leads to \/etc\)/],
      ['/root/.ssh', /lies in a \.ssh directory/],
      [stack.config.COFFRE_HOME, /is coffre's own home \(COFFRE_HOME/],
      [join(stack.config.BACKUP_DIR, 'more'), /lies inside coffre's own backup directory \(BACKUP_DIR\)/],
      [join(links, 'backups'), /is coffre's own backup directory \(BACKUP_DIR\)/],
      [stack.dir, /holds coffre's own backup directory \(BACKUP_DIR\)/],
    ];
    for (const [path, message] of refused) {
      const res = await request(stack.app).post('/api/destinations').set(auth).send({ name: `dir-${Math.random().toString(36).slice(2, 8)}`, kind: 'local', path });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    const own = await mkdtemp(join(tmpdir(), 'coffre-dest-own-'));
    const created = await request(stack.app).post('/api/destinations').set(auth).send({ name: 'own-dir', kind: 'local', path: own });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const moved = await request(stack.app).put(`/api/destinations/${created.body.id}`).set(auth).send({ path: '/etc/coffre' });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/^path '\/etc\/coffre' lies in \/etc/);
    await request(stack.app).delete(`/api/destinations/${created.body.id}`).set(auth);
    await rm(links, { recursive: true, force: true });
    await rm(own, { recursive: true, force: true });
  });
});

describe('an S3 destination saved before endpoints with credentials were refused', () => {
  it('is shown to viewers without the user name, password or query of its endpoint', async () => {
    const row = await stack.ctx.db.destination.create({
      data: { name: 'old-s3', kind: 's3', config: { endpoint: 'http://epuser:EndpointPassw0rd@127.0.0.1:4570/?token=EndpointQueryToken', region: 'us-east-1', bucket: 'offsite' }, isDefault: false },
    });
    const viewer = { Authorization: `Bearer ${await stack.token('viewer')}` };
    const listed = await request(stack.app).get('/api/destinations').set(viewer);
    const text = JSON.stringify(listed.body);
    expect(text).toContain('http://127.0.0.1:4570/');
    for (const secret of ['epuser', 'EndpointPassw0rd', 'EndpointQueryToken']) expect(text).not.toContain(secret);
    await stack.ctx.db.destination.delete({ where: { id: row.id } });
  });
});
