// SFTP and rclone destinations end to end, through the API and real workers: one backup written to an
// SFTP server (a real sshd) and to an rclone remote (WebDAV, rclone serve webdav) at once, downloaded
// back byte-identical from each and restored from each; then an SFTP server that disappears in the
// middle of a large upload (sshd and its sessions killed): the run fails with a sentence and nothing
// appears under a final name, on the SFTP server or on the rclone remote of type sftp it also served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { createDatabase, forgetDatabase, withClient } from '../support/pg.js';
import { createRichDatabase, dataChecksums } from '../support/fixtures.js';
import { databaseUrl, uniqueName } from '../support/env.js';
import { startSftpServer, type SftpTestServer } from '../support/sftp-server.js';
import { sftpRemote, startWebdavServer, webdavRemote, type WebdavTestServer } from '../support/rclone.js';

let stack: TestStack;
let sshd: SftpTestServer;
let webdav: WebdavTestServer;
let auth: { Authorization: string };
let sourceUrl: string;
let sftpId: string;
let rcloneId: string;
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  [sshd, webdav] = await Promise.all([startSftpServer(), startWebdavServer()]);
  const source = await createDatabase('coffre_remote_src');
  await createRichDatabase(source.url);
  sourceUrl = source.url;
  stack = await createTestStack({ sourceUrl });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
  const sftp = await request(stack.app)
    .post('/api/destinations')
    .set(auth)
    .send({ name: 'sftp-box', kind: 'sftp', host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, remotePath: `${sshd.files}/coffre` });
  expect(sftp.status).toBe(201);
  sftpId = sftp.body.id;
  const rclone = await request(stack.app)
    .post('/api/destinations')
    .set(auth)
    .send({ name: 'dav', kind: 'rclone', remote: 'dav', remotePath: 'coffre', rcloneConfig: await webdavRemote('dav', webdav) });
  expect(rclone.status).toBe(201);
  rcloneId = rclone.body.id;
});

afterAll(async () => {
  console.info(`remote destinations: ${JSON.stringify(figures)}`);
  await stack?.close();
  await Promise.all([sshd?.stop(), webdav?.stop()]);
});

async function runConfiguration(body: Record<string, unknown>): Promise<{ id: string }> {
  const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  const configuration = await request(stack.app).post('/api/configurations').set(auth).send({ sourceId, ...body });
  expect(configuration.status).toBe(201);
  const run = await request(stack.app).post(`/api/configurations/${configuration.body.id}/run`).set(auth).send();
  expect(run.status).toBe(202);
  return run.body;
}

async function finished(path: string, timeoutMs = 180_000): Promise<Record<string, unknown> & { status: string; errorMessage: string | null }> {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, timeoutMs, path);
}

async function download(backupId: string, destination: string) {
  const res = await request(stack.app)
    .get(`/api/backups/${backupId}/download`)
    .query({ destination })
    .set(auth)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return { status: res.status, headers: res.headers, body: res.body as Buffer };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a backup written to an SFTP server and an rclone remote at once', () => {
  let backup: { id: string; name: string; checksumSha256: string; sizeBytes: number; status: string; errorMessage: string | null };

  beforeAll(async () => {
    const run = await runConfiguration({ name: 'two-remotes', destinationIds: [sftpId, rcloneId] });
    const started = Date.now();
    backup = (await finished(`/api/backups/${run.id}`)) as typeof backup;
    figures.twoRemotesBackupMs = Date.now() - started;
  });

  it('completes with a copy in each, and pins the SFTP host key on the way', async () => {
    expect({ status: backup.status, error: backup.errorMessage }).toEqual({ status: 'completed', error: null });
    const artifacts = await stack.ctx.db.backupArtifact.findMany({ where: { backupId: backup.id, kind: 'database' } });
    expect(artifacts.map((a) => a.destinationId).sort()).toEqual([sftpId, rcloneId].sort());
    const shown = await request(stack.app).get(`/api/destinations/${sftpId}`).set(auth);
    expect(shown.body.config.hostKeySha256).toBe(sshd.hostKeySha256);
    expect(shown.body.hasCredentials).toBe(true);
    expect(JSON.stringify(shown.body)).not.toContain('PRIVATE KEY');
    const key = artifacts[0]!.key;
    expect(await sshd.filesOnDisk()).toContain(`coffre/${key}`);
    expect(await webdav.filesOnDisk()).toContain(`coffre/${key}`);
  });

  it('downloads back byte-identical from each, whole and by range', async () => {
    const fromSftp = await download(backup.id, 'sftp-box');
    const fromRclone = await download(backup.id, 'dav');
    expect([fromSftp.status, fromSftp.headers['x-coffre-destination']]).toEqual([200, 'sftp-box']);
    expect([fromRclone.status, fromRclone.headers['x-coffre-destination']]).toEqual([200, 'dav']);
    expect(sha256(fromSftp.body)).toBe(backup.checksumSha256);
    expect(fromRclone.body.equals(fromSftp.body)).toBe(true);
    for (const destination of ['sftp-box', 'dav']) {
      const range = await request(stack.app).get(`/api/backups/${backup.id}/download`).query({ destination }).set(auth).set('Range', 'bytes=100-199').buffer(true);
      expect(range.status).toBe(206);
      expect(Buffer.from(range.body as Buffer).equals(fromSftp.body.subarray(100, 200))).toBe(true);
    }
    figures.artifactBytes = fromSftp.body.length;
  });

  it('restores from the SFTP copy, and from the rclone copy once the SFTP one is gone', async () => {
    const expected = await dataChecksums(sourceUrl);
    const restoreInto = async () => {
      const target = uniqueName('coffre_remote_restored').toLowerCase();
      forgetDatabase(target);
      const started = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target, confirm: backup.name });
      expect(started.status).toBe(202);
      const restore = await finished(`/api/restores/${started.body.id}`);
      expect({ status: restore.status, error: restore.errorMessage }).toEqual({ status: 'completed', error: null });
      return dataChecksums(databaseUrl(target));
    };
    expect(await restoreInto()).toEqual(expected);
    const key = (await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'database', destinationId: sftpId } })).key;
    await rm(join(sshd.files, 'coffre', key));
    expect((await download(backup.id, 'sftp-box')).status).toBe(404);
    expect(await restoreInto()).toEqual(expected);
  });

  it('keeps every credential out of the logs', () => {
    const logs = stack.logs.join('');
    expect(logs).not.toContain(sshd.privateKey.split('\n')[1]!);
    expect(logs).not.toContain(webdav.password);
  });
});

describe('an SFTP server that disappears in the middle of a large upload', () => {
  let rcloneSftpId: string;

  beforeAll(async () => {
    // About 60 MB of rows that do not compress, stored uncompressed: the upload takes seconds.
    await withClient(sourceUrl, (client) =>
      client.query(`CREATE TABLE big AS SELECT i, md5(random()::text) || md5(random()::text) || md5(random()::text) AS noise FROM generate_series(1, 550000) i`),
    );
    const created = await request(stack.app)
      .post('/api/destinations')
      .set(auth)
      .send({ name: 'box-by-rclone', kind: 'rclone', remote: 'box', remotePath: `${sshd.files}/by-rclone`, rcloneConfig: sftpRemote('box', sshd) });
    expect(created.status).toBe(201);
    rcloneSftpId = created.body.id;
  });

  it('fails the run with a sentence and leaves nothing under a final name', async () => {
    const run = await runConfiguration({ name: 'large', compression: 'none', destinationIds: [sftpId, rcloneSftpId] });
    const before = new Set(await sshd.filesOnDisk());
    const partial = await eventually(
      async () => {
        const parts = (await sshd.filesOnDisk()).filter((f) => f.startsWith('coffre/.tmp/') && !before.has(f));
        const sizes = await Promise.all(parts.map((f) => import('node:fs/promises').then((fs) => fs.stat(join(sshd.files, f)).then((s) => s.size, () => 0))));
        const largest = Math.max(0, ...sizes);
        return largest > 8 * 1024 * 1024 ? largest : undefined;
      },
      120_000,
      'an upload 8 MiB in',
    );
    await sshd.crash();
    figures.killedAfterBytes = partial;
    // The attempt the server died under fails first, with its own sentence; the retries find no server.
    const noted = await eventually(async () => {
      const res = await request(stack.app).get(`/api/backups/${run.id}`).set(auth);
      return /^Attempt 1 of \d+ failed/.test(res.body.errorMessage ?? '') || res.body.status === 'failed' ? (res.body.errorMessage as string) : undefined;
    }, 120_000, 'the first attempt failing');
    figures.firstFailure = noted;
    expect(noted).toMatch(/(SFTP server sftp:\/\/coffre-sftp-test@127\.0\.0\.1:\d+ .*(went away|was lost|could not be reached)|rclone failed while uploading)/);
    expect(noted).toMatch(/Nothing was published under "[^"]+database\.dump"/);
    const backup = await finished(`/api/backups/${run.id}`, 240_000);
    expect(backup.status).toBe('failed');
    figures.failure = backup.errorMessage!;
    expect(backup.errorMessage).toMatch(/(SFTP server sftp:\/\/coffre-sftp-test@127\.0\.0\.1:\d+ .*(went away|was lost|could not be reached)|rclone failed while uploading)/);
    expect(backup.errorMessage).toMatch(/Nothing was published under "[^"]+database\.dump"/);
    const finals = (await sshd.filesOnDisk()).filter((f) => !before.has(f) && !f.includes('/.tmp/'));
    expect(finals).toEqual([]);
    const artifacts = await stack.ctx.db.backupArtifact.count({ where: { backupId: run.id, deletedAt: null } });
    expect(artifacts).toBe(0);
  });
});
