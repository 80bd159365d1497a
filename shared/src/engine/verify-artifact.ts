// Every byte that reaches a database, a directory or a bucket is a byte that was length-checked and
// hashed: an artifact is read once, and that one read is both the check and the restore.
//
// The stored bytes pass a meter (size, SHA-256), then age decryption (every chunk authenticated),
// then a hold-back gate that keeps the last bytes of the stream until the whole artifact was read
// and its size and SHA-256 match what the backup recorded. A consumer therefore never sees the end
// of an artifact that fails the check: pg_restore is still waiting for its last bytes when it is
// killed, so its single transaction rolls back; a tar reader never reaches its end, so nothing
// staged is published. Each kind of damage gets its own sentence.
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '../infra/errors.js';
import { AgeError, createDecryptStream, type AgeIdentity } from '../crypto/age.js';
import type { CompressionKind } from './compression.js';
import { createMeter, STREAM_BUFFER, type Meter } from './streams.js';
import type { StoredFile } from '../storage/driver.js';

export interface ArtifactSource {
  /** A stream of the stored object from its first byte. A checked read opens it once. */
  open(): Promise<Readable>;
  /** The stored object's size, when the storage can tell without reading it. */
  storedSizeBytes?: number;
  /** What the backup recorded. */
  sizeBytes: number;
  checksumSha256: string;
  encrypted: boolean;
  /** The stored object as a file to read in place, when the storage is on this machine (stored-file-read.ts). */
  openStoredFile?(): Promise<StoredFile>;
}

/** What a restore reads: the stored artifact, how it was compressed, and the keys that decrypt it. */
export interface ArtifactReadOptions {
  artifact: ArtifactSource;
  compression: CompressionKind;
  identities: AgeIdentity[];
  signal?: AbortSignal;
  onProgress?: (bytes: number, phase: 'verify' | 'restore') => void;
}

export type IntegrityReason = 'appended' | 'truncated' | 'reordered' | 'altered' | 'wrong-key' | 'not-encrypted';

const NOTHING_RESTORED = 'Nothing was restored.';

/**
 * How much of the end of the (decrypted, still compressed) content is held back until the check
 * passed. More than a zstd block (128 KiB) and its frame's epilogue, so that the decompressor cannot
 * hand its consumer the last bytes of the dump, whatever the compression.
 */
export const HOLD_BACK_BYTES = 1024 * 1024;

export interface CheckedRead {
  /** The stored object, metered, decrypted, its end held back: pipe the last one into the consumer. */
  stages: (Readable | Transform)[];
  /** The read's failure as an operator should read it: an IntegrityError for any kind of damage. */
  explain(error: unknown): unknown;
}

export interface CheckedReadOptions {
  onProgress?: (bytes: number) => void;
  /** Bytes kept back until the check passed (default HOLD_BACK_BYTES; 0 for a plain verification). */
  holdBackBytes?: number;
}

/**
 * Opens the artifact once for a checked read. Refuses at once what can be refused without reading:
 * an encrypted artifact with no identity, or a stored size that differs from the recorded one.
 */
export async function openCheckedRead(artifact: ArtifactSource, identities: AgeIdentity[], options: CheckedReadOptions = {}): Promise<CheckedRead> {
  await precheckArtifact(artifact, identities);
  return openRead(artifact, identities, options);
}

async function openRead(artifact: ArtifactSource, identities: AgeIdentity[], options: CheckedReadOptions): Promise<CheckedRead> {
  const meter = createMeter(options.onProgress);
  const stages: (Readable | Transform)[] = [await artifact.open(), meter];
  if (artifact.encrypted) stages.push(createDecryptStream(identities));
  stages.push(createHoldBack(options.holdBackBytes ?? HOLD_BACK_BYTES, meter, artifact));
  return { stages, explain: (error) => explainFailure(error, meter, artifact) };
}

/** Reads the artifact whole and checks it, writing nothing anywhere (verifications, `storage check`). */
export async function verifyArtifact(
  artifact: ArtifactSource,
  identities: AgeIdentity[],
  options: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
): Promise<void> {
  await precheckArtifact(artifact, identities);
  await readToEnd(artifact, identities, options);
}

async function readToEnd(artifact: ArtifactSource, identities: AgeIdentity[], options: { signal?: AbortSignal; onProgress?: (bytes: number) => void }): Promise<void> {
  const read = await openRead(artifact, identities, { onProgress: options.onProgress, holdBackBytes: 0 });
  try {
    await pipeline([...read.stages, discard()] as unknown as [Readable, Writable], { signal: options.signal });
  } catch (error) {
    throw read.explain(error);
  }
}

/**
 * What can be refused before anything is written: no identity for an encrypted artifact, or a stored
 * size other than the recorded one. The latter is read once (writing nothing) to say what happened
 * to it: a chunk dropped or reordered reads better than "truncated".
 */
export async function precheckArtifact(artifact: ArtifactSource, identities: AgeIdentity[]): Promise<void> {
  if (artifact.encrypted && identities.length === 0) {
    throw new IntegrityError(
      `The artifact is encrypted and no age identity is configured: set AGE_IDENTITY_FILE to the identity file. ${NOTHING_RESTORED}`,
      'wrong-key',
    );
  }
  const stored = artifact.storedSizeBytes;
  if (stored === undefined || stored === artifact.sizeBytes) return;
  if (artifact.encrypted) await readToEnd(artifact, identities, {});
  throw stored > artifact.sizeBytes ? appended(stored, artifact.sizeBytes) : truncated(stored, artifact.sizeBytes);
}

/**
 * Passes the content through but for its last `keep` bytes, which it releases only once the stored
 * object was read to its end and its size and SHA-256 match. Bytes beyond the recorded size fail
 * the read at once.
 */
function createHoldBack(keep: number, meter: Meter, artifact: ArtifactSource): Transform {
  const held: Buffer[] = [];
  let heldBytes = 0;
  return new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (meter.bytes > artifact.sizeBytes) return callback(appended(meter.bytes, artifact.sizeBytes));
      held.push(chunk);
      heldBytes += chunk.length;
      while (held.length > 1 && heldBytes - held[0]!.length >= keep) {
        const oldest = held.shift()!;
        heldBytes -= oldest.length;
        this.push(oldest);
      }
      callback();
    },
    flush(callback: TransformCallback) {
      try {
        checkWhole(meter, artifact);
      } catch (error) {
        return callback(error as Error);
      }
      for (const chunk of held.splice(0)) this.push(chunk);
      callback();
    },
  });
}

/** Once the stored object was read to its end: its size and SHA-256 against what was recorded. */
export function checkWhole(meter: Pick<Meter, 'bytes' | 'digest'>, artifact: ArtifactSource): void {
  if (meter.bytes > artifact.sizeBytes) throw appended(meter.bytes, artifact.sizeBytes);
  if (meter.bytes < artifact.sizeBytes) throw truncated(meter.bytes, artifact.sizeBytes);
  const checksum = meter.digest();
  if (checksum !== artifact.checksumSha256) {
    throw new IntegrityError(
      `The artifact was altered: its SHA-256 is ${checksum}, the backup recorded ${artifact.checksumSha256}. ${NOTHING_RESTORED}`,
      'altered',
    );
  }
}

/** An age failure met during the read, told in the terms of the damage it reveals. */
function explainFailure(error: unknown, meter: Meter, artifact: ArtifactSource): unknown {
  if (!(error instanceof AgeError)) return error;
  // The read stopped at the damage: the stored size, when known, says whether bytes went missing.
  const size = artifact.storedSizeBytes ?? meter.bytes;
  if (['no-identity', 'not-age', 'bad-header', 'header-mac'].includes(error.reason)) {
    const reason = error.reason === 'no-identity' ? 'wrong-key' : error.reason === 'not-age' ? 'not-encrypted' : 'altered';
    return new IntegrityError(`${capitalize(error.message)}. ${NOTHING_RESTORED}`, reason);
  }
  if (size > artifact.sizeBytes) return appended(size, artifact.sizeBytes);
  if (error.reason === 'chunk-order') return new IntegrityError(`${capitalize(error.message)}. ${NOTHING_RESTORED}`, 'reordered');
  if (size < artifact.sizeBytes) return truncated(size, artifact.sizeBytes);
  return new IntegrityError(`${capitalize(error.message)}. ${NOTHING_RESTORED}`, 'altered');
}

function appended(size: number, recorded: number): IntegrityError {
  return new IntegrityError(
    `The artifact is ${size - recorded} bytes longer than the backup recorded (${size} instead of ${recorded}): bytes were appended to it. ${NOTHING_RESTORED}`,
    'appended',
  );
}

function truncated(size: number, recorded: number): IntegrityError {
  return new IntegrityError(
    `The artifact is truncated: ${size} of the ${recorded} recorded bytes are stored (${recorded - size} missing). ${NOTHING_RESTORED}`,
    'truncated',
  );
}

function discard(): Writable {
  return new Writable({
    highWaterMark: STREAM_BUFFER,
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
