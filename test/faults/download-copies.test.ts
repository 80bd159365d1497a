// A download is served from the first copy that can be read, as restores are: a local copy that is
// missing or damaged, or an S3 endpoint that does not answer, only moves the download to the next
// copy. The caller may name the destination to read from. When no copy can be served the answer is
// a sentence saying what happened to each one (404 when they are gone, 503 when one may come back),
// never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../support/s3.js';

let stack: TestStack;
let s3: S3Server;
let auth: { Authorization: string };
let backup: { id: string; name: string; checksumSha256: string; sizeBytes: number };
let localFile: string;
let original: Buffer;
const statuses: number[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('offsite');
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
  const offsite = await request(stack.app)
    .post('/api/destinations')
    .set(auth)
    .send({ name: 'offsite', kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: 'offsite', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
  expect(offsite.status).toBe(201);
  const local = await stack.ctx.db.destination.findUniqueOrThrow({ where: { name: 'local' } });
  const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  const configuration = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'two-copies', sourceId, destinationIds: [local.id, offsite.body.id] });
  const run = await request(stack.app).post(`/api/configurations/${configuration.body.id}/run`).set(auth).send();
  backup = await eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${run.body.id}`).set(auth);
    return res.body.status === 'completed' ? res.body : undefined;
  }, 90_000, 'the backup in two places');
  const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'database', destinationId: local.id } });
  localFile = join(stack.config.BACKUP_DIR, artifact.key);
  original = await readFile(localFile);
});

afterAll(async () => {
  console.info(`download copies: statuses ${JSON.stringify(statuses)}`);
  await stack?.close();
  await s3?.stop();
});

async function download(query: Record<string, string> = {}) {
  const res = await request(stack.app)
    .get(`/api/backups/${backup.id}/download`)
    .query(query)
    .set(auth)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  statuses.push(res.status);
  const body = res.body as Buffer;
  return { status: res.status, headers: res.headers, body, error: res.status >= 400 ? (JSON.parse(body.toString()) as { error: { message: string } }).error : null };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('with S3 answering', () => {
  it('a damaged local copy is passed over: the S3 copy is served, whole', async () => {
    await truncate(localFile, 10);
    const res = await download();
    expect(res.status).toBe(200);
    expect(res.headers['x-coffre-destination']).toBe('offsite');
    expect(sha256(res.body)).toBe(backup.checksumSha256);
  });

  it('a missing local copy is passed over: the S3 copy is served, whole', async () => {
    await rm(localFile);
    const res = await download();
    expect(res.status).toBe(200);
    expect(res.headers['x-coffre-destination']).toBe('offsite');
    expect(sha256(res.body)).toBe(backup.checksumSha256);
    expect(Number(res.headers['content-length'])).toBe(backup.sizeBytes);
  });

  it('a byte range comes from the copy that can be read', async () => {
    const res = await request(stack.app).get(`/api/backups/${backup.id}/download`).set(auth).set('Range', 'bytes=0-9');
    expect(res.status).toBe(206);
    expect(res.headers['x-coffre-destination']).toBe('offsite');
  });

  it('the caller may name the destination; the missing copy is a 404 sentence, an unknown destination names those that hold it', async () => {
    expect((await download({ destination: 'offsite' })).status).toBe(200);
    const local = await download({ destination: 'local' });
    expect(local.status).toBe(404);
    expect(local.error!.message).toMatch(/^No destination holds a usable copy of the database artifact of backup ".+" \(local: missing\)/);
    const unknown = await download({ destination: 'elsewhere' });
    expect(unknown.status).toBe(404);
    expect(unknown.error!.message).toMatch(/in destination "elsewhere" \(its copies are in local, offsite\) was not found\.$/);
  });
});

describe('with the S3 endpoint down', () => {
  beforeAll(async () => {
    await writeFile(localFile, original);
    await s3.stop();
  });

  it('the local copy is served', async () => {
    const res = await download();
    expect(res.status).toBe(200);
    expect(res.headers['x-coffre-destination']).toBe('local');
    expect(sha256(res.body)).toBe(backup.checksumSha256);
  });

  it('asking for the S3 copy answers 503 with a sentence, not a 500', async () => {
    const res = await download({ destination: 'offsite' });
    expect(res.status).toBe(503);
    expect(res.error!.message).toMatch(/^No copy of the database artifact of backup ".+" can be read right now \(offsite: unreadable: The S3 endpoint of .+ could not be reached/);
  });

  it('with the local copy gone too: 503 saying what happened to each copy', async () => {
    await rm(localFile);
    const res = await download();
    expect(res.status).toBe(503);
    expect(res.error!.message).toMatch(/\(local: missing; offsite: unreadable: The S3 endpoint .+\)\. Try again once the destination is reachable\.$/);
    expect(statuses).not.toContain(500);
  });
});
