// Before anything reaches a database, the whole artifact is read once: its size and SHA-256 are
// compared with what the backup recorded, and an encrypted artifact is decrypted end to end, so
// that every chunk is authenticated. Each kind of damage gets its own sentence.
import { Writable, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '../errors.js';
import { AgeError, createDecryptStream, type AgeIdentity } from '../crypto/age.js';
import { createMeter, STREAM_BUFFER } from './streams.js';

export interface ArtifactSource {
  /** A fresh stream of the stored object from its first byte. */
  open(): Promise<Readable>;
  /** The stored object's size, when the storage can tell without reading it. */
  storedSizeBytes?: number;
  /** What the backup recorded. */
  sizeBytes: number;
  checksumSha256: string;
  encrypted: boolean;
}

export type IntegrityReason = 'appended' | 'truncated' | 'reordered' | 'altered' | 'wrong-key' | 'not-encrypted';

const NOTHING_RESTORED = 'Nothing was restored.';

export async function verifyArtifact(
  artifact: ArtifactSource,
  identities: AgeIdentity[],
  options: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
): Promise<void> {
  if (artifact.encrypted && identities.length === 0) {
    throw new IntegrityError(
      `The artifact is encrypted and no age identity is configured: set AGE_IDENTITY_FILE to the identity file. ${NOTHING_RESTORED}`,
      'wrong-key',
    );
  }
  const meter = createMeter(options.onProgress);
  const stages: (Readable | Transform | Writable)[] = [await artifact.open(), meter];
  if (artifact.encrypted) stages.push(createDecryptStream(identities));
  stages.push(discard());
  let readError: unknown = null;
  try {
    await pipeline(stages as unknown as [Readable, Transform, Writable], { signal: options.signal });
  } catch (error) {
    if (!(error instanceof AgeError)) throw error;
    readError = error;
  }
  const size = readError ? (artifact.storedSizeBytes ?? meter.bytes) : meter.bytes;
  const ageError = readError as AgeError | null;

  if (ageError && ['no-identity', 'not-age', 'bad-header', 'header-mac'].includes(ageError.reason)) {
    const reason = ageError.reason === 'no-identity' ? 'wrong-key' : ageError.reason === 'not-age' ? 'not-encrypted' : 'altered';
    throw new IntegrityError(`${capitalize(ageError.message)}. ${NOTHING_RESTORED}`, reason);
  }
  if (size > artifact.sizeBytes) {
    throw new IntegrityError(
      `The artifact is ${size - artifact.sizeBytes} bytes longer than the backup recorded (${size} instead of ${artifact.sizeBytes}): bytes were appended to it. ${NOTHING_RESTORED}`,
      'appended',
    );
  }
  if (ageError?.reason === 'chunk-order') {
    throw new IntegrityError(`${capitalize(ageError.message)}. ${NOTHING_RESTORED}`, 'reordered');
  }
  if (size < artifact.sizeBytes) {
    throw new IntegrityError(
      `The artifact is truncated: ${size} of the ${artifact.sizeBytes} recorded bytes are stored (${artifact.sizeBytes - size} missing). ${NOTHING_RESTORED}`,
      'truncated',
    );
  }
  if (ageError) throw new IntegrityError(`${capitalize(ageError.message)}. ${NOTHING_RESTORED}`, 'altered');
  const checksum = meter.digest();
  if (checksum !== artifact.checksumSha256) {
    throw new IntegrityError(
      `The artifact was altered: its SHA-256 is ${checksum}, the backup recorded ${artifact.checksumSha256}. ${NOTHING_RESTORED}`,
      'altered',
    );
  }
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
