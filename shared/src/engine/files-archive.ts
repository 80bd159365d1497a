// Backing up the files beside a database (uploads, configuration) and restoring them.
//
// A backup is a tar of the include paths, each under its own top-level name, written through the
// artifact chain of write-artifact.ts: compression, age encryption, SHA-256, every destination,
// published only when all of it succeeded. (The tar is written by archiver, kept away from any
// failure: see createTarWriter.) Files are read one at a time. Symbolic links are stored as links, with their
// target as it is on disk, and never followed.
//
// A restore reads the artifact once, checked as it goes, and extracts it into a staging directory
// inside the target (a new or empty directory), publishing the entries only once the whole artifact
// checked out: an entry that would land outside (`..`, an absolute path, a path through a symbolic
// link, a link pointing outside) is refused with a sentence naming it, and nothing is ever written
// outside the target directory.
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, readlink, realpath, rename, rm, stat, symlink, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { basename, join, posix, resolve, sep } from 'node:path';
import { createReadStream } from 'node:fs';
import picomatch from 'picomatch';
import tar from 'tar-stream';
import type { Logger } from '../infra/logger.js';
import { PermanentError } from '../infra/errors.js';
import type { ArtifactReadOptions } from './verify-artifact.js';
import type { ArtifactWriteOptions, WrittenArtifact } from './write-artifact.js';
import { readVerifiedArtifact, writeTarArtifact } from './archive-stream.js';

/** Left out of file backups unless the configuration says otherwise. */
export const defaultFileExcludes = ['node_modules', '.next', 'dist', '*.log'];

export interface FilesBackupInput extends ArtifactWriteOptions {
  /** Files or directories; each is stored under its own name at the top of the archive. */
  paths: string[];
  /**
   * Globs of what to leave out (default: defaultFileExcludes). A glob without a slash matches a
   * name at any depth ("*.log", "cache"); one with a slash matches a path inside an include path,
   * with or without its top-level name ("storage/cache/**" or "app/storage/cache/**").
   */
  exclude?: string[];
  /**
   * Called with each include path just before it is read: answers the real path to read (links
   * resolved), or throws when the path may not be read. Without it, paths are read as given.
   */
  confine?: (path: string) => Promise<string>;
  logger?: Logger;
}

export interface FilesBackupResult extends WrittenArtifact {
  /** Files and symbolic links archived (directories not counted). */
  filesCount: number;
}

export async function runFilesBackup(input: FilesBackupInput): Promise<FilesBackupResult> {
  const roots = await resolveIncludePaths(input.paths, input.confine);
  const excluded = exclusionMatcher(input.exclude ?? defaultFileExcludes);
  let filesCount = 0;
  const written = await writeTarArtifact(input, async (archive) => {
    const addTree = async (path: string, name: string, stats: Stats, relative: string): Promise<void> => {
      input.signal?.throwIfAborted();
      const owner = { mode: stats.mode & 0o7777, mtime: stats.mtime, uid: stats.uid, gid: stats.gid };
      if (stats.isSymbolicLink()) {
        await archive.add({ name, type: 'symlink', linkname: await readlink(path), ...owner });
        filesCount += 1;
        return;
      }
      if (stats.isFile()) {
        await archive.add({ name, type: 'file', size: stats.size, ...owner }, stats.size === 0 ? undefined : fileBytes(path, name, stats.size));
        filesCount += 1;
        return;
      }
      if (!stats.isDirectory()) {
        input.logger?.warn({ path }, 'not a file, directory or link (a socket, FIFO or device): left out of the archive');
        return;
      }
      await archive.add({ name: `${name}/`, type: 'directory', ...owner });
      const children = await readdir(path).catch((error: NodeJS.ErrnoException) => {
        throw readFailure(path, error);
      });
      for (const child of children.sort()) {
        const childRelative = relative ? `${relative}/${child}` : child;
        if (excluded(`${name}/${child}`, childRelative)) continue;
        const childPath = join(path, child);
        // Something removed between the listing and now was not there to back up.
        const childStats = await lstat(childPath).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return null;
          throw readFailure(childPath, error);
        });
        if (childStats) await addTree(childPath, `${name}/${child}`, childStats, childRelative);
      }
    };

    for (const root of roots) await addTree(root.path, root.name, root.stats, '');
  });
  return { ...written, filesCount };
}

export interface FilesRestoreInput extends ArtifactReadOptions {
  /** Where the archive's top-level names are recreated: a new directory, or an empty one. */
  targetDir: string;
}

export interface FilesRestoreResult {
  /** Files and links restored (directories not counted). */
  filesCount: number;
}

/** Where a restore stages what it extracts, inside the target directory, until the artifact checked out. */
const STAGING_PREFIX = '.coffre-staging-';

/**
 * Extracts into a staging directory inside the target while the artifact is read and checked, and
 * publishes the staged entries (one rename each) only once the whole artifact matched its recorded
 * size and SHA-256. A failed restore leaves the target as it was: new, or empty.
 */
export async function runFilesRestore(input: FilesRestoreInput): Promise<FilesRestoreResult> {
  const root = await emptyTargetDirectory(input.targetDir);
  const staging = join(root, `${STAGING_PREFIX}${randomUUID()}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const target = new TargetDirectory(staging, input.targetDir);
    const restored = await readVerifiedArtifact(input, async (content) => {
      const extract = tar.extract();
      content.on('error', (error) => extract.destroy(error));
      content.pipe(extract);
      let filesCount = 0;
      try {
        for await (const entry of extract) {
          // streamx streams are async iterable; their type declarations do not say so.
          filesCount += await target.restore(entry.header, entry as unknown as AsyncIterable<Uint8Array>);
          entry.resume();
        }
      } catch (error) {
        extract.destroy();
        throw error;
      }
      return { filesCount };
    });
    await target.applyDirectoryModes();
    for (const name of await readdir(staging)) await publishEntry(join(staging, name), join(root, name), input.targetDir);
    return restored;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The target directory, created when missing, refused when it is a symbolic link or holds anything
 * but what an interrupted restore staged (which is removed). Returns its real path.
 */
async function emptyTargetDirectory(targetDir: string): Promise<string> {
  const info = await lstat(targetDir).catch(() => null);
  if (info?.isSymbolicLink()) {
    throw new PermanentError(`The target directory ${targetDir} is a symbolic link: restore into a real directory, new or empty.`, 'target-not-empty');
  }
  if (info && !info.isDirectory()) throw new PermanentError(`The target ${targetDir} exists and is not a directory: restore into a new or empty directory.`, 'target-not-empty');
  if (!info) await mkdir(targetDir, { recursive: true, mode: 0o755 });
  const root = await realpath(targetDir);
  const entries = await readdir(root);
  const others = entries.filter((name) => !name.startsWith(STAGING_PREFIX));
  if (others.length > 0) {
    throw new PermanentError(
      `The target directory ${targetDir} is not empty (it holds ${others.length} entr${others.length === 1 ? 'y' : 'ies'}, such as "${others[0]}"): ` +
        'a files restore writes only into a new or empty directory, so that nothing there is overwritten. Nothing was restored.',
      'target-not-empty',
    );
  }
  for (const name of entries) await rm(join(root, name), { recursive: true, force: true });
  return root;
}

/** Moves one staged top-level entry into the target, never over something that appeared there meanwhile. */
async function publishEntry(from: string, to: string, shownAs: string): Promise<void> {
  if (await lstat(to).catch(() => null)) {
    throw new PermanentError(`"${basename(to)}" appeared in ${shownAs} while the restore ran: it was left alone, and the restore stopped.`, 'target-not-empty');
  }
  await rename(from, to);
}

/** Restores entries into one directory, refusing any that would write outside it. */
class TargetDirectory {
  /** Directory modes are applied last: a read-only directory must still receive its files. */
  private directories: { path: string; mode: number; mtime: Date }[] = [];

  constructor(
    private readonly root: string,
    private readonly shownAs: string,
  ) {}

  /** Returns how many files or links the entry added. */
  async restore(header: tar.Header, body: AsyncIterable<Uint8Array>): Promise<number> {
    const name = header.name;
    const segments = this.segmentsOf(name, name);
    switch (header.type ?? 'file') {
      case 'directory': {
        if (segments.length === 0) return 0;
        const path = await this.directory(segments, name);
        this.directories.push({ path, mode: (header.mode ?? 0o755) & 0o777, mtime: header.mtime ?? new Date() });
        return 0;
      }
      case 'file':
      case 'contiguous-file': {
        const path = await this.placeFor(segments, name);
        await writeEntry(path, body, (header.mode ?? 0o644) & 0o777, header.mtime ?? new Date());
        return 1;
      }
      case 'symlink': {
        const linkname = header.linkname ?? '';
        const resolved = posix.normalize(posix.join(posix.dirname(segments.join('/')), linkname));
        if (!linkname || linkname.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
          throw this.refuse(name, `is a symbolic link to "${linkname}", outside the target directory`);
        }
        const path = await this.placeFor(segments, name);
        await symlink(linkname, path);
        return 1;
      }
      case 'link': {
        const linkname = header.linkname ?? '';
        const outside = () => this.refuse(name, `is a hard link to "${linkname}", outside the target directory`);
        if (!linkname || linkname.startsWith('/')) throw outside();
        const existing = await this.existingFile(this.segmentsOf(linkname, name, outside), name, linkname);
        const path = await this.placeFor(segments, name);
        await link(existing, path);
        return 1;
      }
      default:
        throw this.refuse(name, `is a ${header.type}; only files, directories and links are restored`);
    }
  }

  async applyDirectoryModes(): Promise<void> {
    for (const dir of this.directories.reverse()) {
      const info = await lstat(dir.path).catch(() => null);
      if (!info?.isDirectory()) continue;
      await chmod(dir.path, dir.mode);
      await utimes(dir.path, dir.mtime, dir.mtime);
    }
  }

  /** The path segments of an entry name, refusing absolute names and any `..`. */
  private segmentsOf(name: string, entry: string, outside?: () => Error): string[] {
    if (name.includes('\0')) throw this.refuse(entry, 'has a NUL character in its name');
    if (name.startsWith('/')) throw outside?.() ?? this.refuse(entry, 'is an absolute path');
    const segments = name.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.includes('..')) throw outside?.() ?? this.refuse(entry, 'climbs out of the target directory with ".."');
    return segments;
  }

  /** Creates (or checks) each directory of `segments`, never through a symbolic link. */
  private async directory(segments: string[], entry: string): Promise<string> {
    let current = this.root;
    for (const [i, segment] of segments.entries()) {
      const next = join(current, segment);
      let info = await lstat(next).catch(() => null);
      if (!info) {
        await mkdir(next, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        info = await lstat(next);
      }
      const shown = segments.slice(0, i + 1).join('/');
      if (info.isSymbolicLink()) throw this.refuse(entry, `would be written through the symbolic link "${shown}"`);
      if (!info.isDirectory()) throw this.refuse(entry, `needs "${shown}" to be a directory, and it is not one`);
      current = next;
    }
    // The walk above never crosses a link; this catches anything that changed under it meanwhile.
    const real = await realpath(current);
    if (real !== this.root && !real.startsWith(this.root + sep)) throw this.refuse(entry, 'resolves outside the target directory');
    return current;
  }

  /** Where an entry's file or link goes: its directory made, whatever file or link was there removed. */
  private async placeFor(segments: string[], entry: string): Promise<string> {
    if (segments.length === 0) throw this.refuse(entry, 'has no name');
    const parent = await this.directory(segments.slice(0, -1), entry);
    const path = join(parent, segments.at(-1)!);
    const info = await lstat(path).catch(() => null);
    if (info?.isDirectory()) throw this.refuse(entry, 'would replace a directory');
    // Unlinking a symbolic link removes the link itself, never what it points to.
    if (info) await unlink(path);
    return path;
  }

  /** A regular file already restored inside the target, reached without crossing a link. */
  private async existingFile(segments: string[], entry: string, linkname: string): Promise<string> {
    const notAFile = () => this.refuse(entry, `is a hard link to "${linkname}", which is not a file inside the target directory`);
    if (segments.length === 0) throw notAFile();
    let current = this.root;
    for (const segment of segments) {
      current = join(current, segment);
      const info = await lstat(current).catch(() => null);
      if (!info || info.isSymbolicLink()) throw notAFile();
    }
    if (!(await lstat(current)).isFile()) throw notAFile();
    return current;
  }

  private refuse(entry: string, reason: string): PermanentError {
    return new PermanentError(
      `The archive entry "${entry}" ${reason}: it was refused, and the restore stopped there. Nothing was written outside ${this.shownAs}.`,
      'unsafe-archive',
    );
  }
}

/** Writes a file that must not exist (O_EXCL never follows a link), then sets its mode and time. */
async function writeEntry(path: string, body: AsyncIterable<Uint8Array>, mode: number, mtime: Date): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    for await (const chunk of body) await handle.write(chunk);
    // Set-user-ID and set-group-ID bits are dropped: a restore must not plant privileged programs.
    await handle.chmod(mode);
    await handle.utimes(mtime, mtime);
  } finally {
    await handle?.close();
  }
}

interface IncludeRoot {
  path: string;
  name: string;
  stats: Stats;
}

async function resolveIncludePaths(paths: string[], confine?: (path: string) => Promise<string>): Promise<IncludeRoot[]> {
  if (paths.length === 0) throw new PermanentError('No include path was given: name at least one file or directory to back up.');
  const roots: IncludeRoot[] = [];
  for (const given of paths) {
    const path = resolve(given);
    const name = basename(path);
    if (!name) throw new PermanentError(`The include path "${given}" has no name to store it under: name a directory below /.`);
    // An include path that is itself a link (a "current" release) is followed: its content is what
    // the operator named, stored under the link's name. Links inside it are stored as links.
    const real = confine ? await confine(given) : path;
    const stats = await stat(real).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new PermanentError(`The include path "${given}" does not exist: correct it or remove it from the configuration.`);
      throw readFailure(real, error);
    });
    const clash = roots.find((r) => r.name === name);
    if (clash) {
      throw new PermanentError(`The include paths "${clash.path}" and "${path}" would both be stored as "${name}/" in the archive: include their parent directory instead.`);
    }
    roots.push({ path: real, name, stats });
  }
  return roots;
}

/** True when a path (its archive name, or its path inside its include path) is excluded. */
function exclusionMatcher(globs: string[]): (archiveName: string, relative: string) => boolean {
  const byName = globs.filter((g) => !g.includes('/'));
  const byPath = globs.filter((g) => g.includes('/')).map((g) => g.replace(/^\/+/, ''));
  const nameMatches = byName.length ? picomatch(byName, { dot: true }) : () => false;
  const pathMatches = byPath.length ? picomatch(byPath, { dot: true }) : () => false;
  return (archiveName, relative) => nameMatches(posix.basename(archiveName)) || pathMatches(archiveName) || pathMatches(relative);
}

/**
 * A file's bytes. The tar header already holds the size seen when the tree was walked: a file that
 * grew is stored as it was then, one that shrank fails the backup (its entry would be short, and
 * the archive unreadable past it).
 */
async function* fileBytes(path: string, name: string, size: number): AsyncGenerator<Buffer> {
  let read = 0;
  try {
    for await (const chunk of createReadStream(path, { start: 0, end: size - 1, highWaterMark: 256 * 1024 })) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PermanentError(`The file ${path} was removed while it was archived: run the backup again, or exclude "${name}".`);
    throw readFailure(path, error as NodeJS.ErrnoException);
  }
  if (read < size) {
    throw new PermanentError(`The file ${path} shrank while it was archived (${read} of ${size} bytes): run the backup again, or exclude "${name}".`);
  }
}

function readFailure(path: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new PermanentError(`coffre may not read ${path} (permission denied): give its user read access, or exclude it.`);
  }
  return new Error(`Could not read ${path}: ${error.message}`);
}
