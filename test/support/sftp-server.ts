// A real OpenSSH server per test file: `sshd -D` (no daemon) with its own configuration, a throwaway
// host key and user key in a temporary directory, on a free loopback port. Logins are for one local
// user (coffre-sftp-test, created once with a random password that every server on this machine
// shares: test files run side by side, and a new password per start would lock the others out) and
// run only internal-sftp. crash() kills the listener and every session process under it, as a machine that
// disappears; restart() brings it back on the same port with the same host key.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { freePort } from './redis-server.js';
import { filesUnder } from './artifact-audit.js';

const run = promisify(execFile);
export const SFTP_TEST_USER = 'coffre-sftp-test';

export interface SftpTestServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The user's private key (OpenSSH format). */
  privateKey: string;
  /** SHA256:… of the server's host key, as ssh-keygen -lf prints it. */
  hostKeySha256: string;
  /** The folder the user writes in (absolute, as the server and this machine see it). */
  files: string;
  /** Names of everything under `files`, relative, recursively. */
  filesOnDisk(): Promise<string[]>;
  /** Replaces the host key with a new one (takes effect at the next restart). */
  replaceHostKey(): Promise<string>;
  /** Kills the server and every session it serves, without letting anything finish. */
  crash(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSftpServer(): Promise<SftpTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-sshd-'));
  await chmod(dir, 0o755);
  const { uid, gid } = await ensureTestUser();
  const password = await sharedPassword();
  const hostKey = join(dir, 'host_ed25519_key');
  const userKey = join(dir, 'user_ed25519_key');
  await makeKey(hostKey);
  await makeKey(userKey);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${userKey}.pub`, 'utf8'), { mode: 0o644 });
  const files = join(dir, 'files');
  await mkdir(files);
  await chown(files, uid, gid);
  let port = 0;
  let child: ChildProcess | null = null;
  // Another process may take the free port before sshd binds it: then another one.
  for (let attempt = 1; !child; attempt += 1) {
    port = await freePort();
    await writeConfig(dir, port, hostKey);
    child = await launch(dir).catch((error: unknown) => {
      if (attempt >= 5) throw error;
      return null;
    });
  }
  const server: SftpTestServer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    username: SFTP_TEST_USER,
    password,
    privateKey: await readFile(userKey, 'utf8'),
    hostKeySha256: await fingerprint(hostKey),
    files,
    filesOnDisk: async () => (await filesUnder(files)).map((path) => relative(files, path)).sort(),
    async replaceHostKey() {
      await rm(hostKey, { force: true });
      await rm(`${hostKey}.pub`, { force: true });
      await makeKey(hostKey);
      server.hostKeySha256 = await fingerprint(hostKey);
      return server.hostKeySha256;
    },
    async crash() {
      await killTree(child!.pid!);
      await exited(child!);
    },
    async restart() {
      try {
        child = await launch(dir);
      } catch {
        // The port was taken while the server was down: another one, same keys.
        port = await freePort();
        await writeConfig(dir, port, hostKey);
        child = await launch(dir);
      }
    },
    async stop() {
      await killTree(child!.pid!);
      await exited(child!);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function writeConfig(dir: string, port: number, hostKey: string): Promise<void> {
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // The keys live in a temporary directory under /tmp, which is writable by everyone.
    'StrictModes no',
    `AllowUsers ${SFTP_TEST_USER}`,
    'PermitRootLogin no',
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'MaxStartups 100:30:200',
    'MaxSessions 50',
    'LogLevel VERBOSE',
  ];
  await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`, { mode: 0o600 });
}

async function launch(dir: string): Promise<ChildProcess> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const config = join(dir, 'sshd_config');
  const port = Number(/^Port (\d+)$/m.exec(await readFile(config, 'utf8'))![1]);
  // -D: stay in the foreground, a child of the test; -e: log to stderr.
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (log = (log + text).slice(-8000)));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${log}`);
    if (await answers(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not listen on port ${port} within 10 s: ${log}`);
}

/** Whether an SSH server greets on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-2.0'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  const existing = await run('id', ['-u', SFTP_TEST_USER]).catch(() => null);
  if (!existing) {
    await run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SFTP_TEST_USER]).catch(async (error: unknown) => {
      // Two test files may create it at once.
      if (!(await run('id', ['-u', SFTP_TEST_USER]).catch(() => null))) throw error;
    });
  }
  const uid = Number((await run('id', ['-u', SFTP_TEST_USER])).stdout.trim());
  const gid = Number((await run('id', ['-g', SFTP_TEST_USER])).stdout.trim());
  return { uid, gid };
}

const PASSWORD_DIR = join(tmpdir(), 'coffre-sftp-test-user');
const PASSWORD_FILE = join(PASSWORD_DIR, 'password');
const PASSWORD_LOCK = join(PASSWORD_DIR, 'lock');

/**
 * The test user's password, the same for every server on this machine: the first start (under a
 * lock directory, so that two files starting at once do not both set one) chooses it, sets it and
 * writes it down; the others read it.
 */
async function sharedPassword(): Promise<string> {
  await mkdir(PASSWORD_DIR, { recursive: true, mode: 0o700 });
  await lock();
  try {
    const known = await readFile(PASSWORD_FILE, 'utf8').catch(() => null);
    if (known) return known;
    const password = randomBytes(12).toString('base64url');
    await setPassword(password);
    await writeFile(PASSWORD_FILE, password, { mode: 0o600 });
    return password;
  } finally {
    await rm(PASSWORD_LOCK, { recursive: true, force: true });
  }
}

async function lock(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await mkdir(PASSWORD_LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that died leaves its lock: it is held for well under a second.
      const since = await stat(PASSWORD_LOCK).then((held) => held.mtimeMs, () => Date.now());
      if (Date.now() - since > 10_000) await rm(PASSWORD_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${PASSWORD_LOCK} stayed locked for 30 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function setPassword(password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd failed: ${err}`))));
    child.stdin.end(`${SFTP_TEST_USER}:${password}\n`);
  });
}

async function makeKey(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'coffre-test', '-f', path]);
}

async function fingerprint(keyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyPath}.pub`]);
  return stdout.split(' ')[1]!;
}

/** The pids of a process and all its descendants (sessions run in their own sessions, still its children). */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const all: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    all.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return all;
}

async function killTree(pid: number): Promise<void> {
  // Stop the listener first so that it cannot fork new sessions while the others die.
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return;
  }
  for (const each of (await descendants(pid)).reverse()) {
    try {
      process.kill(each, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
