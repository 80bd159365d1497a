// What runs leave behind in the folders of temporaries (each local destination's .tmp, TMP_DIR):
// unfinished uploads (.part) and passfiles. A temporary is left over when it is older than a bound
// (hours: whoever wrote it is long gone), or when the process that wrote it (the tag in its name) has
// no heartbeat any more and it has not been touched for a heartbeat's lifetime: its run died.
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TEMP_DIR_NAME } from '../../storage/local.js';
import { PROCESS_TAG, temporaryOwner } from '../../infra/temporary-names.js';
import type { AppContext } from '../../infra/context.js';
import { heartbeatTiming, liveWorkers } from '../../infra/heartbeats.js';

/** Temporaries older than this belong to runs that died, whoever wrote them. */
export const STALE_TEMPORARY_MS = 6 * 3600_000;

export interface LeftoverTemporary {
  path: string;
  sizeBytes: number;
  /** old: older than the bound; dead: its process has no heartbeat. */
  why: 'old' | 'dead';
}

/** The folders where runs keep temporaries. */
export async function temporaryFolders(ctx: AppContext): Promise<string[]> {
  const locals = await ctx.db.destination.findMany({ where: { kind: 'local' }, select: { config: true } });
  const roots = locals.length > 0 ? locals.map((d) => (d.config as { path: string }).path) : [ctx.config.BACKUP_DIR];
  return [...new Set([...roots.map((root) => join(resolve(root), TEMP_DIR_NAME)), resolve(ctx.config.TMP_DIR)])];
}

export async function leftoverTemporaries(ctx: AppContext, options: { olderThanMs?: number; now?: number } = {}): Promise<LeftoverTemporary[]> {
  const olderThanMs = options.olderThanMs ?? STALE_TEMPORARY_MS;
  const now = options.now ?? Date.now();
  // With Redis away nobody can be declared dead: only age counts then.
  const living = await liveWorkers(ctx).then(
    (beats) => new Set([PROCESS_TAG, ...beats.map((b) => b.process)]),
    () => null,
  );
  const { ttlMs } = heartbeatTiming(ctx.config);
  const found: LeftoverTemporary[] = [];
  for (const folder of await temporaryFolders(ctx)) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const path = join(folder, name);
      const info = await stat(path).catch(() => null);
      if (!info) continue;
      const age = now - info.mtimeMs;
      const owner = temporaryOwner(name);
      const sizeBytes = info.isFile() ? info.size : 0;
      if (age > olderThanMs) found.push({ path, sizeBytes, why: 'old' });
      else if (living && owner && !living.has(owner) && age > ttlMs) found.push({ path, sizeBytes, why: 'dead' });
    }
  }
  return found;
}

/** Removes the leftovers (looked up again now: only what is still left over goes); returns how many. */
export async function removeLeftoverTemporaries(ctx: AppContext, options: { olderThanMs?: number } = {}): Promise<number> {
  const leftovers = await leftoverTemporaries(ctx, options);
  for (const leftover of leftovers) await rm(leftover.path, { recursive: true, force: true });
  return leftovers.length;
}
