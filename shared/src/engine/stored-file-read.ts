// A checked read (verify-artifact.ts) of an artifact the storage hands out as a file (a local
// destination), decompressed into a file of the restore's own by processes: the stored bytes are read
// once, with one buffer used again for every piece, counted and hashed, and written into the chain's
// first process (age when the artifact is encrypted, else the decompressor), which write the output
// themselves. The stream read leaves every piece it read to the garbage collector: 34 MB of them at
// its peak in a 150 MB worker. The output is the caller's to use only once this returned: every
// process exited 0, and the size and SHA-256 matched what the backup recorded.
// A failure of an encrypted artifact is explained by reading it again the stream way (verifyArtifact),
// whose decryption tells each kind of damage apart (a chunk altered, dropped, reordered, the wrong key).
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { failpoint } from '../infra/failpoints.js';
import { IntegrityError } from '../infra/errors.js';
import type { StoredFile } from '../storage/driver.js';
import { AGE_TOOL } from './age-tool.js';
import { decompressor } from './compression.js';
import { startTool, toolChain, type RunningTool } from './process.js';
import { writeSecretFile } from './secret-files.js';
import { describeToolFailure, type ToolWork } from './tool-failure.js';
import { checkWhole, precheckArtifact, verifyArtifact, type ArtifactReadOptions } from './verify-artifact.js';

/** The piece read at a time, into the one buffer. */
const PIECE_BYTES = 1024 * 1024;

/** Whether `decompressStoredFile` can read this artifact: its storage hands out files, and age is installed when it is encrypted. */
export function canReadStoredFile(input: ArtifactReadOptions): boolean {
  return !!input.artifact.openStoredFile && (!input.artifact.encrypted || AGE_TOOL !== null);
}

/**
 * Decrypts and decompresses the stored file into `output`; its content is the artifact's only once
 * this resolved. `what` names the work in a tool's failure ("database restore").
 */
export async function decompressStoredFile(input: ArtifactReadOptions, output: FileHandle, what: ToolWork): Promise<void> {
  await precheckArtifact(input.artifact, input.identities);
  const stored = await input.artifact.openStoredFile!();
  let identity: Awaited<ReturnType<typeof writeSecretFile>> | null = null;
  const chain = toolChain(input.signal);
  try {
    if (input.artifact.encrypted) identity = await writeSecretFile(input.identities.map((i) => `${i.secret}\n`).join(''));
    // From the output back to the first process: each is given the next one's stdin.
    const command = decompressor(input.compression);
    const decompress = command ? chain.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', output.fd, 'pipe'] })) : null;
    const decrypt = identity ? chain.watch(startTool('age', AGE_TOOL!, ['--decrypt', '-i', identity.path], { stdio: ['pipe', decompress ? decompress.child.stdin! : output.fd, 'pipe'] })) : null;
    // age holds the decompressor's stdin now; ours would keep it open after age ended.
    if (decrypt) decompress?.child.stdin!.destroy();
    const first = decrypt ?? decompress;
    let read: { bytes: number; digest(): string };
    try {
      read = await pump(stored, first, output, input);
    } catch (error) {
      await chain.stop();
      if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.', { cause: error });
      throw error;
    }
    const failed = await chain.failedExit();
    if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.', { cause: input.signal.reason });
    try {
      checkWhole(read, input.artifact);
      if (failed) throw describeToolFailure(failed, what);
    } catch (error) {
      // The stream read names the damage of an encrypted artifact (it throws an IntegrityError); a
      // sound artifact leaves the tool's own failure.
      if (input.artifact.encrypted && !(error instanceof IntegrityError && error.reason !== 'altered')) await verifyArtifact(input.artifact, input.identities, { signal: input.signal });
      throw error;
    }
  } finally {
    chain.release();
    await identity?.remove();
    await stored.close();
  }
}

/**
 * Reads the stored file piece by piece into one buffer, counts and hashes each piece, and writes it
 * into `first`'s stdin (into `output` when no process is needed), waiting until it is written before
 * reading on. A process that ended takes no more, but the read goes on to the end: damage to the
 * artifact, told by its size and SHA-256, explains a decompressor that failed on it. Stops at once when
 * more bytes than recorded were read.
 */
async function pump(stored: StoredFile, first: RunningTool | null, output: FileHandle, input: ArtifactReadOptions): Promise<{ bytes: number; digest(): string }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(PIECE_BYTES);
  const sink = first?.child.stdin ?? null;
  // A process that ended fails the next write with EPIPE: its exit says why, not the pipe.
  sink?.on('error', () => {});
  let open = true;
  let bytes = 0;
  let reported = 0;
  for (;;) {
    input.signal?.throwIfAborted();
    const { bytesRead } = await stored.handle.read(buffer, 0, PIECE_BYTES, null);
    if (bytesRead === 0) break;
    const piece = buffer.subarray(0, bytesRead);
    hash.update(piece);
    bytes += bytesRead;
    if (bytes > input.artifact.sizeBytes) break;
    if (sink) open &&= await written(sink, piece);
    else await output.write(piece, 0, bytesRead, null);
    if (bytes === bytesRead) await failpoint('restore.first-bytes');
    if (Date.now() - reported >= 1000) {
      reported = Date.now();
      input.onProgress?.(bytes, 'restore');
    }
  }
  sink?.end();
  input.onProgress?.(bytes, 'restore');
  let digest: string | null = null;
  return { bytes, digest: () => (digest ??= hash.digest('hex')) };
}

/** Writes `piece` into a process's stdin; false when the process is gone. */
function written(sink: Writable, piece: Buffer): Promise<boolean> {
  return new Promise((resolve) => sink.write(piece, (error) => resolve(!error)));
}
