// Bucket backups against s3rver: objects with their content headers and user metadata archived,
// then put back into another bucket, under another prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseIdentity, type ArtifactSource, type CompressionKind } from '@coffre/shared';
import { createS3Bucket, runBucketBackup, runBucketRestore, uploadObject, type ObjectHeaders, type S3Bucket } from '@coffre/shared/s3';
import tar from 'tar-stream';
import { startS3Server, type S3Server } from '../../test/support/s3.js';
import { uniqueName } from '../../test/support/env.js';
import { createWorkspace, type Workspace } from '../../test/support/engine.js';

let s3: S3Server;
let ws: Workspace;

beforeAll(async () => {
  s3 = await startS3Server();
  ws = await createWorkspace();
});

afterAll(async () => {
  await s3?.stop();
  await ws?.cleanup();
});

async function newBucket(): Promise<string> {
  const name = uniqueName('bucket').replace(/_/g, '-');
  await s3.createBucket(name);
  return name;
}

interface Seeded {
  key: string;
  content: Buffer;
  headers: ObjectHeaders;
}

/** ~30 objects: nested keys, headers, user metadata, an empty one, a multipart-sized one. */
function sampleObjects(): Seeded[] {
  const objects: Seeded[] = [];
  for (let i = 0; i < 24; i++) {
    const folder = ['photos/2025', 'photos/2026/summer', 'docs', 'docs/a/b/c/d'][i % 4];
    objects.push({
      key: `${folder}/item-${i}.${i % 2 ? 'jpg' : 'pdf'}`,
      content: randomBytes(1000 + i * 997),
      headers: {
        contentType: i % 2 ? 'image/jpeg' : 'application/pdf',
        cacheControl: i % 3 === 0 ? 'max-age=3600' : undefined,
        contentDisposition: i % 5 === 0 ? `attachment; filename="item-${i}"` : undefined,
        metadata: { owner: `user-${i}`, 'uploaded-by': 'coffre-test' },
      },
    });
  }
  objects.push({ key: 'root.txt', content: Buffer.from('at the top\n'), headers: { contentType: 'text/plain; charset=utf-8' } });
  objects.push({ key: 'empty.bin', content: Buffer.alloc(0), headers: {} });
  objects.push({ key: 'spaces and ünïcode/fichier été.txt', content: Buffer.from('accents\n'), headers: { contentLanguage: 'fr' } });
  objects.push({ key: 'styles/site.css.gz', content: randomBytes(2000), headers: { contentType: 'text/css', contentEncoding: 'gzip' } });
  objects.push({ key: 'videos/large.mp4', content: randomBytes(9 * 1024 * 1024 + 123), headers: { contentType: 'video/mp4', metadata: { duration: '42' } } });
  // A folder marker, as consoles create them: a key, not a path, stored under a made-up tar name.
  objects.push({ key: 'folder-marker/', content: Buffer.alloc(0), headers: {} });
  return objects;
}

async function seed(bucket: S3Bucket, prefix: string, objects: Seeded[]): Promise<void> {
  for (const object of objects) {
    await uploadObject(bucket, `${prefix}${object.key}`, Readable.from([object.content]), { headers: object.headers });
  }
}

/** Every object under a prefix as S3 reports it back: content hash and the headers coffre carries. */
async function describeObjects(bucket: S3Bucket, prefix: string) {
  const described: Record<string, unknown> = {};
  let token: string | undefined;
  do {
    const page = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      const object = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key }));
      const content = Buffer.from(await object.Body!.transformToByteArray());
      described[Key!.slice(prefix.length)] = {
        sha256: createHash('sha256').update(content).digest('hex'),
        size: content.length,
        contentType: object.ContentType,
        cacheControl: object.CacheControl,
        contentDisposition: object.ContentDisposition,
        contentEncoding: object.ContentEncoding,
        contentLanguage: object.ContentLanguage,
        metadata: object.Metadata,
      };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return described;
}

function artifactOf(taken: { key: string; sizeBytes: number; checksumSha256: string }, encrypted: boolean): ArtifactSource {
  return { open: () => ws.storage.get(taken.key), sizeBytes: taken.sizeBytes, checksumSha256: taken.checksumSha256, encrypted };
}

describe('bucket round trip', () => {
  let sourceBucket: string;
  let objects: Seeded[];
  let original: Record<string, unknown>;

  beforeAll(async () => {
    sourceBucket = await newBucket();
    objects = sampleObjects();
    const bucket = createS3Bucket(s3.options(sourceBucket));
    await seed(bucket, 'site/', objects);
    // Outside the backed-up prefix: must not be archived.
    await seed(bucket, 'other/', [{ key: 'not-mine.txt', content: Buffer.from('x'), headers: {} }]);
    await seed(bucket, 'site-old/', [{ key: 'not-mine-either.txt', content: Buffer.from('y'), headers: {} }]);
    original = await describeObjects(bucket, 'site/');
    expect(Object.keys(original)).toHaveLength(objects.length);
  });

  it.each([
    ['zstd', true],
    ['gzip', false],
    ['none', false],
  ] as [CompressionKind, boolean][])('%s (encrypted: %s): every object and its metadata reach another bucket under another prefix', async (compression, encrypt) => {
    const key = `bucket-${compression}-${randomBytes(3).toString('hex')}.tar`;
    const taken = await runBucketBackup({
      source: s3.options(sourceBucket, 'site'),
      compression,
      recipients: encrypt ? [ws.recipient] : [],
      targets: [{ driver: ws.storage, key }],
      logger: ws.logger,
    });
    expect(taken.objectsCount).toBe(objects.length);
    expect(taken.objectsBytes).toBe(objects.reduce((sum, o) => sum + o.content.length, 0));
    if (encrypt) expect((await readFile(join(ws.storage.description, key))).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const targetBucket = await newBucket();
    const restored = await runBucketRestore({
      artifact: artifactOf({ ...taken, key }, encrypt),
      compression,
      identities: [parseIdentity(ws.identity)],
      target: s3.options(targetBucket, 'restored/copy'),
      logger: ws.logger,
    });
    expect(restored).toEqual({ objectsCount: taken.objectsCount, objectsBytes: taken.objectsBytes });

    const target = createS3Bucket(s3.options(targetBucket));
    expect(await describeObjects(target, 'restored/copy/')).toEqual(original);
    const head = await target.client.send(new HeadObjectCommand({ Bucket: targetBucket, Key: 'restored/copy/photos/2025/item-0.pdf' }));
    expect(head.ContentType).toBe('application/pdf');
    expect(head.CacheControl).toBe('max-age=3600');
    expect(head.Metadata).toEqual({ owner: 'user-0', 'uploaded-by': 'coffre-test' });
    // Only the restored prefix was written.
    const all = await target.client.send(new ListObjectsV2Command({ Bucket: targetBucket }));
    expect(all.Contents?.every((o) => o.Key!.startsWith('restored/copy/'))).toBe(true);
  });

  it('the archive reads by hand: metadata beside each object, a summary last', async () => {
    const key = 'bucket-plain.tar';
    await runBucketBackup({ source: s3.options(sourceBucket, 'site/'), compression: 'none', recipients: [], targets: [{ driver: ws.storage, key }] });
    const names: string[] = [];
    const extract = tar.extract();
    const reading = (async () => {
      for await (const entry of extract) {
        names.push(entry.header.name);
        entry.resume();
      }
    })();
    extract.end(await readFile(join(ws.storage.description, key)));
    await reading;
    expect(names.indexOf('metadata/photos/2025/item-0.pdf.json')).toBe(names.indexOf('objects/photos/2025/item-0.pdf') - 1);
    expect(names).toContain('objects/spaces and ünïcode/fichier été.txt');
    expect(names.some((n) => /^objects\/\.coffre-key-\d+$/.test(n))).toBe(true);
    expect(names.at(-1)).toBe('coffre-bucket.json');
    expect(names).toHaveLength(objects.length * 2 + 1);
  });

  it('a key that climbs out of the target prefix is refused', async () => {
    const pack = tar.pack();
    const record = { key: '../../escaped.txt', entry: 'objects/.coffre-key-0', size: 2 };
    pack.entry({ name: 'metadata/.coffre-key-0.json' }, JSON.stringify(record));
    pack.entry({ name: 'objects/.coffre-key-0' }, 'x\n');
    pack.entry({ name: 'coffre-bucket.json' }, JSON.stringify({ format: 'coffre-bucket/1', bucket: 'b', prefix: '', objectsCount: 1, objectsBytes: 2, takenAt: new Date().toISOString() }));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
    const archive = Buffer.concat(chunks);
    const targetBucket = await newBucket();
    const artifact: ArtifactSource = {
      open: async () => Readable.from([archive]),
      sizeBytes: archive.length,
      checksumSha256: createHash('sha256').update(archive).digest('hex'),
      encrypted: false,
    };
    await expect(runBucketRestore({ artifact, compression: 'none', identities: [], target: s3.options(targetBucket, 'inside') })).rejects.toThrow(
      /^The archived object "..\/..\/escaped.txt" has a "." or ".." segment in its key/,
    );
    const target = createS3Bucket(s3.options(targetBucket));
    expect((await target.client.send(new ListObjectsV2Command({ Bucket: targetBucket }))).KeyCount ?? 0).toBe(0);
  });

  it('a missing source bucket fails with a sentence and publishes nothing', async () => {
    const key = 'bucket-missing.tar';
    await expect(
      runBucketBackup({ source: s3.options('no-such-bucket'), compression: 'zstd', recipients: [], targets: [{ driver: ws.storage, key }] }),
    ).rejects.toThrow(/^The bucket "no-such-bucket" does not exist \(listing the objects to back up/);
    expect(await ws.storage.stat(key)).toBeNull();
  });

  it('a cancelled bucket backup publishes nothing', async () => {
    const controller = new AbortController();
    const key = 'bucket-cancelled.tar';
    const backingUp = runBucketBackup({
      source: s3.options(sourceBucket, 'site'),
      compression: 'none',
      recipients: [],
      targets: [{ driver: ws.storage, key }],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(backingUp).rejects.toThrow(/cancelled: nothing was published/);
    expect(await ws.storage.stat(key)).toBeNull();
  });
});
