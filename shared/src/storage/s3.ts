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
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../infra/logger.js';
import { NotFoundError } from '../infra/errors.js';
import { OutboundRefusedError, forbiddenHostReason, guardedLookup } from '../infra/outbound.js';
import { assertSafeKey, type ByteRange, type StorageDriver, type StoredObject } from './driver.js';
import { describeS3Location, endpointLabel, s3KeyPrefix } from './s3-location.js';
import { describeS3Error, errorName } from './s3-errors.js';
import { type S3Bucket, uploadObject } from './s3-upload.js';

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

export { uploadObject, partSize, type ObjectHeaders, type S3Bucket } from './s3-upload.js';
export { describeS3Error } from './s3-errors.js';
