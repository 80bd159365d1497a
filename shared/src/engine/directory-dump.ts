// Parallel dumps: `pg_dump --format=directory --jobs=N` writes one file per table, so it can dump
// several tables at once, but only into a directory. It writes into a private temporary directory
// (0700, in TMP_DIR, named after this process so that maintenance removes it if the worker dies),
// reading the snapshot the backup holds; the directory then goes through the artifact chain as one
// tar (write-artifact.ts: compressor, age, SHA-256, every destination), its data files counted
// beside it. A restore reads such an artifact once, checked as every restore reads, and unpacks it
// into a directory of the same kind for pg_restore. Either directory is removed whatever happens.
//
// The tar holds one folder, `database/`, so that `zstd -dc FILE | tar -x` gives a directory
// pg_restore reads as it is: `pg_restore -j N -d DB database`.
import { lstat, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { PermanentError } from '../infra/errors.js';
import { temporaryName } from '../infra/temporary-names.js';
import { readVerifiedArtifact } from './archive-stream.js';
import { readDirectoryToc, rowsOfCopyText } from './dump-row-counter.js';
import { runTool, startTool, toolChain } from './process.js';
import { describeToolFailure } from './tool-failure.js';
import type { ArtifactReadOptions } from './verify-artifact.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';

/** The folder a directory-format artifact holds. */
export const DUMP_FOLDER = 'database';

/** Runs `work` with a new private directory in `tmpDir`, removed afterwards whatever happened. */
export async function withPrivateDirectory<T>(tmpDir: string, work: (dir: string) => Promise<T>): Promise<T> {
  // TMP_DIR lies under BACKUP_DIR by default, which only a local destination creates.
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const dir = join(tmpDir, temporaryName('.dumpdir'));
  await mkdir(dir, { mode: 0o700 });
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface DirectoryDumpInput extends ArtifactWriteOptions {
  tmpDir: string;
  pgDumpPath: string;
  /** pg_dump's arguments but the format, the jobs and the output (the snapshot, the type, the database). */
  args: string[];
  env: NodeJS.ProcessEnv;
  jobs: number;
  /** Count each table's rows in its data file as it is tarred. */
  countRows: boolean;
}

export interface DirectoryDumpResult extends WrittenArtifact {
  /** Rows per schema.table, counted in the data files; null when not asked, or when they could not be read (`countFailure`). */
  rows: Map<string, number> | null;
  countFailure: Error | null;
}

export async function writeDirectoryDump(input: DirectoryDumpInput): Promise<DirectoryDumpResult> {
  return withPrivateDirectory(input.tmpDir, async (dir) => {
    const dumpDir = join(dir, DUMP_FOLDER);
    await runPgDump(input, dumpDir);
    for (const name of await readdir(dumpDir)) {
      if (!(await lstat(join(dumpDir, name))).isFile()) throw new Error(`pg_dump left something other than a file in its directory: ${name}.`);
    }
    // Read beside the tar, from the page cache pg_dump just filled: a few hundred ms of Node for 400 MB of rows.
    const counting = input.countRows ? countDataFiles(dumpDir) : Promise.resolve(null);
    counting.catch(() => {});
    // GNU tar rather than a tar written in Node (archiver): its bytes go to the compressor through an
    // OS pipe. Measured with the worker's node flags (--optimize-for-size --max-semi-space-size=1) on
    // 600 MB of dump: archiver | zstd 4.2–6.1 s, tar | zstd 1.7–2.5 s (2 cores, load 8).
    const written = await writeArtifact(input, {
      kind: 'dump',
      start: (stdout) => startTool('tar', 'tar', ['--create', '--file=-', `--directory=${dir}`, '--', DUMP_FOLDER], { stdio: ['ignore', stdout, 'pipe'] }),
    });
    try {
      return { ...written, rows: await counting, countFailure: null };
    } catch (error) {
      return { ...written, rows: null, countFailure: error as Error };
    }
  });
}

/**
 * Rows per schema.table, counted in the data files the TOC names. A row is one line of COPY text, so
 * coreutils' `wc -l` counts them, natively, from the page cache pg_dump just filled; the end marker's
 * newlines are then taken off where a file ends with it (rowsOfCopyText). Counted in Node (an indexOf
 * per row, a 64 KiB buffer per read) the same 1.2 GB dump cost more CPU than its compression, beside it.
 */
async function countDataFiles(dumpDir: string): Promise<Map<string, number>> {
  const tables = readDirectoryToc(await readFile(join(dumpDir, 'toc.dat')));
  for (const table of tables) {
    if (!/^\d+\.dat$/.test(table.file)) throw new Error(`the data file "${table.file}" is not one this reader counts (compressed?)`);
  }
  const lines = new Map<string, number>();
  for (let at = 0; at < tables.length; at += WC_FILES) {
    const files = tables.slice(at, at + WC_FILES).map((t) => t.file);
    const output = await runTool('wc', ['--lines', '--', ...files], { cwd: dumpDir });
    for (const match of output.matchAll(/^\s*(\d+) (\d+\.dat)$/gm)) lines.set(match[2]!, Number(match[1]));
  }
  const rows = new Map<string, number>();
  for (const table of tables) {
    const newlines = lines.get(table.file);
    if (newlines === undefined) throw new Error(`wc did not count ${table.file}`);
    const { bytes, tail } = await lastBytes(join(dumpDir, table.file), 6);
    rows.set(`${table.schema}.${table.table}`, rowsOfCopyText(newlines, bytes, tail));
  }
  return rows;
}

/** Files per `wc` run: well within the argument list's limit. */
const WC_FILES = 500;

/** A file's length and its last `n` bytes (fewer when it is shorter). */
async function lastBytes(path: string, n: number): Promise<{ bytes: number; tail: Uint8Array }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(n, size));
    if (tail.length > 0) await handle.read(tail, 0, tail.length, size - tail.length);
    return { bytes: size, tail };
  } finally {
    await handle.close();
  }
}

async function runPgDump(input: DirectoryDumpInput, dumpDir: string): Promise<void> {
  const chain = toolChain(input.signal);
  try {
    const args = ['--format=directory', `--jobs=${input.jobs}`, '--compress=0', `--file=${dumpDir}`, ...input.args];
    chain.watch(startTool('pg_dump', input.pgDumpPath, args, { env: input.env, stdio: ['ignore', 'ignore', 'pipe'] }));
    const failed = await chain.failedExit();
    if (input.signal?.aborted) throw new Error('The backup was cancelled: nothing was published.');
    if (failed) throw describeToolFailure({ name: failed.name, exit: { ...failed.exit, stderr: workerCause(failed.exit.stderr) } }, 'dump');
  } finally {
    chain.release();
  }
}

/**
 * With --jobs, pg_dump's last line is often its leader's "a worker process died unexpectedly": the
 * worker's own error, earlier (the server's message when there is one), says why.
 */
function workerCause(stderr: string): string {
  const server = /Error message from server: (?:ERROR:\s*)?(.+)/.exec(stderr);
  if (server) return `pg_dump: error: ${server[1]!.trim()}`;
  return stderr.split('\n').find((line) => /error:/.test(line) && !/worker process died/.test(line)) ?? stderr;
}

/**
 * Reads a directory-format artifact once, checked as every restore reads it (size, SHA-256, age
 * authentication), and unpacks it into `dir`/database; resolves with that path only once the whole
 * artifact matched. Only the files pg_dump writes there (toc.dat, <id>.dat, blob_<oid>.dat,
 * blobs.toc) are accepted, flat in that one folder: anything else is refused with a sentence.
 */
export async function unpackDirectoryDump(options: ArtifactReadOptions, dir: string): Promise<string> {
  const dumpDir = join(dir, DUMP_FOLDER);
  await readVerifiedArtifact(options, (content) => extractDumpFolder(content, dumpDir));
  return dumpDir;
}

const DUMP_FILE = /^(toc\.dat|\d+\.dat|blob_\d+\.dat|blobs(_\d+)?\.toc)$/;

async function extractDumpFolder(content: Readable, dumpDir: string): Promise<void> {
  const extract = tar.extract();
  content.on('error', (error) => extract.destroy(error));
  content.pipe(extract);
  try {
    for await (const entry of extract) {
      await extractEntry(entry.header, entry as unknown as AsyncIterable<Buffer>, dumpDir);
      entry.resume();
    }
  } catch (error) {
    extract.destroy();
    throw error;
  }
  if (!(await lstat(join(dumpDir, 'toc.dat')).catch(() => null))) {
    throw new PermanentError(`The artifact is not a directory-format dump: it has no ${DUMP_FOLDER}/toc.dat. Nothing was restored.`);
  }
}

async function extractEntry(header: tar.Header, body: AsyncIterable<Buffer>, dumpDir: string): Promise<void> {
  if (header.type === 'directory' && header.name.replace(/\/$/, '') === DUMP_FOLDER) {
    await mkdir(dumpDir, { recursive: true, mode: 0o700 });
    return;
  }
  const name = header.name.startsWith(`${DUMP_FOLDER}/`) ? header.name.slice(DUMP_FOLDER.length + 1) : '';
  if (header.type !== 'file' || !DUMP_FILE.test(name)) {
    throw new PermanentError(`The artifact is not a directory-format dump as coffre writes it: it holds "${header.name.slice(0, 200)}". Nothing was restored.`);
  }
  await mkdir(dumpDir, { recursive: true, mode: 0o700 });
  const file = await open(join(dumpDir, name), 'wx', 0o600);
  try {
    for await (const chunk of body) await file.write(chunk);
  } finally {
    await file.close();
  }
}
