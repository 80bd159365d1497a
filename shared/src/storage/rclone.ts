// The rclone destination: any remote the rclone tool can reach (Google Drive, Dropbox, OneDrive,
// Backblaze B2, WebDAV, Azure Blob, SFTP …). Bodies are streamed through `rclone rcat` to
// <remotePath>/.tmp/<process tag>.<uuid>.part and moved into place with `rclone moveto` (a
// server-side move where the remote has one), so that a failed upload leaves nothing under a final
// name; reads go through `rclone cat` (--offset/--count for ranges), listings through
// `rclone lsjson`. The rclone configuration is a secret: each command gets it in a fresh 0600 file
// of coffre's private directory, removed when the command ends, and never sees coffre's environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, PermanentError } from '../infra/errors.js';
import { failpoint } from '../infra/failpoints.js';
import { temporaryName } from '../infra/temporary-names.js';
import { assertSafeKey, type ByteRange, type StorageDriver, type StoredObject } from './driver.js';
import { stripPeriod } from './s3-errors.js';

export interface RcloneStorageOptions {
  /** The name of the remote, a section of `config`. */
  remote: string;
  /** A folder of the remote that every key lives under ("" is its root). */
  remotePath: string;
  /** The text of an rclone.conf. */
  config: string;
  /** Writes a secret to a new private 0600 file (engine/secret-files.ts). */
  writeSecretFile: (content: string) => Promise<{ path: string; remove(): Promise<void> }>;
  /** The rclone program (default: rclone on the PATH). */
  binary?: string;
}

const TEMP_DIR_NAME = '.tmp';
/** rclone's exit codes for a missing folder and a missing file. */
const DIRECTORY_NOT_FOUND = 3;
const FILE_NOT_FOUND = 4;

export function describeRcloneLocation(options: Pick<RcloneStorageOptions, 'remote' | 'remotePath'>): string {
  const path = options.remotePath.replace(/\/+$/, '');
  return `rclone ${options.remote}:${path ? `${path}/` : ''}`;
}

export function createRcloneStorage(options: RcloneStorageOptions): StorageDriver {
  const root = options.remotePath.replace(/\/+$/, '');
  const description = describeRcloneLocation(options);
  const remotePathOf = (path: string) => `${options.remote}:${path}`;
  const under = (key: string) => (root ? posix.join(root, key) : key);
  const pathOf = (key: string) => {
    assertSafeKey(key);
    if (key === TEMP_DIR_NAME || key.startsWith(`${TEMP_DIR_NAME}/`)) throw new NotFoundError(`The object "${key}"`);
    return under(key);
  };
  const run = (args: string[], action: string, io: RunIo = {}) => runRclone(options, args, action, description, io);

  const driver: StorageDriver = {
    kind: 'rclone',
    description,

    async put(key, body, putOptions) {
      const target = pathOf(key);
      const temp = under(`${TEMP_DIR_NAME}/${temporaryName('.part')}`);
      let sizeBytes = 0;
      const counted = new PassThrough({ highWaterMark: 256 * 1024 });
      counted.on('data', (chunk: Buffer) => (sizeBytes += chunk.length));
      try {
        await run(['rcat', remotePathOf(temp)], `uploading "${key}"`, { stdin: body, counted, signal: putOptions?.signal });
        await failpoint('storage.before-rename', key);
        await run(['moveto', remotePathOf(temp), remotePathOf(target)], `publishing "${key}"`, { signal: putOptions?.signal });
        return { sizeBytes };
      } catch (error) {
        body.destroy();
        // The remote may be gone: an unfinished file that cannot be removed now goes at the next reconciliation.
        await run(['deletefile', remotePathOf(temp)], 'removing an unfinished upload').catch(() => {});
        throw withSentence(error as Error, `${stripPeriod((error as Error).message)}. Nothing was published under "${key}".`);
      }
    },

    async get(key, range?: ByteRange) {
      const args = ['cat', remotePathOf(pathOf(key))];
      if (range) args.push('--offset', String(range.start), '--count', String(range.end - range.start + 1));
      const output = new PassThrough({ highWaterMark: 1024 * 1024 });
      const done = run(args, `reading "${key}"`, { stdout: output });
      // Wait for the first bytes or the end: a missing object is an error now, not halfway through a download.
      const started = await Promise.race([
        new Promise<'data'>((resolve) => {
          // 'readable' also comes at the end of an empty output: only bytes waiting count as a start.
          const check = () => {
            if (output.readableLength > 0) {
              output.off('readable', check);
              resolve('data');
            }
          };
          output.on('readable', check);
        }),
        done.then(
          () => 'ended' as const,
          (error: unknown) => {
            throw error;
          },
        ),
      ]).catch((error: unknown) => {
        output.destroy();
        if (error instanceof RcloneFailed && [FILE_NOT_FOUND, DIRECTORY_NOT_FOUND].includes(error.exitCode ?? 0)) throw new NotFoundError(`The object "${key}" in ${description}`);
        throw error;
      });
      if (started === 'data') done.catch((error: unknown) => output.destroy(error as Error));
      return output;
    },

    async stat(key) {
      const json = await run(['lsjson', '--stat', remotePathOf(pathOf(key))], `looking up "${key}"`).catch((error: unknown) => {
        if (error instanceof RcloneFailed && [FILE_NOT_FOUND, DIRECTORY_NOT_FOUND].includes(error.exitCode ?? 0)) return null;
        throw error;
      });
      if (json === null) return null;
      const entry = JSON.parse(json) as LsEntry;
      return entry.IsDir ? null : { key, sizeBytes: entry.Size, modifiedAt: new Date(entry.ModTime) };
    },

    async delete(key) {
      const path = pathOf(key);
      await run(['deletefile', remotePathOf(path)], `deleting "${key}"`).catch(async (error: unknown) => {
        // rclone says "is a directory or doesn't exist" with exit code 1: a missing object is no failure.
        if (!(error instanceof RcloneFailed) || (await driver.stat(key)) !== null) throw error;
      });
      // Folders left empty go too (on remotes that have folders), up to the root.
      for (let dir = posix.dirname(key); dir !== '.'; dir = posix.dirname(dir)) {
        if (!(await run(['rmdir', remotePathOf(under(dir))], 'removing an empty folder').then(() => true, () => false))) break;
      }
    },

    async *list(prefix = '') {
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
      const start = folder ? pathOf(folder) : root;
      const json = await run(['lsjson', '-R', '--files-only', remotePathOf(start)], 'listing objects').catch((error: unknown) => {
        if (error instanceof RcloneFailed && error.exitCode === DIRECTORY_NOT_FOUND) return '[]';
        throw error;
      });
      const entries = (JSON.parse(json) as LsEntry[]).sort((a, b) => a.Path.localeCompare(b.Path));
      for (const entry of entries) {
        const key = folder ? `${folder}/${entry.Path}` : entry.Path;
        if (key === TEMP_DIR_NAME || key.startsWith(`${TEMP_DIR_NAME}/`) || !key.startsWith(prefix)) continue;
        yield { key, sizeBytes: entry.Size, modifiedAt: new Date(entry.ModTime) } satisfies StoredObject;
      }
    },

    async checkWritable() {
      const probe = `.coffre-write-probe-${randomUUID()}`;
      await driver.put(probe, Readable.from([Buffer.from('coffre write probe\n')]));
      await driver.delete(probe);
    },

    async removeStaleTemporaries(olderThanMs) {
      const json = await run(['lsjson', '--files-only', remotePathOf(under(TEMP_DIR_NAME))], 'listing unfinished uploads').catch(() => '[]');
      let removed = 0;
      for (const entry of JSON.parse(json) as LsEntry[]) {
        if (Date.now() - new Date(entry.ModTime).getTime() <= olderThanMs) continue;
        await run(['deletefile', remotePathOf(under(`${TEMP_DIR_NAME}/${entry.Path}`))], 'removing an unfinished upload');
        removed += 1;
      }
      return removed;
    },
  };
  return driver;
}

interface LsEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

interface RunIo {
  stdin?: Readable;
  /** Where stdin passes on its way to rclone (to count bytes). */
  counted?: PassThrough;
  stdout?: PassThrough;
  signal?: AbortSignal;
}

export class RcloneFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'RcloneFailed';
  }
}

/**
 * Runs one rclone command with the configuration in a private file and an environment of its own
 * (no RCLONE_* variable of coffre's reaches it); resolves with what it printed when `stdout` is not given.
 */
async function runRclone(options: RcloneStorageOptions, args: string[], action: string, where: string, io: RunIo): Promise<string> {
  const config = await options.writeSecretFile(options.config);
  // Where rclone may spool an upload for remotes that cannot stream: next to the config, private.
  const scratch = await mkdtemp(join(dirname(config.path), 'rclone-'));
  let child: ChildProcess | null = null;
  const onAbort = () => child?.kill('SIGTERM');
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (io.signal?.aborted) throw new Error('The upload was cancelled');
    child = spawn(options.binary ?? 'rclone', [...args, '--config', config.path, '--ask-password=false', '--contimeout', '20s', '--timeout', '60s', '--low-level-retries', '3', '--retries', '1'], {
      stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, TMPDIR: scratch, LANG: 'C.UTF-8' },
    });
    const proc = child;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    let stdout = '';
    if (io.stdout) proc.stdout!.pipe(io.stdout);
    else proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', (code) => resolve(code));
    });
    let feedFailure: unknown = null;
    const feeding = io.stdin
      ? pipeline(io.stdin, io.counted ?? new PassThrough(), proc.stdin!).catch((error: unknown) => {
          feedFailure = error;
          // The body failed (pg_dump died): rclone must not publish a truncated file as if complete.
          proc.kill('SIGTERM');
        })
      : Promise.resolve();
    const [code] = await Promise.all([exited, feeding]);
    if (io.signal?.aborted) throw new Error('The upload was cancelled');
    if (feedFailure && !isBrokenPipe(feedFailure)) throw feedFailure;
    if (code !== 0) throw new RcloneFailed(describeRcloneFailure(where, action, code, stderr, options.config), code);
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !child?.pid) {
      throw new PermanentError(`The rclone program was not found (${action}, ${where}): install it (Debian: apt-get install rclone) on the machines that run workers.`, 'rclone-missing');
    }
    throw error;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    await config.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

function isBrokenPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** rclone's last error line, without any value of its configuration that could be a secret. */
function describeRcloneFailure(where: string, action: string, code: number | null, stderr: string, config: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim())
    .filter((line) => /ERROR|Failed|error/i.test(line));
  let detail = stripPeriod(lines.at(-1) ?? (code === null ? 'it was stopped' : `it exited with code ${code}`));
  for (const secret of configSecrets(config)) detail = detail.split(secret).join('***');
  return `rclone failed while ${action} in ${where}: ${detail.slice(0, 500)}.`;
}

/** Values of the configuration that look secret: passwords, tokens, keys. */
export function configSecrets(config: string): string[] {
  const secrets: string[] = [];
  for (const line of config.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.+?)\s*$/.exec(line);
    if (match && /pass|secret|token|key|pem|sas|credentials|auth/i.test(match[1]!) && match[2]!.length >= 4) secrets.push(match[2]!);
  }
  return secrets;
}

function withSentence(error: Error, message: string): Error {
  if (error instanceof PermanentError) return new PermanentError(message, error.code);
  return new Error(message, { cause: error });
}
