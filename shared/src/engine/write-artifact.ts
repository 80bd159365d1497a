// Writing an artifact, whatever makes its bytes (pg_dump, or a tar written in Node): the producer →
// the compressor process (zstd, gzip) → a gate → age encryption → a meter (size, SHA-256, progress)
// → every destination at once. Nothing is held whole in memory.
//
// The artifact is published only when the producer, the compressor and every destination have all
// succeeded, and a failed run leaves nothing that looks complete. A compressor whose input stopped
// early exits cleanly with a valid but truncated archive, so the gate holds the end of the stream
// until the producer's own verdict is in and every tool has exited cleanly; a destination that
// published while another failed is removed again.
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream } from '../crypto/age.js';
import { compressor, type CompressionKind } from './compression.js';
import { startTool, toolChain, type RunningTool, type ToolChain } from './process.js';
import { createGate, createMeter, fanOut, removePublished, type FanOutTarget } from './streams.js';
import { describeToolFailure } from './tool-failure.js';

export interface ArtifactWriteOptions {
  compression: CompressionKind;
  compressionLevel?: number;
  /** age recipients; none means the artifact is not encrypted. */
  recipients: string[];
  /** Every place the artifact is written to. */
  targets: FanOutTarget[];
  signal?: AbortSignal;
  onProgress?: (bytesWritten: number) => void;
}

/** Where an artifact's bytes come from. */
export type ArtifactProducer =
  /**
   * A process writing them to its stdout (pg_dump), started on the stdout it is given: the
   * compressor's stdin when there is one, so that the bytes pass between the two through the OS.
   */
  | {
      kind: 'dump';
      start(stdout: Writable | 'pipe'): RunningTool;
      /**
       * Sees every byte the process writes, in order, before the compressor does (row counting).
       * The bytes then pass through Node rather than straight from the process to the compressor.
       * It must not throw.
       */
      observe?: (chunk: Buffer) => void;
    }
  /**
   * A stream written in Node (a tar). `produced` settles when its producer is done: resolved when
   * everything it meant to write was written, rejected (with its reason) otherwise.
   */
  | { kind: 'archive'; stream: Readable; produced: Promise<void> };

export interface WrittenArtifact {
  sizeBytes: number;
  checksumSha256: string;
}

export async function writeArtifact(options: ArtifactWriteOptions, producer: ArtifactProducer): Promise<WrittenArtifact> {
  const tools = toolChain(options.signal);
  try {
    return await writeThrough(tools, options, producer);
  } finally {
    tools.release();
  }
}

async function writeThrough(tools: ToolChain, options: ArtifactWriteOptions, producer: ArtifactProducer): Promise<WrittenArtifact> {
  const production = startProduction(tools, options, producer);
  const gate = createGate(async () => {
    await production.done;
    const failed = await tools.failedExit();
    if (failed) throw describeToolFailure(failed, producer.kind);
  });
  let producerError: unknown = null;
  if (producer.kind === 'archive') {
    producer.produced.catch((error: unknown) => {
      producerError = error;
      // Stop at once, rather than once the compressor has drained what it already had.
      tools.kill();
      gate.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }

  const meter = createMeter(options.onProgress);
  const out = fanOut(options.targets, options.signal);
  const stages: (Readable | Transform | Writable)[] = [production.stream, ...production.taps, gate];
  if (options.recipients.length > 0) stages.push(createEncryptStream(options.recipients));
  stages.push(meter, out.writable);
  try {
    await pipeline(stages as unknown as [Readable, ...Transform[], Writable], { signal: options.signal });
    await Promise.all(out.results);
    return { sizeBytes: meter.bytes, checksumSha256: meter.digest() };
  } catch (error) {
    if (producer.kind === 'archive') producer.stream.destroy();
    await tools.stop();
    await removePublished(options.targets, out.results);
    if (options.signal?.aborted) throw new Error('The backup was cancelled: nothing was published.', { cause: error });
    if (producerError) throw producerError;
    // The producer's own failure explains the run better than the broken pipes it caused.
    const failure = tools.firstFailure(...production.producerTools);
    throw failure ? describeToolFailure(failure, producer.kind) : error;
  }
}

interface Production {
  /** The artifact's bytes, compressed when asked. */
  stream: Readable;
  /** Settles once everything was produced and handed to the compressor. */
  done: Promise<void>;
  /** The producer's own tools (the dump), whose failures explain the run first. */
  producerTools: string[];
  /** Stages between `stream` and the gate (an observer of an uncompressed dump). */
  taps: Transform[];
}

function startProduction(tools: ToolChain, options: ArtifactWriteOptions, producer: ArtifactProducer): Production {
  const command = compressor(options.compression, options.compressionLevel);
  const compress = command ? tools.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', 'pipe', 'pipe'] })) : null;
  if (producer.kind === 'dump' && producer.observe) return observedDump(tools, producer.start('pipe'), producer.observe, compress);
  if (producer.kind === 'dump') {
    const dump = tools.watch(producer.start(compress ? compress.child.stdin! : 'pipe'));
    // The dump holds the compressor's stdin now; ours would keep it open after the dump ended.
    compress?.child.stdin!.destroy();
    return { stream: compress ? compress.child.stdout! : dump.child.stdout!, done: Promise.resolve(), producerTools: [dump.name], taps: [] };
  }
  if (!compress) return { stream: producer.stream, done: producer.produced, producerTools: [], taps: [] };
  const feeding = pipeline(producer.stream, compress.child.stdin!);
  const done = producer.produced.then(() => feeding);
  // Their failures reach the run through the gate, or through `produced` itself.
  feeding.catch(() => {});
  done.catch(() => {});
  return { stream: compress.child.stdout!, done, producerTools: [], taps: [] };
}

/** A dump whose bytes pass through Node on their way to the compressor, so that `observe` sees them. */
function observedDump(tools: ToolChain, started: RunningTool, observe: (chunk: Buffer) => void, compress: RunningTool | null): Production {
  const dump = tools.watch(started);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      observe(chunk);
      callback(null, chunk);
    },
  });
  if (!compress) return { stream: dump.child.stdout!, done: Promise.resolve(), producerTools: [dump.name], taps: [tap] };
  const done = pipeline(dump.child.stdout!, tap, compress.child.stdin!);
  // Its failure reaches the run through the gate.
  done.catch(() => {});
  return { stream: compress.child.stdout!, done, producerTools: [dump.name], taps: [] };
}
