// Paths an attacker controls, through the API: artifact names on download, a stored artifact key
// that was tampered with, restore target paths, and the entries of an archive being restored. None
// may read or write anything outside the backup directory or the chosen target directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import request from 'supertest';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { tarArchive, type TarEntry } from '../support/tar.js';

let stack: TestStack;
let auth: { Authorization: string };
let dir: string;
let backup: { id: string; name: string; artifacts: { kind: string; key: string }[] };
const marker = `coffre-escape-${randomBytes(5).toString('hex')}`;
const figures = { artifactNames: 0, keys: 0, targetPaths: 0, archiveEntries: 0 };

beforeAll(async () => {
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
  dir = await mkdtemp(join(tmpdir(), 'coffre-traversal-'));
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'files', 'notes.txt'), 'kept beside the database');
  const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  const configuration = await request(stack.app)
    .post('/api/configurations')
    .set(auth)
    .send({ name: 'with-files', sourceId, includePaths: [join(dir, 'files')], compression: 'none' });
  expect(configuration.status).toBe(201);
  const run = await request(stack.app).post(`/api/configurations/${configuration.body.id}/run`).set(auth).send();
  expect(run.status).toBe(202);
  backup = await eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${run.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, 'the backup with files');
  expect(backup.artifacts.map((a) => a.kind).sort()).toEqual(['database', 'files', 'manifest', 'restore-notes']);
});

afterAll(async () => {
  console.info(`traversal: ${JSON.stringify(figures)}`);
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(join('/tmp', marker), { force: true });
});

describe('artifact names on download', () => {
  const hostile = ['../../x', '..%2F..%2Fetc%2Fpasswd', 'database/../../x', '/etc/passwd', '..', 'manifest%00', 'DATABASE', 'database%20', 'files\\..\\..\\x'];

  it.each(hostile)('?artifact=%s is refused with 400', async (artifact) => {
    const res = await request(stack.app).get(`/api/backups/${backup.id}/download?artifact=${artifact}`).set(auth);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      artifact.includes('%00') ? 'The query parameter "artifact" contains a NUL character (\\u0000), which coffre cannot store: remove it.' : 'artifact must be one of database, files, bucket, manifest, restore-notes.',
    );
    figures.artifactNames += 1;
  });

  it('two artifact parameters are refused too', async () => {
    const res = await request(stack.app).get(`/api/backups/${backup.id}/download?artifact=manifest&artifact=../../x`).set(auth);
    expect(res.status).toBe(400);
  });

  it('the named artifacts download, each exactly as recorded', async () => {
    for (const kind of ['database', 'files', 'manifest', 'restore-notes']) {
      const res = await request(stack.app).get(`/api/backups/${backup.id}/download?artifact=${kind}`).set(auth).buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
      expect(res.status).toBe(200);
      expect(createHash('sha256').update(res.body as Buffer).digest('hex')).toBe(res.headers['x-checksum-sha256']);
    }
  });

  it('a stored key tampered to climb out of the backup directory is refused, and nothing outside is served', async () => {
    const manifest = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'manifest' } });
    const keys = ['../../../../../../etc/passwd', '/etc/passwd', 'a/../../../../../../etc/hostname', '.tmp/../../../../etc/passwd'];
    try {
      for (const key of keys) {
        await stack.ctx.db.backupArtifact.update({ where: { id: manifest.id }, data: { key } });
        const res = await request(stack.app).get(`/api/backups/${backup.id}/download?artifact=manifest`).set(auth);
        expect({ key, status: res.status }).toEqual({ key, status: 400 });
        expect(`${res.text ?? ''}${JSON.stringify(res.body)}`).not.toMatch(/root:x:0:0/);
        expect(res.body.error?.message, key).toMatch(/not a valid object key|leads outside|outside the backup directory/);
        figures.keys += 1;
      }
    } finally {
      await stack.ctx.db.backupArtifact.update({ where: { id: manifest.id }, data: { key: manifest.key } });
    }
  });
});

describe('restore targets', () => {
  it.each(['relative/dir', '../../etc', `${'/'}tmp/x\0y`, '', 'C:\\Windows'])('targetPath %j is refused with 400 and no restore is created', async (targetPath) => {
    const before = await stack.ctx.db.restore.count();
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ artifact: 'files', targetPath, confirm: backup.name });
    expect(res.status).toBe(400);
    expect(await stack.ctx.db.restore.count()).toBe(before);
    figures.targetPaths += 1;
  });
});

describe('archive entries', () => {
  /** Replaces the stored files archive by one holding `entries`, recorded as if coffre had written it. */
  async function plantArchive(entries: TarEntry[]) {
    const archive = tarArchive(entries);
    const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'files' } });
    await writeFile(join(stack.config.BACKUP_DIR, artifact.key), archive);
    await stack.ctx.db.backupArtifact.update({
      where: { id: artifact.id },
      data: { sizeBytes: BigInt(archive.length), checksumSha256: createHash('sha256').update(archive).digest('hex') },
    });
  }

  async function restoreFiles() {
    const target = join(await mkdtemp(join(dir, 'restore-')), 'target');
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ artifact: 'files', targetPath: target, confirm: backup.name });
    expect(res.status).toBe(202);
    const restore = await eventually(async () => {
      const r = await request(stack.app).get(`/api/restores/${res.body.id}`).set(auth);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 60_000, 'the files restore');
    return { restore, target };
  }

  const cases = [
    { what: '"../" climbing out', entries: [{ name: 'fine.txt' }, { name: `../../${marker}` }], sentence: /climbs out of the target directory with "\.\."/ },
    { what: 'an absolute path', entries: [{ name: `/tmp/${marker}` }], sentence: /is an absolute path/ },
    { what: 'a link to /tmp, then a file through it', entries: [{ name: 'out', type: 'symlink' as const, linkname: '/tmp' }, { name: `out/${marker}` }], sentence: /is a symbolic link to "\/tmp", outside the target directory/ },
  ];

  it.each(cases)('an archive with $what: the restore fails with a sentence and writes nothing outside the target', async ({ entries, sentence }) => {
    await plantArchive(entries);
    const { restore, target } = await restoreFiles();
    expect(restore.status).toBe('failed');
    expect(restore.errorMessage).toMatch(sentence);
    expect(existsSync(join('/tmp', marker))).toBe(false);
    expect(existsSync(join(dirname(target), marker))).toBe(false);
    expect((await readdir(dirname(target))).filter((n) => n !== 'target')).toEqual([]);
    figures.archiveEntries += 1;
  });
});
