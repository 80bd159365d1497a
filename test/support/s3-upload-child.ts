// Run by the S3 memory test in its own process, so that its peak RSS is the upload's alone:
// streams `bytes` random bytes to an S3 key and prints its size, SHA-256 and peak RSS as JSON.
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
// The driver's module alone: the whole @coffre/shared (Prisma, BullMQ …) would weigh more than the upload.
import { createS3Storage, type S3StorageOptions } from '../../shared/src/storage/s3.js';

const input = JSON.parse(process.argv[2]!) as S3StorageOptions & { key: string; bytes: number };
const hash = createHash('sha256');
let produced = 0;
const body = new Readable({
  highWaterMark: 1 << 20,
  read() {
    if (produced >= input.bytes) return void this.push(null);
    const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(1 << 20, input.bytes - produced)));
    produced += chunk.length;
    hash.update(chunk);
    this.push(chunk);
  },
});

const rssKb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]);
// What Node, tsx and the SDK take before a byte is uploaded, to tell the upload's own share.
const baselineKb = rssKb('VmRSS');
const started = Date.now();
const { sizeBytes } = await createS3Storage(input).put(input.key, body);
process.stdout.write(
  `${JSON.stringify({ sizeBytes, sha256: hash.digest('hex'), baselineRssBytes: baselineKb * 1024, peakRssBytes: rssKb('VmHWM') * 1024, seconds: (Date.now() - started) / 1000 })}\n`,
);
