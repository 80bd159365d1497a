// Importing a dump made elsewhere: the uploaded bytes are measured against a size limit, decrypted
// (age, with the installation's key) and decompressed (gzip, zstd) as their first bytes say, and the
// dump inside is recognised from its own first bytes (pg_dump custom, tar, plain SQL) before anything
// is written. It then goes through the artifact chain (write-artifact.ts) like a dump coffre took,
// while a check reads it whole beside the write: pg_restore for custom archives, the tar structure
// and the plain script's header and closing line for the others. The artifact is published only
// when the check passed; a truncated or damaged upload leaves nothing stored.
import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AppError } from '../infra/errors.js';
import { STREAM_BUFFER } from '../infra/stream-buffer.js';
import { AgeError, createDecryptStream, type AgeIdentity } from '../crypto/age.js';
import { decompressor, type CompressionKind } from './compression.js';
import { lastLine, startTool, toolChain, type RunningTool, type ToolChain, type ToolExit } from './process.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';
import { checkTarStructure, type StreamCheck } from './tar-check.js';

export type DumpFormat = 'custom' | 'tar' | 'plain';

/** An upload refused for what it holds (422) or its size (413), with the sentence the caller reads. */
export class ImportRefusedError extends AppError {
  constructor(message: string, status: 413 | 422 = 422) {
    super(status, status === 413 ? 'payload_too_large' : 'not_a_dump', message);
  }
}

export interface ImportInput extends Omit<ArtifactWriteOptions, 'onProgress'> {
  upload: Readable;
  maxBytes: number;
  /** The installation's age identities, read only when the upload is encrypted. */
  identities: () => Promise<AgeIdentity[]>;
  /** pg_restore, which reads custom archives whole to check them. */
  pgRestorePath: string;
  onProgress?: (uploadedBytes: number) => void;
}

export interface ImportResult extends WrittenArtifact {
  format: DumpFormat;
  /** How the upload itself was wrapped. */
  uploadCompression: CompressionKind;
  uploadEncrypted: boolean;
  uploadBytes: number;
  /** The dump's own size, decrypted and decompressed. */
  dumpBytes: number;
  /** "Dumped by pg_dump version …" and "Dumped from database version …", when the dump says. */
  pgDumpVersion: string | null;
  serverVersion: string | null;
}

const AGE_INTRO = Buffer.from('age-encryption.org/v1\n');
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export async function runImport(input: ImportInput): Promise<ImportResult> {
  const tools = toolChain(input.signal);
  try {
    return await importThrough(tools, input);
  } catch (error) {
    tools.kill();
    throw error;
  } finally {
    tools.release();
  }
}

async function importThrough(tools: ToolChain, input: ImportInput): Promise<ImportResult> {
  let uploadBytes = 0;
  const limit = new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      uploadBytes += chunk.length;
      if (uploadBytes > input.maxBytes) {
        callback(new ImportRefusedError(`The upload is larger than IMPORT_MAX_BYTES (${input.maxBytes} bytes): nothing was stored.`, 413));
        return;
      }
      input.onProgress?.(uploadBytes);
      callback(null, chunk);
    },
  });
  let stream = join(input.upload, limit);
  let head: Buffer;
  ({ head, stream } = await peek(stream, 64));
  if (head.length === 0) throw new ImportRefusedError('The upload is empty: send the dump file as the request body.');

  const uploadEncrypted = startsWith(head, AGE_INTRO);
  if (uploadEncrypted) {
    const identities = await input.identities();
    if (identities.length === 0) throw new ImportRefusedError('The file is age-encrypted, and this installation has no AGE_IDENTITY_FILE to decrypt it with: nothing was stored.');
    stream = join(stream, createDecryptStream(identities));
    ({ head, stream } = await peek(stream, 64).catch((error: unknown) => refuseDecryption(error)));
  }
  const uploadCompression: CompressionKind = startsWith(head, GZIP_MAGIC) ? 'gzip' : startsWith(head, ZSTD_MAGIC) ? 'zstd' : 'none';
  if (uploadCompression === 'gzip') stream = join(stream, createGunzip());
  if (uploadCompression === 'zstd') stream = throughTool(tools, stream, 'zstd');
  ({ head, stream } = await peek(stream, 2048).catch((error: unknown) => refuseDamaged(error, uploadCompression)));
  const format = recogniseDump(head);
  if (!format && head.length < 2048) {
    // The stream ended early: a decompressor that failed explains it better than the few bytes it wrote.
    const failed = await tools.failedExit();
    if (failed) refuseDamaged(new Error(lastLine(failed.exit.stderr) || `${failed.name} failed`), uploadCompression);
  }
  if (!format) {
    const wrapped = [uploadEncrypted ? 'age-decrypted' : '', uploadCompression !== 'none' ? `${uploadCompression}-decompressed` : ''].filter(Boolean).join(' and ');
    throw new ImportRefusedError(
      `This file is not a PostgreSQL dump${wrapped ? ` once ${wrapped}` : ''}: coffre imports pg_dump's custom (-Fc) and tar (-Ft) formats and plain SQL scripts, optionally gzip- or zstd-compressed and age-encrypted. Nothing was stored.`,
    );
  }
  const versions = dumpVersions(format, head);

  const check = startCheck(tools, format, input.pgRestorePath);
  let dumpBytes = 0;
  const tee = new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      dumpBytes += chunk.length;
      check.write(chunk, (error) => callback(error ?? null, chunk));
    },
    flush(callback) {
      check.end();
      callback();
    },
  });
  stream = join(stream, tee);
  const produced = (async () => {
    await new Promise<void>((resolve, reject) => {
      if (tee.writableFinished) resolve();
      else tee.once('finish', () => resolve()).once('error', reject);
    });
    await check.verdict();
    const failed = await tools.failedExit();
    if (failed) throw refuseDamaged(new Error(lastLine(failed.exit.stderr) || `${failed.name} failed`), uploadCompression);
  })();
  produced.catch(() => {});
  let written: WrittenArtifact;
  try {
    written = await writeArtifact(input, { kind: 'archive', stream, produced });
  } catch (error) {
    tools.kill();
    explainFailure(error, tools, uploadCompression);
  }
  return { ...written, format, uploadCompression, uploadEncrypted, uploadBytes, dumpBytes, ...versions };
}

/** `to` fed from `from`; a failure of either destroys both, so the last stream reports it. */
function join(from: Readable, to: Transform): Readable {
  pipeline(from, to, () => {});
  return to;
}

function throughTool(tools: ToolChain, from: Readable, name: 'zstd'): Readable {
  const command = decompressor(name)!;
  const tool = tools.watch(startTool(name, command.path, command.args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  pipeline(from, tool.child.stdin!, () => {});
  const out = new PassThrough({ highWaterMark: STREAM_BUFFER });
  pipeline(tool.child.stdout!, out, () => {});
  from.once('error', (error) => out.destroy(error));
  return out;
}

/**
 * The first `bytes` bytes of a stream (fewer when it is shorter), and a stream that still yields
 * every byte from the start.
 */
export function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    let ended = false;
    const finish = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      const head = Buffer.concat(chunks);
      const rest = new PassThrough({ highWaterMark: STREAM_BUFFER });
      rest.write(head);
      if (ended) rest.end();
      else pipeline(stream, rest, () => {});
      resolve({ head: head.subarray(0, bytes), stream: rest });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (have < bytes && (chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        have += chunk.length;
      }
      if (have >= bytes) finish();
    };
    const onEnd = () => {
      ended = true;
      finish();
    };
    const onError = (error: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      reject(error);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/** What a dump's first bytes say it is. */
export function recogniseDump(head: Buffer): DumpFormat | null {
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
  if (head.length >= 512 && head.subarray(257, 262).toString('latin1') === 'ustar' && head.subarray(0, 8).toString('latin1') === 'toc.dat\0') return 'tar';
  if (head.includes(0)) return null;
  const text = head.toString('utf8');
  // pg_dump's plain output opens with its banner; a script may be preceded by a byte-order mark.
  return /^\uFEFF?--\r?\n-- PostgreSQL database dump\r?\n/.test(text) ? 'plain' : null;
}

function dumpVersions(format: DumpFormat, head: Buffer): { pgDumpVersion: string | null; serverVersion: string | null } {
  if (format !== 'plain') return { pgDumpVersion: null, serverVersion: null };
  const text = head.toString('utf8');
  return {
    pgDumpVersion: /^-- Dumped by pg_dump version (\S+)/m.exec(text)?.[1] ?? null,
    serverVersion: /^-- Dumped from database version (\S+)/m.exec(text)?.[1] ?? null,
  };
}

interface DumpCheck {
  write(chunk: Buffer, done: (error?: Error | null) => void): void;
  end(): void;
  /** Resolves once the whole dump was read and found complete; rejects with the refusal otherwise. */
  verdict(): Promise<void>;
}

/** Reads the whole dump beside the write and says whether it is complete. */
function startCheck(tools: ToolChain, format: DumpFormat, pgRestorePath: string): DumpCheck {
  if (format === 'custom') return pgRestoreCheck(tools.watch(startTool('pg_restore', pgRestorePath, ['--file=/dev/null'], { stdio: ['pipe', 'ignore', 'pipe'] })));
  if (format === 'tar') return streamCheck(checkTarStructure());
  return streamCheck(plainScriptCheck());
}

function pgRestoreCheck(tool: RunningTool): DumpCheck {
  const stdin = tool.child.stdin!;
  let broken: Error | null = null;
  let waiting: ((error?: Error | null) => void) | null = null;
  const stop = (error: Error) => {
    broken ??= error;
    waiting?.(broken);
    waiting = null;
  };
  // pg_restore that stopped reading says why in its exit (explainFailure); the broken pipe only stops the upload.
  stdin.on('error', stop);
  stdin.on('close', () => stop(new Error('pg_restore stopped reading the dump')));
  return {
    write(chunk, done) {
      if (broken) return done(broken);
      if (stdin.write(chunk)) return done();
      waiting = done;
      stdin.once('drain', () => {
        if (waiting === done) waiting = null;
        done();
      });
    },
    end: () => stdin.end(),
    async verdict() {
      const exit = await tool.exited;
      if (exit.code !== 0) throw new ImportRefusedError(`The custom-format dump is truncated or damaged (pg_restore read it: ${pgRestoreSaid(exit)}): nothing was stored.`);
    },
  };
}

function streamCheck(check: StreamCheck): DumpCheck {
  let problem: string | null = null;
  return {
    write(chunk, done) {
      check.update(chunk);
      done();
    },
    end: () => {
      problem = check.finish();
    },
    async verdict() {
      if (problem) throw new ImportRefusedError(`${problem}: nothing was stored.`);
    },
  };
}

/** A plain script is complete when pg_dump's closing line came (only \unrestrict and blank lines may follow it). */
function plainScriptCheck(): StreamCheck {
  let tail = '';
  return {
    update(chunk) {
      tail = (tail + chunk.subarray(-512).toString('latin1')).slice(-512);
    },
    finish() {
      const ending = /-- PostgreSQL database dump complete\r?\n--\r?\n(\s*\\unrestrict \S+\s*)?\s*$/.test(tail);
      return ending ? null : 'The plain SQL dump is truncated: it does not end with pg_dump\'s "PostgreSQL database dump complete" line';
    },
  };
}

/** Why an import failed: its own refusal, a tool that read the upload, damaged bytes, or (rethrown) the storage. */
function explainFailure(error: unknown, tools: ToolChain, compression: CompressionKind): never {
  if (error instanceof AppError) throw error;
  const own = tools.failures[0];
  if (own?.name === 'pg_restore') throw new ImportRefusedError(`The custom-format dump is truncated or damaged (pg_restore read it: ${pgRestoreSaid(own.exit)}): nothing was stored.`);
  if (own) refuseDamaged(new Error(lastLine(own.exit.stderr) || `${own.name} failed`), compression);
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof AgeError || (typeof code === 'string' && code.startsWith('Z_'))) refuseDamaged(error, compression);
  throw error;
}

function pgRestoreSaid(exit: ToolExit): string {
  return lastLine(exit.stderr).replace(/^pg_restore: (error: )?/, '') || `exit ${exit.code}`;
}

function startsWith(head: Buffer, magic: Buffer): boolean {
  return head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
}

function refuseDecryption(error: unknown): never {
  if (error instanceof AppError) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw new ImportRefusedError(`The file is age-encrypted but cannot be decrypted with this installation's key (${reason}): nothing was stored.`);
}

function refuseDamaged(error: unknown, compression: CompressionKind): never {
  if (error instanceof AppError) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw new ImportRefusedError(`The file is damaged${compression !== 'none' ? ` (its ${compression} stream cannot be read)` : ''}: ${reason}. Nothing was stored.`);
}
