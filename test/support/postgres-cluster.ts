// A PostgreSQL cluster of the test's own that the test may stop and start again (coffre's metadata
// database going away mid-backup). Like private-postgres.ts it belongs to the `postgres` OS user
// (initdb refuses root) and listens on 127.0.0.1 on a free port; here authentication is trust, and
// the data directory survives stop() so that start() brings the same databases back.
// startStandbyCluster makes a hot standby of one (pg_basebackup -R, streaming from it) that a test may
// promote. `pnpm bench` uses it too, for base backups and restores to a moment when its server refuses
// replication.
import { execFileSync, spawnSync } from 'node:child_process';
import { access, appendFile, chmod, chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

export interface PostgresCluster {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** A fresh database with coffre's migrations applied; returns its URL. */
  createMetadataDatabase(name: string): string;
  /** pg_ctl stop -m fast: every connection is cut, the data stays. */
  stop(): void;
  start(): void;
  /** pg_ctl promote -w: a standby ends recovery and opens for writes on a new timeline. */
  promote(): void;
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** Lines added to postgresql.conf (wal_level = minimal, …). */
  settings?: string[];
  /** Removes initdb's `replication` lines from pg_hba.conf: replication connections are refused. */
  refuseReplication?: boolean;
}

/** A temporary directory the `postgres` user owns, for a cluster's data directory, socket and log. */
async function clusterDirectory(): Promise<{ bin: string; dir: string; data: string }> {
  const bin = await findBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'coffre-pgc-'));
  const { uid, gid } = postgresUser();
  await chown(dir, uid, gid);
  await chmod(dir, 0o755);
  return { bin, dir, data: join(dir, 'data') };
}

export async function startPostgresCluster(options: ClusterOptions = {}): Promise<PostgresCluster> {
  const { bin, dir, data } = await clusterDirectory();
  return removedIfItFails(bin, dir, data, async () => {
    asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    const port = await freePort();
    await appendFile(
      join(data, 'postgresql.conf'),
      ['', `port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, 'fsync = off', 'synchronous_commit = off', 'max_connections = 40', ...(options.settings ?? []), ''].join('\n'),
    );
    if (options.refuseReplication) {
      const hba = join(data, 'pg_hba.conf');
      const lines = (await readFile(hba, 'utf8')).split('\n').filter((line) => !/^\s*(local|host)\s+replication\s/.test(line));
      await writeFile(hba, lines.join('\n'));
    }
    return runCluster(bin, dir, data, port);
  });
}

/** A hot standby of `primary` on a port of its own, streaming from it (no slot). */
export async function startStandbyCluster(primary: PostgresCluster): Promise<PostgresCluster> {
  const { bin, dir, data } = await clusterDirectory();
  return removedIfItFails(bin, dir, data, async () => {
    asPostgres(join(bin, 'pg_basebackup'), ['-D', data, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres']);
    const port = await freePort();
    await appendFile(join(data, 'postgresql.conf'), ['', `port = ${port}`, `unix_socket_directories = '${dir}'`, ''].join('\n'));
    return runCluster(bin, dir, data, port);
  });
}

/** Nothing of a cluster that did not start is left behind (the bench's callers have no handle to remove it). */
async function removedIfItFails(bin: string, dir: string, data: string, start: () => Promise<PostgresCluster>): Promise<PostgresCluster> {
  try {
    return await start();
  } catch (error) {
    await removeCluster(bin, dir, data);
    throw error;
  }
}

async function removeCluster(bin: string, dir: string, data: string): Promise<void> {
  spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: '/' });
  await rm(dir, { recursive: true, force: true });
}

function runCluster(bin: string, dir: string, data: string, port: number): PostgresCluster {
  const pgCtl = (args: string[]) => asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', ...args]);
  pgCtl(['start']);
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    createMetadataDatabase(name) {
      const target = url(name);
      execFileSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', 'scripts/migrations.mjs', 'deploy'], {
        env: { ...process.env, DATABASE_URL: target },
        stdio: 'pipe',
      });
      return target;
    },
    stop: () => pgCtl(['-m', 'fast', 'stop']),
    start: () => pgCtl(['start']),
    promote: () => pgCtl(['promote']),
    destroy: () => removeCluster(bin, dir, data),
  };
}

async function findBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const majors = (await readdir(root).catch(() => [] as string[])).map(Number).filter(Boolean).sort((a, b) => b - a);
  for (const major of majors) {
    const bin = join(root, String(major), 'bin');
    if (await access(join(bin, 'initdb')).then(() => true, () => false)) return bin;
  }
  throw new Error(`no initdb under ${root}: install the postgresql server package`);
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!uid || !gid) throw new Error('there is no postgres OS user to own the cluster');
  return { uid, gid };
}

function asPostgres(command: string, args: string[]): void {
  const run = spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    cwd: '/',
  });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr || run.error?.message} (exit ${run.status})`);
}
