// Backing up an S3 bucket (or a folder of one) and putting it back.
//
// The artifact is a tar, through the same compression, encryption and destinations as every other
// artifact (write-artifact.ts). For each object it holds, in this order:
//   metadata/<key>.json  its key, size, ETag, last-modified time, content headers and user metadata
//   objects/<key>        its bytes, streamed straight from GetObject
// and, last, coffre-bucket.json saying what was archived, so that a restore knows it saw it all.
// Keys are stored relative to the backed-up prefix. A key that is not a plain relative path
// ("a//b", "x/", "../y") is stored as objects/.coffre-key-<n>; its JSON keeps the real key.
//
// Each object's size is known from its GetObject response, so its body streams into the tar
// without being buffered. Objects are read one at a time.
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import tar from 'tar-stream';
import { z } from 'zod';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { assertSafeKey } from '../storage/driver.js';
import { createS3Bucket, describeS3Error, s3KeyPrefix, uploadObject, type ObjectHeaders, type S3Bucket, type S3StorageOptions } from '../storage/s3.js';
import type { ArtifactReadOptions } from './verify-artifact.js';
import type { ArtifactWriteOptions, WrittenArtifact } from './write-artifact.js';
import { readVerifiedArtifact, writeTarArtifact } from './archive-stream.js';
import { isWorkingKey, listObjects, publishStaged, removePrefix, stagingPrefix } from './bucket-staging.js';

const SUMMARY_ENTRY = 'coffre-bucket.json';
const FORMAT = 'coffre-bucket/1';
/** A metadata entry is a few hundred bytes; anything far larger is not one of coffre's. */
const MAX_METADATA_BYTES = 1 << 20;

export interface BucketBackupInput extends ArtifactWriteOptions {
  /** The bucket to back up; its `prefix` limits the backup to that folder. */
  source: S3StorageOptions;
  logger?: Logger;
}

export interface BucketBackupResult extends WrittenArtifact {
  objectsCount: number;
  /** The objects' own bytes, before compression. */
  objectsBytes: number;
}

/** What the archive records of each object. */
const objectRecordSchema = z.object({
  key: z.string().min(1).max(1024),
  entry: z.string(),
  size: z.number().int().nonnegative(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  contentType: z.string().optional(),
  contentEncoding: z.string().optional(),
  contentDisposition: z.string().optional(),
  contentLanguage: z.string().optional(),
  cacheControl: z.string().optional(),
  expires: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type BucketObjectRecord = z.infer<typeof objectRecordSchema>;

const summarySchema = z.object({
  format: z.literal(FORMAT),
  bucket: z.string(),
  prefix: z.string(),
  objectsCount: z.number().int().nonnegative(),
  objectsBytes: z.number().int().nonnegative(),
  takenAt: z.string(),
});

export async function runBucketBackup(input: BucketBackupInput): Promise<BucketBackupResult> {
  const bucket = createS3Bucket(input.source);
  const prefix = s3KeyPrefix(input.source.prefix);
  let objectsCount = 0;
  let objectsBytes = 0;
  const written = await writeTarArtifact(input, async (archive) => {
    for await (const { key } of listObjects(bucket, prefix, input.signal, 'listing the objects to back up')) {
      // What a restore is staging or a verification is checking there is not part of the bucket.
      if (isWorkingKey(key.slice(prefix.length))) continue;
      const object = await getObject(bucket, key, input.signal);
      // Deleted since it was listed: it is not part of the bucket any more.
      if (!object) continue;
      const record = objectRecord(key.slice(prefix.length), object, objectsCount);
      const metadataName = `metadata/${record.entry.slice('objects/'.length)}.json`;
      await archive.add({ name: metadataName, mtime: new Date() }, Buffer.from(JSON.stringify(record, null, 2)));
      await archive.add({ name: record.entry, size: record.size, mtime: object.LastModified ?? new Date(), mode: 0o644 }, object.Body as Readable);
      objectsCount += 1;
      objectsBytes += record.size;
    }
    const summary = { format: FORMAT, bucket: input.source.bucket, prefix, objectsCount, objectsBytes, takenAt: new Date().toISOString() };
    await archive.add({ name: SUMMARY_ENTRY, mtime: new Date() }, Buffer.from(JSON.stringify(summary, null, 2)));
  });
  input.logger?.info({ bucket: input.source.bucket, prefix, objectsCount, objectsBytes }, 'bucket archived');
  return { ...written, objectsCount, objectsBytes };
}

export interface BucketRestoreInput extends ArtifactReadOptions {
  /** Where the objects go: their keys are put under this bucket's `prefix`. */
  target: S3StorageOptions;
  /**
   * Names the staging folder (a run's id). With it, objects are staged and published under the
   * prefix only once the artifact checked out; without it they go straight under the prefix (a
   * verification's scratch folder, removed whatever happens).
   */
  stagingId?: string;
  /** Record each restored object's key, size and SHA-256 (verifications compare them). */
  collect?: boolean;
  logger?: Logger;
}

export interface RestoredObject {
  /** The key as archived, relative to the prefix. */
  key: string;
  size: number;
  sha256: string;
}

export interface BucketRestoreResult {
  objectsCount: number;
  objectsBytes: number;
  /** With `collect`: what was restored. */
  objects?: RestoredObject[];
}

export async function runBucketRestore(input: BucketRestoreInput): Promise<BucketRestoreResult> {
  const bucket = createS3Bucket(input.target);
  const prefix = s3KeyPrefix(input.target.prefix);
  const staging = input.stagingId ? stagingPrefix(prefix, input.stagingId) : null;
  try {
    const restored = await readVerifiedArtifact(input, (content) => restoreObjects(bucket, staging ?? prefix, content, input));
    if (staging) await publishStaged(bucket, staging, prefix, input.signal);
    input.logger?.info({ bucket: input.target.bucket, prefix, objectsCount: restored.objectsCount, objectsBytes: restored.objectsBytes }, 'bucket restored');
    return restored;
  } finally {
    if (staging) {
      await removePrefix(bucket, staging).catch((error: Error) =>
        input.logger?.warn({ err: error.message, staging }, 'could not remove the staged objects; reconciliation will find them'),
      );
    }
  }
}

/** Puts every archived object under `under`, checking the archive's own structure as it goes. */
async function restoreObjects(bucket: S3Bucket, under: string, content: Readable, input: BucketRestoreInput): Promise<BucketRestoreResult> {
  const extract = tar.extract();
  content.on('error', (error) => extract.destroy(error));
  content.pipe(extract);
  let pending: BucketObjectRecord | null = null;
  let summary: z.infer<typeof summarySchema> | null = null;
  let objectsCount = 0;
  let objectsBytes = 0;
  const objects: RestoredObject[] = [];
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      const body = entry as unknown as AsyncIterable<Buffer>;
      if (name.startsWith('metadata/')) {
        if (pending) throw malformed(`the object of "${pending.key}" is missing`);
        pending = parseEntry(objectRecordSchema, await readSmall(body, name), name);
        assertRestorableKey(pending.key);
      } else if (name.startsWith('objects/')) {
        if (!pending || pending.entry !== name) throw malformed(`"${name}" has no metadata before it`);
        const hash = input.collect ? createHash('sha256') : null;
        const hashed = hash ? Readable.from(hashing(body, hash)) : Readable.from(body);
        const { sizeBytes } = await uploadObject(bucket, `${under}${pending.key}`, hashed, { signal: input.signal, headers: headersOf(pending) });
        if (sizeBytes !== pending.size) throw malformed(`"${pending.key}" holds ${sizeBytes} bytes, its metadata says ${pending.size}`);
        if (hash) objects.push({ key: pending.key, size: sizeBytes, sha256: hash.digest('hex') });
        objectsCount += 1;
        objectsBytes += sizeBytes;
        pending = null;
      } else if (name === SUMMARY_ENTRY) {
        summary = parseEntry(summarySchema, await readSmall(body, name), name);
      } else {
        throw malformed(`"${name}" is not an entry coffre writes`);
      }
    }
  } catch (error) {
    extract.destroy();
    throw error;
  }
  if (!summary) throw malformed('it ends before its summary (coffre-bucket.json)');
  if (summary.objectsCount !== objectsCount) throw malformed(`it holds ${objectsCount} objects, its summary says ${summary.objectsCount}`);
  return { objectsCount, objectsBytes, ...(input.collect ? { objects } : {}) };
}

async function* hashing(body: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    hash.update(chunk);
    yield chunk;
  }
}

async function getObject(bucket: S3Bucket, key: string, signal?: AbortSignal): Promise<GetObjectCommandOutput | null> {
  try {
    return await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: key }), { abortSignal: signal });
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return null;
    throw describeS3Error(error, bucket, `reading "${key}" to back it up`);
  }
}

function objectRecord(key: string, object: GetObjectCommandOutput, index: number): BucketObjectRecord {
  return {
    key,
    entry: `objects/${isPlainPath(key) ? key : `.coffre-key-${index}`}`,
    size: object.ContentLength ?? 0,
    etag: object.ETag,
    lastModified: object.LastModified?.toISOString(),
    contentType: object.ContentType,
    contentEncoding: object.ContentEncoding,
    contentDisposition: object.ContentDisposition,
    contentLanguage: object.ContentLanguage,
    cacheControl: object.CacheControl,
    expires: object.ExpiresString ?? object.Expires?.toUTCString(),
    metadata: object.Metadata && Object.keys(object.Metadata).length ? object.Metadata : undefined,
  };
}

function headersOf(record: BucketObjectRecord): ObjectHeaders {
  return {
    contentType: record.contentType,
    contentEncoding: record.contentEncoding,
    contentDisposition: record.contentDisposition,
    contentLanguage: record.contentLanguage,
    cacheControl: record.cacheControl,
    expires: record.expires,
    metadata: record.metadata,
  };
}

/** Keys that read as a relative path can be stored under their own name, for people opening the tar. */
function isPlainPath(key: string): boolean {
  try {
    assertSafeKey(key);
    return key.length <= 900;
  } catch {
    return false;
  }
}

/**
 * S3 keys are opaque, but some services and proxies read "." and ".." segments as path steps: a
 * key restored under the target prefix must stay under it.
 */
function assertRestorableKey(key: string): void {
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new PermanentError(`The archived object "${key}" has a "." or ".." segment in its key, which could land outside the target prefix: it was not restored, and the restore stopped there.`, 'unsafe-archive');
  }
}

async function readSmall(body: AsyncIterable<Buffer>, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_METADATA_BYTES) throw malformed(`"${name}" is far larger than coffre's metadata entries`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseEntry<T>(schema: z.ZodType<T>, text: string, name: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`"${name}" is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw malformed(`"${name}" does not describe what coffre archives (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function malformed(detail: string): PermanentError {
  return new PermanentError(`This is not a complete coffre bucket archive: ${detail}. The restore stopped there.`, 'malformed-archive');
}
