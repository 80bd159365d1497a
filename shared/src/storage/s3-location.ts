// How an S3 location is named and prefixed, without loading the AWS SDK (the API and workers load
// the SDK only when a bucket is used).
import { assertSafeKey } from './driver.js';

export interface S3Location {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
}

/** Where a bucket destination writes, for people: s3://bucket/prefix/ at the endpoint (no credentials). */
export function describeS3Location(options: S3Location): string {
  return `s3://${options.bucket}/${s3KeyPrefix(options.prefix)} at ${endpointLabel(options)}`;
}

/** A configured prefix as keys start with it: "" or "folder/sub/". */
export function s3KeyPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `${assertSafeKey(trimmed)}/` : '';
}

export function endpointLabel(options: Pick<S3Location, 'endpoint' | 'region'>): string {
  if (!options.endpoint) return `s3.${options.region}.amazonaws.com`;
  try {
    const url = new URL(options.endpoint);
    url.username = '';
    url.password = '';
    return url.origin;
  } catch {
    return 'an invalid endpoint URL';
  }
}
