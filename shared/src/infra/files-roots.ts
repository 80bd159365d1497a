// Which paths files backups may read and files restores may write into: only those under
// FILES_ROOTS, and never coffre's own state (its settings and keys, its backups, its temporary
// files, its age identity), whatever FILES_ROOTS says. A path is judged by where it really leads:
// symbolic links and ".." are resolved as the kernel would resolve them, so that neither climbs out
// of a root. A root may hold coffre's state (FILES_ROOTS=/srv with BACKUP_DIR=/srv/backups); a path
// that holds it (includePaths /srv) is refused rather than archived without it, so that what an
// operator names is exactly what the archive holds.
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Config } from './config.js';
import { ValidationError } from './errors.js';

export type FilesRootsConfig = Pick<Config, 'FILES_ROOTS' | 'COFFRE_HOME' | 'BACKUP_DIR' | 'TMP_DIR' | 'AGE_IDENTITY_FILE'>;

/** ok: the path may be used, and `realPath` is where it leads; otherwise `problem` completes a sentence that starts with the path. */
export type FilesPathVerdict = { ok: true; realPath: string } | { ok: false; problem: string };

/** Whether files backups and restores may use `path`, and where it really leads. */
export async function checkFilesPath(config: FilesRootsConfig, path: string): Promise<FilesPathVerdict> {
  if (!path.startsWith('/') || path.includes('\0')) return { ok: false, problem: 'is not an absolute path' };
  if (config.FILES_ROOTS.length === 0) {
    return { ok: false, problem: 'cannot be used: files backups and restores are off until an admin sets FILES_ROOTS to the directories they may use' };
  }
  let real: string;
  try {
    real = await realPathOf(path);
  } catch (error) {
    return { ok: false, problem: `cannot be resolved (${reasonOf(error)})` };
  }
  const clash = await stateClash(config, real);
  if (clash) return { ok: false, problem: `${clash.text}, which is never backed up or restored into${clash.holds ? ': name the directories beside it instead' : ''}` };
  const roots = await Promise.all(config.FILES_ROOTS.map((root) => realPathOf(root).catch(() => root)));
  if (!roots.some((root) => isWithin(real, root))) {
    const leads = real === resolve(path) ? '' : ` (it leads to ${real})`;
    return { ok: false, problem: `is outside FILES_ROOTS (${config.FILES_ROOTS.join(', ')})${leads}` };
  }
  return { ok: true, realPath: real };
}

/** The real path of `path`, or a ValidationError (400) naming `field`: "includePaths[0] '/etc' is outside FILES_ROOTS (/srv)." */
export async function assertFilesPath(config: FilesRootsConfig, path: string, field: string): Promise<string> {
  const verdict = await checkFilesPath(config, path);
  if (!verdict.ok) throw new ValidationError(`${field} '${path}' ${verdict.problem}.`, [{ path: field, message: `'${path}' ${verdict.problem}` }]);
  return verdict.realPath;
}

/** The system's own directories: a local destination is never one of them, nor lies in one. */
const SYSTEM_DIRECTORIES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr', '/var/lib/postgresql', '/var/run'];

/**
 * Where a local destination may be: a directory of its own. Not the root of the file system, not in
 * a directory of the system or a .ssh directory, neither in nor holding coffre's own state (COFFRE_HOME,
 * BACKUP_DIR, whose default destination is registered at start, TMP_DIR, the age identity file),
 * judged where its links lead. Returns the real path, or throws a ValidationError (400) naming `field`.
 */
export async function assertLocalDestinationPath(config: FilesRootsConfig, path: string, field: string): Promise<string> {
  const refuse = (problem: string): never => {
    throw new ValidationError(`${field} '${path}' ${problem}.`, [{ path: field, message: `'${path}' ${problem}` }]);
  };
  let real = '';
  try {
    real = await realPathOf(resolve(path));
  } catch (error) {
    refuse(`cannot be resolved (${reasonOf(error)})`);
  }
  const leads = real === resolve(path) ? '' : ` (it leads to ${real})`;
  if (real === sep) refuse(`is the root of the file system${leads}: give the destination a directory of its own (/var/backups/coffre, /srv/backups…)`);
  const system = SYSTEM_DIRECTORIES.find((dir) => isWithin(real, dir));
  if (system) refuse(`lies in ${system}, a directory of the system${leads}: give the destination a directory of its own (/var/backups/coffre, /srv/backups…)`);
  if (real.split(sep).includes('.ssh')) refuse(`lies in a .ssh directory${leads}`);
  // /proc, part of coffre's state, was refused above as a directory of the system.
  const clash = await stateClash(config, real);
  if (clash) refuse(`${clash.text}${leads}${clash.holds ? ': give the destination a directory beside it' : ''}`);
  return real;
}

/** True when `child` is `parent` or lies below it. */
export function isWithin(child: string, parent: string): boolean {
  if (parent === sep) return true;
  return child === parent || child.startsWith(parent + sep);
}

/**
 * The first piece of coffre's own state that the real path `real` is, lies in or holds: the words that
 * say so ("lies inside coffre's own backup directory (BACKUP_DIR) (/srv/backups)"), and whether it holds it.
 */
async function stateClash(config: FilesRootsConfig, real: string): Promise<{ text: string; holds: boolean } | null> {
  for (const state of await coffreState(config)) {
    if (isWithin(real, state.path)) return { text: `${real === state.path ? 'is' : 'lies inside'} coffre's own ${state.what} (${state.path})`, holds: false };
    if (isWithin(state.path, real)) return { text: `holds coffre's own ${state.what} (${state.path})`, holds: true };
  }
  return null;
}

interface StatePath {
  path: string;
  what: string;
}

async function coffreState(config: FilesRootsConfig): Promise<StatePath[]> {
  const state: StatePath[] = [
    { path: config.COFFRE_HOME, what: 'home (COFFRE_HOME: its generated settings and keys)' },
    { path: config.BACKUP_DIR, what: 'backup directory (BACKUP_DIR)' },
    { path: config.TMP_DIR, what: 'temporary directory (TMP_DIR)' },
    // The process's environment (SECRET_KEY, ADMIN_TOKEN) reads as files there.
    { path: '/proc', what: 'process information (/proc, where its environment can be read)' },
  ];
  if (config.AGE_IDENTITY_FILE) state.push({ path: config.AGE_IDENTITY_FILE, what: 'age identity file (AGE_IDENTITY_FILE)' });
  // Both spellings count: a state directory reached through a link is refused under either name.
  const resolved = await Promise.all(state.map(async (s) => ({ ...s, path: await realPathOf(s.path).catch(() => resolve(s.path)) })));
  return [...state.map((s) => ({ ...s, path: resolve(s.path) })), ...resolved];
}

/**
 * Where an absolute path leads, segment by segment as the kernel walks it: each existing prefix is
 * resolved with realpath (links followed, ".." applied to the real directory), and the part that
 * does not exist yet is appended as written. A broken link on the way is refused: what it would
 * lead to once created cannot be judged now.
 */
async function realPathOf(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  let current: string = sep;
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, segment);
    try {
      current = await realpath(next);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const link = await lstat(next).catch(() => null);
      if (link?.isSymbolicLink()) throw Object.assign(new Error(`${next} is a broken symbolic link`), { code: 'broken symbolic link' });
      current = next;
    }
  }
  return current;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many symbolic links';
  return code ?? (error as Error).message;
}
