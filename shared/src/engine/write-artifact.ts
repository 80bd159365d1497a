// Writing an artifact, whatever makes its bytes (pg_dump, or a tar written in Node): the producer →
// the compressor process (zstd, gzip) → a gate → age encryption → a meter (size, SHA-256, progress)
// → every destination at once. Nothing is held whole in memory.
//
// The artifact is published only when the producer, the compressor and every destination have all
// succeeded, and a failed run leaves nothing that looks complete. A compressor whose input stopped
// early exits cleanly with a valid but truncated archive, so the gate holds the end of the stream
// until the producer's own verdict is in and every tool has exited cleanly; a destination that
// published while another failed is removed again.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream } from '../crypto/age.js';
import { AGE_TOOL } from './age-tool.js';
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
      start(stdout: Writable | 'pipe' | number): RunningTool;
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

type DumpProducer = Extract<ArtifactProducer, { kind: 'dump' }>;

export interface WrittenArtifact {
  sizeBytes: number;
  checksumSha256: string;
}

export async function writeArtifact(options: ArtifactWriteOptions, producer: ArtifactProducer): Promise<WrittenArtifact> {
  const tools = toolChain(options.signal);
  try {
    // A tar made in Node passes through it anyway; its bytes are counted as they go (progress, limits).
    if (producer.kind === 'dump') {
      const target = directTarget(options, producer);
      if (target) return await writeIntoFile(tools, options, producer, target);
    }
    return await writeThrough(tools, options, producer);
  } finally {
    tools.release();
  }
}

/**
 * The one destination the artifact can be written into directly, as a file, by the last process of
 * the chain (`pg_dump | zstd | age > file`): a single destination that hands out files (local), no
 * observer, and a process to write the file (the dump itself, the compressor, or age). The bytes then
 * never pass through Node: its share of a backup was 0.8-1.8 CPU-s of 5 s on two cores, most of it
 * collecting the 64 KiB buffers every pipe read allocates (pnpm bench, worker --cpu-prof).
 */
function directTarget(options: ArtifactWriteOptions, producer: DumpProducer): FanOutTarget | null {
  if (options.targets.length !== 1 || !options.targets[0]!.driver.openFile) return null;
  if (producer.observe) return null;
  if (options.recipients.length > 0 && !AGE_TOOL) return null;
  return options.targets[0]!;
}


/**
 * Writes the artifact into a temporary file of its destination by the chain's processes themselves,
 * then reads it back once for its size and SHA-256 (what is hashed is what is on disk), and publishes
 * it. Nothing is published unless every process exited cleanly.
 */
async function writeIntoFile(tools: ToolChain, options: ArtifactWriteOptions, producer: DumpProducer, target: FanOutTarget): Promise<WrittenArtifact> {
  const file = await target.driver.openFile!(target.key);
  const fd = file.handle.fd;
  let progress: { stop(): void } | null = null;
  try {
    // From the file back to the producer: each process is given the next one's stdin.
    const encrypt = options.recipients.length > 0 ? tools.watch(startTool('age', AGE_TOOL!, ['--encrypt', ...options.recipients.flatMap((r) => ['-r', r])], { stdio: ['pipe', fd, 'pipe'] })) : null;
    const command = compressor(options.compression, options.compressionLevel);
    const compress = command ? tools.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', encrypt ? encrypt.child.stdin! : fd, 'pipe'] })) : null;
    // The compressor holds age's stdin now; ours would keep it open after the compressor ended.
    if (compress) encrypt?.child.stdin!.destroy();
    const first = compress ?? encrypt;
    const dump = tools.watch(producer.start(first ? first.child.stdin! : fd));
    first?.child.stdin!.destroy();
    const hasher = fileHasher(file.handle);
    // pg_dump writing a file itself goes back to its start at the end (its TOC's data offsets): that
    // file is hashed once it is complete. zstd, gzip and age write front to back.
    const sequential = first !== null;
    let reported = 0;
    progress = watchFile(file.handle, (bytes) => {
      // Progress every second at most, as the stream meter reports it.
      if (Date.now() - reported >= 1000) {
        reported = Date.now();
        options.onProgress?.(bytes);
      }
      if (sequential) hasher.catchUp().catch(() => {});
    });

    const failed = await tools.failedExit();
    progress?.stop();
    if (options.signal?.aborted) throw new Error('The backup was cancelled: nothing was published.', { cause: options.signal.reason });
    if (failed) {
      // A process that could not write the file says so in the destination's words (a full disk): that
      // explains everything upstream, a dump killed by SIGPIPE included. Otherwise the producer's own
      // failure explains the run better than the broken pipes it caused.
      const writers = tools.tools.filter((tool) => tool !== dump);
      const exits = await Promise.all(writers.map((tool) => tool.exited));
      const full = exits.map((exit) => (exit.code !== 0 ? file.writeFailure(exit.stderr) : null)).find(Boolean);
      if (full) throw full;
      const own = tools.firstFailure(dump.name) ?? failed;
      const downstream = writers.map((tool, i) => ({ name: tool.name, exit: exits[i]! })).find((f) => f.exit.code !== 0 && f.exit.signal === null);
      throw describeToolFailure(own.name === dump.name && own.exit.signal === 'SIGPIPE' && downstream ? downstream : own, producer.kind);
    }
    const written = await hasher.finish();
    options.onProgress?.(written.sizeBytes);
    await file.publish();
    return written;
  } catch (error) {
    progress?.stop();
    await tools.stop();
    await file.discard();
    throw error;
  }
}

/**
 * Reports a file's size as processes write it: soon after its first bytes (as the stream meter
 * does, so that a short run is seen running), then every `WATCH_MS`.
 */
function watchFile(handle: FileHandle, onGrowth: (bytes: number) => void): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout;
  const next = (delayMs: number) => {
    timer = setTimeout(() => {
      void handle.stat().then(
        (info) => {
          if (stopped) return;
          if (info.size > 0) onGrowth(info.size);
          next(info.size > 0 ? WATCH_MS : 50);
        },
        () => {},
      );
    }, delayMs);
  };
  next(50);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Size and SHA-256 of a file, read with one reused buffer (nothing for the garbage collector).
 * `catchUp` reads what was appended since the last call, so that a file written front to back by a
 * process (zstd, age) is hashed while it is written, on the core the chain leaves idle, rather than
 * after it; `finish` reads the rest to the end.
 */
function fileHasher(handle: FileHandle): { catchUp(): Promise<void>; finish(): Promise<WrittenArtifact> } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafeSlow(HASH_READ);
  let position = 0;
  let reading: Promise<void> = Promise.resolve();
  const read = async () => {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, HASH_READ, position);
      if (bytesRead === 0) return;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  };
  return {
    catchUp: () => (reading = reading.then(read)),
    async finish() {
      await (reading = reading.then(read));
      return { sizeBytes: position, checksumSha256: hash.digest('hex') };
    },
  };
}

const HASH_READ = 1024 * 1024;
/** How often a file being written is looked at: its progress, and the hashing that follows it. */
const WATCH_MS = 250;

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
