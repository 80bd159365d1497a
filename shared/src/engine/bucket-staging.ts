// A bucket restore stages its objects under a prefix of their own while the artifact is read and
// checked, and publishes them under their real keys (a server-side copy, then the staged object
// removed) only once the whole artifact matched what the backup recorded. A failed restore removes
// what it staged and leaves the target prefix as it was. Verifications use the same listing and
// removal for their scratch prefix.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describeS3Error, type S3Bucket } from '../storage/s3.js';

/** The folder of a target prefix where one restore stages its objects. */
export function stagingPrefix(prefix: string, runId: string): string {
  return `${prefix}.coffre-staging-${runId}/`;
}

/** The scratch folder of a verification, beside the objects it checks. */
export function scratchPrefix(prefix: string, runId: string): string {
  return `${prefix}.coffre-verify-${runId}/`;
}

/** A key (relative to the backed-up prefix) in one of coffre's own working folders. */
export function isWorkingKey(relativeKey: string): boolean {
  return relativeKey.startsWith('.coffre-staging-') || relativeKey.startsWith('.coffre-verify-');
}

export interface ListedObject {
  key: string;
  size: number;
}

/** Every object under a prefix, page after page. */
export async function* listObjects(bucket: S3Bucket, prefix: string, signal?: AbortSignal, action = `listing the objects under "${prefix}"`): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix || undefined, ContinuationToken: token }), {
        abortSignal: signal,
      });
    } catch (error) {
      throw describeS3Error(error, bucket, action);
    }
    for (const object of page.Contents ?? []) if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** True when at least one object lies under the prefix. */
export async function prefixHoldsObjects(bucket: S3Bucket, prefix: string, signal?: AbortSignal): Promise<boolean> {
  for await (const object of listObjects(bucket, prefix, signal)) if (!isWorkingKey(object.key.slice(prefix.length))) return true;
  return false;
}

/** Moves every staged object to its key under `prefix` (server-side copies: metadata and headers kept). */
export async function publishStaged(bucket: S3Bucket, staging: string, prefix: string, signal?: AbortSignal): Promise<number> {
  let published = 0;
  for await (const object of listObjects(bucket, staging, signal)) {
    const key = `${prefix}${object.key.slice(staging.length)}`;
    try {
      await bucket.client.send(
        new CopyObjectCommand({
          Bucket: bucket.bucket,
          Key: key,
          CopySource: `${bucket.bucket}/${object.key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
          ...(bucket.serverSideEncryption ? { ServerSideEncryption: bucket.serverSideEncryption } : {}),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw describeS3Error(error, bucket, `publishing the restored object "${key}"`);
    }
    published += 1;
  }
  return published;
}

/** Removes every object under a prefix (a restore's staging, a verification's scratch folder). */
export async function removePrefix(bucket: S3Bucket, prefix: string): Promise<number> {
  // One DeleteObject each, a few at a time: DeleteObjects needs checksum headers that several
  // S3-compatible services refuse.
  const keys: string[] = [];
  for await (const object of listObjects(bucket, prefix)) keys.push(object.key);
  for (let i = 0; i < keys.length; i += 8) {
    await Promise.all(
      keys.slice(i, i + 8).map(async (key) => {
        try {
          await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.bucket, Key: key }));
        } catch (error) {
          throw describeS3Error(error, bucket, `removing "${key}"`);
        }
      }),
    );
  }
  return keys.length;
}

/** The SHA-256 of a stored object, read back whole. */
export async function objectChecksum(bucket: S3Bucket, key: string, signal?: AbortSignal): Promise<string> {
  let body: Readable;
  try {
    body = (await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: key }), { abortSignal: signal })).Body as Readable;
  } catch (error) {
    throw describeS3Error(error, bucket, `reading back "${key}"`);
  }
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
