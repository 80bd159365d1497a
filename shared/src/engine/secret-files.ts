// Files that hold a secret for a child process (the passfile of pg_dump, pg_restore, psql) live in a
// directory private to this process on this machine's own disk: <tmpdir>/coffre-<uid>/secrets-<pid>,
// both mode 0700. Never under BACKUP_DIR or TMP_DIR, which may be shared storage. A process killed
// with SIGKILL cannot remove its directory: the next worker to start on the machine sweeps the
// directories of processes that are gone.
import { lstat, chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PermanentError } from '../infra/errors.js';

let ownDirectory: Promise<string> | null = null;

/** This process's private directory (created on first use, checked to be ours and closed to others). */
export function privateSecretsDirectory(): Promise<string> {
  ownDirectory ??= (async () => {
    const dir = join(await userDirectory(), `secrets-${process.pid}`);
    await privateDirectory(dir);
    return dir;
  })().catch((error: unknown) => {
    ownDirectory = null;
    throw error;
  });
  return ownDirectory;
}

/** Writes a secret to a new 0600 file of the private directory; `remove` deletes it. */
export async function writeSecretFile(content: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = join(await privateSecretsDirectory(), `secret-${randomUUID()}`);
  await writeFile(path, content, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(path, { force: true }) };
}

/** Removes the private directories of processes of this user that are gone; returns how many. */
export async function sweepSecretsLeftovers(): Promise<number> {
  const parent = userParent();
  const info = await lstat(parent).catch(() => null);
  if (!info?.isDirectory() || info.uid !== uid()) return 0;
  let removed = 0;
  for (const name of await readdir(parent)) {
    const pid = Number(/^secrets-(\d+)$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

function userParent(): string {
  return join(tmpdir(), `coffre-${uid()}`);
}

async function userDirectory(): Promise<string> {
  const dir = userParent();
  await privateDirectory(dir);
  return dir;
}

/**
 * Creates a 0700 directory, or accepts an existing one only when it is a real directory of this user
 * (not a link another user planted in a shared /tmp), closing it to others if it was open.
 */
async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== uid()) {
    throw new PermanentError(`${dir} is not a directory of this user (uid ${uid()}): remove it, so that coffre can keep its passfiles private there.`);
  }
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** Whether a process of this user has that pid (EPERM: another user's process reuses it, so ours is gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function uid(): number {
  return process.getuid?.() ?? 0;
}
