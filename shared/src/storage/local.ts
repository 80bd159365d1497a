// The local-directory destination. Writes go to <root>/.tmp/<process tag>.<uuid>.part, are fsynced, then renamed
// into place (and the directory fsynced), so that a crash leaves either the whole object or nothing
// under its final name. Keys are confined to the root, symlinks included.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../infra/errors.js';
import { failpoint } from '../infra/failpoints.js';
import { assertSafeKey, type ByteRange, type DirectFile, type StorageDriver, type StoredObject, type StorageUsage } from './driver.js';
import { STREAM_BUFFER } from '../infra/stream-buffer.js';
import { temporaryName } from '../infra/temporary-names.js';

export const TEMP_DIR_NAME = '.tmp';

export function createLocalStorage(root: string): StorageDriver {
  const base = resolve(root);
  const tempDir = join(base, TEMP_DIR_NAME);

  /** The absolute path of a key, refusing anything that resolves outside the root. */
  async function pathOf(key: string): Promise<string> {
    assertSafeKey(key);
    if (key === TEMP_DIR_NAME || key.startsWith(`${TEMP_DIR_NAME}/`)) {
      throw new ValidationError(`"${key}" is not a valid object key: ${TEMP_DIR_NAME}/ holds unfinished writes.`);
    }
    const path = join(base, key);
    await mkdir(base, { recursive: true }).catch((error: unknown) => {
      throw describeWriteError(error, base);
    });
    const realBase = await realpath(base).catch(() => base);
    // Resolve symlinks of the deepest existing ancestor: a link must not lead out of the root.
    for (let existing = path; ; existing = dirname(existing)) {
      const real = await realpath(existing).catch(() => null);
      if (real !== null) {
        if (real !== realBase && !real.startsWith(realBase + sep)) {
          throw new ValidationError(`"${key}" leads outside the backup directory (through a symbolic link).`);
        }
        break;
      }
      // A link to nowhere could be pointed outside, or its target created, after this check.
      const link = await lstat(existing).catch(() => null);
      if (link?.isSymbolicLink()) throw new ValidationError(`"${key}" leads through a broken symbolic link in the backup directory.`);
      if (dirname(existing) === existing) break;
    }
    return path;
  }

  return {
    kind: 'local',
    description: base,

    async put(key, body, options) {
      const target = await pathOf(key);
      const temp = join(tempDir, temporaryName('.part'));
      let file: WriteStream | undefined;
      try {
        await mkdir(tempDir, { recursive: true });
        // A large buffer lets chunks that arrive while a write is in flight go out together (writev).
        file = createWriteStream(temp, { flags: 'wx', mode: 0o640, highWaterMark: STREAM_BUFFER });
        await pipeline(body, file, { signal: options?.signal });
        await fsyncPath(temp);
        await moveIntoPlace(temp, target, key);
        return { sizeBytes: file.bytesWritten };
      } catch (error) {
        body.destroy();
        // A write stream destroyed before its file was opened still opens (creates) it, then closes it:
        // removed before that, the temporary would come back once the open ran (seen on a busy machine).
        if (file && !file.closed) {
          const closed = new Promise<void>((resolve) => file!.once('close', () => resolve()));
          file.destroy();
          await closed;
        }
        await rm(temp, { force: true });
        throw describeWriteError(error, base, key);
      }
    },

    async openFile(key): Promise<DirectFile> {
      const target = await pathOf(key);
      const temp = join(tempDir, temporaryName('.part'));
      let handle: FileHandle;
      try {
        await mkdir(tempDir, { recursive: true });
        handle = await open(temp, 'wx+', 0o640);
      } catch (error) {
        throw describeWriteError(error, base, key);
      }
      const discard = async () => {
        await handle.close().catch(() => {});
        await rm(temp, { force: true }).catch(() => {});
      };
      return {
        handle,
        async publish() {
          try {
            await handle.sync();
            await handle.close();
            await moveIntoPlace(temp, target, key);
          } catch (error) {
            await discard();
            throw describeWriteError(error, base, key);
          }
        },
        discard,
        writeFailure(message) {
          const code = Object.entries(WRITE_ERROR_TEXTS).find(([, text]) => message.toLowerCase().includes(text))?.[0];
          return code ? describeWriteError(Object.assign(new Error(message), { code }), base, key) : null;
        },
      };
    },

    async get(key, range?: ByteRange) {
      const path = await pathOf(key);
      // 1 MB reads: fewer, larger chunks for the hashing, decryption and pipes downstream.
      const stream = createReadStream(path, { highWaterMark: STREAM_BUFFER, ...(range ? { start: range.start, end: range.end } : {}) });
      await new Promise<void>((resolveOpen, reject) => {
        stream.once('open', () => resolveOpen());
        stream.once('error', reject);
      });
      return stream;
    },

    async openStoredFile(key) {
      const handle = await open(await pathOf(key), 'r');
      return { handle, close: () => handle.close().catch(() => {}) };
    },

    async stat(key) {
      const path = await pathOf(key);
      try {
        const info = await stat(path);
        return info.isFile() ? { key, sizeBytes: info.size, modifiedAt: info.mtime } : null;
      } catch {
        return null;
      }
    },

    async delete(key) {
      const path = await pathOf(key);
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await pruneEmptyDirectories(dirname(path), base);
    },

    async *list(prefix = '') {
      // A prefix is a string, as on S3: "db/2026-" lists db/2026-01.dump and db/2026-02.dump.
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
      const start = folder ? await pathOf(folder) : base;
      for await (const object of walk(start, base)) {
        if (object.key.startsWith(prefix)) yield object;
      }
    },

    async checkWritable() {
      const probe = join(tempDir, `probe-${randomUUID()}`);
      try {
        await mkdir(tempDir, { recursive: true });
        const handle = await open(probe, 'wx');
        await handle.close();
        await unlink(probe);
      } catch (error) {
        throw describeWriteError(error, base);
      }
    },

    async usage(): Promise<StorageUsage> {
      await mkdir(base, { recursive: true });
      const info = await statfs(base);
      const totalBytes = info.blocks * info.bsize;
      const freeBytes = info.bavail * info.bsize;
      // As df computes Use%: blocks reserved for root are neither used nor available to coffre, so
      // they count on neither side; rounded up, so that 80.1 % is above an 80 % threshold.
      const used = (info.blocks - info.bfree) * info.bsize;
      const usedPercent = used + freeBytes > 0 ? Math.ceil((used * 100) / (used + freeBytes)) : 0;
      return { totalBytes, freeBytes, usedPercent };
    },

    async removeStaleTemporaries(olderThanMs) {
      let removed = 0;
      const names = await readdir(tempDir).catch(() => [] as string[]);
      for (const name of names) {
        const path = join(tempDir, name);
        const info = await stat(path).catch(() => null);
        if (info && Date.now() - info.mtimeMs > olderThanMs) {
          await rm(path, { recursive: true, force: true });
          removed += 1;
        }
      }
      return removed;
    },
  };
}

async function* walk(dir: string, base: string): AsyncGenerator<StoredObject> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const key = relative(base, path).split(sep).join('/');
    if (key === TEMP_DIR_NAME) continue;
    if (entry.isDirectory()) yield* walk(path, base);
    else if (entry.isFile()) {
      const info = await stat(path).catch(() => null);
      if (info) yield { key, sizeBytes: info.size, modifiedAt: info.mtime };
    }
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes directories left empty by a delete, up to (not including) the root. */
async function pruneEmptyDirectories(dir: string, base: string): Promise<void> {
  let current = dir;
  while (current.startsWith(base + sep)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

/** A synced temporary file renamed to its key's path, the rename itself made durable (the directory synced). */
async function moveIntoPlace(temp: string, target: string, key: string): Promise<void> {
  await failpoint('storage.before-rename', key);
  await mkdir(dirname(target), { recursive: true });
  await rename(temp, target);
  await fsyncPath(dirname(target));
}

/** How a process (zstd, age, pg_dump) says that a write failed, by errno (strerror's words, lower-cased). */
const WRITE_ERROR_TEXTS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
};

function describeWriteError(error: unknown, base: string, key?: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new Error(`The backup directory ${base} is full (no space left on device): free space or move BACKUP_DIR.`);
  if (code === 'EACCES' || code === 'EPERM') return new Error(`coffre may not write to ${base}: give its user write permission.`);
  if (code === 'EROFS') return new Error(`The backup directory ${base} is on a read-only file system: mount it read-write or move BACKUP_DIR.`);
  if (code === 'EDQUOT') return new Error(`The disk quota for ${base} is exhausted.`);
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return new Error(
      key
        ? `"${key}" cannot be written in ${base}: a file stands where a directory of its path should be.`
        : `The backup directory ${base} cannot be created: a file stands where a directory of its path should be.`,
    );
  }
  if (code === 'EISDIR') return new Error(`"${key}" cannot be written in ${base}: a directory of that name exists.`);
  return error instanceof Error ? error : new Error(String(error));
}
