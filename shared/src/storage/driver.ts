// Where artifacts live. Every driver publishes an object only when its body ended without error,
// so that a failed run leaves nothing that looks complete.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ValidationError } from '../infra/errors.js';

export interface StoredObject {
  key: string;
  sizeBytes: number;
  modifiedAt: Date;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface StorageUsage {
  totalBytes: number;
  freeBytes: number;
  usedPercent: number;
}

export interface StorageDriver {
  readonly kind: 'local' | 's3' | 'sftp' | 'rclone';
  /** Where it writes, for people (never with credentials). */
  readonly description: string;
  /**
   * Writes `body` under `key`. The object appears under its final key only once the body has ended
   * without error; on error nothing is left behind and the promise rejects.
   */
  put(key: string, body: Readable, options?: { signal?: AbortSignal }): Promise<{ sizeBytes: number }>;
  /** Streams an object, or a byte range of it. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<StoredObject | null>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Every published object under a prefix (temporary uploads excluded). */
  list(prefix?: string): AsyncIterable<StoredObject>;
  /** Throws with a sentence when the destination cannot be written. */
  checkWritable(): Promise<void>;
  /** Disk usage, for local destinations. */
  usage?(): Promise<StorageUsage>;
  /** Removes temporary files older than `olderThanMs`; returns how many. */
  removeStaleTemporaries?(olderThanMs: number): Promise<number>;
  /**
   * A new temporary file on this machine that becomes the object under `key` once published
   * (local destinations): processes can then write it themselves, and the bytes need not pass
   * through Node. Nothing appears under the key unless `publish` succeeds.
   */
  openFile?(key: string): Promise<DirectFile>;
  /**
   * The object as a file on this machine, opened for reading (local destinations): a reader can then
   * read it with a buffer of its own, and nothing of the bytes is left for the garbage collector.
   */
  openStoredFile?(key: string): Promise<StoredFile>;
}

/** An object opened for reading in place (StorageDriver.openStoredFile). */
export interface StoredFile {
  handle: FileHandle;
  /** Closes it (never throws). */
  close(): Promise<void>;
}

/** A temporary file that becomes an object when published (StorageDriver.openFile). */
export interface DirectFile {
  /** Opened for reading and writing; processes are given its descriptor. */
  handle: FileHandle;
  /** Syncs it, closes it and renames it into place; on failure it is removed and the error says why. */
  publish(): Promise<void>;
  /** Closes and removes it (never throws). */
  discard(): Promise<void>;
  /**
   * The destination's own sentence for a process that failed writing to it (its stderr says "No
   * space left on device", …), or null when the message names no such cause.
   */
  writeFailure(message: string): Error | null;
}

/**
 * Object keys are relative paths made of safe segments: no `..`, no absolute path, no empty
 * segment, no control characters. Drivers call this before touching anything.
 */
export function assertSafeKey(key: string): string {
  const segments = key.split('/');
  const bad =
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f\x7f]/.test(key) ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new ValidationError(`"${key.slice(0, 80)}" is not a valid object key.`);
  return key;
}
