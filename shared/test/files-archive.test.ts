// File backups: a tree archived, compressed, encrypted and restored identical; and archives built by
// hand to escape the target directory, refused without writing anything outside it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import {
  IntegrityError,
  parseIdentity,
  PermanentError,
  runFilesBackup,
  runFilesRestore,
  generateIdentity,
  type ArtifactSource,
  type CompressionKind,
  type FilesBackupInput,
} from '@coffre/shared';
import { createWorkspace, type Workspace } from '../../test/support/engine.js';

let ws: Workspace;
let source: string;

beforeAll(async () => {
  ws = await createWorkspace();
  source = join(ws.dir, 'source');
  await buildTree(source);
});

afterAll(async () => {
  await ws.cleanup();
});

/** A tree with what an application directory holds, and what the default exclusions leave out. */
async function buildTree(root: string): Promise<void> {
  const file = async (path: string, content: string | Buffer, mode = 0o644) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content, { mode });
    await chmod(join(root, path), mode);
  };
  await file('app/README.md', '# app\n');
  await file('app/.env', 'SECRET=not-really\n', 0o600);
  await file('app/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  await file('app/empty.txt', '');
  await file('app/data/blob.bin', randomBytes(300_000));
  await file('app/data/big.bin', randomBytes(3 * 1024 * 1024));
  await file('app/data/nested/deep/deeper/note.txt', 'deep\n');
  await file('app/café ünïcødé 日本語.txt', 'non-ASCII name\n');
  await file(`app/${'long-name-'.repeat(12)}.txt`, 'a name longer than 100 bytes\n');
  await mkdir(join(root, 'app/empty-dir'), { recursive: true });
  await symlink('README.md', join(root, 'app/readme-link'));
  await symlink('data/nested', join(root, 'app/nested-link'));
  await file('app/node_modules/pkg/index.js', 'module.exports = 1;\n');
  await file('app/.next/cache/page.js', 'cached\n');
  await file('app/dist/bundle.js', 'built\n');
  await file('app/sub/dist/other.js', 'built deeper\n');
  await file('app/logs/app.log', 'a log line\n');
  await file('app/logs/keep.txt', 'kept\n');
  await file('config/settings.json', '{"a":1}\n');
  await utimes(join(root, 'app/README.md'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
}

interface Node {
  type: 'file' | 'dir' | 'link';
  mode?: number;
  sha256?: string;
  target?: string;
  mtime?: number;
}

/** Everything under a directory, by relative path: type, permissions, content hash or link target. */
async function snapshot(root: string, relative = ''): Promise<Record<string, Node>> {
  const result: Record<string, Node> = {};
  for (const name of await readdir(join(root, relative))) {
    const path = relative ? `${relative}/${name}` : name;
    const info = await lstat(join(root, path));
    if (info.isSymbolicLink()) result[path] = { type: 'link', target: await readlink(join(root, path)) };
    else if (info.isDirectory()) {
      result[path] = { type: 'dir', mode: info.mode & 0o777 };
      Object.assign(result, await snapshot(root, path));
    } else {
      const sha256 = createHash('sha256').update(await readFile(join(root, path))).digest('hex');
      result[path] = { type: 'file', mode: info.mode & 0o777, sha256, mtime: Math.floor(info.mtimeMs / 1000) };
    }
  }
  return result;
}

function without(tree: Record<string, Node>, excluded: (path: string) => boolean): Record<string, Node> {
  return Object.fromEntries(Object.entries(tree).filter(([path]) => !excluded(path)));
}

const defaultExcluded = (path: string) =>
  /(^|\/)(node_modules|\.next|dist)(\/|$)/.test(path) || /\.log$/.test(path);

async function backupFiles(options: Partial<FilesBackupInput> & { key?: string } = {}) {
  const key = options.key ?? `files-${randomBytes(4).toString('hex')}.tar`;
  const result = await runFilesBackup({
    paths: [join(source, 'app'), join(source, 'config')],
    compression: 'zstd',
    recipients: [],
    targets: [{ driver: ws.storage, key }],
    logger: ws.logger,
    ...options,
  });
  return { ...result, key };
}

function artifactOf(taken: { key: string; sizeBytes: number; checksumSha256: string }, encrypted = false): ArtifactSource {
  return { open: () => ws.storage.get(taken.key), sizeBytes: taken.sizeBytes, checksumSha256: taken.checksumSha256, encrypted };
}

async function newTarget(): Promise<string> {
  return mkdtemp(join(ws.dir, 'restored-'));
}

describe('round trip', () => {
  it.each(['zstd', 'gzip', 'none'] as CompressionKind[])('a tree archived with %s compression restores identical, default exclusions left out', async (compression) => {
    const taken = await backupFiles({ compression });
    const expected = without(await snapshot(source), defaultExcluded);
    expect(taken.filesCount).toBe(Object.values(expected).filter((n) => n.type !== 'dir').length);
    expect(taken.checksumSha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await ws.storage.stat(taken.key))?.sizeBytes).toBe(taken.sizeBytes);

    const target = await newTarget();
    const restored = await runFilesRestore({ artifact: artifactOf(taken), compression, identities: [], targetDir: target });
    expect(restored.filesCount).toBe(taken.filesCount);
    const actual = await snapshot(target);
    expect(actual).toEqual(expected);
    expect(actual['app/readme-link']).toEqual({ type: 'link', target: 'README.md' });
    expect(actual['app/.env']?.mode).toBe(0o600);
    expect(actual['app/run.sh']?.mode).toBe(0o755);
    expect(actual['app/README.md']?.mtime).toBe(Date.parse('2020-01-02T03:04:05Z') / 1000);
    expect(Object.keys(actual)).toContain('app/café ünïcødé 日本語.txt');
    expect(Object.keys(actual).some((p) => p.includes('node_modules') || p.endsWith('.log') || p.includes('dist'))).toBe(false);
  });

  it('an encrypted archive is age, restores with the identity and is refused without it', async () => {
    const taken = await backupFiles({ recipients: [ws.recipient] });
    const stored = await readFile(join(ws.storage.description, taken.key));
    expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const target = await newTarget();
    await runFilesRestore({ artifact: artifactOf(taken, true), compression: 'zstd', identities: [parseIdentity(ws.identity)], targetDir: target });
    expect(await snapshot(target)).toEqual(without(await snapshot(source), defaultExcluded));

    const elsewhere = await newTarget();
    const stranger = parseIdentity(generateIdentity().identity);
    await expect(runFilesRestore({ artifact: artifactOf(taken, true), compression: 'zstd', identities: [stranger], targetDir: elsewhere })).rejects.toBeInstanceOf(IntegrityError);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('custom globs replace the defaults, by name at any depth or by path', async () => {
    const taken = await backupFiles({ exclude: ['*.bin', 'data/nested/**', 'app/logs'] });
    const target = await newTarget();
    await runFilesRestore({ artifact: artifactOf(taken), compression: 'zstd', identities: [], targetDir: target });
    // "x/**" leaves out x itself too, as in .gitignore.
    const expected = without(await snapshot(source), (p) => p.endsWith('.bin') || p.startsWith('app/data/nested') || p.startsWith('app/logs'));
    expect(await snapshot(target)).toEqual(expected);
    expect(Object.keys(expected)).toContain('app/node_modules/pkg/index.js');
    expect(Object.keys(expected)).toContain('app/data');
    expect(Object.keys(expected)).toContain('app/nested-link');
  });

  it('stores links as links, never what they point to', async () => {
    const tree = await mkdtemp(join(ws.dir, 'links-'));
    const outside = await mkdtemp(join(ws.dir, 'outside-'));
    await writeFile(join(outside, 'private.txt'), 'must not be archived\n');
    await mkdir(join(tree, 'site'));
    await symlink(outside, join(tree, 'site/shared'));
    const taken = await backupFiles({ paths: [join(tree, 'site')], compression: 'none' });
    const entries = await listEntries(await readFile(join(ws.storage.description, taken.key)));
    expect(entries).toEqual([
      { name: 'site/', type: 'directory', linkname: null },
      { name: 'site/shared', type: 'symlink', linkname: outside },
    ]);
  });

  it('a cancelled backup publishes nothing', async () => {
    const controller = new AbortController();
    const key = 'cancelled.tar.zst';
    const backingUp = backupFiles({ key, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(backingUp).rejects.toThrow(/cancelled: nothing was published/);
    expect(await ws.storage.stat(key)).toBeNull();
    expect(await readdir(join(ws.storage.description, '.tmp')).catch(() => [])).toEqual([]);
  });

  it.each(['none', 'zstd'] as CompressionKind[])('a file that shrinks while it is archived (%s) fails the backup, and nothing is published', async (compression) => {
    const tree = await mkdtemp(join(ws.dir, 'shrinking-'));
    const file = join(tree, 'growing.bin');
    await writeFile(file, randomBytes(64 * 1024 * 1024));
    const key = `shrunk-${compression}.tar`;
    let truncated = false;
    // The file is the include path itself, so the first bytes out are its own: it is being read.
    const onProgress = () => {
      if (truncated) return;
      truncated = true;
      void truncate(file, 1000);
    };
    const error = (await backupFiles({ paths: [file], compression, key, onProgress }).catch((e: Error) => e)) as Error;
    console.log(`shrinking file (${compression}): ${error.message}`);
    expect(error.message).toMatch(/^The file .*growing.bin shrank while it was archived \(\d+ of 67108864 bytes\): run the backup again, or exclude "growing.bin"\.$/);
    expect(await ws.storage.stat(key)).toBeNull();
    expect(await readdir(join(ws.storage.description, '.tmp')).catch(() => [])).toEqual([]);
  });

  it('refuses an include path that does not exist, or two stored under one name', async () => {
    await expect(backupFiles({ paths: [join(source, 'nope')] })).rejects.toThrow(/The include path ".*nope" does not exist/);
    const twin = await mkdtemp(join(ws.dir, 'twin-'));
    await mkdir(join(twin, 'app'));
    await expect(backupFiles({ paths: [join(source, 'app'), join(twin, 'app')] })).rejects.toThrow(/would both be stored as "app\/"/);
  });

  it('a damaged artifact is refused before anything is written', async () => {
    const taken = await backupFiles({ compression: 'none' });
    const stored = await readFile(join(ws.storage.description, taken.key));
    stored[Math.floor(stored.length / 2)] ^= 0xff;
    const target = await newTarget();
    const artifact: ArtifactSource = { open: async () => Readable.from([stored]), sizeBytes: taken.sizeBytes, checksumSha256: taken.checksumSha256, encrypted: false };
    await expect(runFilesRestore({ artifact, compression: 'none', identities: [], targetDir: target })).rejects.toThrow(/altered/);
    expect(await readdir(target)).toEqual([]);
  });
});

describe('hostile archives', () => {
  const marker = `coffre-test-${randomBytes(6).toString('hex')}`;

  afterAll(async () => {
    // Only reached if a test failed in the worst way: nothing of ours stays in /etc.
    await rm(join('/etc', marker), { force: true, recursive: true });
  });

  type HostileEntry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device'; content?: string; linkname?: string };

  async function restoreHostile(entries: HostileEntry[], targetDir?: string) {
    const pack = tar.pack();
    for (const entry of entries) {
      pack.entry({ name: entry.name, type: entry.type ?? 'file', linkname: entry.linkname, mode: 0o644 }, entry.content ?? (entry.type ? undefined : 'x'));
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
    const archive = Buffer.concat(chunks);
    const target = targetDir ?? join(await mkdtemp(join(ws.dir, 'hostile-')), 'target');
    const artifact: ArtifactSource = {
      open: async () => Readable.from([archive]),
      sizeBytes: archive.length,
      checksumSha256: createHash('sha256').update(archive).digest('hex'),
      encrypted: false,
    };
    const error = await runFilesRestore({ artifact, compression: 'none', identities: [], targetDir: target }).then(
      () => null,
      (e: Error) => e,
    );
    return { error, target };
  }

  it('refuses "../" and writes nothing beside the target', async () => {
    const { error, target } = await restoreHostile([{ name: 'fine.txt' }, { name: `../${marker}` }]);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error?.message).toBe(`The archive entry "../${marker}" climbs out of the target directory with "..": it was refused, and the restore stopped there. Nothing was written outside ${target}.`);
    expect(existsSync(join(dirname(target), marker))).toBe(false);
    expect(await readdir(dirname(target))).toEqual(['target']);
    // Staged, never published: the entry before the refused one is not left behind either.
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses "a/../../x" hidden in the middle of a path', async () => {
    const { error, target } = await restoreHostile([{ name: `a/../../${marker}` }]);
    expect(error?.message).toMatch(/climbs out of the target directory/);
    expect(await readdir(dirname(target))).toEqual(['target']);
  });

  it('refuses an absolute path', async () => {
    const { error } = await restoreHostile([{ name: `/etc/${marker}` }]);
    expect(error?.message).toMatch(new RegExp(`^The archive entry "/etc/${marker}" is an absolute path`));
    expect(existsSync(join('/etc', marker))).toBe(false);
  });

  it('refuses a symbolic link to /etc, and so the file meant to go through it', async () => {
    const { error, target } = await restoreHostile([
      { name: 'etc-link', type: 'symlink', linkname: '/etc' },
      { name: `etc-link/${marker}` },
    ]);
    expect(error?.message).toMatch(/^The archive entry "etc-link" is a symbolic link to "\/etc", outside the target directory/);
    expect(existsSync(join('/etc', marker))).toBe(false);
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses a relative link that climbs out', async () => {
    const { error } = await restoreHostile([{ name: 'deep/up', type: 'symlink', linkname: '../../../../etc' }]);
    expect(error?.message).toMatch(/"deep\/up" is a symbolic link to "..\/..\/..\/..\/etc", outside/);
  });

  it('refuses a target directory that is not empty, and writes nothing through a link planted in it', async () => {
    const outside = await mkdtemp(join(ws.dir, 'outside-'));
    const target = join(await mkdtemp(join(ws.dir, 'hostile-')), 'target');
    await mkdir(target);
    await symlink(outside, join(target, 'uploads'));
    const { error } = await restoreHostile([{ name: `uploads/${marker}` }], target);
    expect(error?.message).toBe(
      `The target directory ${target} is not empty (it holds 1 entry, such as "uploads"): a files restore writes only into a new or empty directory, so that nothing there is overwritten. Nothing was restored.`,
    );
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(target)).toEqual(['uploads']);
  });

  it('refuses a target directory that is a symbolic link', async () => {
    const outside = await mkdtemp(join(ws.dir, 'outside-'));
    const target = join(await mkdtemp(join(ws.dir, 'hostile-')), 'target');
    await symlink(outside, target);
    const { error } = await restoreHostile([{ name: 'victim.txt', content: 'restored\n' }], target);
    expect(error?.message).toMatch(/^The target directory .* is a symbolic link: restore into a real directory/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses a hard link to /etc/passwd', async () => {
    const before = await stat('/etc/passwd');
    const { error, target } = await restoreHostile([{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }]);
    expect(error?.message).toMatch(/^The archive entry "passwd" is a hard link to "\/etc\/passwd", outside the target directory/);
    expect((await stat('/etc/passwd')).nlink).toBe(before.nlink);
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses a hard link that climbs out, publishing nothing', async () => {
    const { error, target } = await restoreHostile([
      { name: 'a.txt', content: 'shared\n' },
      { name: 'c.txt', type: 'link', linkname: '../../../etc/passwd' },
    ]);
    expect(error?.message).toMatch(/"c.txt" is a hard link to "..\/..\/..\/etc\/passwd", outside/);
    expect(await readdir(target)).toEqual([]);
  });

  it('restores a hard link inside the archive as a link to the same file', async () => {
    const { error, target } = await restoreHostile([
      { name: 'a.txt', content: 'shared\n' },
      { name: 'b.txt', type: 'link', linkname: 'a.txt' },
    ]);
    expect(error).toBeNull();
    expect((await stat(join(target, 'b.txt'))).ino).toBe((await stat(join(target, 'a.txt'))).ino);
    expect((await readdir(target)).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('refuses device files', async () => {
    const { error } = await restoreHostile([{ name: 'null', type: 'character-device' }]);
    expect(error?.message).toMatch(/"null" is a character-device; only files, directories and links are restored/);
  });
});

async function listEntries(archive: Buffer): Promise<{ name: string; type: string; linkname: string | null }[]> {
  const extract = tar.extract();
  const entries: { name: string; type: string; linkname: string | null }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      entries.push({ name: entry.header.name, type: entry.header.type, linkname: entry.header.linkname ?? null });
      entry.resume();
    }
  })();
  extract.end(archive);
  await done;
  return entries;
}
