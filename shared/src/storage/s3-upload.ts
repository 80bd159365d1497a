// Streaming an object of unknown size to S3: a body that ends within the first part goes up in one
// PutObject; anything longer becomes a multipart upload whose part size grows as the upload goes
// (partSize), visible under its key only once CompleteMultipartUpload succeeds, and aborted on any
// failure, so that nothing appears under the key and no upload stays open.

import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand, type CompletedPart } from '@aws-sdk/client-s3';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import { UploadCancelled, describeS3Error, errorName, isTransient, stripPeriod, withMessage } from './s3-errors.js';

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

