// The SFTP destination against a real OpenSSH server (sshd -D on a loopback port, throwaway keys).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError } from '@coffre/shared';
import { createSftpStorage, type SftpStorageOptions } from '@coffre/shared/sftp';
import { startSftpServer, type SftpTestServer } from '../../test/support/sftp-server.js';

const MiB = 1024 * 1024;
let server: SftpTestServer;

beforeAll(async () => {
  server = await startSftpServer();
});

afterAll(async () => {
  await server?.stop();
});

function options(overrides: Partial<SftpStorageOptions> = {}): SftpStorageOptions {
  return {
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    remotePath: `${server.files}/${Math.random().toString(36).slice(2, 8)}`,
    hostKeySha256: server.hostKeySha256,
    ...overrides,
  };
}

function randomBytes(size: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(size));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('SFTP destination', () => {
  it('writes an object, reads it back whole and by range, lists and deletes it', async () => {
    const storage = createSftpStorage(options());
    const data = randomBytes(5 * MiB + 123);
    const { sizeBytes } = await storage.put('db/2026/database.dump', Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    expect(sizeBytes).toBe(data.length);
    expect(createHash('sha256').update(await readAll(await storage.get('db/2026/database.dump'))).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await readAll(await storage.get('db/2026/database.dump', { start: 4 * MiB, end: 4 * MiB + 99 }))).toEqual(data.subarray(4 * MiB, 4 * MiB + 100));
    expect(await storage.stat('db/2026/database.dump')).toMatchObject({ sizeBytes: data.length });
    await storage.put('db/2026/manifest.json', Readable.from([Buffer.from('{}')]));
    const listed = [];
    for await (const object of storage.list()) listed.push(object.key);
    expect(listed).toEqual(['db/2026/database.dump', 'db/2026/manifest.json']);
    await storage.delete('db/2026/database.dump');
    await storage.delete('db/2026/manifest.json');
    await storage.delete('db/2026/missing.dump');
    expect(await storage.stat('db/2026/database.dump')).toBeNull();
    await expect(storage.get('db/2026/database.dump')).rejects.toThrow(/not found|does not exist|No such/i);
  });

  it('logs in with a password as well as with a key', async () => {
    const storage = createSftpStorage(options({ privateKey: undefined, password: server.password }));
    await storage.checkWritable();
    const wrong = createSftpStorage(options({ privateKey: undefined, password: 'not-the-password' }));
    const error = await wrong.checkWritable().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/refused the login of user "coffre-sftp-test".*password/);
    expect(error.message).not.toContain('not-the-password');
  });

  it('pins the host key on first use and refuses a server whose key changed', async () => {
    const pins: string[] = [];
    const settings = options({ hostKeySha256: null, pinHostKey: async (fingerprint) => (pins.push(fingerprint), fingerprint) });
    const storage = createSftpStorage(settings);
    await storage.checkWritable();
    expect(pins).toEqual([server.hostKeySha256]);
    await storage.checkWritable();
    expect(pins).toHaveLength(1);

    const old = server.hostKeySha256;
    await server.crash();
    const replaced = await server.replaceHostKey();
    await server.restart();
    expect(replaced).not.toBe(old);
    const moved = createSftpStorage({ ...settings, port: server.port });
    const error = await moved.put('x.dump', Readable.from([Buffer.from('x')])).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`host key of sftp://coffre-sftp-test@127.0.0.1:${server.port} has changed`);
    expect(error.message).toContain(replaced);
    expect(pins).toHaveLength(1);
  });

  it('leaves nothing under the final name when the body fails half-way', async () => {
    const settings = options();
    const storage = createSftpStorage(settings);
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= 3 * MiB) return this.destroy(new Error('pg_dump died'));
        sent += MiB;
        this.push(randomBytes(MiB));
      },
    });
    await expect(storage.put('db/broken.dump', body)).rejects.toThrow('pg_dump died');
    expect(await storage.stat('db/broken.dump')).toBeNull();
    const folder = settings.remotePath.slice(server.files.length + 1);
    expect((await server.filesOnDisk()).filter((name) => name.startsWith(`${folder}/`))).toEqual([]);
  });

  it('removes unfinished uploads older than asked, and lists none of them', async () => {
    const settings = options();
    const storage = createSftpStorage(settings);
    await storage.put('kept.dump', Readable.from([Buffer.from('kept')]));
    const tmp = join(settings.remotePath, '.tmp');
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, 'old.part'), 'left by a crash');
    await writeFile(join(tmp, 'new.part'), 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(tmp, 'old.part'), hourAgo, hourAgo);
    const listed: string[] = [];
    for await (const object of storage.list()) listed.push(object.key);
    expect(listed).toEqual(['kept.dump']);
    expect(await storage.removeStaleTemporaries!(60_000)).toBe(1);
    const folder = settings.remotePath.slice(server.files.length + 1);
    expect((await server.filesOnDisk()).filter((name) => name.startsWith(`${folder}/`))).toEqual([`${folder}/.tmp/new.part`, `${folder}/kept.dump`]);
  });

  it('refuses keys that lead out of its folder', async () => {
    const storage = createSftpStorage(options());
    await expect(storage.put('../escape.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(/not a valid object key/);
    await expect(storage.get('a/../../etc/passwd')).rejects.toThrow(/not a valid object key/);
  });
});
