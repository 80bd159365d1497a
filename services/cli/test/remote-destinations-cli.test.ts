// The built `coffre` with SFTP and rclone destinations against a real sshd: created from flags (the
// key and the rclone configuration read from files, never given as arguments), shown, tested, and
// checked by `coffre doctor` while the server is up and once it is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { startSftpServer, type SftpTestServer } from '../../../test/support/sftp-server.js';
import { sftpRemote } from '../../../test/support/rclone.js';
import { listen, privateHome, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;
let sshd: SftpTestServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  sshd = await startSftpServer();
  stack = await createTestStack();
  api = await listen(stack);
  env = { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken };
  dir = await mkdtemp(join(tmpdir(), 'coffre-cli-remote-'));
  await writeFile(join(dir, 'id_ed25519'), sshd.privateKey, { mode: 0o600 });
  await writeFile(join(dir, 'rclone.conf'), sftpRemote('box', sshd), { mode: 0o600 });
});

afterAll(async () => {
  removePrivateHomes();
  await rm(dir, { recursive: true, force: true });
  await api?.close();
  await stack?.close();
  await sshd?.stop();
});

const coffre = (args: string[]) => runCli(args, { env });

interface Check {
  id: string;
  subject: string | null;
  status: string;
  message: string;
  fix: string | null;
}

async function doctorChecks(): Promise<Check[]> {
  const result = await runCli(['doctor', '--json'], { env: { ...stack.env, HOME: privateHome() } });
  return (JSON.parse(result.stdout) as { checks: Check[] }).checks.filter((c) => c.id === 'destination-connection');
}

describe('coffre destination with SFTP and rclone', () => {
  it('creates an SFTP destination from --sftp and a key file, shows it without the key, and tests it', async () => {
    const created = await coffre(['destination', 'create', 'box', '--sftp', `${sshd.username}@127.0.0.1:${sshd.port}`, '--private-key-file', join(dir, 'id_ed25519'), '--remote-path', `${sshd.files}/cli`]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created destination "box": sftp://coffre-sftp-test@127.0.0.1:${sshd.port}${sshd.files}/cli/.`);
    const shown = await coffre(['destination', 'show', 'box']);
    expect(shown.stdout).toMatch(/Kind:\s+SFTP server/);
    expect(shown.stdout).toMatch(/Credentials:\s+stored \(never shown\)/);
    expect(shown.stdout).not.toContain('PRIVATE KEY');
    const tested = await coffre(['destination', 'test', 'box']);
    expect([tested.code, tested.stdout.trim()]).toEqual([0, `box: sftp://coffre-sftp-test@127.0.0.1:${sshd.port}${sshd.files}/cli/ is writable.`]);
  });

  it('creates an rclone destination from --rclone-remote and a configuration file, and tests it', async () => {
    const created = await coffre(['destination', 'create', 'by-rclone', '--rclone-remote', 'box', '--rclone-config-file', join(dir, 'rclone.conf'), '--remote-path', `${sshd.files}/cli-rclone`]);
    expect(created.code, created.stderr).toBe(0);
    const tested = await coffre(['destination', 'test', 'by-rclone']);
    expect([tested.code, tested.stdout.trim()]).toEqual([0, `by-rclone: rclone box:${sshd.files}/cli-rclone/ is writable.`]);
  });

  it('refuses flags of two kinds at once', async () => {
    const result = await coffre(['destination', 'create', 'both', '--path', dir, '--sftp', 'u@h']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/A destination is one of a directory/);
  });
});

describe('coffre doctor', () => {
  it('reports each SFTP and rclone destination reachable and writable, with the pinned host key', async () => {
    const checks = await doctorChecks();
    expect(checks.map((c) => [c.subject, c.status])).toEqual([
      ['box', 'ok'],
      ['by-rclone', 'ok'],
    ]);
    expect(checks[0]!.message).toContain(`(host key ${sshd.hostKeySha256})`);
  });

  it('reports FAIL with the reason and a fix once the server is gone', async () => {
    await sshd.crash();
    try {
      const checks = await doctorChecks();
      expect(checks.map((c) => [c.subject, c.status])).toEqual([
        ['box', 'fail'],
        ['by-rclone', 'fail'],
      ]);
      expect(checks[0]!.message).toMatch(/could not be reached or went away \(ECONNREFUSED\)/);
      expect(checks[0]!.fix).toMatch(/Check that the server is up/);
      expect(checks[1]!.message).toMatch(/^rclone box:.*: rclone failed while uploading/);
    } finally {
      await sshd.restart();
    }
  });
});
