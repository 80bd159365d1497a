// SFTP and rclone destinations through the API: what is accepted and refused with a sentence, that no
// credential ever comes back (answers, audit), the host key pinned by the first test and a changed
// one refused, and credentials replaced only when given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { startSftpServer, type SftpTestServer } from '../../../test/support/sftp-server.js';
import { sftpRemote } from '../../../test/support/rclone.js';

let stack: TestStack;
let sshd: SftpTestServer;
let auth: { Authorization: string };

beforeAll(async () => {
  sshd = await startSftpServer();
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
});

afterAll(async () => {
  await stack?.close();
  await sshd?.stop();
});

const sftpBody = (overrides: Record<string, unknown> = {}) => ({
  name: `box-${Math.random().toString(36).slice(2, 8)}`,
  kind: 'sftp',
  host: sshd.host,
  port: sshd.port,
  username: sshd.username,
  remotePath: `${sshd.files}/api`,
  privateKey: sshd.privateKey,
  ...overrides,
});

describe('creating', () => {
  it('refuses an SFTP destination with both a password and a key, or neither', async () => {
    for (const body of [sftpBody({ password: 'pw' }), sftpBody({ privateKey: undefined })]) {
      const res = await request(stack.app).post('/api/destinations').set(auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/give either password or privateKey/);
    }
  });

  it('refuses a host where cloud metadata answers, and a fingerprint that is not one', async () => {
    const metadata = await request(stack.app).post('/api/destinations').set(auth).send(sftpBody({ host: '169.254.169.254' }));
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.message).toMatch(/^host: 169\.254\.169\.254 is a link-local address/);
    const fingerprint = await request(stack.app).post('/api/destinations').set(auth).send(sftpBody({ hostKeySha256: 'md5:aa:bb' }));
    expect(fingerprint.status).toBe(400);
    expect(fingerprint.body.error.message).toMatch(/SHA-256 fingerprint/);
  });

  it('refuses an rclone remote its configuration does not hold, naming those it does', async () => {
    const res = await request(stack.app)
      .post('/api/destinations')
      .set(auth)
      .send({ name: 'rc-missing', kind: 'rclone', remote: 'elsewhere', rcloneConfig: sftpRemote('box', sshd) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('remote: the rclone configuration has no remote named "elsewhere" (it has box).');
  });

  it('refuses an rclone configuration that points at cloud metadata', async () => {
    const config = '[dav]\ntype = webdav\nurl = http://169.254.169.254/latest/\n';
    const res = await request(stack.app).post('/api/destinations').set(auth).send({ name: 'rc-meta', kind: 'rclone', remote: 'dav', rcloneConfig: config });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^rcloneConfig: 169\.254\.169\.254 is a link-local address/);
  });

  it('refuses an rclone configuration that would run a program, read a file or write on this machine (found by an attacker: bearer_token_command ran as root)', async () => {
    const marker = join(tmpdir(), `coffre-rclone-ran-${process.pid}`);
    const dav = '[r]\ntype = webdav\nurl = http://127.0.0.1:9/dav\nvendor = other\n';
    const refused: [string, string, RegExp][] = [
      ['r', `${dav}bearer_token_command = touch ${marker}\n`, /^rcloneConfig: line 5 sets bearer_token_command, which runs a program on coffre's machine/],
      ['box', `${sftpRemote('box', sshd)}ssh = sh -c 'touch ${marker}'\n`, /sets ssh, which runs a program/],
      ['box', `${sftpRemote('box', sshd)}key_file = /root/.ssh/id_ed25519\n`, /sets key_file, which names a file on coffre's machine: paste its content/],
      ['disk', '[disk]\ntype = local\n', /^rcloneConfig: remote "disk" has type "local", which coffre does not use/],
      ['etc', '[etc]\ntype = alias\nremote = /etc\n', /remote "etc" has type "alias"/],
      ['sealed', '[sealed]\ntype = crypt\nremote = /etc\npassword = x\n', /remote "sealed" \(crypt\) must be over another remote of this configuration/],
      ['sealed', '[sealed]\ntype = crypt\nremote = :local:/etc\npassword = x\n', /must be over another remote/],
      ['r,bearer_token_command=true', `[r,bearer_token_command=true]\ntype = webdav\n`, /names a remote "r,bearer_token_command=true" that is not a plain name/],
      ['s', '[s]\ntype = s3\nenv_auth = true\n', /sets env_auth, which takes the credentials of coffre's machine/],
    ];
    for (const [remote, rcloneConfig, message] of refused) {
      const res = await request(stack.app).post('/api/destinations').set(auth).send({ name: `rc-${Math.random().toString(36).slice(2, 8)}`, kind: 'rclone', remote: remote.split(',')[0], rcloneConfig });
      expect(res.status, rcloneConfig).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    // Encrypted over a remote of the same configuration, and sftp's checksum commands (run on the server): accepted.
    const crypt = `${sftpRemote('box', sshd)}[sealed]\ntype = crypt\nremote = box:${sshd.files}/sealed\npassword = x\n`;
    const ok = await request(stack.app).post('/api/destinations').set(auth).send({ name: 'rc-crypt', kind: 'rclone', remote: 'sealed', rcloneConfig: crypt });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    await request(stack.app).delete(`/api/destinations/${ok.body.id}`).set(auth);

    // One saved before the rule (written here straight into the table) is refused when used, and runs nothing.
    const saved = await request(stack.app).post('/api/destinations').set(auth).send({ name: 'rc-before', kind: 'rclone', remote: 'r', rcloneConfig: dav });
    expect(saved.status).toBe(201);
    await stack.ctx.db.destination.update({ where: { id: saved.body.id }, data: { secretEncrypted: stack.ctx.secrets.seal(JSON.stringify({ rcloneConfig: `${dav}bearer_token_command = touch ${marker}\n` })) } });
    const tried = await request(stack.app).post(`/api/destinations/${saved.body.id}/test`).set(auth);
    expect(tried.body.ok).toBe(false);
    expect(tried.body.message).toMatch(/Destination "rc-before" is not used: rcloneConfig: line 5 sets bearer_token_command/);
    expect(existsSync(marker)).toBe(false);
    await request(stack.app).delete(`/api/destinations/${saved.body.id}`).set(auth);
  });

  it('is admin only', async () => {
    const res = await request(stack.app).post('/api/destinations').set({ Authorization: `Bearer ${await stack.token('operator')}` }).send(sftpBody());
    expect(res.status).toBe(403);
  });
});

describe('an SFTP destination', () => {
  let id: string;

  beforeAll(async () => {
    const res = await request(stack.app).post('/api/destinations').set(auth).send(sftpBody({ name: 'box' }));
    expect(res.status).toBe(201);
    id = res.body.id;
  });

  it('never shows its key, in answers or in the audit log', async () => {
    const keyLine = sshd.privateKey.split('\n')[1]!;
    const shown = await request(stack.app).get(`/api/destinations/${id}`).set(auth);
    expect(shown.body).toMatchObject({ kind: 'sftp', hasCredentials: true, location: `sftp://coffre-sftp-test@127.0.0.1:${sshd.port}${sshd.files}/api/` });
    expect(Object.keys(shown.body.config).sort()).toEqual(['host', 'hostKeySha256', 'port', 'remotePath', 'username']);
    const audit = await request(stack.app).get('/api/audit').set(auth);
    expect(JSON.stringify(audit.body)).not.toContain(keyLine);
    expect(JSON.stringify(shown.body)).not.toContain(keyLine);
  });

  it('pins the host key at its first test, then refuses a changed one with a sentence', async () => {
    const first = await request(stack.app).post(`/api/destinations/${id}/test`).set(auth);
    expect(first.body).toEqual({ ok: true, message: `sftp://coffre-sftp-test@127.0.0.1:${sshd.port}${sshd.files}/api/ is writable.` });
    expect((await request(stack.app).get(`/api/destinations/${id}`).set(auth)).body.config.hostKeySha256).toBe(sshd.hostKeySha256);

    const pinned = sshd.hostKeySha256;
    await sshd.crash();
    const replaced = await sshd.replaceHostKey();
    await sshd.restart();
    await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ port: sshd.port, hostKeySha256: pinned });
    const refused = await request(stack.app).post(`/api/destinations/${id}/test`).set(auth);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.message).toContain(`has changed (it presents ${replaced}, the destination pinned ${pinned})`);
    expect((await request(stack.app).get(`/api/destinations/${id}`).set(auth)).body.config.hostKeySha256).toBe(pinned);

    const forgotten = await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ hostKeySha256: null });
    expect(forgotten.status).toBe(200);
    expect((await request(stack.app).post(`/api/destinations/${id}/test`).set(auth)).body.ok).toBe(true);
    expect((await request(stack.app).get(`/api/destinations/${id}`).set(auth)).body.config.hostKeySha256).toBe(replaced);
  });

  it('keeps its key when a change gives none, and swaps to a password when one is given', async () => {
    const renamed = await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ name: 'box-renamed' });
    expect(renamed.status).toBe(200);
    expect((await request(stack.app).post(`/api/destinations/${id}/test`).set(auth)).body.ok).toBe(true);
    const wrong = await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ password: 'not-the-password' });
    expect(wrong.status).toBe(200);
    const refused = await request(stack.app).post(`/api/destinations/${id}/test`).set(auth);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.message).toMatch(/refused the login of user "coffre-sftp-test".*check the destination's password/);
    expect(refused.body.message).not.toContain('not-the-password');
    await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ password: sshd.password });
    expect((await request(stack.app).post(`/api/destinations/${id}/test`).set(auth)).body.ok).toBe(true);
  });

  it('refuses settings of another kind', async () => {
    const res = await request(stack.app).put(`/api/destinations/${id}`).set(auth).send({ bucket: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('bucket: not a setting of an sftp destination.');
  });
});
