// Artifacts damaged in storage, met through the API: a flipped byte, a truncation, appended bytes,
// two chunks swapped, and a key that is not the one it was encrypted to. A verification and a restore
// (into an existing database, and into a new one) each refuse the artifact with its own sentence, and
// nothing is ever committed: the existing target keeps its content, the new one is not left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { generateIdentity } from '@coffre/shared';
import { adminQuery, createDatabase, forgetDatabase, withClient } from '../support/pg.js';
import { dataChecksums } from '../support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { databaseUrl, uniqueName } from '../support/env.js';

const CHUNK = 64 * 1024 + 16;

let stack: TestStack;
let auth: { Authorization: string };
let keyDir: string;
let identityFile: string;
let identity: string;
let backup: { id: string; name: string; path: string };
let original: Buffer;
let target: { name: string; url: string };
let targetBefore: Record<string, string>;
const figures = { kinds: 0, refusals: 0 };

beforeAll(async () => {
  const source = await createDatabase('coffre_corrupt_src');
  // Bytes zstd cannot shrink: the encrypted artifact spans many 64 KiB age chunks.
  await withClient(source.url, (c) => c.query("CREATE TABLE blobs AS SELECT g AS id, decode(md5(g::text) || md5((g * 3)::text), 'hex') AS bytes FROM generate_series(1, 40000) g"));
  const keys = generateIdentity();
  identity = keys.identity;
  keyDir = await mkdtemp(join(tmpdir(), 'coffre-corrupt-'));
  identityFile = join(keyDir, 'key.txt');
  await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
  stack = await createTestStack({ sourceUrl: source.url, env: { AGE_RECIPIENTS: keys.recipient, AGE_IDENTITY_FILE: identityFile } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers({ concurrency: 2 });

  const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'to-be-damaged' });
  const done = await eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${created.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, 'the backup');
  expect(done.status).toBe('completed');
  expect(done.encrypted).toBe(true);
  const key = (done.artifacts as { kind: string; key: string }[]).find((a) => a.kind === 'database')!.key;
  backup = { id: done.id, name: done.name, path: join(stack.config.BACKUP_DIR, key) };
  original = await readFile(backup.path);
  expect(original.length).toBeGreaterThan(8 * CHUNK);

  target = await createDatabase('coffre_corrupt_target');
  await withClient(target.url, (c) => c.query("CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched')"));
  targetBefore = await dataChecksums(target.url);
});

afterAll(async () => {
  console.info(`corrupted artifacts: ${JSON.stringify(figures)}`);
  await stack?.close();
  await rm(keyDir, { recursive: true, force: true });
});

/** Where the age payload starts: after the header line "--- <mac>" and the 16-byte nonce. */
const payloadStart = (bytes: Buffer) => bytes.indexOf('\n', bytes.indexOf('\n--- ') + 1) + 1 + 16;

const damages: { kind: string; sentence: RegExp; damage(bytes: Buffer): Buffer | 'wrong-key' }[] = [
  {
    kind: 'one flipped byte',
    sentence: /^Encrypted chunk 3 fails authentication: the artifact's bytes were altered\. Nothing was restored\.$/,
    damage: (b) => {
      const copy = Buffer.from(b);
      copy[payloadStart(b) + CHUNK * 3 + 77]! ^= 0x01;
      return copy;
    },
  },
  {
    kind: 'truncated',
    sentence: /^The artifact is truncated: \d+ of the \d+ recorded bytes are stored \(5000 missing\)\. Nothing was restored\.$/,
    damage: (b) => b.subarray(0, b.length - 5000),
  },
  {
    kind: 'bytes appended',
    sentence: /^The artifact is 12 bytes longer than the backup recorded \(\d+ instead of \d+\): bytes were appended to it\. Nothing was restored\.$/,
    damage: (b) => Buffer.concat([b, Buffer.from('12 more bytes').subarray(0, 12)]),
  },
  {
    kind: 'two chunks swapped',
    sentence: /^Encrypted chunk 2 is out of sequence \(it is chunk 3\): the chunks were reordered/,
    damage: (b) => {
      const start = payloadStart(b);
      const c2 = b.subarray(start + CHUNK * 2, start + CHUNK * 3);
      const c3 = b.subarray(start + CHUNK * 3, start + CHUNK * 4);
      return Buffer.concat([b.subarray(0, start + CHUNK * 2), c3, c2, b.subarray(start + CHUNK * 4)]);
    },
  },
  {
    kind: 'a key it was not encrypted to',
    sentence: /^None of the configured age identities can decrypt this artifact: it was encrypted to other recipients \(check AGE_IDENTITY_FILE\)\. Nothing was restored\.$/,
    damage: () => 'wrong-key',
  },
];

async function finished(path: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, path);
}

async function databaseExists(name: string): Promise<boolean> {
  return ((await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

describe.each(damages)('an artifact with $kind', ({ sentence, damage }) => {
  beforeAll(async () => {
    const damaged = damage(original);
    if (damaged === 'wrong-key') await writeFile(identityFile, `${generateIdentity().identity}\n`);
    else await writeFile(backup.path, damaged);
    figures.kinds += 1;
  });

  afterAll(async () => {
    await writeFile(backup.path, original);
    await writeFile(identityFile, `${identity}\n`);
  });

  it('is refused by a verification, which creates no scratch database', async () => {
    const started = await request(stack.app).post(`/api/backups/${backup.id}/verify`).set(auth).send();
    expect(started.status).toBe(202);
    const verification = await finished(`/api/verifications/${started.body.id}`);
    expect({ status: verification.status, result: verification.result }).toEqual({ status: 'failed', result: 'failed' });
    expect(verification.errorMessage).toMatch(sentence);
    expect(await databaseExists(verification.scratchDatabase)).toBe(false);
    figures.refusals += 1;
  });

  it('is refused by a restore into an existing database, which keeps its content', async () => {
    const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target.name, confirm: backup.name });
    expect(started.status).toBe(202);
    const restore = await finished(`/api/restores/${started.body.id}`);
    expect(restore.status).toBe('failed');
    expect(restore.errorMessage).toMatch(sentence);
    expect(await dataChecksums(target.url)).toEqual(targetBefore);
    figures.refusals += 1;
  });

  it('is refused by a restore into a new database, which is not left behind', async () => {
    const fresh = uniqueName('coffre_corrupt_new').toLowerCase();
    const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: fresh, confirm: backup.name });
    expect(started.status).toBe(202);
    expect(started.body.createDatabase).toBe(true);
    const restore = await finished(`/api/restores/${started.body.id}`);
    expect(restore.status).toBe('failed');
    expect(restore.errorMessage).toMatch(sentence);
    expect(await databaseExists(fresh)).toBe(false);
    figures.refusals += 1;
  });
});

it('the undamaged artifact, put back, verifies and restores (the refusals were about the damage)', async () => {
  const started = await request(stack.app).post(`/api/backups/${backup.id}/verify`).set(auth).send();
  const verification = await finished(`/api/verifications/${started.body.id}`);
  expect({ status: verification.status, result: verification.result, error: verification.errorMessage }).toEqual({ status: 'completed', result: 'passed', error: null });
  const fresh = uniqueName('coffre_corrupt_ok').toLowerCase();
  forgetDatabase(fresh);
  const restoring = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: fresh, confirm: backup.name });
  const restore = await finished(`/api/restores/${restoring.body.id}`);
  expect({ status: restore.status, error: restore.errorMessage }).toEqual({ status: 'completed', error: null });
  const { rows } = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM blobs', [], databaseUrl(fresh));
  expect(Number(rows[0]!.n)).toBe(40000);
});
