// The README's first command, end to end: `pnpm start` (scripts/start.sh) on its own metadata and demo
// databases, then `pnpm stop`. It rebuilds, so it runs alone, after every other suite (scripts/test.sh).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl, REDIS_URL, uniqueName } from '../support/env.js';
import { dropDatabase, withClient } from '../support/pg.js';
import { clearRedisPrefix } from '../support/stack.js';

const home = await mkdtemp(join(tmpdir(), 'coffre-start-'));
const metadata = uniqueName('coffre_start_meta');
const demo = uniqueName('coffre_start_demo');
const queuePrefix = uniqueName('coffrestart');
const port = await freePort();
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  COFFRE_HOME: home,
  DATABASE_URL: databaseUrl(metadata),
  REDIS_URL,
  QUEUE_PREFIX: queuePrefix,
  BACKUP_DIR: join(home, 'backups'),
  PORT: String(port),
  DEMO_DATABASE: demo,
  // Given by the user: it wins over a generated one, and is the one kept.
  ADMIN_TOKEN: `cof_given_${uniqueName('token')}`,
};

afterAll(async () => {
  await run('scripts/stop.sh').catch(() => {});
  await dropDatabase(metadata);
  await dropDatabase(demo);
  await clearRedisPrefix(queuePrefix);
  await rm(home, { recursive: true, force: true });
});

describe('pnpm start', () => {
  it('creates the demo database, starts the API and a worker, and takes an encrypted first backup of every row', async () => {
    const started = await run('scripts/start.sh');
    const logs = async () => {
      const tail = async (name: string) => (await readFile(join(home, 'logs', `${name}.log`), 'utf8').catch(() => '')).slice(-3000);
      return `${started.output}\n--- api.log\n${await tail('api')}\n--- worker.log\n${await tail('worker')}`;
    };
    expect(started.code, await logs()).toBe(0);
    const first = /first backup completed: (\S+), (\d+) bytes, (\d+) tables, (\d+) rows/.exec(started.output);
    expect(first, started.output).not.toBeNull();

    // The demo database as start.sh made it: the backup counted each of its rows.
    const rows = await withClient(databaseUrl(demo), async (client) => {
      const tables = await client.query<{ name: string }>("SELECT format('%I', relname) AS name FROM pg_stat_user_tables");
      let total = 0;
      for (const { name } of tables.rows) total += Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]!.n);
      return { tables: tables.rowCount, total };
    });
    expect(rows.total).toBeGreaterThan(40_000);
    expect({ tables: Number(first![3]), rows: Number(first![4]) }).toEqual({ tables: rows.tables, rows: rows.total });

    // The URL and the token it printed work; the artifact is on disk, encrypted to the key it made.
    const kept = await readFile(join(home, 'env'), 'utf8');
    const token = /ADMIN_TOKEN=(\S+)/.exec(kept)![1]!;
    expect(token).toBe(env.ADMIN_TOKEN);
    expect(started.output).toContain(`http://127.0.0.1:${port}`);
    expect(started.output).toContain(token);
    const listed = await fetch(`http://127.0.0.1:${port}/api/backups`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await listed.json()) as { items: { name: string; status: string; encrypted: boolean }[] };
    expect(body.items.map((b) => [b.name, b.status])).toEqual([[first![1], 'completed']]);
    expect(existsSync(join(home, 'age-key.txt'))).toBe(true);
    const artifacts = await readdir(env.BACKUP_DIR!, { recursive: true });
    expect(artifacts.filter((f) => f.endsWith('.dump.zst.age'))).toHaveLength(1);

    // The settings it ran with, for another worker or coffre doctor: private, and the same as the running ones.
    expect((await stat(join(home, 'env'))).mode & 0o777).toBe(0o600);
    const settingsFile = join(home, 'settings.env');
    expect((await stat(settingsFile)).mode & 0o777).toBe(0o600);
    const settings = await readFile(settingsFile, 'utf8');
    expect(settings).toContain(`QUEUE_PREFIX=${queuePrefix}\n`);
    expect(settings).toContain(`AGE_IDENTITY_FILE=${join(home, 'age-key.txt')}\n`);
    expect(/SECRET_KEY=(\S+)/.exec(settings)![1]).toBe(/SECRET_KEY=(\S+)/.exec(kept)![1]);
    // Only the kept settings were made private: the processes it started run with the caller's umask.
    const apiPid = (await readFile(join(home, 'run', 'api.pid'), 'utf8')).trim();
    const umask = /^Umask:\s+(\d+)$/m.exec(await readFile(`/proc/${apiPid}/status`, 'utf8'))![1];
    expect(umask).toBe(process.umask().toString(8).padStart(4, '0'));

    const stopped = await run('scripts/stop.sh');
    expect(stopped.code, stopped.output).toBe(0);
    expect(stopped.output).toMatch(/stopped api[\s\S]*stopped worker|stopped worker[\s\S]*stopped api/);
    await expect(fetch(`http://127.0.0.1:${port}/api/health/live`)).rejects.toThrow();
  });
});

async function run(script: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}
