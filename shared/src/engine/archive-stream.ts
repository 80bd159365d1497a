// The two ends of a tar artifact (file and bucket backups): a tar written in Node entry by entry
// through the artifact chain (write-artifact.ts: compressor process, age encryption, SHA-256, every
// destination); and reading one back in one checked read, through decryption and the decompressor
// process.
import { PassThrough, type Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Stats } from 'node:fs';
import { IntegrityError, PermanentError } from '../infra/errors.js';
import { decompressor } from './compression.js';
import { startTool, toolChain } from './process.js';
import { failpointAfterFirstBytes, STREAM_BUFFER } from './streams.js';
import { describeToolFailure } from './tool-failure.js';
import { openCheckedRead, type ArtifactReadOptions } from './verify-artifact.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';

/**
 * Writes a tar artifact of the entries `fill` adds. The tar ends when `fill` resolves; when it
 * rejects, the artifact fails with its reason and nothing is published.
 */
export async function writeTarArtifact(options: ArtifactWriteOptions, fill: (tar: TarWriter) => Promise<void>): Promise<WrittenArtifact> {
  const tar = await createTarWriter();
  const produced = (async () => {
    try {
      await fill(tar);
      tar.finish();
    } catch (error) {
      tar.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  })();
  return writeArtifact(options, { kind: 'archive', stream: tar.stream, produced });
}

/**
 * Reads the artifact once, checked as it goes (size, SHA-256, age authentication: verify-artifact.ts),
 * and hands its decrypted and decompressed content to `consume`. Resolves with what `consume`
 * returned only once the whole artifact matched what was recorded and the decompressor exited
 * cleanly: a consumer must keep what it wrote staged until then, since a failed check is only known
 * at the end of the read.
 */
export async function readVerifiedArtifact<T>(options: ArtifactReadOptions, consume: (content: Readable) => Promise<T>): Promise<T> {
  const tools = toolChain(options.signal);
  const read = await openCheckedRead(options.artifact, options.identities, { onProgress: (bytes) => options.onProgress?.(bytes, 'restore') });
  const stages: (Readable | Transform | Writable)[] = [...read.stages, failpointAfterFirstBytes('restore.first-bytes')];

  const command = decompressor(options.compression);
  let content: Readable;
  if (command) {
    const decompress = tools.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    stages.push(decompress.child.stdin!);
    content = decompress.child.stdout!;
  } else {
    const out = new PassThrough({ highWaterMark: STREAM_BUFFER });
    stages.push(out);
    content = out;
  }
  let feedError: unknown = null;
  const feeding = pipeline(stages as unknown as [Readable, ...Transform[], Writable], { signal: options.signal });
  feeding.catch((error: unknown) => {
    feedError = read.explain(error);
    tools.kill();
    content.destroy(feedError instanceof Error ? feedError : new Error(String(feedError)));
  });
  try {
    const result = await consume(content);
    await feeding;
    const failed = await tools.failedExit();
    if (failed) throw describeToolFailure(failed, 'archive');
    return result;
  } catch (error) {
    tools.kill();
    stages[0]!.destroy();
    content.destroy();
    await tools.stop();
    await feeding.catch(() => {});
    if (options.signal?.aborted) throw new Error('The restore was cancelled.', { cause: error });
    // Damage found by the read explains everything after it: the consumer only saw a broken stream.
    if (feedError instanceof IntegrityError) throw feedError;
    const explained = read.explain(error);
    if (explained instanceof IntegrityError) throw explained;
    // The consumer's own refusals (an unsafe entry) say more than the broken pipe they cause.
    if (error instanceof PermanentError) throw error;
    const failure = tools.firstFailure();
    if (failure) throw describeToolFailure(failure, 'archive');
    throw feedError ?? error;
  } finally {
    tools.release();
  }
}

export interface TarEntryHeader {
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  size?: number;
  mode?: number;
  mtime?: Date;
  linkname?: string;
  uid?: number;
  gid?: number;
}

/** A tar stream written one entry at a time, each entry's body streamed with backpressure. */
export interface TarWriter {
  /** The tar bytes, as a Node stream (tar-stream's own are streamx streams). */
  readonly stream: Readable;
  /** Resolves once the tar has taken the whole entry; rejects when its body failed or was short. */
  add(header: TarEntryHeader, body?: Buffer | AsyncIterable<Uint8Array>): Promise<void>;
  /** Ends the tar after the last entry. */
  finish(): void;
  /** Tears it down after a failure. */
  destroy(error?: Error): void;
}

/**
 * The tar is written by archiver, which throws an uncaught exception (taking the worker down) when
 * anything fails in the middle of an entry: a body that ends short, or a consumer that stops reading.
 * So archiver never sees a failure here. Bodies reach it through a PassThrough of ours; when a body
 * fails, or the run is torn down, the current entry is completed with zeros (no more reading), no
 * entry follows, and the archive is finalized into a sink that discards it, while the failure
 * reaches the caller as an ordinary rejection. Nothing of such a run is ever published.
 */
export async function createTarWriter(): Promise<TarWriter> {
  // archiver is loaded by the first archive, not by every process importing the engine.
  const { TarArchive } = await import('archiver');
  const archive = new TarArchive({ highWaterMark: STREAM_BUFFER });
  const out = new PassThrough({ highWaterMark: STREAM_BUFFER });
  const waiting: { resolve(): void; reject(error: Error): void }[] = [];
  let failure: Error | null = null;
  let finalized = false;
  // Entries are written one after the other: each 'entry' event closes the oldest one waiting.
  archive.on('entry', () => {
    const entry = waiting.shift();
    if (failure) entry?.reject(failure);
    else entry?.resolve();
  });
  // Not expected (failures are kept away from archiver); reported rather than thrown if they come.
  archive.on('error', (error: Error) => fail(error));
  archive.on('warning', (error: Error) => fail(error));
  archive.pipe(out);
  // A reader that gives up (a failed destination) must not leave archiver mid-entry: drain it.
  out.on('close', () => {
    if (!out.readableEnded) fail(new Error('the archive was no longer read'));
  });

  function fail(error: Error): void {
    if (failure) return;
    failure = error;
    for (const entry of waiting.splice(0)) entry.reject(error);
    archive.unpipe(out);
    archive.resume();
    if (!finalized) {
      finalized = true;
      archive.finalize().catch(() => {});
    }
  }

  return {
    stream: out,
    add(header, body) {
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        waiting.push({ resolve, reject });
        const data = {
          name: header.name,
          type: header.type ?? 'file',
          date: header.mtime ?? new Date(),
          ...(header.mode === undefined ? {} : { mode: header.mode }),
          ...(header.linkname === undefined ? {} : { linkname: header.linkname }),
          ...(header.uid === undefined ? {} : { uid: header.uid, gid: header.gid }),
        };
        if (body === undefined || Buffer.isBuffer(body)) {
          archive.append(body ?? Buffer.alloc(0), data);
          return;
        }
        const size = header.size ?? 0;
        const safe = new PassThrough({ highWaterMark: STREAM_BUFFER });
        archive.append(safe, { ...data, stats: { size } as Stats });
        const write = async (chunk: Uint8Array) => {
          if (!safe.write(chunk)) await new Promise<void>((drained) => safe.once('drain', () => drained()));
        };
        void (async () => {
          let written = 0;
          try {
            for await (const chunk of body) {
              if (failure) break;
              const part = chunk.length > size - written ? chunk.subarray(0, size - written) : chunk;
              await write(part);
              written += part.length;
            }
            if (written < size && !failure) fail(new Error(`${header.name} ended ${size - written} bytes short of its recorded size`));
          } catch (error) {
            fail(error as Error);
          }
          // Complete the entry with zeros: the archive is discarded, but archiver must finish it.
          for (let left = size - written; left > 0; left -= 1 << 20) await write(Buffer.alloc(Math.min(left, 1 << 20)));
          safe.end();
        })();
      });
    },
    finish() {
      if (finalized) return;
      finalized = true;
      archive.finalize().catch((error: Error) => fail(error));
    },
    destroy(error) {
      fail(error ?? new Error('the archive was torn down'));
      out.destroy(error);
    },
  };
}
