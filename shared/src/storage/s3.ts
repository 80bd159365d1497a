// The S3-compatible destination (AWS S3, MinIO, Ceph, R2, Backblaze B2 …).
//
// Uploads are streamed: the size of a backup is not known before it ends, and it is never held
// whole in memory. A body that ends within the first part goes up in one PutObject; anything
// longer becomes a multipart upload that is visible under its key only once
// CompleteMultipartUpload succeeds, and that is aborted on any failure (the body failed, a request
// failed, the caller cancelled), so that nothing appears under the key and no upload stays open.
//
// Why not @aws-sdk/lib-storage's Upload: it uses one fixed part size. S3 allows 10,000 parts per
// upload, so a fixed 8 MiB part caps an object of unknown size at 78 GiB, and a part size that
// reaches S3's 5 TiB object limit (550 MiB) would be buffered several times over for every
// backup, small or large. Here the part size grows as the upload goes (S3 accepts parts of
// different sizes, all but the last ≥ 5 MiB): see partSize().
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Logger } from '../infra/logger.js';
import { NotFoundError, PermanentError } from '../infra/errors.js';
import { OutboundRefusedError, forbiddenHostReason, guardedLookup } from '../infra/outbound.js';
import { assertSafeKey, type ByteRange, type StorageDriver, type StoredObject } from './driver.js';
import { describeS3Location, endpointLabel, s3KeyPrefix } from './s3-location.js';

export { describeS3Location, s3KeyPrefix } from './s3-location.js';

export interface S3StorageOptions {
  /** An S3-compatible endpoint (https://minio.example:9000); AWS S3 when absent. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** A folder inside the bucket that every key lives under ("coffre/prod"). */
  prefix?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Address buckets by path (endpoint/bucket/key), as MinIO and most self-hosted services need. */
  forcePathStyle?: boolean;
  /** Asks S3 to encrypt objects at rest with its own keys (SSE-S3) or KMS (SSE-KMS). */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  /**
   * How long a failed upload keeps trying to abort its multipart upload while the endpoint does
   * not answer (default 30 s). An upload left open after that is removed by reconciliation.
   */
  abortRetryMs?: number;
  logger?: Logger;
}

/** A multipart upload that was started and neither completed nor aborted. */
export interface OpenUpload {
  /** Relative to the destination's prefix, like every other key of the driver. */
  key: string;
  uploadId: string;
  initiatedAt: Date | null;
}

export interface S3Storage extends StorageDriver {
  readonly kind: 's3';
  /** Multipart uploads left open under the prefix (by a crash, or an abort that could not reach S3). */
  listOpenUploads(): Promise<OpenUpload[]>;
  abortUpload(upload: OpenUpload): Promise<void>;
  /** Aborts open uploads started more than `olderThanMs` ago; returns how many. */
  removeStaleTemporaries(olderThanMs: number): Promise<number>;
}

/** Standard object headers and user metadata, as bucket backups carry them. */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** An HTTP date, as S3 returns it. */
  expires?: string;
  metadata?: Record<string, string>;
}

/** What an upload needs to know about its bucket. */
export interface S3Bucket {
  client: S3Client;
  bucket: string;
  /** Where it is, for messages: never with credentials. */
  location: string;
  serverSideEncryption?: 'AES256' | 'aws:kms';
  abortRetryMs: number;
  logger?: Logger;
  /** Removed from any error text, whatever the SDK put in it. */
  secrets: string[];
}

const MiB = 1024 * 1024;
/** S3 refuses more parts than this in one upload. */
const MAX_PARTS = 10_000;
/** The memory parts in flight may use; fewer parts go up at once as they grow. */
const IN_FLIGHT_BYTES = 32 * MiB;
const MAX_PARTS_IN_FLIGHT = 4;

/**
 * The size of part `n` (from 1): 8 MiB for the first 1,000 parts (objects up to 7.8 GiB, where
 * nearly every backup is), then doubling every 1,000 parts up to 2 GiB. The 10,000 parts then hold
 * 5.85 TiB, more than S3's 5 TiB object limit, and a part is never more than about 0.2 % of what
 * was uploaded before it. Memory is at most the parts in flight plus the one being filled:
 * 40 MiB while parts are 8 MiB, about two parts beyond 32 MiB.
 */
export function partSize(n: number): number {
  const step = Math.min(8, Math.floor((n - 1) / 1000));
  return 8 * MiB * 2 ** step;
}

export function createS3Client(options: S3StorageOptions): S3Client {
  // Every connection's address is checked after DNS (guardedLookup); an address written in the endpoint is checked here.
  const host = options.endpoint ? new URL(options.endpoint).hostname : null;
  const refused = host ? forbiddenHostReason(host) : null;
  if (host && refused) throw new OutboundRefusedError(host, null, refused);
  const agent = { keepAlive: true, maxSockets: 50, lookup: guardedLookup };
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    followRegionRedirects: true,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000, httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) },
    // The SDK's default CRC32 headers on every upload are refused by several S3-compatible
    // services (older MinIO, Ceph, B2); coffre checks its artifacts with its own SHA-256.
    ...(options.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

/** A bucket to read and write whole keys in (bucket backups), with its client. */
export function createS3Bucket(options: S3StorageOptions): S3Bucket {
  return {
    client: createS3Client(options),
    bucket: options.bucket,
    location: `bucket "${options.bucket}" at ${endpointLabel(options)}`,
    serverSideEncryption: options.serverSideEncryption,
    abortRetryMs: options.abortRetryMs ?? 30_000,
    logger: options.logger,
    secrets: [options.secretAccessKey],
  };
}

export function createS3Storage(options: S3StorageOptions): S3Storage {
  const target = createS3Bucket(options);
  const { client } = target;
  const base = s3KeyPrefix(options.prefix);
  const fullKey = (key: string) => `${base}${assertSafeKey(key)}`;
  const fail = (error: unknown, action: string) => describeS3Error(error, target, action);

  const storage: S3Storage = {
    kind: 's3',
    description: describeS3Location(options),

    async put(key, body, putOptions) {
      return uploadObject(target, fullKey(key), body, { signal: putOptions?.signal });
    },

    async get(key, range?: ByteRange) {
      const objectKey = fullKey(key);
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: options.bucket, Key: objectKey, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        );
        return response.Body as Readable;
      } catch (error) {
        if (errorName(error) === 'NoSuchKey') throw new NotFoundError(`The object "${key}" in ${storage.description}`);
        throw fail(error, `reading "${key}"`);
      }
    },

    async stat(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: fullKey(key) }));
        return { key, sizeBytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
      } catch (error) {
        if (['NotFound', 'NoSuchKey'].includes(errorName(error))) return null;
        throw fail(error, `looking up "${key}"`);
      }
    },

    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: fullKey(key) }));
      } catch (error) {
        if (errorName(error) !== 'NoSuchKey') throw fail(error, `deleting "${key}"`);
      }
    },

    async *list(prefix = '') {
      // A prefix is a folder, as with local destinations: "db" lists db/…, not db-old/….
      const folder = prefix ? `${fullKey(prefix.replace(/\/+$/, ''))}/` : base;
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: folder, ContinuationToken: token }));
        } catch (error) {
          throw fail(error, 'listing objects');
        }
        for (const object of page.Contents ?? []) {
          // Folder markers made by consoles ("x/") are not objects anyone published.
          if (!object.Key || object.Key.endsWith('/')) continue;
          yield { key: object.Key.slice(base.length), sizeBytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) } satisfies StoredObject;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async checkWritable() {
      const probe = `.coffre-write-probe-${randomUUID()}`;
      await storage.put(probe, Readable.from([Buffer.from('coffre write probe\n')]));
      await storage.delete(probe);
    },

    async listOpenUploads() {
      const uploads: OpenUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        let page;
        try {
          page = await client.send(
            new ListMultipartUploadsCommand({ Bucket: options.bucket, Prefix: base || undefined, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          );
        } catch (error) {
          throw fail(error, 'listing open multipart uploads');
        }
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId) continue;
          uploads.push({ key: upload.Key.slice(base.length), uploadId: upload.UploadId, initiatedAt: upload.Initiated ?? null });
        }
        if (!page.IsTruncated) return uploads;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    },

    async abortUpload(upload) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: `${base}${upload.key}`, UploadId: upload.uploadId }));
      } catch (error) {
        if (errorName(error) !== 'NoSuchUpload') throw fail(error, `aborting the multipart upload of "${upload.key}"`);
      }
    },

    async removeStaleTemporaries(olderThanMs) {
      const now = Date.now();
      let removed = 0;
      for (const upload of await storage.listOpenUploads()) {
        // An upload of unknown age may be one that is running now: it is left alone.
        if (!upload.initiatedAt || now - upload.initiatedAt.getTime() < olderThanMs) continue;
        await storage.abortUpload(upload);
        removed += 1;
      }
      return removed;
    },
  };
  return storage;
}

/**
 * Streams `body` to `key` (a whole key, prefix included). Resolves once the object is visible;
 * on any failure rejects with a sentence, after making sure nothing was left under the key.
 */
export async function uploadObject(
  target: S3Bucket,
  key: string,
  body: Readable,
  options: { signal?: AbortSignal; headers?: ObjectHeaders } = {},
): Promise<{ sizeBytes: number }> {
  const { signal } = options;
  const requests = new AbortController();
  // Stopping the body makes a pending read fail at once rather than when the producer next writes.
  const stop = (error: unknown) => {
    requests.abort(error);
    if (!body.destroyed) body.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const onAbort = () => stop(new UploadCancelled());
  signal?.addEventListener('abort', onAbort, { once: true });
  const buffers = new PartBuffers();
  const parts = partsOf(body, buffers);
  let failure: unknown = null;
  // A failing body is the caller's failure (pg_dump died, a file vanished): it is rethrown as it is.
  const nextPart = () =>
    parts.next().catch((error: unknown) => {
      throw failure ?? new BodyFailed(error);
    });
  let uploadId: string | null = null;
  try {
    if (signal?.aborted) throw new UploadCancelled();
    const first = await nextPart();
    const firstPart = first.done ? Buffer.alloc(0) : first.value.data;
    if (firstPart.length < partSize(1)) {
      await target.client.send(
        new PutObjectCommand({ ...objectParams(target, key, options.headers), Body: firstPart, ContentLength: firstPart.length }),
        { abortSignal: requests.signal },
      );
      return { sizeBytes: firstPart.length };
    }

    const created = await target.client.send(new CreateMultipartUploadCommand(objectParams(target, key, options.headers)), {
      abortSignal: requests.signal,
    });
    uploadId = created.UploadId!;
    const completed: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let sizeBytes = 0;
    let number = 0;
    for (let part: Part | undefined = first.done ? undefined : first.value; part; ) {
      number += 1;
      if (number > MAX_PARTS) throw new PermanentError(`The backup is larger than S3 allows in one object (more than ${MAX_PARTS} parts).`);
      sizeBytes += part.data.length;
      const partNumber = number;
      const { data: body, buffer } = part;
      const sending: Promise<void> = target.client
        .send(new UploadPartCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }), {
          abortSignal: requests.signal,
        })
        .then(
          (result) => {
            completed.push({ PartNumber: partNumber, ETag: result.ETag });
          },
          (error: unknown) => {
            failure ??= error;
            stop(error);
          },
        )
        .finally(() => {
          inFlight.delete(sending);
          buffers.give(buffer);
        });
      inFlight.add(sending);
      while (inFlight.size >= partsInFlight(partSize(number + 1)) && !failure) await Promise.race(inFlight);
      if (failure) throw failure;
      const next = await nextPart();
      part = next.done ? undefined : next.value;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await target.client.send(
      new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } }),
      { abortSignal: requests.signal },
    );
    return { sizeBytes };
  } catch (error) {
    stop(error);
    await parts.return(undefined).catch(() => {});
    const cause = signal?.aborted ? new UploadCancelled() : error;
    let left = '';
    if (uploadId) {
      const aborted = await abortMultipartUpload(target, key, uploadId);
      if (!aborted) left = ` Its incomplete multipart upload ${uploadId} could not be aborted and will be removed by the next reconciliation.`;
    }
    if (cause instanceof BodyFailed) throw cause.error;
    const described = describeS3Error(cause, target, `uploading "${key}"`);
    throw withMessage(described, `${stripPeriod(described.message)}. Nothing was published under "${key}".${left}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Aborts a multipart upload, retrying while the endpoint does not answer. False when it gave up. */
async function abortMultipartUpload(target: S3Bucket, key: string, uploadId: string): Promise<boolean> {
  const deadline = Date.now() + target.abortRetryMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }));
      return true;
    } catch (error) {
      if (errorName(error) === 'NoSuchUpload') return true;
      const remaining = deadline - Date.now();
      const message = describeS3Error(error, target, 'aborting a multipart upload').message;
      if (remaining <= 0 || !isTransient(error)) {
        target.logger?.warn({ key, uploadId, reason: message }, 'gave up aborting the multipart upload; reconciliation will remove it');
        return false;
      }
      target.logger?.warn({ key, uploadId, reason: message }, 'could not abort the multipart upload yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000, remaining)));
    }
  }
}

interface Part {
  /** The part's bytes. */
  data: Buffer;
  /** The buffer they live in, handed back once the part was sent. */
  buffer: Buffer;
}

/** Cuts a stream into parts of partSize(1), partSize(2), …; the last part may be shorter (or empty). */
async function* partsOf(body: Readable, buffers: PartBuffers): AsyncGenerator<Part, void, undefined> {
  let number = 1;
  let part: Buffer | null = null;
  let filled = 0;
  for await (const data of body) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
    let offset = 0;
    while (offset < chunk.length) {
      part ??= buffers.take(partSize(number));
      const copied = chunk.copy(part, filled, offset);
      filled += copied;
      offset += copied;
      if (filled === part.length) {
        yield { data: part, buffer: part };
        part = null;
        filled = 0;
        number += 1;
      }
    }
  }
  if (part) yield { data: part.subarray(0, filled), buffer: part };
  else if (number === 1) yield { data: Buffer.alloc(0), buffer: Buffer.alloc(0) };
}

/**
 * Part buffers are reused rather than allocated per part: freeing a few hundred 8 MiB buffers is
 * left to the garbage collector, which lets the resident memory drift far above the parts in use.
 */
class PartBuffers {
  private free: Buffer[] = [];

  take(size: number): Buffer {
    this.free = this.free.filter((b) => b.length === size);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    if (buffer.length > 0) this.free.push(buffer);
  }
}

function partsInFlight(size: number): number {
  return Math.max(1, Math.min(MAX_PARTS_IN_FLIGHT, Math.floor(IN_FLIGHT_BYTES / size)));
}

function objectParams(target: S3Bucket, key: string, headers: ObjectHeaders = {}) {
  return {
    Bucket: target.bucket,
    Key: key,
    ServerSideEncryption: target.serverSideEncryption,
    ContentType: headers.contentType,
    ContentEncoding: headers.contentEncoding,
    ContentDisposition: headers.contentDisposition,
    ContentLanguage: headers.contentLanguage,
    CacheControl: headers.cacheControl,
    Expires: headers.expires ? new Date(headers.expires) : undefined,
    Metadata: headers.metadata && Object.keys(headers.metadata).length ? headers.metadata : undefined,
  };
}

class BodyFailed {
  constructor(readonly error: unknown) {}
}

class UploadCancelled extends Error {
  constructor() {
    super('The upload was cancelled');
    this.name = 'UploadCancelled';
  }
}

const UNREACHABLE_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED'];

/**
 * Turns an SDK or network error into a sentence an operator can act on. Buckets that do not exist
 * and refused credentials become PermanentErrors: retrying cannot fix them.
 */
export function describeS3Error(error: unknown, target: Pick<S3Bucket, 'location' | 'bucket' | 'secrets'>, action: string): Error {
  const name = errorName(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const scrub = (text: string) => target.secrets.reduce((t, secret) => (secret ? t.split(secret).join('***') : t), text);
  if (error instanceof UploadCancelled) return new Error(error.message);
  if (error instanceof PermanentError || error instanceof NotFoundError) return error;
  if (name === 'NoSuchBucket') {
    return new PermanentError(`The bucket "${target.bucket}" does not exist (${action}, ${target.location}): create it, or correct the destination's bucket name.`, 'bucket-missing');
  }
  if (name === 'InvalidAccessKeyId') {
    return new PermanentError(`The S3 service does not know the destination's access key ID (${action}, ${target.location}): correct the access key.`, 'access-denied');
  }
  if (name === 'SignatureDoesNotMatch') {
    return new PermanentError(`The S3 service refused the destination's secret key (${action}, ${target.location}): correct the secret access key.`, 'access-denied');
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return new PermanentError(
      `Access was denied ${action} in ${target.location}: check the destination's credentials and that the bucket policy allows reading, writing, listing and deleting objects.`,
      'access-denied',
    );
  }
  const code = networkCode(error);
  if (code || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new Error(`The S3 endpoint of ${target.location} could not be reached (${code ?? 'timed out'}) while ${action}: check the endpoint URL and that the service is up.`, {
      cause: error,
    });
  }
  const detail = scrub(error instanceof Error ? error.message : String(error));
  return new Error(`S3 failed while ${action} in ${target.location}: ${name && name !== 'Error' ? `${name}: ` : ''}${detail}`, { cause: error });
}

function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return networkCode(error) !== null || ['TimeoutError', 'RequestTimeout', 'SlowDown', 'InternalError'].includes(errorName(error)) || (status ?? 0) >= 500;
}

function networkCode(error: unknown): string | null {
  const seen = new Set<unknown>();
  const queue = [error];
  while (queue.length) {
    const current = queue.shift() as { code?: unknown; errors?: unknown[]; cause?: unknown } | undefined;
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (typeof current.code === 'string' && UNREACHABLE_CODES.includes(current.code)) return current.code;
    if (Array.isArray(current.errors)) queue.push(...current.errors);
    queue.push(current.cause);
  }
  return null;
}

function errorName(error: unknown): string {
  return (error as { name?: string; Code?: string })?.Code ?? (error as { name?: string })?.name ?? '';
}

function withMessage(error: Error, message: string): Error {
  if (error instanceof PermanentError) return new PermanentError(message, error.code);
  return new Error(message, { cause: error.cause ?? error });
}

function stripPeriod(text: string): string {
  return text.replace(/[.\s]+$/, '');
}
