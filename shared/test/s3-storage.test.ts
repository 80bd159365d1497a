// The S3 destination against a real (fake) S3 endpoint: s3rver in its own process, which the tests
// kill mid-upload like a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createLogger, PermanentError } from '@coffre/shared';
import { createS3Storage, type S3Storage } from '@coffre/shared/s3';
import { startS3Server, type S3Server } from '../../test/support/s3.js';
import { uniqueName } from '../../test/support/env.js';

const MiB = 1024 * 1024;
let s3: S3Server;

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
});

async function newBucket(): Promise<string> {
  const name = uniqueName('bucket').replace(/_/g, '-');
  await s3.createBucket(name);
  return name;
}

/** `bytes` random bytes in 64 KiB chunks, with the SHA-256 of what was produced. */
function randomBody(bytes: number, options: { failAfter?: number } = {}) {
  const hash = createHash('sha256');
  let produced = 0;
  const body = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (options.failAfter !== undefined && produced >= options.failAfter) {
        this.destroy(new Error('the producer failed half-way'));
        return;
      }
      if (produced >= bytes) {
        this.push(null);
        return;
      }
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(64 * 1024, bytes - produced)));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { body, digest: () => hash.digest('hex'), produced: () => produced };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback();
      },
    }),
  );
  return { hex: hash.digest('hex'), bytes };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectNothingLeft(storage: S3Storage, bucket: string, key: string): Promise<void> {
  expect(await storage.stat(key)).toBeNull();
  expect(await storage.listOpenUploads()).toEqual([]);
  expect(await s3.uploadsOnDisk(bucket)).toEqual([]);
}

describe('objects', () => {
  it('writes an object and reads the same bytes back', async () => {
    const storage = createS3Storage(s3.options(await newBucket(), 'coffre/prod'));
    const content = randomBytes(300_000);
    const written = await storage.put('db/2026/backup.dump.zst', Readable.from([content]));
    expect(written.sizeBytes).toBe(content.length);
    expect(Buffer.compare(await readAll(await storage.get('db/2026/backup.dump.zst')), content)).toBe(0);
    const stat = await storage.stat('db/2026/backup.dump.zst');
    expect(stat?.sizeBytes).toBe(content.length);
    expect(stat?.modifiedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('writes an empty object', async () => {
    const storage = createS3Storage(s3.options(await newBucket()));
    expect(await storage.put('empty', Readable.from([]))).toEqual({ sizeBytes: 0 });
    expect((await readAll(await storage.get('empty'))).length).toBe(0);
  });

  it('reads byte ranges', async () => {
    const storage = createS3Storage(s3.options(await newBucket()));
    const content = randomBytes(100_000);
    await storage.put('ranged', Readable.from([content]));
    // (s3rver reads "bytes=0-0" as the whole object, so the first range is not a single byte.)
    expect(Buffer.compare(await readAll(await storage.get('ranged', { start: 0, end: 9 })), content.subarray(0, 10))).toBe(0);
    expect(Buffer.compare(await readAll(await storage.get('ranged', { start: 1000, end: 54_320 })), content.subarray(1000, 54_321))).toBe(0);
    expect(Buffer.compare(await readAll(await storage.get('ranged', { start: 99_990, end: 99_999 })), content.subarray(99_990))).toBe(0);
  });

  it('lists keys relative to its prefix, by folder, and deletes them', async () => {
    const bucket = await newBucket();
    const storage = createS3Storage(s3.options(bucket, 'team-a'));
    const neighbour = createS3Storage(s3.options(bucket, 'team-b'));
    for (const key of ['db/one.dump', 'db/two.dump', 'db-old/three.dump', 'files/a/b/c.tar.zst']) {
      await storage.put(key, Readable.from([Buffer.from(key)]));
    }
    await neighbour.put('db/other.dump', Readable.from([Buffer.from('x')]));

    const keys = async (driver: S3Storage, prefix?: string) => {
      const found: string[] = [];
      for await (const object of driver.list(prefix)) found.push(object.key);
      return found.sort();
    };
    expect(await keys(storage)).toEqual(['db-old/three.dump', 'db/one.dump', 'db/two.dump', 'files/a/b/c.tar.zst']);
    expect(await keys(storage, 'db')).toEqual(['db/one.dump', 'db/two.dump']);
    expect(await keys(storage, 'files/a/')).toEqual(['files/a/b/c.tar.zst']);
    expect(await keys(neighbour)).toEqual(['db/other.dump']);

    await storage.delete('db/one.dump');
    await storage.delete('db/never-existed.dump');
    expect(await storage.stat('db/one.dump')).toBeNull();
    expect(await keys(storage, 'db')).toEqual(['db/two.dump']);
  });

  it('lists every object of a folder across pages', async () => {
    const storage = createS3Storage(s3.options(await newBucket()));
    const written = Array.from({ length: 1005 }, (_v, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < written.length; i += 50) {
      await Promise.all(written.slice(i, i + 50).map((key) => storage.put(key, Readable.from([Buffer.from(key)]))));
    }
    const listed: string[] = [];
    for await (const object of storage.list('many')) listed.push(object.key);
    expect(listed.sort()).toEqual(written);
  });

  it('refuses unsafe keys before any request', async () => {
    const storage = createS3Storage(s3.options(await newBucket()));
    await expect(storage.put('../escape', Readable.from([Buffer.from('x')]))).rejects.toThrow(/not a valid object key/);
    await expect(storage.get('/absolute')).rejects.toThrow(/not a valid object key/);
    await expect(storage.stat('a//b')).rejects.toThrow(/not a valid object key/);
  });

  it('checks that the bucket can be written', async () => {
    const bucket = await newBucket();
    const storage = createS3Storage(s3.options(bucket));
    await storage.checkWritable();
    const left: string[] = [];
    for await (const object of storage.list()) left.push(object.key);
    expect(left).toEqual([]);
  });
});

describe('multipart uploads', () => {
  it('streams a 50 MB body in several parts, a few at a time, and it reads back identical', async () => {
    const storage = createS3Storage(s3.options(await newBucket(), 'big'));
    const { body, digest } = randomBody(50 * MiB + 12_345);
    const written = await storage.put('fifty.bin', body);
    expect(written.sizeBytes).toBe(50 * MiB + 12_345);

    const { parts, maxPartsInFlight } = await s3.partsReceived('big/fifty.bin');
    parts.sort((a, b) => a.partNumber - b.partNumber);
    console.log(`50 MB upload: ${parts.length} parts (${parts.map((p) => (p.bytes / MiB).toFixed(2)).join(', ')} MiB), at most ${maxPartsInFlight} in flight`);
    expect(parts.length).toBe(7);
    expect(parts.slice(0, 6).every((p) => p.bytes === 8 * MiB)).toBe(true);
    expect(maxPartsInFlight).toBeLessThanOrEqual(4);
    expect(await sha256Of(await storage.get('fifty.bin'))).toEqual({ hex: digest(), bytes: 50 * MiB + 12_345 });
    expect(await storage.listOpenUploads()).toEqual([]);
  });

  it('a body that fails half-way publishes nothing and leaves no upload open', async () => {
    const bucket = await newBucket();
    const storage = createS3Storage(s3.options(bucket));
    const { body } = randomBody(100 * MiB, { failAfter: 30 * MiB });
    await expect(storage.put('broken.bin', body)).rejects.toThrow('the producer failed half-way');
    await expectNothingLeft(storage, bucket, 'broken.bin');
  });

  it('a cancelled upload publishes nothing and leaves no upload open', async () => {
    const bucket = await newBucket();
    const storage = createS3Storage(s3.options(bucket));
    const controller = new AbortController();
    const { body } = randomBody(200 * MiB);
    const putting = storage.put('cancelled.bin', body, { signal: controller.signal });
    await until(async () => (await s3.partsReceived('cancelled.bin')).parts.length >= 2, 'two parts');
    controller.abort();
    await expect(putting).rejects.toThrow(/cancelled.*Nothing was published under "cancelled.bin"/);
    await expectNothingLeft(storage, bucket, 'cancelled.bin');
  });

  it('an endpoint that crashes mid-upload: the put fails with a sentence, and the upload is aborted once it is back', async () => {
    const bucket = await newBucket();
    const logs: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) }) });
    const storage = createS3Storage({ ...s3.options(bucket), logger });
    const { body } = randomBody(500 * MiB);
    const putting = storage.put('crashed.bin', body);
    putting.catch(() => {});
    await until(async () => (await s3.partsReceived('crashed.bin')).parts.length >= 2, 'two parts');
    await s3.crash();
    await until(() => logs.some((line) => line.includes('could not abort the multipart upload yet')), 'a failed abort');
    await s3.restart();

    const error = await putting.then(
      () => null,
      (e: Error) => e,
    );
    console.log(`put after a crash: ${error?.message}`);
    expect(error?.message).toMatch(/could not be reached \(EC\w+\) while uploading "crashed.bin".*Nothing was published under "crashed.bin"\.$/);
    expect(error?.message).not.toContain('S3RVER');
    await expectNothingLeft(storage, bucket, 'crashed.bin');
  });

  it('an endpoint that stays down: the put says an upload was left, and reconciliation removes it', async () => {
    const bucket = await newBucket();
    const storage = createS3Storage({ ...s3.options(bucket), abortRetryMs: 500 });
    const { body } = randomBody(500 * MiB);
    const putting = storage.put('left.bin', body);
    putting.catch(() => {});
    await until(async () => (await s3.partsReceived('left.bin')).parts.length >= 2, 'two parts');
    await s3.crash();
    await expect(putting).rejects.toThrow(/could not be reached.*incomplete multipart upload \w+ could not be aborted and will be removed by the next reconciliation/);
    await s3.restart();

    const open = await storage.listOpenUploads();
    expect(open.map((u) => u.key)).toEqual(['left.bin']);
    expect(await storage.stat('left.bin')).toBeNull();
    expect(await storage.removeStaleTemporaries(60 * 60_000)).toBe(0);
    expect(await storage.removeStaleTemporaries(0)).toBe(1);
    await expectNothingLeft(storage, bucket, 'left.bin');
  });

  it('streams 1 GB from another process with a peak RSS under 200 MB', async () => {
    const bucket = await newBucket();
    const script = join(import.meta.dirname, '../../test/support/s3-upload-child.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', script, JSON.stringify({ ...s3.options(bucket), key: 'gigabyte.bin', bytes: 1024 * MiB })],
      { cwd: join(import.meta.dirname, '../..'), maxBuffer: 1 << 20 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { sizeBytes: number; sha256: string; baselineRssBytes: number; peakRssBytes: number; seconds: number };
    console.log(
      `1 GiB upload: peak RSS (VmHWM) ${(report.peakRssBytes / MiB).toFixed(1)} MiB (${(report.baselineRssBytes / MiB).toFixed(1)} MiB before the upload), ` +
        `${report.seconds.toFixed(1)} s (${(1024 / report.seconds) | 0} MiB/s)`,
    );
    expect(report.sizeBytes).toBe(1024 * MiB);
    expect(report.peakRssBytes).toBeLessThan(200 * 1000 * 1000);
    const storage = createS3Storage(s3.options(bucket));
    expect(await sha256Of(await storage.get('gigabyte.bin'))).toEqual({ hex: report.sha256, bytes: 1024 * MiB });
    await storage.delete('gigabyte.bin');
  });
});

describe('errors an operator can act on', () => {
  it('a missing bucket', async () => {
    const storage = createS3Storage(s3.options('no-such-bucket'));
    const error = await storage.put('x', Readable.from([Buffer.from('x')])).catch((e: Error) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/^The bucket "no-such-bucket" does not exist .*create it, or correct the destination's bucket name/);
    await expect(storage.checkWritable()).rejects.toThrow(/does not exist/);
  });

  it('access denied by the bucket, with the credentials never repeated', async () => {
    const secret = 'secret-0123456789-abcdef';
    const storage = createS3Storage({ ...s3.options('denied-archive'), accessKeyId: 'S3RVER', secretAccessKey: secret });
    const attempts = [() => storage.checkWritable(), () => storage.get('x'), () => storage.list()[Symbol.asyncIterator]().next()];
    for (const attempt of attempts) {
      const error = (await attempt().then(() => null, (e: Error) => e)) as Error;
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/^Access was denied .* in bucket "denied-archive" at http:\/\/127\.0\.0\.1:\d+: check the destination's credentials/);
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(secret);
    }
  });

  it('an unknown access key', async () => {
    const storage = createS3Storage({ ...s3.options(await newBucket()), accessKeyId: 'NOBODY' });
    await expect(storage.checkWritable()).rejects.toThrow(/does not know the destination's access key ID/);
  });

  it('an endpoint nobody listens on', async () => {
    const port = await freePort();
    const storage = createS3Storage({ ...s3.options('any'), endpoint: `http://user:pw@127.0.0.1:${port}` });
    const error = (await storage.checkWritable().catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(new RegExp(`endpoint of bucket "any" at http://127.0.0.1:${port} could not be reached \\(ECONNREFUSED\\)`));
    expect(error.message).not.toContain('pw');
    expect(storage.description).toBe(`s3://any/ at http://127.0.0.1:${port}`);
  });

  it('a missing object', async () => {
    const storage = createS3Storage(s3.options(await newBucket()));
    await expect(storage.get('nothing-here')).rejects.toThrow(/The object "nothing-here" in s3:\/\/.* was not found/);
    expect(await storage.stat('nothing-here')).toBeNull();
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
