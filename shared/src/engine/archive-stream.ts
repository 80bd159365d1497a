// The two ends of a tar artifact (file and bucket backups): writing a tar stream produced in Node
// through the compressor process, age encryption and SHA-256 to every destination; and reading one
// back in one checked read, through decryption and the decompressor process.
//
// The same guarantees as runDatabaseBackup: the artifact is published only when the producer, the
// compressor and every destination have all succeeded, and a failed run leaves nothing that looks
// complete. The compressor feeding on a stream that stopped early would exit cleanly with a valid
// but truncated archive, so the producer's own verdict (`produced`) gates the end of the stream.
import { PassThrough, Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Stats } from 'node:fs';
import { createEncryptStream, type AgeIdentity } from '../crypto/age.js';
import { IntegrityError, PermanentError } from '../infra/errors.js';
import { compressor, decompressor, type CompressionKind } from './compression.js';
import { describeExit, lastLine, startTool, toolChain, type ToolChain, type ToolExit } from './process.js';
import { createGate, createMeter, failpointAfterFirstBytes, fanOut, removePublished, STREAM_BUFFER, type FanOutTarget } from './streams.js';
import { openCheckedRead, type ArtifactSource } from './verify-artifact.js';

export interface ArtifactWriteOptions {
  compression: CompressionKind;
  compressionLevel?: number;
  /** age recipients; none means the artifact is not encrypted. */
  recipients: string[];
  targets: FanOutTarget[];
  signal?: AbortSignal;
  onProgress?: (bytesWritten: number) => void;
}

/**
 * Writes `source` as an artifact. `produced` settles when the producer of `source` is done:
 * resolved when everything it meant to write was written, rejected (with its reason) otherwise.
 */
export async function writeArtifact(
  options: ArtifactWriteOptions,
  source: Readable,
  produced: Promise<void>,
): Promise<{ sizeBytes: number; checksumSha256: string }> {
  const tools = toolChain(options.signal);
  let producerError: unknown = null;

  const command = compressor(options.compression, options.compressionLevel);
  let stream: Readable = source;
  let feeding: Promise<void> = Promise.resolve();
  if (command) {
    const compress = tools.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    feeding = pipeline(source, compress.child.stdin!);
    stream = compress.child.stdout!;
  }
  const gate = createGate(async () => {
    await produced;
    await feeding;
    await checkTools(tools);
  });
  produced.catch((error: unknown) => {
    producerError = error;
    // Stop at once, rather than once the compressor has drained what it already had.
    tools.kill();
    gate.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  feeding.catch(() => {});

  const meter = createMeter(options.onProgress);
  const out = fanOut(options.targets, options.signal);
  const stages: (Readable | Transform | Writable)[] = [stream, gate];
  if (options.recipients.length > 0) stages.push(createEncryptStream(options.recipients));
  stages.push(meter, out.writable);
  try {
    await pipeline(stages as unknown as [Readable, ...Transform[], Writable], { signal: options.signal });
    await Promise.all(out.results);
    return { sizeBytes: meter.bytes, checksumSha256: meter.digest() };
  } catch (error) {
    tools.kill();
    source.destroy();
    await tools.stop();
    await removePublished(options.targets, out.results);
    if (options.signal?.aborted) throw new Error('The backup was cancelled: nothing was published.', { cause: error });
    if (producerError) throw producerError;
    const failure = tools.firstFailure();
    throw failure ? toolFailure(failure.name, failure.exit) : error;
  } finally {
    tools.release();
  }
}

export interface ArtifactReadOptions {
  artifact: ArtifactSource;
  compression: CompressionKind;
  identities: AgeIdentity[];
  signal?: AbortSignal;
  onProgress?: (bytes: number, phase: 'verify' | 'restore') => void;
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
    await checkTools(tools);
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
    if (failure) throw toolFailure(failure.name, failure.exit);
    throw feedError ?? error;
  } finally {
    tools.release();
  }
}

/** Throws the failure of the first tool of the chain that did not exit cleanly, once all have exited. */
async function checkTools(tools: ToolChain): Promise<void> {
  const failed = await tools.failedExit();
  if (failed) throw toolFailure(failed.name, failed.exit);
}

function toolFailure(name: string, exit: ToolExit): Error {
  const detail = lastLine(exit.stderr);
  if (/no space left/i.test(detail)) return new Error(`${name} failed: no space left on device.`);
  return new Error(`${describeExit(name, exit)}${detail ? `: ${detail}` : ''}.`);
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
