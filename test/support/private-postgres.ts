// A PostgreSQL cluster of the test's own that demands passwords (scram-sha-256), unlike the shared
// server (trust). initdb refuses to run as root, so the cluster belongs to the `postgres` OS user;
// it listens on 127.0.0.1 on a free port and keeps its socket in its own temporary directory.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, appendFile, chmod, chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PrivatePostgres {
  host: string;
  port: number;
  /** The superuser `postgres` and its password. */
  superuser: { user: string; password: string };
  dir: string;
  /** A postgresql:// URL, user and password percent-encoded. */
  url(user: string, password: string, database: string): string;
  /** Runs SQL as the superuser. */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<T>>;
  stop(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await findBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'coffre-pg-'));
  const owner = postgresUser();
  await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await chown(pwfile, owner.uid, owner.gid);
  try {
    asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(pwfile, { force: true });
  }
  await chmod(dir, 0o755);

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    await appendFile(
      join(data, 'postgresql.conf'),
      [
        '',
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 30',
        '',
      ].join('\n'),
    );
    const started = tryAsPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    if (started === null) break;
    // Another process may have taken the port between the probe and the start.
    const log = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '');
    if (attempt >= 3 || !/could not bind|address already in use/i.test(log)) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`the private PostgreSQL did not start: ${started}\n${log}`);
    }
  }

  const host = '127.0.0.1';
  const url = (user: string, pass: string, database: string) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${host}:${port}/${encodeURIComponent(database)}`;
  return {
    host,
    port,
    superuser: { user: 'postgres', password },
    dir,
    url,
    async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') {
      const client = new pg.Client({ host, port, user: 'postgres', password, database });
      await client.connect();
      try {
        return await client.query<T>(sql, params);
      } finally {
        await client.end();
      }
    },
    async stop() {
      tryAsPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The newest installed PostgreSQL whose bin holds initdb. */
async function findBinDir(): Promise<string> {
  const majors = (await readdir(PG_ROOT).catch(() => [] as string[])).map(Number).filter(Boolean).sort((a, b) => b - a);
  for (const major of majors) {
    const bin = join(PG_ROOT, String(major), 'bin');
    if (await access(join(bin, 'initdb')).then(() => true, () => false)) return bin;
  }
  throw new Error(`no initdb under ${PG_ROOT}: install the postgresql server package`);
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!uid || !gid) throw new Error('there is no postgres OS user to own the private cluster');
  return { uid, gid };
}

function asPostgres(command: string, args: string[]): void {
  const failure = tryAsPostgres(command, args);
  if (failure !== null) throw new Error(`${command} failed: ${failure}`);
}

/** Runs a command as the postgres OS user with a bare environment; returns null on success, stderr otherwise. */
function tryAsPostgres(command: string, args: string[]): string | null {
  const run = spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    cwd: '/',
  });
  return run.status === 0 ? null : `${run.stderr || run.error?.message || ''} (exit ${run.status})`.trim();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
