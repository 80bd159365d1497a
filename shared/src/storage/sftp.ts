// The SFTP destination (any SSH server with its SFTP subsystem: OpenSSH, a NAS, a hosting box).
// Writes go to <remotePath>/.tmp/<process tag>.<uuid>.part, are fsynced when the server offers
// fsync@openssh.com, then renamed into place (posix-rename@openssh.com), so that a failed or
// interrupted upload leaves nothing under a final name. The server's host key is pinned on first use
// and checked on every connection after (sftp-session.ts). Each operation uses its own connection.
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { Stats } from 'ssh2';
import { NotFoundError } from '../infra/errors.js';
import { failpoint } from '../infra/failpoints.js';
import { temporaryName } from '../infra/temporary-names.js';
import { assertSafeKey, type ByteRange, type StorageDriver, type StoredObject } from './driver.js';
import { stripPeriod, withMessage } from './s3-errors.js';
import { describeSftpError, openSftpSession, serverLabel, SFTP_NO_SUCH_FILE, type SftpCalls, type SftpServer } from './sftp-session.js';

export { hostKeyFingerprint } from './sftp-session.js';

export interface SftpStorageOptions extends SftpServer {
  /** The folder that every key lives under: absolute, or relative to the login's home ("" is the home). */
  remotePath: string;
}

const TEMP_DIR_NAME = '.tmp';
/** Bytes per SFTP write request, and how many are in flight at once. */
const WRITE_SIZE = 256 * 1024;
const WRITES_IN_FLIGHT = 8;

export function describeSftpLocation(options: Pick<SftpStorageOptions, 'host' | 'port' | 'username' | 'remotePath'>): string {
  const path = options.remotePath.replace(/\/+$/, '');
  if (path.startsWith('/')) return `${serverLabel(options)}${path}/`;
  return `${serverLabel(options)}/~/${path ? `${path}/` : ''}`;
}

export function createSftpStorage(options: SftpStorageOptions): StorageDriver {
  const root = options.remotePath.replace(/\/+$/, '') || '.';
  const tempDir = posix.join(root, TEMP_DIR_NAME);
  const pathOf = (key: string) => {
    assertSafeKey(key);
    if (key === TEMP_DIR_NAME || key.startsWith(`${TEMP_DIR_NAME}/`)) throw new NotFoundError(`The object "${key}"`);
    return posix.join(root, key);
  };
  const description = describeSftpLocation(options);

  /** Runs `work` over a fresh connection, closed afterwards; errors become sentences. */
  async function withSession<T>(action: string, work: (calls: SftpCalls) => Promise<T>): Promise<T> {
    const session = await openSftpSession(options);
    try {
      return await work(session.calls);
    } catch (error) {
      throw describeSftpError(session.lost() ?? error, options, action);
    } finally {
      session.close();
    }
  }

  const driver: StorageDriver = {
    kind: 'sftp',
    description,

    async put(key, body, putOptions) {
      const target = pathOf(key);
      const temp = posix.join(tempDir, temporaryName('.part'));
      const signal = putOptions?.signal;
      let session;
      try {
        session = await openSftpSession(options);
      } catch (error) {
        body.destroy();
        throw withNothingPublished(error as Error, key);
      }
      const calls = session.calls;
      const onAbort = () => session.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      let written = false;
      try {
        if (signal?.aborted) throw new Error('The upload was cancelled');
        await makeDirectories(calls, tempDir);
        const sizeBytes = await writeFile(calls, temp, body);
        written = true;
        await failpoint('storage.before-rename', key);
        await makeDirectories(calls, posix.dirname(target));
        await calls.rename(temp, target).catch(async (error: unknown) => {
          if (!/does not support/i.test((error as Error).message)) throw error;
          await calls.unlink(target).catch(() => {});
          await new Promise<void>((resolve, reject) => session.sftp.rename(temp, target, (e) => (e ? reject(e) : resolve())));
        });
        return { sizeBytes };
      } catch (error) {
        body.destroy();
        // Over a connection still up, the unfinished file goes at once; otherwise reconciliation removes it.
        if (!session.lost()) await calls.unlink(temp).catch(() => {});
        // A failing body is the caller's failure (pg_dump died): it is rethrown as it is.
        if (error instanceof BodyFailed) throw error.error;
        const cause = signal?.aborted ? new Error('The upload was cancelled') : (session.lost() ?? error);
        throw withNothingPublished(describeSftpError(cause, options, `${written ? 'publishing' : 'uploading'} "${key}"`), key);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        session.close();
      }
    },

    async get(key, range?: ByteRange) {
      const path = pathOf(key);
      const session = await openSftpSession(options);
      try {
        const calls = session.calls;
        const handle = await calls.open(path, 'r');
        const size = (await calls.fstat(handle)).size;
        const end = Math.min(range ? range.end + 1 : size, size);
        return readFile(calls, handle, range?.start ?? 0, end, () => session.close());
      } catch (error) {
        session.close();
        if ((error as { code?: unknown }).code === SFTP_NO_SUCH_FILE) throw new NotFoundError(`The object "${key}" in ${description}`);
        throw describeSftpError(session.lost() ?? error, options, `reading "${key}"`);
      }
    },

    async stat(key) {
      const path = pathOf(key);
      return withSession(`looking up "${key}"`, async (calls) => {
        const info = await calls.stat(path).catch((error: { code?: unknown }) => {
          if (error.code === SFTP_NO_SUCH_FILE) return null;
          throw error;
        });
        return info?.isFile() ? { key, sizeBytes: info.size, modifiedAt: new Date(info.mtime * 1000) } : null;
      });
    },

    async delete(key) {
      const path = pathOf(key);
      await withSession(`deleting "${key}"`, async (calls) => {
        await calls.unlink(path).catch((error: { code?: unknown }) => {
          if (error.code !== SFTP_NO_SUCH_FILE) throw error;
        });
        // Folders left empty go too, up to (not including) the root, as with local destinations.
        for (let dir = posix.dirname(path); dir !== root && dir !== '.' && dir !== '/'; dir = posix.dirname(dir)) {
          if (!(await calls.rmdir(dir).then(() => true, () => false))) break;
        }
      });
    },

    async *list(prefix = '') {
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
      const session = await openSftpSession(options);
      try {
        const calls = session.calls;
        for await (const object of walk(calls, folder ? pathOf(folder) : root, root)) {
          if (object.key.startsWith(prefix)) yield object;
        }
      } catch (error) {
        throw describeSftpError(session.lost() ?? error, options, 'listing objects');
      } finally {
        session.close();
      }
    },

    async checkWritable() {
      const probe = `.coffre-write-probe-${randomUUID()}`;
      await driver.put(probe, Readable.from([Buffer.from('coffre write probe\n')]));
      await driver.delete(probe);
    },

    async removeStaleTemporaries(olderThanMs) {
      return withSession('removing unfinished uploads', async (calls) => {
        const entries = await calls.readdir(tempDir).catch(() => []);
        let removed = 0;
        for (const entry of entries) {
          if (Date.now() - entry.attrs.mtime * 1000 <= olderThanMs || !entry.attrs.isFile()) continue;
          await calls.unlink(posix.join(tempDir, entry.filename));
          removed += 1;
        }
        return removed;
      });
    },
  };
  return driver;
}

/**
 * Reads bytes [start, end) of an open file, several requests in flight (ssh2's own read stream asks
 * for one chunk at a time and waits for each: 64 MiB took 24.6 s on loopback that way, 3.7 s here).
 */
function readFile(calls: SftpCalls, handle: Buffer, start: number, end: number, done: () => void): Readable {
  let next = start;
  const queue: Promise<Buffer>[] = [];
  const fill = () => {
    while (queue.length < WRITES_IN_FLIGHT && next < end) {
      const length = Math.min(WRITE_SIZE, end - next);
      queue.push(
        calls.read(handle, length, next).then((data) => {
          // Servers answer a read in full unless the file ended: a short one means the file shrank.
          if (data.length !== length) throw new Error(`The file ended early (${data.length} of ${length} bytes read): it changed while it was read.`);
          return data;
        }),
      );
      next += length;
    }
  };
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    void calls.close(handle).catch(() => {}).finally(done);
  };
  return new Readable({
    highWaterMark: WRITE_SIZE,
    read() {
      fill();
      const first = queue.shift();
      if (!first) {
        finish();
        this.push(null);
        return;
      }
      first.then(
        (data) => {
          fill();
          this.push(data);
        },
        (error: unknown) => this.destroy(error as Error),
      );
    },
    destroy(error, callback) {
      finish();
      callback(error);
    },
  });
}

/** Writes a stream to a new file, several requests in flight, and makes it durable when the server can. */
async function writeFile(calls: SftpCalls, path: string, body: Readable): Promise<number> {
  const handle = await calls.open(path, 'wx');
  let position = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const send = async (data: Buffer) => {
    const at = position;
    position += data.length;
    const request: Promise<void> = calls
      .write(handle, data, at)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    while (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
  };
  try {
    for await (const chunk of bodyChunks(body)) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      pending.push(data);
      pendingBytes += data.length;
      while (pendingBytes >= WRITE_SIZE) {
        const joined = Buffer.concat(pending);
        await send(joined.subarray(0, WRITE_SIZE));
        pending = [joined.subarray(WRITE_SIZE)];
        pendingBytes = pending[0]!.length;
      }
    }
    if (pendingBytes > 0) await send(Buffer.concat(pending));
    await Promise.all(inFlight);
    if (failure) throw failure;
    await calls.fsync(handle).catch((error: Error) => {
      if (!/does not support/i.test(error.message)) throw error;
    });
  } finally {
    await Promise.all(inFlight);
    await calls.close(handle).catch(() => {});
  }
  return position;
}

class BodyFailed {
  constructor(readonly error: unknown) {}
}

async function* bodyChunks(body: Readable): AsyncGenerator<unknown> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    throw new BodyFailed(error);
  }
}

/** Creates a folder and its parents, as `mkdir -p` does. */
async function makeDirectories(calls: SftpCalls, dir: string): Promise<void> {
  if (dir === '.' || dir === '/' || dir === '') return;
  const exists = await calls.stat(dir).then(
    (info: Stats) => info.isDirectory(),
    () => false,
  );
  if (exists) return;
  await makeDirectories(calls, posix.dirname(dir));
  await calls.mkdir(dir).catch(async (error: unknown) => {
    // Another upload may have created it in the meantime.
    const made = await calls.stat(dir).then(
      (info: Stats) => info.isDirectory(),
      () => false,
    );
    if (!made) throw error;
  });
}

async function* walk(calls: SftpCalls, dir: string, root: string): AsyncGenerator<StoredObject> {
  const entries = await calls.readdir(dir).catch((error: { code?: unknown }) => {
    if (error.code === SFTP_NO_SUCH_FILE) return [];
    throw error;
  });
  entries.sort((a, b) => a.filename.localeCompare(b.filename));
  for (const entry of entries) {
    if (entry.filename === '.' || entry.filename === '..') continue;
    const path = posix.join(dir, entry.filename);
    const key = posix.relative(root, path);
    if (key === TEMP_DIR_NAME) continue;
    if (entry.attrs.isDirectory()) yield* walk(calls, path, root);
    else if (entry.attrs.isFile()) yield { key, sizeBytes: entry.attrs.size, modifiedAt: new Date(entry.attrs.mtime * 1000) };
  }
}

function withNothingPublished(error: Error, key: string): Error {
  return withMessage(error, `${stripPeriod(error.message)}. Nothing was published under "${key}".`);
}
