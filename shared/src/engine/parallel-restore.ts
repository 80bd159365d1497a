// Loading a database artifact with `pg_restore --jobs`, which needs a file it can seek in. The
// artifact is read once, as every restore reads it (metered, hashed, decrypted, its end held back
// until size and SHA-256 matched: verify-artifact.ts; a local one read in place, with one buffer, into
// age and the decompressor: stored-file-read.ts), and decompressed into a private temporary
// file (0600, in TMP_DIR, named after this process so that maintenance removes it if the worker
// dies), never synced to disk. pg_restore starts only once the whole artifact matched; the file is deleted after.
// A directory-format artifact (a tar of pg_dump -Fd's folder) is unpacked the same way into a private
// temporary directory instead (directory-dump.ts), which pg_restore --jobs reads.
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform, Writable } from 'node:stream';
import { IntegrityError } from '../infra/errors.js';
import { failpoint } from '../infra/failpoints.js';
import { temporaryName } from '../infra/temporary-names.js';
import type { Logger } from '../infra/logger.js';
import { decompressor } from './compression.js';
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool, toolChain } from './process.js';
import { failpointAfterFirstBytes } from './streams.js';
import { describeToolFailure } from './tool-failure.js';
import { watchLoadedRows } from './load-progress.js';
import { unpackDirectoryDump, withPrivateDirectory } from './directory-dump.js';
import { writeDataOffsets } from './archive-offsets.js';
import { openCheckedRead, precheckArtifact, type ArtifactReadOptions } from './verify-artifact.js';
import { canReadStoredFile, decompressStoredFile } from './stored-file-read.js';

export interface ParallelRestoreInput extends ArtifactReadOptions {
  /** The database to load into: empty, and existing once `targetReady` resolved. */
  target: PgConnection;
  /**
   * The target database being created while the artifact is read: awaited before pg_restore starts
   * (nothing of the artifact touches it before the whole artifact matched). Absent: it exists already.
   */
  targetReady?: Promise<void>;
  /** pg_restore --jobs. */
  jobs: number;
  /** custom (default): pg_dump -Fc; directory: a tar of pg_dump -Fd's folder. */
  dumpFormat?: 'custom' | 'directory';
  tmpDir: string;
  logger: Logger;
  /** The artifact matched and pg_restore starts. */
  onLoadStarted?: () => void;
  /** The rows in the target so far, about once a second while pg_restore loads (load-progress.ts). */
  onLoadedRows?: (rows: number) => void;
}

export interface ParallelRestoreResult {
  /** Reading, checking and decompressing the artifact into the temporary file. */
  readMs: number;
  /** pg_restore --jobs from the file. */
  loadMs: number;
  dumpBytes: number;
}

export async function runParallelRestore(input: ParallelRestoreInput): Promise<ParallelRestoreResult> {
  await precheckArtifact(input.artifact, input.identities);
  // While the artifact is read, the target is created and pg_restore found (a matching version
  // installed): pg_restore waits for both, and either failing stops the read at once and is the error.
  const tool = withPgClient(input.target, (client) => detectServerVersion(client), 'postgres').then((server) => resolvePgTool('pg_restore', server.major));
  const prerequisites = Promise.all([input.targetReady, tool]);
  const unmet = new AbortController();
  prerequisites.catch((error: unknown) => unmet.abort(error));
  const ready = async () => (await prerequisites)[1].path;
  const reading = { ...input, signal: input.signal ? AbortSignal.any([input.signal, unmet.signal]) : unmet.signal };
  try {
    return await (input.dumpFormat === 'directory' ? restoreDirectory(reading, ready) : restoreCustom(reading, ready));
  } catch (error) {
    throw unmet.signal.aborted ? unmet.signal.reason : error;
  }
}

/** A custom-format artifact: checked and decompressed into a private file (with its data offsets), loaded from it, removed. */
async function restoreCustom(input: ParallelRestoreInput, ready: () => Promise<string>): Promise<ParallelRestoreResult> {
  // TMP_DIR lies under BACKUP_DIR by default, which only a local destination creates.
  await mkdir(input.tmpDir, { recursive: true, mode: 0o700 });
  const file = join(input.tmpDir, temporaryName('.dump'));
  let offsets: Promise<() => void> | null = null;
  try {
    const readStarted = performance.now();
    const handle = await open(file, 'wx', 0o600);
    let writing = true;
    // The offsets are found behind the decompressor as it writes (archive-offsets.ts), and used only once the artifact matched.
    if (input.jobs > 1) offsets = findDataOffsets(file, input.logger, () => writing);
    let dumpBytes: number;
    try {
      dumpBytes = await writeCheckedDump(input, file, handle);
    } finally {
      writing = false;
      await handle.close();
    }
    const readMs = performance.now() - readStarted;
    input.logger.info({ bytes: input.artifact.sizeBytes, dumpBytes }, 'artifact checked: every byte read was the recorded size and SHA-256, every chunk authenticated');
    if (offsets) (await offsets)();
    const pgRestorePath = await ready();
    const loadStarted = performance.now();
    await loadDump(input, pgRestorePath, file);
    return { readMs: Math.round(readMs), loadMs: Math.round(performance.now() - loadStarted), dumpBytes };
  } finally {
    // A read that failed ends the scan too (its writer is done): waited for before the file goes.
    await offsets;
    await rm(file, { force: true });
  }
}

/**
 * Lets pg_restore's jobs seek straight to their tables (archive-offsets.ts), the dump read behind
 * its writer while `writing`. Without the offsets the restore is the same, only slower: a dump this
 * cannot read is loaded as it is. Resolves with the log line to write once the artifact matched (a
 * read that failed has its own story).
 */
async function findDataOffsets(file: string, logger: Logger, writing: () => boolean): Promise<() => void> {
  const started = performance.now();
  try {
    const entries = await writeDataOffsets(file, { writing });
    const ms = Math.round(performance.now() - started);
    return () => logger.info({ entries, ms }, 'wrote where each table\'s data starts into the dump\'s table of contents, for pg_restore --jobs, as it was written');
  } catch (error) {
    return () => logger.warn({ reason: (error as Error).message }, 'the dump\'s data offsets could not be written: pg_restore --jobs reads through the data to find each table');
  }
}

/** A directory-format artifact: unpacked (read once and checked) into a private directory, loaded from it, removed. */
async function restoreDirectory(input: ParallelRestoreInput, ready: () => Promise<string>): Promise<ParallelRestoreResult> {
  return withPrivateDirectory(input.tmpDir, async (dir) => {
    const readStarted = performance.now();
    const dumpDir = await unpackDirectoryDump(input, dir);
    const readMs = performance.now() - readStarted;
    let dumpBytes = 0;
    for (const name of await readdir(dumpDir)) dumpBytes += (await stat(join(dumpDir, name))).size;
    input.logger.info({ bytes: input.artifact.sizeBytes, dumpBytes }, 'artifact checked and unpacked: every byte read was the recorded size and SHA-256, every chunk authenticated');
    const pgRestorePath = await ready();
    const loadStarted = performance.now();
    await loadDump(input, pgRestorePath, dumpDir);
    return { readMs: Math.round(readMs), loadMs: Math.round(performance.now() - loadStarted), dumpBytes };
  });
}

/** The artifact, read once and checked, decompressed into `file` (open as `handle`); its size. Its content is the artifact's only once this resolved. */
async function writeCheckedDump(input: ParallelRestoreInput, file: string, handle: FileHandle): Promise<number> {
  if (canReadStoredFile(input)) {
    // A local artifact: read with one buffer into the processes (stored-file-read.ts).
    await decompressStoredFile(input, handle, 'database restore');
    return (await handle.stat()).size;
  }
  const chain = toolChain(input.signal);
  try {
    const command = decompressor(input.compression);
    let sink: Writable;
    if (command) {
      const decompress = chain.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', handle.fd, 'pipe'] }));
      sink = decompress.child.stdin!;
    } else {
      // A stream of its own on the file (the handle stays for the fsync): one on the handle would never close, and the pipeline would wait for it.
      sink = createWriteStream(file, { flags: 'r+' });
    }
    const read = await openCheckedRead(input.artifact, input.identities, { onProgress: (bytes) => input.onProgress?.(bytes, 'restore') });
    try {
      await pipeline([...read.stages, failpointAfterFirstBytes('restore.first-bytes'), sink] as unknown as [Readable, Transform, Writable], { signal: input.signal });
      const failed = await chain.failedExit();
      if (failed) throw describeToolFailure(failed, 'database restore');
    } catch (error) {
      await chain.stop();
      if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.', { cause: error });
      const explained = read.explain(error);
      if (explained instanceof IntegrityError) throw explained;
      const first = chain.firstFailure();
      throw first ? describeToolFailure(first, 'database restore') : error;
    }
    // Not synced: the file is private, read back at once from the page cache and deleted after the
    // load, and a crash loses it whatever happens (maintenance removes what is left). Syncing its
    // 860 MB cost 0.35 s of a 12 s restore, for nothing.
    return (await handle.stat()).size;
  } finally {
    chain.release();
  }
}

/**
 * The load's sessions: no WAL flush at each of pg_restore's many commits (the swap's own commit
 * flushes all of it before the database takes the target's name, and a crash before that leaves a
 * load database that is dropped), and more memory for index builds than the default 64 MB.
 */
export const LOAD_SESSION_OPTIONS = '-c synchronous_commit=off -c maintenance_work_mem=256MB';

async function loadDump(input: ParallelRestoreInput, pgRestorePath: string, file: string): Promise<void> {
  input.onLoadStarted?.();
  const watch = input.onLoadedRows ? watchLoadedRows(input.target, input.onLoadedRows) : null;
  try {
    await runPgRestore(input, pgRestorePath, file);
  } finally {
    await watch?.stop();
  }
  // A commit with a transaction id, made synchronously, flushes the WAL of every commit before it.
  await withPgClient(input.target, (client) => client.query('SELECT txid_current()'));
}

async function runPgRestore(input: ParallelRestoreInput, pgRestorePath: string, file: string): Promise<void> {
  await withPgToolAccess(input.target, async ({ env, dbname }) => {
    const chain = toolChain(input.signal);
    try {
      const args = ['--no-owner', '--exit-on-error', `--jobs=${input.jobs}`, '--no-password', dbname, file];
      chain.watch(startTool('pg_restore', pgRestorePath, args, { env: { ...env, PGOPTIONS: LOAD_SESSION_OPTIONS }, stdio: ['ignore', 'ignore', 'pipe'] }));
      const during = failpoint('restore.during-load', input.target.database);
      const [failed] = await Promise.all([chain.failedExit(), during.catch(async (error: unknown) => {
        await chain.stop();
        throw error;
      })]);
      if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.');
      if (failed) throw describeToolFailure(failed, 'database restore');
    } finally {
      chain.release();
    }
  });
}
