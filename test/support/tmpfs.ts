// Small file systems for storage tests: a tiny tmpfs fills up for real (ENOSPC), and a tmpfs
// remounted read-only refuses even root (EROFS), where chmod would not.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /**
   * Read-only from now on. A file open for writing makes the kernel refuse ("mount point is busy"):
   * the remount is tried again until the writer closed it (a stream storing WAL writes one file a
   * second or so), for up to 10 s.
   */
  remountReadOnly(): Promise<void>;
  /** Writable again, with what it held. */
  remountReadWrite(): void;
  unmount(): Promise<void>;
}

/** Whether this process may mount a tmpfs (root, outside a restricted container). */
export function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'coffre-mount-probe-'));
  try {
    if (run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]) !== null) return false;
    run('umount', [dir]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-tmpfs-'));
  const failure = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  if (failure) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs on ${dir}: ${failure}`);
  }
  return {
    dir,
    async remountReadOnly() {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const error = run('mount', ['-o', 'remount,ro', dir]);
        if (!error) return;
        if (!/busy/i.test(error) || Date.now() > deadline) throw new Error(`cannot remount ${dir} read-only: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    remountReadWrite() {
      const error = run('mount', ['-o', 'remount,rw', dir]);
      if (error) throw new Error(`cannot remount ${dir} read-write: ${error}`);
    },
    async unmount() {
      run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command; returns null on success, its stderr otherwise. */
function run(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? null : (result.stderr || result.error?.message || `exit ${result.status}`).trim();
}
