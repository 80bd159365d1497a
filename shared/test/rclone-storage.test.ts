// The rclone destination against real remotes: type sftp (a real OpenSSH server) and type webdav
// (rclone serve webdav), both started by the test on loopback ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createRcloneStorage, NotFoundError, privateSecretsDirectory, writeSecretFile, type StorageDriver } from '@coffre/shared';
import { startSftpServer, type SftpTestServer } from '../../test/support/sftp-server.js';
import { sftpRemote, startWebdavServer, webdavRemote, type WebdavTestServer } from '../../test/support/rclone.js';
import { scanProcessesUntil } from '../../test/support/processes.js';

const MiB = 1024 * 1024;
let sshd: SftpTestServer;
let webdav: WebdavTestServer;
const remotes: Record<string, () => Promise<{ storage: StorageDriver; config: string; filesOnDisk: () => Promise<string[]> }>> = {
  sftp: async () => {
    const config = sftpRemote('box', sshd);
    const folder = `${sshd.files}/rc-${Math.random().toString(36).slice(2, 8)}`;
    return { config, storage: createRcloneStorage({ remote: 'box', remotePath: folder, config, writeSecretFile }), filesOnDisk: async () => (await sshd.filesOnDisk()).filter((f) => f.startsWith(folder.slice(sshd.files.length + 1))) };
  },
  webdav: async () => {
    const config = await webdavRemote('dav', webdav);
    const folder = `rc-${Math.random().toString(36).slice(2, 8)}`;
    return { config, storage: createRcloneStorage({ remote: 'dav', remotePath: folder, config, writeSecretFile }), filesOnDisk: async () => (await webdav.filesOnDisk()).filter((f) => f.startsWith(folder)) };
  },
};

beforeAll(async () => {
  [sshd, webdav] = await Promise.all([startSftpServer(), startWebdavServer()]);
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), webdav?.stop()]);
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(Object.keys(remotes))('rclone destination, remote of type %s', (type) => {
  it('streams an object up, reads it whole and by range, lists and deletes it', async () => {
    const { storage, filesOnDisk } = await remotes[type]!();
    const data = randomFillSync(Buffer.allocUnsafe(3 * MiB + 17));
    const { sizeBytes } = await storage.put('db/run1/database.dump', Readable.from([data.subarray(0, 5000), data.subarray(5000)]));
    expect(sizeBytes).toBe(data.length);
    expect(sha(await readAll(await storage.get('db/run1/database.dump')))).toBe(sha(data));
    expect(await readAll(await storage.get('db/run1/database.dump', { start: 2 * MiB, end: 2 * MiB + 999 }))).toEqual(data.subarray(2 * MiB, 2 * MiB + 1000));
    expect(await storage.stat('db/run1/database.dump')).toMatchObject({ sizeBytes: data.length });
    await storage.put('db/run1/manifest.json', Readable.from([Buffer.from('{"a":1}')]));
    const listed: string[] = [];
    for await (const object of storage.list()) listed.push(`${object.key}:${object.sizeBytes}`);
    expect(listed).toEqual([`db/run1/database.dump:${data.length}`, 'db/run1/manifest.json:7']);
    expect((await filesOnDisk()).filter((f) => f.includes('/.tmp/'))).toEqual([]);
    await storage.delete('db/run1/database.dump');
    await storage.delete('db/run1/database.dump');
    expect(await storage.stat('db/run1/database.dump')).toBeNull();
    await expect(storage.get('db/run1/database.dump')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('publishes nothing when the body fails half-way', async () => {
    const { storage, filesOnDisk } = await remotes[type]!();
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= 2 * MiB) return this.destroy(new Error('pg_dump died'));
        sent += 256 * 1024;
        this.push(randomFillSync(Buffer.allocUnsafe(256 * 1024)));
      },
    });
    await expect(storage.put('db/broken.dump', body)).rejects.toThrow('pg_dump died');
    expect(await storage.stat('db/broken.dump')).toBeNull();
    expect((await filesOnDisk()).filter((f) => !f.includes('/.tmp/'))).toEqual([]);
  });

  it('keeps its configuration out of every command line and removes the file it wrote', async () => {
    const { storage, config } = await remotes[type]!();
    const secret = type === 'sftp' ? sshd.privateKey.split('\n')[1]! : config.split('\n').find((l) => l.startsWith('pass = '))!.slice(7);
    const seen: string[] = [];
    const work = (async () => {
      await storage.put('x/probe.bin', Readable.from([randomFillSync(Buffer.allocUnsafe(MiB))]));
      await readAll(await storage.get('x/probe.bin'));
      for await (const _ of storage.list()) void _;
    })();
    const scans = await scanProcessesUntil(work, (p) => {
      if (p.cmdline.startsWith('rclone')) seen.push(p.cmdline);
      expect(p.cmdline).not.toContain(secret);
      expect(p.environ).not.toContain(secret);
    });
    await work;
    expect(scans).toBeGreaterThan(0);
    expect(seen.some((line) => line.includes('--config'))).toBe(true);
    expect(await readdir(await privateSecretsDirectory())).toEqual([]);
  });
});

it('removes unfinished uploads older than asked on the remote', async () => {
  const folder = `${sshd.files}/rc-stale`;
  const storage = createRcloneStorage({ remote: 'box', remotePath: folder, config: sftpRemote('box', sshd), writeSecretFile });
  // A first upload makes the folder and its .tmp/ as the server's user, who must be able to delete in it.
  await storage.put('kept.dump', Readable.from([Buffer.from('kept')]));
  await writeFile(join(folder, '.tmp', 'old.part'), 'left by a crash');
  await writeFile(join(folder, '.tmp', 'new.part'), 'being written');
  const hourAgo = new Date(Date.now() - 3_600_000);
  await utimes(join(folder, '.tmp', 'old.part'), hourAgo, hourAgo);
  expect(await storage.removeStaleTemporaries!(60_000)).toBe(1);
  expect(await readdir(join(folder, '.tmp'))).toEqual(['new.part']);
});

it('fails with a sentence naming the remote when the configuration lacks it', async () => {
  const storage = createRcloneStorage({ remote: 'nowhere', remotePath: '', config: sftpRemote('box', sshd), writeSecretFile });
  await expect(storage.checkWritable()).rejects.toThrow(/rclone failed while uploading.*nowhere/);
});
