// rclone remotes for tests: a WebDAV server (rclone serve webdav over a temporary directory, on a
// free loopback port, with a throwaway user and password) and the rclone.conf text of remotes of type
// webdav and sftp (the OpenSSH server of sftp-server.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort } from './redis-server.js';
import type { SftpTestServer } from './sftp-server.js';
import { filesUnder } from './artifact-audit.js';

export interface WebdavTestServer {
  url: string;
  user: string;
  password: string;
  /** The directory it serves. */
  dir: string;
  filesOnDisk(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startWebdavServer(): Promise<WebdavTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-webdav-'));
  const user = 'coffre';
  const password = randomBytes(12).toString('base64url');
  let child: ChildProcess | null = null;
  let url = '';
  for (let attempt = 0; attempt < 5 && !child; attempt += 1) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    // The password reaches rclone through its environment, not its arguments.
    const started = spawn('rclone', ['serve', 'webdav', dir, '--addr', `127.0.0.1:${port}`, '--user', user, '--config', '/dev/null'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: dir, RCLONE_PASS: password },
    });
    let log = '';
    started.stderr!.setEncoding('utf8').on('data', (text: string) => (log = (log + text).slice(-4000)));
    if (await listening(url, started)) child = started;
    else if (!/address already in use/.test(log)) throw new Error(`rclone serve webdav did not start: ${log}`);
  }
  if (!child) throw new Error('rclone serve webdav found no free port in 5 attempts');
  const server = child;
  return {
    url,
    user,
    password,
    dir,
    filesOnDisk: async () => (await filesUnder(dir)).map((path) => relative(dir, path)).sort(),
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function listening(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const answered = await fetch(url, { method: 'OPTIONS' }).then(
      () => true,
      () => false,
    );
    if (answered) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  return false;
}

/** rclone's reversible obscuring of a password, as its configuration files hold them (read from stdin). */
export function obscure(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', ['obscure', '-', '--config', '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`rclone obscure exited with ${code}`))));
    child.stdin.end(password);
  });
}

/** The configuration of a webdav remote named `name` for the server. */
export async function webdavRemote(name: string, server: WebdavTestServer): Promise<string> {
  return [`[${name}]`, 'type = webdav', `url = ${server.url}`, 'vendor = other', `user = ${server.user}`, `pass = ${await obscure(server.password)}`, ''].join('\n');
}

/** The configuration of an sftp remote named `name` logging in to the server with the user's key. */
export function sftpRemote(name: string, server: SftpTestServer): string {
  return [
    `[${name}]`,
    'type = sftp',
    `host = ${server.host}`,
    `port = ${server.port}`,
    `user = ${server.username}`,
    `key_pem = ${server.privateKey.trim().split('\n').join('\\n')}`,
    // The server runs internal-sftp only: no shell for checksums or disk usage.
    'shell_type = none',
    'md5sum_command = none',
    'sha1sum_command = none',
    '',
  ].join('\n');
}
