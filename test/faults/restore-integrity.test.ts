// The bytes a restore writes are the bytes it checked. An artifact is read once; its stored object
// is swapped (overwritten in place with a same-length, well-formed but tampered copy) at the moment
// the first bytes reached pg_restore, tar or the bucket. The restore must refuse it, and leave the
// target database, directory or bucket prefix exactly as it was. Bucket restores take a safety
// backup of the prefix they overwrite; bucket backups are verified for real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import request from 'supertest';
import { createLogger, onFailpoint, parsePostgresUrl, runDatabaseRestore, runFilesRestore, runParallelRestore, type ArtifactSource } from '@coffre/shared';
import { createS3Storage } from '@coffre/shared/s3';
import { adminQuery, createDatabase, withClient } from '../support/pg.js';
import { dataChecksums } from '../support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { databaseUrl, uniqueName } from '../support/env.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../support/s3.js';

let stack: TestStack;
let s3: S3Server;
let auth: { Authorization: string };
let filesRoot: string;
let backup: { id: string; name: string; database: string; files: string };
let target: { name: string; url: string };
let targetBefore: Record<string, string>;
const figures = { swaps: 0, refusals: 0, opens: {} as Record<string, number> };

/** 150,000 rows of "original-NNNNNN": a dump of several MB, far past the held-back tail. */
const ROWS = 150_000;

beforeAll(async () => {
  const source = await createDatabase('coffre_swap_src');
  await withClient(source.url, (c) => c.query(`CREATE TABLE words AS SELECT g AS id, 'original-' || lpad(g::text, 6, '0') AS word FROM generate_series(1, ${ROWS}) g`));
  filesRoot = await mkdtemp(join(tmpdir(), 'coffre-swap-files-'));
  const uploads = join(filesRoot, 'uploads');
  await mkdir(uploads);
  // 8 files of 1 MB each: much of the archive is still to be read when the first bytes reach tar.
  for (let i = 0; i < 8; i++) await writeFile(join(uploads, `file-${i}.txt`), `original file ${i}\n`.repeat(62_500));
  s3 = await startS3Server();
  await s3.createBucket('media');
  stack = await createTestStack({ sourceUrl: source.url, env: { FILES_ROOTS: filesRoot } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers({ concurrency: 2 });

  // Uncompressed and unencrypted, so that a same-length edit of the stored bytes is still a valid dump.
  const sourceId = (await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'default' } })).id;
  const configuration = await request(stack.app)
    .post('/api/configurations')
    .set(auth)
    .send({ name: 'plain', sourceId, compression: 'none', encrypt: false, includePaths: [uploads] });
  expect(configuration.status).toBe(201);
  const run = await request(stack.app).post(`/api/configurations/${configuration.body.id}/run`).set(auth).send();
  const done = await finished(`/api/backups/${run.body.id}`);
  expect(done.status).toBe('completed');
  const keyOf = (kind: string) => (done.artifacts as { kind: string; key: string }[]).find((a) => a.kind === kind)!.key;
  backup = { id: done.id, name: done.name, database: join(stack.config.BACKUP_DIR, keyOf('database')), files: join(stack.config.BACKUP_DIR, keyOf('files')) };

  target = await createDatabase('coffre_swap_target');
  await withClient(target.url, (c) => c.query("CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched')"));
  targetBefore = await dataChecksums(target.url);
});

afterAll(async () => {
  console.info(`restore integrity: ${JSON.stringify(figures)}`);
  await stack?.close();
  await s3?.stop();
  await rm(filesRoot, { recursive: true, force: true });
});

async function finished(path: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, path);
}

/** The same bytes with every `from` replaced by `to` (same length): well-formed, but not what was backed up. */
function tampered(bytes: Buffer, from: string, to: string): Buffer {
  expect(to.length).toBe(from.length);
  const copy = Buffer.from(bytes);
  const needle = Buffer.from(from);
  let replaced = 0;
  for (let at = copy.indexOf(needle); at >= 0; at = copy.indexOf(needle, at + needle.length)) {
    copy.write(to, at);
    replaced += 1;
  }
  expect(replaced).toBeGreaterThan(0);
  return copy;
}

/** At the first bytes of the restore's read, overwrites the stored object in place. */
function swapAtFirstBytes(path: string, replacement: Buffer): { swapped: () => number; stop: () => void } {
  let swapped = 0;
  const stop = onFailpoint('restore.first-bytes', async () => {
    const handle = await open(path, 'r+');
    try {
      await handle.write(replacement, 0, replacement.length, 0);
    } finally {
      await handle.close();
    }
    swapped += 1;
    figures.swaps += 1;
  });
  return { swapped: () => swapped, stop };
}

async function databaseExists(name: string): Promise<boolean> {
  return ((await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

describe('a database artifact swapped after its first bytes reached pg_restore', () => {
  let original: Buffer;
  beforeAll(async () => {
    original = await readFile(backup.database);
  });
  afterAll(async () => {
    await writeFile(backup.database, original);
  });

  it('is refused over an existing database, which keeps its content', async () => {
    const swap = swapAtFirstBytes(backup.database, tampered(original, 'original-', 'tampered-'));
    try {
      const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target.name, confirm: backup.name });
      expect(started.status).toBe(202);
      const restore = await finished(`/api/restores/${started.body.id}`);
      expect(swap.swapped()).toBe(1);
      expect(restore.status).toBe('failed');
      expect(restore.errorMessage).toMatch(/^The artifact was altered: its SHA-256 is [0-9a-f]{64}, the backup recorded [0-9a-f]{64}\. Nothing was restored\.$/);
      expect(await dataChecksums(target.url)).toEqual(targetBefore);
      figures.refusals += 1;
    } finally {
      swap.stop();
      await writeFile(backup.database, original);
    }
  });

  it('is refused into a new database, which is not left behind', async () => {
    const fresh = uniqueName('coffre_swap_new').toLowerCase();
    const swap = swapAtFirstBytes(backup.database, tampered(original, 'original-', 'tampered-'));
    try {
      const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: fresh, confirm: backup.name });
      const restore = await finished(`/api/restores/${started.body.id}`);
      expect(swap.swapped()).toBe(1);
      expect({ status: restore.status, altered: /altered/.test(restore.errorMessage) }).toEqual({ status: 'failed', altered: true });
      expect(await databaseExists(fresh)).toBe(false);
      figures.refusals += 1;
    } finally {
      swap.stop();
      await writeFile(backup.database, original);
    }
  });

  it('put back, the artifact restores every original row (the refusals were about the swap)', async () => {
    const fresh = uniqueName('coffre_swap_ok').toLowerCase();
    const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: fresh, confirm: backup.name });
    const restore = await finished(`/api/restores/${started.body.id}`);
    expect({ status: restore.status, error: restore.errorMessage }).toEqual({ status: 'completed', error: null });
    const { rows } = await adminQuery<{ n: string; tampered: string }>(
      "SELECT count(*) AS n, count(*) FILTER (WHERE word NOT LIKE 'original-%') AS tampered FROM words",
      [],
      databaseUrl(fresh),
    );
    expect(rows[0]).toEqual({ n: String(ROWS), tampered: '0' });
    await adminQuery(`DROP DATABASE "${fresh}" WITH (FORCE)`);
  });
});

describe('one read of the stored object', () => {
  /** The stored artifact, counting how often it is opened. */
  function counted(path: string, recorded: { sizeBytes: number; checksumSha256: string }, opens: { n: number }): ArtifactSource {
    return {
      open: async () => {
        opens.n += 1;
        return Readable.from([await readFile(path)]);
      },
      ...recorded,
      encrypted: false,
    };
  }

  async function recorded(kind: string) {
    const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind } });
    return { sizeBytes: Number(artifact.sizeBytes), checksumSha256: artifact.checksumSha256 };
  }

  it('a database restore opens the artifact once, and what it read is what it checked', async () => {
    const opens = { n: 0 };
    const fresh = uniqueName('coffre_one_read').toLowerCase();
    await runDatabaseRestore({
      artifact: counted(backup.database, await recorded('database'), opens),
      compression: 'none',
      identities: [],
      target: { ...parsePostgresUrl(stack.config.SOURCE_DATABASE_URL!), database: fresh },
      createDatabase: true,
      type: 'full',
      tmpDir: join(stack.dir, 'tmp'),
      logger: createLogger({ level: 'silent' }),
    });
    figures.opens.database = opens.n;
    expect(opens.n).toBe(1);
    const { rows } = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM words', [], databaseUrl(fresh));
    expect(Number(rows[0]!.n)).toBe(ROWS);
    await adminQuery(`DROP DATABASE "${fresh}" WITH (FORCE)`);
  });

  it('a parallel restore (pg_restore --jobs from a private file) opens the artifact once, and leaves no file behind', async () => {
    const opens = { n: 0 };
    const fresh = uniqueName('coffre_one_read_j').toLowerCase();
    const tmpDir = join(stack.dir, 'tmp-parallel');
    await mkdir(tmpDir, { recursive: true });
    await adminQuery(`CREATE DATABASE "${fresh}"`);
    // What the restore logs: the dump's data offsets, found as it was written, are in it.
    let logged = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logged += chunk.toString();
        callback();
      },
    });
    try {
      await runParallelRestore({
        artifact: counted(backup.database, await recorded('database'), opens),
        compression: 'none',
        identities: [],
        target: { ...parsePostgresUrl(stack.config.SOURCE_DATABASE_URL!), database: fresh },
        jobs: 2,
        tmpDir,
        logger: createLogger({ level: 'info', destination }),
      });
      figures.opens.parallel = opens.n;
      expect(opens.n).toBe(1);
      expect(logged).toMatch(/"entries":[1-9]\d*,"ms":\d+,"msg":"wrote where each table's data starts/);
      expect(await readdir(tmpDir)).toEqual([]);
      const { rows } = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM words', [], databaseUrl(fresh));
      expect(Number(rows[0]!.n)).toBe(ROWS);
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${fresh}" WITH (FORCE)`);
    }
  });

  it('a files restore opens the artifact once', async () => {
    const opens = { n: 0 };
    const into = join(filesRoot, uniqueName('one-read'));
    const result = await runFilesRestore({ artifact: counted(backup.files, await recorded('files'), opens), compression: 'none', identities: [], targetDir: into });
    figures.opens.files = opens.n;
    expect(opens.n).toBe(1);
    expect(result.filesCount).toBe(8);
    expect((await readdir(join(into, 'uploads'))).length).toBe(8);
  });
});

describe('a files artifact swapped after its first bytes reached tar', () => {
  it('is refused, and the new target directory is left empty: nothing staged is published', async () => {
    const original = await readFile(backup.files);
    const swap = swapAtFirstBytes(backup.files, tampered(original, 'original file', 'tampered file'));
    const into = join(filesRoot, uniqueName('swapped'));
    try {
      const started = await request(stack.app)
        .post(`/api/backups/${backup.id}/restore`)
        .set(auth)
        .send({ artifact: 'files', targetPath: into, confirm: backup.name });
      expect(started.status).toBe(202);
      const restore = await finished(`/api/restores/${started.body.id}`);
      expect(swap.swapped()).toBe(1);
      expect(restore.status).toBe('failed');
      expect(restore.errorMessage).toMatch(/^The artifact was altered: its SHA-256 is/);
      expect(await readdir(into)).toEqual([]);
      figures.refusals += 1;
    } finally {
      swap.stop();
      await writeFile(backup.files, original);
    }
  });

  it('put back, it restores all 8 files into a new directory, described as a directory', async () => {
    const into = join(filesRoot, uniqueName('restored'));
    const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ artifact: 'files', targetPath: into, confirm: backup.name });
    const restore = await finished(`/api/restores/${started.body.id}`);
    expect({ status: restore.status, error: restore.errorMessage, target: restore.target }).toEqual({ status: 'completed', error: null, target: `directory ${into}` });
    const names = await readdir(join(into, 'uploads'));
    expect(names.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `file-${i}.txt`));
    expect(await readFile(join(into, 'uploads', 'file-7.txt'), 'utf8')).toBe('original file 7\n'.repeat(62_500));
  });

  it('a directory that is not empty is refused with a sentence, and left as it was', async () => {
    const into = join(filesRoot, uniqueName('occupied'));
    await mkdir(into);
    await writeFile(join(into, 'keep.txt'), 'mine\n');
    const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ artifact: 'files', targetPath: into, confirm: backup.name });
    const restore = await finished(`/api/restores/${started.body.id}`);
    expect(restore.status).toBe('failed');
    expect(restore.errorMessage).toMatch(/is not empty \(it holds 1 entry, such as "keep\.txt"\): a files restore writes only into a new or empty directory/);
    expect(await readdir(into)).toEqual(['keep.txt']);
  });
});

describe('bucket backups', () => {
  let sourceId: string;
  let bucketBackup: { id: string; name: string; path: string };
  const objects = Array.from({ length: 12 }, (_, i) => ({ key: `photos/${i % 3}/img-${i}.txt`, body: `original photo ${i}\n`.repeat(30_000 + i) }));

  async function bucketContents(): Promise<Record<string, string>> {
    const media = createS3Storage(s3.options('media'));
    const contents: Record<string, string> = {};
    for await (const object of media.list()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await media.get(object.key)) chunks.push(chunk as Buffer);
      contents[object.key] = Buffer.concat(chunks).toString('utf8');
    }
    return contents;
  }

  beforeAll(async () => {
    const media = createS3Storage(s3.options('media'));
    for (const object of objects) await media.put(object.key, Readable.from([Buffer.from(object.body)]));
    const created = await request(stack.app)
      .post('/api/sources')
      .set(auth)
      .send({ name: 'media', kind: 's3', endpoint: s3.endpoint, bucket: 'media', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    expect(created.status).toBe(201);
    sourceId = created.body.id;
    const configuration = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'media-plain', sourceId, compression: 'none', encrypt: false });
    const run = await request(stack.app).post(`/api/configurations/${configuration.body.id}/run`).set(auth).send();
    const done = await finished(`/api/backups/${run.body.id}`);
    expect(done).toMatchObject({ status: 'completed', objectsCount: 12 });
    const key = (done.artifacts as { kind: string; key: string }[]).find((a) => a.kind === 'bucket')!.key;
    bucketBackup = { id: done.id, name: done.name, path: join(stack.config.BACKUP_DIR, key) };
  });

  it('a verification restores into a scratch folder, compares every key, size and SHA-256, and removes the folder', async () => {
    const started = await request(stack.app).post(`/api/backups/${bucketBackup.id}/verify`).set(auth).send();
    expect(started.status).toBe(202);
    const verification = await finished(`/api/verifications/${started.body.id}`);
    expect({ status: verification.status, result: verification.result, error: verification.errorMessage }).toEqual({ status: 'completed', result: 'passed', error: null });
    expect({ expected: verification.recordsExpected, found: verification.recordsFound, differences: verification.differences }).toEqual({ expected: 12, found: 12, differences: [] });
    expect(Object.keys(await bucketContents()).sort()).toEqual(objects.map((o) => o.key).sort());
  });

  it('a verification of a damaged bucket artifact ends failed with a sentence, never left running', async () => {
    const original = await readFile(bucketBackup.path);
    await writeFile(bucketBackup.path, tampered(original, 'original photo', 'tampered photo'));
    try {
      const started = await request(stack.app).post(`/api/backups/${bucketBackup.id}/verify`).set(auth).send();
      const verification = await finished(`/api/verifications/${started.body.id}`);
      expect({ status: verification.status, result: verification.result }).toEqual({ status: 'failed', result: 'failed' });
      expect(verification.errorMessage).toMatch(/^The artifact was altered: its SHA-256 is/);
      expect(Object.keys(await bucketContents()).some((key) => key.includes('.coffre-'))).toBe(false);
    } finally {
      await writeFile(bucketBackup.path, original);
    }
  });

  it('a restore over the prefix takes a safety backup of it first, and says where it restored', async () => {
    const res = await request(stack.app).post(`/api/backups/${bucketBackup.id}/restore`).set(auth).send({ confirm: bucketBackup.name });
    expect(res.status).toBe(202);
    const restore = await finished(`/api/restores/${res.body.id}`);
    expect({ status: restore.status, error: restore.errorMessage, target: restore.target }).toEqual({ status: 'completed', error: null, target: 'bucket source "media"' });
    expect(restore.safetyBackupId).toEqual(expect.any(String));
    const safety = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: restore.safetyBackupId } });
    expect({ status: safety.status, trigger: safety.trigger, objects: safety.objectsCount }).toEqual({ status: 'completed', trigger: 'pre-restore', objects: 12 });
    expect(await bucketContents()).toEqual(Object.fromEntries(objects.map((o) => [o.key, o.body])));
  });

  it('swapped after its first bytes were read, the archive is refused and the prefix keeps every object as it was', async () => {
    const media = createS3Storage(s3.options('media'));
    await media.put('photos/0/img-0.txt', Readable.from([Buffer.from('changed since the backup\n')]));
    const before = await bucketContents();
    const original = await readFile(bucketBackup.path);
    const swap = swapAtFirstBytes(bucketBackup.path, tampered(original, 'original photo', 'tampered photo'));
    try {
      const res = await request(stack.app).post(`/api/backups/${bucketBackup.id}/restore`).set(auth).send({ confirm: bucketBackup.name });
      const restore = await finished(`/api/restores/${res.body.id}`);
      expect(swap.swapped()).toBe(1);
      expect(restore.status).toBe('failed');
      expect(restore.errorMessage).toMatch(/^The artifact was altered: its SHA-256 is/);
      expect(await bucketContents()).toEqual(before);
      figures.refusals += 1;
    } finally {
      swap.stop();
      await writeFile(bucketBackup.path, original);
    }
  });
});
