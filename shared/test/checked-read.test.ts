// A checked read hands its consumer the artifact's bytes as they are read, but holds the last ones
// back until the whole stored object matched its recorded size and SHA-256: a consumer (pg_restore,
// tar) never sees the end of an artifact that fails its check, so it can never commit or publish it.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HOLD_BACK_BYTES, IntegrityError, openCheckedRead, type ArtifactSource } from '@coffre/shared';

const SIZE = 4 * 1024 * 1024;

function artifactOf(stored: Buffer, recorded: Buffer): ArtifactSource {
  return {
    // Small chunks, as storage delivers them.
    open: async () => Readable.from((function* () {
      for (let at = 0; at < stored.length; at += 64 * 1024) yield stored.subarray(at, at + 64 * 1024);
    })()),
    sizeBytes: recorded.length,
    checksumSha256: createHash('sha256').update(recorded).digest('hex'),
    encrypted: false,
  };
}

/** Reads the artifact into a consumer that records what reached it, and whether its end did. */
async function consume(artifact: ArtifactSource) {
  const seen = { bytes: 0, ended: false };
  const consumer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      seen.bytes += chunk.length;
      callback();
    },
    final(callback) {
      seen.ended = true;
      callback();
    },
  });
  const read = await openCheckedRead(artifact, []);
  const error = await pipeline([...read.stages, consumer] as unknown as [Readable, Writable]).then(
    () => null,
    (e: unknown) => read.explain(e),
  );
  return { ...seen, error };
}

describe('a checked read', () => {
  it('hands over every byte, and the end, of an artifact that matches what was recorded', async () => {
    const bytes = randomBytes(SIZE);
    const { bytes: received, ended, error } = await consume(artifactOf(bytes, bytes));
    expect({ received, ended, error }).toEqual({ received: SIZE, ended: true, error: null });
  });

  it('never hands over the last bytes or the end of an artifact altered after its first megabytes', async () => {
    const recorded = randomBytes(SIZE);
    const stored = Buffer.from(recorded);
    stored[SIZE - 2 * HOLD_BACK_BYTES] ^= 0xff;
    const { bytes: received, ended, error } = await consume(artifactOf(stored, recorded));
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).reason).toBe('altered');
    expect(ended).toBe(false);
    expect(received).toBeLessThanOrEqual(SIZE - HOLD_BACK_BYTES);
  });

  it('stops at the first byte beyond the recorded size', async () => {
    const recorded = randomBytes(SIZE);
    const { ended, error } = await consume({ ...artifactOf(Buffer.concat([recorded, randomBytes(10)]), recorded) });
    expect((error as IntegrityError).reason).toBe('appended');
    expect(ended).toBe(false);
  });

  it('holds back a whole artifact smaller than the held-back tail until it checked out', async () => {
    const recorded = randomBytes(1000);
    const stored = Buffer.from(recorded);
    stored[999] ^= 1;
    const { bytes: received, ended, error } = await consume(artifactOf(stored, recorded));
    expect({ received, ended, reason: (error as IntegrityError).reason }).toEqual({ received: 0, ended: false, reason: 'altered' });
  });
});
