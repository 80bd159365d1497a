// Stream pieces the pipelines are built from: a meter (SHA-256, size, progress), a gate that holds
// the end of a stream until the processes producing it have exited cleanly, and a fan-out that
// writes one stream to several destinations with backpressure.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, Writable, type TransformCallback } from 'node:stream';
import type { StorageDriver } from '../storage/driver.js';
import { failpoint } from '../infra/failpoints.js';
import { STREAM_BUFFER } from '../infra/stream-buffer.js';

export { STREAM_BUFFER };

export interface Meter extends Transform {
  readonly bytes: number;
  digest(): string;
}

/**
 * Counts and hashes what passes; calls onProgress at most every `intervalMs`. With `hash: false` it
 * only counts (digest() is then empty): progress alone need not pay for SHA-256.
 */
export function createMeter(onProgress?: (bytes: number) => void, intervalMs = 1000, options: { hash?: boolean } = {}): Meter {
  const hash = options.hash === false ? null : createHash('sha256');
  let bytes = 0;
  let last = 0;
  let digest: string | null = null;
  const meter = new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback) {
      hash?.update(chunk);
      bytes += chunk.length;
      const now = Date.now();
      if (onProgress && now - last >= intervalMs) {
        last = now;
        onProgress(bytes);
      }
      callback(null, chunk);
    },
    flush(callback) {
      onProgress?.(bytes);
      callback();
    },
  }) as Meter;
  Object.defineProperty(meter, 'bytes', { get: () => bytes });
  meter.digest = () => (digest ??= hash ? hash.digest('hex') : '');
  return meter;
}

/** Passes data through, but ends only when `check` resolves; when it rejects, the stream fails. */
export function createGate(check: () => Promise<void>): Transform {
  return new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk, _encoding, callback: TransformCallback) {
      callback(null, chunk);
    },
    flush(callback) {
      check().then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
}

export interface FanOutTarget {
  driver: StorageDriver;
  key: string;
}

export interface FanOut {
  writable: Writable;
  /** One result per target, settled once its object is published or has failed. */
  results: Promise<{ sizeBytes: number }>[];
}

/** Writes one stream to every target. A target that fails fails the whole stream. */
export function fanOut(targets: FanOutTarget[], signal?: AbortSignal): FanOut {
  const outs = targets.map(() => {
    const out = new PassThrough({ highWaterMark: STREAM_BUFFER });
    // A target's failure is reported through its result; the stream's own error event adds nothing.
    out.on('error', () => {});
    return out;
  });
  const results = targets.map((target, i) => target.driver.put(target.key, outs[i]!, { signal }));
  const writable = new Writable({
    highWaterMark: STREAM_BUFFER,
    write(chunk: Buffer, _encoding, callback) {
      let waiting = 0;
      for (const out of outs) {
        if (!out.write(chunk)) {
          waiting += 1;
          out.once('drain', () => {
            waiting -= 1;
            if (waiting === 0) callback();
          });
        }
      }
      if (waiting === 0) callback();
    },
    final(callback) {
      for (const out of outs) out.end();
      callback();
    },
    destroy(error, callback) {
      // Destroyed after 'finish' too (autoDestroy): the targets may still be reading then.
      if (error) for (const out of outs) out.destroy(error);
      callback(error);
    },
  });
  for (const result of results) result.catch((error: Error) => writable.destroy(error));
  return { writable, results };
}

/** A destination that published while another failed is cleaned up: the run left nothing. */
export async function removePublished(targets: FanOutTarget[], results: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(results);
  await Promise.allSettled(settled.map((result, i) => (result.status === 'fulfilled' ? targets[i]!.driver.delete(targets[i]!.key) : null)));
}

/** Passes data through, pausing at the named failpoint once the first chunk went on (for the fault tests). */
export function failpointAfterFirstBytes(name: string): Transform {
  let reached = false;
  return new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk, _encoding, callback) {
      if (reached) return callback(null, chunk);
      reached = true;
      this.push(chunk);
      failpoint(name).then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
}
