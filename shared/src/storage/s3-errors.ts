// What went wrong with S3, in a sentence an operator can act on: the bucket or key that is missing,
// credentials refused, the endpoint unreachable; never with a secret in it.

import { NotFoundError, PermanentError } from '../infra/errors.js';

const UNREACHABLE_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED'];

/**
 * Turns an SDK or network error into a sentence an operator can act on. Buckets that do not exist
 * and refused credentials become PermanentErrors: retrying cannot fix them.
 */
export function describeS3Error(error: unknown, target: { location: string; bucket: string; secrets: string[] }, action: string): Error {
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

export function isTransient(error: unknown): boolean {
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

export function errorName(error: unknown): string {
  return (error as { name?: string; Code?: string })?.Code ?? (error as { name?: string })?.name ?? '';
}

export function withMessage(error: Error, message: string): Error {
  if (error instanceof PermanentError) return new PermanentError(message, error.code);
  return new Error(message, { cause: error.cause ?? error });
}

export function stripPeriod(text: string): string {
  return text.replace(/[.\s]+$/, '');
}

export class UploadCancelled extends Error {
  constructor() {
    super('The upload was cancelled');
    this.name = 'UploadCancelled';
  }
}
