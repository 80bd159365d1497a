// The local destination: keys stay inside the root (links included), an object appears only when
// its body ended cleanly, and a full or read-only disk gives a sentence and leaves nothing behind.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createLocalStorage, TEMP_DIR_NAME, ValidationError, type StorageDriver } from '@coffre/shared';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../../test/support/tmpfs.js';

let dir: string;
let root: string;
let outside: string;
let storage: StorageDriver;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-local-'));
  root = join(dir, 'backups');
  outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'not for coffre');
  storage = createLocalStorage(root);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keys', () => {
  const badKeys = [
    '../escape.dump',
    'a/../../escape.dump',
    'a/..',
    '..',
    '/etc/passwd',
    'a\\..\\b',
    'a\\b',
    'a\u0000b',
    'line\nbreak',
    'tab\there',
    'del\u007f',
    `${TEMP_DIR_NAME}/x.part`,
    TEMP_DIR_NAME,
    '',
    'a//b',
    './a',
    'a/./b',
    'trailing/',
  ];

  it.each(badKeys)('%j is refused by put, get, stat and delete', async (key) => {
    const attempts = [
      () => storage.put(key, Readable.from([Buffer.from('x')])),
      () => storage.get(key),
      () => storage.stat(key),
      () => storage.delete(key),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(ValidationError);
    expect(await filesUnder(dir)).toEqual([join(outside, 'secret.txt')]);
  });

  it('accepts ordinary nested keys and dots inside names', async () => {
    await storage.put('prod/2026-01-01/db.dump.zst.age', Readable.from([Buffer.from('abc')]));
    await storage.put('..hidden..name', Readable.from([Buffer.from('d')]));
    expect((await storage.stat('prod/2026-01-01/db.dump.zst.age'))?.sizeBytes).toBe(3);
    expect((await storage.stat('..hidden..name'))?.sizeBytes).toBe(1);
  });
});

describe('symbolic links inside the root that lead outside', () => {
  it('a linked file is refused for get, put and delete, and the file outside is untouched', async () => {
    await mkdir(root, { recursive: true });
    await symlink(join(outside, 'secret.txt'), join(root, 'link.dump'));
    await expect(storage.get('link.dump')).rejects.toThrow(/leads outside the backup directory/);
    await expect(storage.put('link.dump', Readable.from([Buffer.from('overwrite')]))).rejects.toThrow(/leads outside/);
    await expect(storage.delete('link.dump')).rejects.toThrow(/leads outside/);
    await expect(storage.stat('link.dump')).rejects.toThrow(/leads outside/);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('not for coffre');
  });

  it('a linked directory is refused for get, put, delete and list', async () => {
    await mkdir(root, { recursive: true });
    await symlink(outside, join(root, 'linked'));
    await expect(storage.get('linked/secret.txt')).rejects.toThrow(/leads outside/);
    await expect(storage.put('linked/new.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(/leads outside/);
    await expect(storage.delete('linked/secret.txt')).rejects.toThrow(/leads outside/);
    await expect(collect(storage.list('linked/'))).rejects.toThrow(/leads outside/);
    expect(await readdir(outside)).toEqual(['secret.txt']);
    // The listing of the whole root does not follow the link either.
    expect(await collect(storage.list())).toEqual([]);
  });

  it('a broken link (whose target could appear later, or be repointed) is refused', async () => {
    await mkdir(root, { recursive: true });
    await symlink(join(outside, 'not-yet'), join(root, 'dangling'));
    await expect(storage.put('dangling/x.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(/broken symbolic link/);
    await expect(storage.get('dangling/x.dump')).rejects.toThrow(/broken symbolic link/);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('a link that stays inside the root is followed', async () => {
    await storage.put('real/db.dump', Readable.from([Buffer.from('inside')]));
    await symlink(join(root, 'real'), join(root, 'alias'));
    expect((await buffer(await storage.get('alias/db.dump'))).toString()).toBe('inside');
  });
});

describe('publishing', () => {
  it('a body that fails half-way publishes nothing, leaves no temporary file, and keeps the previous object', async () => {
    await storage.put('db.dump', Readable.from([Buffer.from('previous version')]));
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(300_000, 1);
        yield Buffer.alloc(300_000, 2);
        throw new Error('pg_dump died');
      })(),
    );
    await expect(storage.put('db.dump', failing)).rejects.toThrow('pg_dump died');
    await expect(storage.put('new/db.dump', Readable.from((async function* () {
      yield Buffer.alloc(1000);
      throw new Error('again');
    })()))).rejects.toThrow('again');
    expect((await buffer(await storage.get('db.dump'))).toString()).toBe('previous version');
    expect(await storage.stat('new/db.dump')).toBeNull();
    expect(await readdir(join(root, TEMP_DIR_NAME))).toEqual([]);
    expect(await filesUnder(root)).toEqual([join(root, 'db.dump')]);
  });

  it('an aborted write publishes nothing and leaves no temporary file', async () => {
    const controller = new AbortController();
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const writing = storage.put('aborted.dump', endless, { signal: controller.signal });
    await waitFor(async () => ((await readdir(join(root, TEMP_DIR_NAME)).catch(() => [])).length > 0 ? true : null));
    controller.abort();
    await expect(writing).rejects.toThrow();
    expect(await storage.stat('aborted.dump')).toBeNull();
    expect(await readdir(join(root, TEMP_DIR_NAME))).toEqual([]);
  });

  it('a published object has the bytes and size that were written, and ranges read parts of it', async () => {
    const body = Buffer.from('0123456789abcdef'.repeat(10_000));
    const { sizeBytes } = await storage.put('a/b/c.dump', Readable.from([body.subarray(0, 77), body.subarray(77)]));
    expect(sizeBytes).toBe(body.length);
    expect((await buffer(await storage.get('a/b/c.dump'))).equals(body)).toBe(true);
    expect((await buffer(await storage.get('a/b/c.dump', { start: 10, end: 15 }))).toString()).toBe('abcdef');
    const info = await storage.stat('a/b/c.dump');
    expect(info).toMatchObject({ key: 'a/b/c.dump', sizeBytes: body.length });
    expect(info!.modifiedAt).toBeInstanceOf(Date);
    expect(await storage.stat('a/b')).toBeNull();
    expect(await storage.stat('missing.dump')).toBeNull();
  });

  it('a key whose directory is already a file gets a sentence and leaves nothing behind', async () => {
    await storage.put('taken', Readable.from([Buffer.from('x')]));
    await expect(storage.put('taken/db.dump', Readable.from([Buffer.from('y')]))).rejects.toThrow(
      /"taken\/db.dump" cannot be written in .*: a file stands where a directory of its path should be/,
    );
    expect(await readdir(join(root, TEMP_DIR_NAME))).toEqual([]);
  });
});

describe('list, delete and temporaries', () => {
  it('lists published objects under a prefix (a string prefix, as on S3), never temporaries', async () => {
    for (const key of ['prod/2026-01/a.dump', 'prod/2026-02/b.dump', 'prod/manifest.json', 'staging/c.dump', 'top.dump']) {
      await storage.put(key, Readable.from([Buffer.from(key)]));
    }
    await writeFile(join(root, TEMP_DIR_NAME, 'unfinished.part'), 'half');
    const keys = async (prefix?: string) => (await collect(storage.list(prefix))).map((o) => o.key).sort();
    expect(await keys()).toEqual(['prod/2026-01/a.dump', 'prod/2026-02/b.dump', 'prod/manifest.json', 'staging/c.dump', 'top.dump']);
    expect(await keys('prod/')).toEqual(['prod/2026-01/a.dump', 'prod/2026-02/b.dump', 'prod/manifest.json']);
    expect(await keys('prod/2026-')).toEqual(['prod/2026-01/a.dump', 'prod/2026-02/b.dump']);
    expect(await keys('st')).toEqual(['staging/c.dump']);
    expect(await keys('nothing/')).toEqual([]);
    const [top] = await collect(storage.list('top'));
    expect(top).toMatchObject({ key: 'top.dump', sizeBytes: 'top.dump'.length });
  });

  it('delete removes the object and the directories it leaves empty, not the root or other objects', async () => {
    await storage.put('prod/2026/01/a.dump', Readable.from([Buffer.from('a')]));
    await storage.put('prod/2026/02/b.dump', Readable.from([Buffer.from('b')]));
    await storage.delete('prod/2026/01/a.dump');
    expect(await exists(join(root, 'prod/2026/01'))).toBe(false);
    expect(await exists(join(root, 'prod/2026/02/b.dump'))).toBe(true);
    await storage.delete('prod/2026/02/b.dump');
    expect(await exists(join(root, 'prod'))).toBe(false);
    expect(await exists(root)).toBe(true);
    await expect(storage.delete('prod/2026/02/b.dump')).resolves.toBeUndefined();
  });

  it('removeStaleTemporaries removes only temporaries older than asked', async () => {
    await storage.checkWritable();
    const temp = join(root, TEMP_DIR_NAME);
    await writeFile(join(temp, 'old.part'), 'old');
    await mkdir(join(temp, 'pgpass-old'));
    await writeFile(join(temp, 'fresh.part'), 'fresh');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(temp, 'old.part'), anHourAgo, anHourAgo);
    await utimes(join(temp, 'pgpass-old'), anHourAgo, anHourAgo);
    expect(await storage.removeStaleTemporaries!(10 * 60_000)).toBe(2);
    expect(await readdir(temp)).toEqual(['fresh.part']);
  });
});

describe('disk usage', () => {
  /** Use% as df prints it for the file system of `path`. */
  const dfPercent = (path: string) => {
    const out = spawnSync('df', ['--output=pcent', path], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    return Number(out.stdout.trim().split('\n').at(-1)!.replace('%', ''));
  };

  it('reports the used percentage as df does, here', async () => {
    await mkdir(root, { recursive: true });
    // Other test files write to the same disk meanwhile: df is read before and after, and coffre's
    // figure must lie between the two (a formula that counted reserved blocks as free would not).
    const before = dfPercent(root);
    const used = (await storage.usage!()).usedPercent;
    const after = dfPercent(root);
    expect(used).toBeGreaterThanOrEqual(Math.min(before, after));
    expect(used).toBeLessThanOrEqual(Math.max(before, after));
  });

  it.skipIf(!canMountExt4())('reports the used percentage as df does on a disk with blocks reserved for root, which are not free to coffre', async () => {
    const image = join(dir, 'reserved.img');
    const mountpoint = join(dir, 'reserved');
    await mkdir(mountpoint);
    expect(spawnSync('truncate', ['-s', '16M', image]).status).toBe(0);
    expect(spawnSync('mkfs.ext4', ['-q', '-F', '-m', '25', image]).status).toBe(0);
    const mounted = spawnSync('mount', ['-o', 'loop', image, mountpoint], { encoding: 'utf8' });
    expect(mounted.status, mounted.stderr).toBe(0);
    try {
      await writeFile(join(mountpoint, 'filler'), Buffer.alloc(8 << 20));
      const usage = await createLocalStorage(mountpoint).usage!();
      expect(usage.usedPercent).toBe(dfPercent(mountpoint));
      // Past the 80 % warning, as df says, although less than 80 % of all blocks hold data.
      expect(usage.usedPercent).toBeGreaterThan(80);
    } finally {
      spawnSync('umount', [mountpoint]);
    }
  });
});

describe('unwritable destinations', () => {
  it('checkWritable passes on a writable directory and leaves no probe behind', async () => {
    await storage.checkWritable();
    expect(await readdir(join(root, TEMP_DIR_NAME))).toEqual([]);
  });

  it('checkWritable on a directory that cannot exist (a file is in its path) gives a sentence', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const blocked = createLocalStorage(join(file, 'backups'));
    await expect(blocked.checkWritable()).rejects.toThrow(/^The backup directory .*a-file\/backups cannot be created: a file stands where a directory of its path should be\.$/);
    await expect(blocked.put('x.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(/cannot be created/);
  });

  const mountable = canMountTmpfs();

  describe.skipIf(!mountable)('on a small tmpfs (mounted for the test)', () => {
    let fs: Tmpfs | null = null;

    afterEach(async () => {
      await fs?.unmount();
      fs = null;
    });

    afterAll(async () => {
      await fs?.unmount();
    });

    it('a read-only file system: checkWritable and put give a sentence, even to root', async () => {
      fs = await mountTmpfs(1 << 20);
      const ro = createLocalStorage(join(fs.dir, 'backups'));
      await ro.put('before.dump', Readable.from([Buffer.from('written before')]));
      await fs.remountReadOnly();
      const sentence = /^The backup directory .* is on a read-only file system: mount it read-write or move BACKUP_DIR\.$/;
      await expect(ro.checkWritable()).rejects.toThrow(sentence);
      await expect(ro.put('after.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(sentence);
      expect((await buffer(await ro.get('before.dump'))).toString()).toBe('written before');
    });

    it('a full disk: put fails with a sentence, publishes nothing and frees the space', async () => {
      fs = await mountTmpfs(1 << 20);
      const small = createLocalStorage(join(fs.dir, 'backups'));
      const twoMegabytes = Readable.from(Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 7)));
      await expect(small.put('big.dump', twoMegabytes)).rejects.toThrow(
        /^The backup directory .* is full \(no space left on device\): free space or move BACKUP_DIR\.$/,
      );
      expect(await small.stat('big.dump')).toBeNull();
      expect(await readdir(join(fs.dir, 'backups', TEMP_DIR_NAME))).toEqual([]);
      // The space of the failed write was given back: a smaller object fits.
      await small.put('small.dump', Readable.from([Buffer.alloc(512 * 1024)]));
      expect((await small.stat('small.dump'))?.sizeBytes).toBe(512 * 1024);
      const usage = await small.usage!();
      expect(usage.totalBytes).toBe(1 << 20);
      expect(usage.freeBytes).toBeLessThan(usage.totalBytes);
    });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('the condition was not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Root, with mkfs.ext4 and loop devices: a small ext4 image with reserved blocks can be mounted. */
function canMountExt4(): boolean {
  if (process.getuid?.() !== 0 || spawnSync('mkfs.ext4', ['-V']).error) return false;
  return spawnSync('losetup', ['-f']).status === 0 && canMountTmpfs();
}
