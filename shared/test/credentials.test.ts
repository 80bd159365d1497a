// Passwords reach pg_dump and pg_restore through a 0600 passfile that lives only while they run, in a
// 0700 directory of the worker process on its own machine (never TMP_DIR, which may be shared storage):
// never argv, never an environment variable, never a log line, never an error message. Proved
// against a private PostgreSQL that demands passwords (the shared test server trusts everyone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { PermanentError, parsePostgresUrl } from '@coffre/shared';
import { startPrivatePostgres, type PrivatePostgres } from '../../test/support/private-postgres.js';
import { environValue, scanProcessesUntil, type ProcessView } from '../../test/support/processes.js';
import { backup, createWorkspace, restore, type Workspace } from '../../test/support/engine.js';

const TOKEN = randomBytes(6).toString('hex');
/** p@ss:wo\rd 'x" $(y) and a token of this run: every character a passfile, a shell or a URL could trip on. */
const PASSWORD = `p@ss:wo\\rd 'x" $(y)-${TOKEN}`;
const USER = 'coffre_app';
const SOURCE = 'coffre_creds_src';
const ROWS = 700_000;

let server: PrivatePostgres;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  server = await startPrivatePostgres();
  await server.query(`CREATE ROLE ${USER} LOGIN PASSWORD ${pg.escapeLiteral(PASSWORD)}`);
  await server.query(`CREATE DATABASE ${SOURCE} OWNER ${USER}`);
  // Filled as the application user, with its password: the fixture itself proves the password works.
  await asApp(SOURCE, async (client) => {
    await client.query(`CREATE TABLE filler AS SELECT g AS id, md5(g::text) || repeat(md5((g * 7)::text), 5) AS body FROM generate_series(1, ${ROWS}) g`);
    await client.query('ALTER TABLE filler ADD PRIMARY KEY (id)');
    await client.query("CREATE TABLE notes (id int PRIMARY KEY, note text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 100) g");
  });
}, 180_000);

afterAll(async () => {
  for (const ws of workspaces) await ws.cleanup();
  await server?.stop();
});

describe('a password full of special characters', () => {
  it('backs up and restores, and the password never shows in any process, log line or leftover file', async () => {
    const ws = await workspace();
    const tmpDir = join(ws.dir, 'tmp');
    const url = server.url(USER, PASSWORD, SOURCE);
    const dump = new Watch('pg_dump', SOURCE);

    // A worker's own environment holds secrets too (DATABASE_URL, SECRET_KEY): its tools must not inherit them.
    const workerSecret = `worker-secret-${randomBytes(6).toString('hex')}`;
    process.env.COFFRE_TEST_WORKER_SECRET = workerSecret;
    let taken;
    try {
      const running = backup(ws, url, { encrypt: true });
      dump.scans = await scanProcessesUntil(running, (p) => dump.visit(p, workerSecret));
      taken = await running;
    } finally {
      delete process.env.COFFRE_TEST_WORKER_SECRET;
    }

    expect(dump.leaks).toEqual([]);
    // The scans overlapped the dump: pg_dump was seen running, more than once, with its passfile.
    expect(dump.sightings).toBeGreaterThanOrEqual(2);
    expect([...dump.passfiles.values()]).toEqual(expect.arrayContaining([{ file: 0o600, dir: 0o700 }]));
    for (const [file, modes] of dump.passfiles) {
      expect({ file, modes }).toEqual({ file, modes: { file: 0o600, dir: 0o700 } });
      expect(dirname(file)).toBe(join(tmpdir(), `coffre-${process.getuid!()}`, `secrets-${process.pid}`));
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(await readdir(tmpDir).catch(() => [])).toEqual([]);
    expect(taken.tableCounts.find((t) => t.table === 'filler')?.rows).toBe(ROWS);

    const target = 'coffre_creds_restored';
    await server.query(`CREATE DATABASE ${target} OWNER ${USER}`);
    const load = new Watch('pg_restore', target);
    const restoring = restore(ws, taken, server.url(USER, PASSWORD, target), { encrypted: true });
    load.scans = await scanProcessesUntil(restoring, (p) => load.visit(p));
    await restoring;
    expect(load.leaks).toEqual([]);
    expect(load.sightings).toBeGreaterThanOrEqual(1);
    expect(await readdir(tmpDir).catch(() => [])).toEqual([]);
    expect(await fingerprint(target)).toEqual(await fingerprint(SOURCE));

    expectNoSecretIn(ws.logs.join(''));
  });

  it('a user name with : and \\ in it works too (the passfile escapes both)', async () => {
    const user = 'odd:user\\name';
    await server.query(`CREATE ROLE "${user.replace(/"/g, '""')}" LOGIN PASSWORD ${pg.escapeLiteral(PASSWORD)}`);
    await server.query(`GRANT pg_read_all_data TO "${user}"`);
    const ws = await workspace();
    const taken = await backup(ws, server.url(user, PASSWORD, SOURCE), { type: 'schema' });
    expect(taken.sizeBytes).toBeGreaterThan(0);
    expect(await readdir(join(ws.dir, 'tmp')).catch(() => [])).toEqual([]);
    expectNoSecretIn(ws.logs.join(''));
  });
});

describe('refused credentials', () => {
  it('a wrong password: a PermanentError naming the user, not the password, and nothing published', async () => {
    const ws = await workspace();
    const wrong = `${PASSWORD}-but-wrong`;
    const error = await backup(ws, server.url(USER, wrong, SOURCE), { key: 'refused.dump.zst' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} refused the credentials of user "${USER}": check the user and password in the source URL.`,
    );
    await expectNothingLeft(ws);
  });

  it('a role that does not exist: the same sentence, naming that role', async () => {
    const ws = await workspace();
    const error = await backup(ws, server.url('coffre_nobody', PASSWORD, SOURCE)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/refused the credentials of user "coffre_nobody": check the user and password/);
    await expectNothingLeft(ws);
  });

  it('a password with a line break (which no passfile can hold) is refused with a sentence before any tool runs', async () => {
    const user = 'coffre_newline';
    const password = `first line\nsecond-${TOKEN}`;
    await server.query(`CREATE ROLE ${user} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    await server.query(`GRANT pg_read_all_data TO ${user}`);
    const ws = await workspace();
    const error = await backup(ws, server.url(user, password, SOURCE)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/password of user "coffre_newline" contains a line break/);
    expect((error as Error).message).not.toContain('second');
    await expectNothingLeft(ws);
  });

  it('pg_dump failing after it logged in (permission denied) removes the passfile and says nothing of the password', async () => {
    const locked = 'coffre_creds_locked';
    await server.query(`CREATE DATABASE ${locked} OWNER ${USER}`);
    await server.query('CREATE TABLE private_things (v text); INSERT INTO private_things VALUES ($$x$$)', [], locked);
    const ws = await workspace();
    const error = await backup(ws, server.url(USER, PASSWORD, locked), { key: 'locked.dump.zst' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/permission denied for table private_things/);
    expect(error).toBeInstanceOf(PermanentError);
    await expectNothingLeft(ws);
  });
});

describe('source URLs', () => {
  it('a password with a stray % gets a sentence that does not repeat it', () => {
    const attempt = () => parsePostgresUrl(`postgresql://app:50%off-${TOKEN}@127.0.0.1/db`);
    expect(attempt).toThrow(PermanentError);
    expect(attempt).toThrow('The password in the database URL holds a % that is not followed by two hex digits: write a literal % as %25.');
  });

  it('percent-encoded special characters come back exactly', () => {
    const parsed = parsePostgresUrl(server.url(USER, PASSWORD, SOURCE));
    expect(parsed).toMatchObject({ user: USER, password: PASSWORD, database: SOURCE, host: '127.0.0.1', port: server.port });
  });
});

/** What one run of a tool looked like from /proc, and every place a secret showed. */
class Watch {
  scans = 0;
  sightings = 0;
  leaks: string[] = [];
  passfiles = new Map<string, { file: number; dir: number }>();

  constructor(
    private readonly tool: 'pg_dump' | 'pg_restore',
    private readonly database: string,
  ) {}

  async visit(p: ProcessView, inheritedSecret?: string): Promise<void> {
    for (const secret of secretForms()) {
      if (p.cmdline.includes(secret)) this.leaks.push(`argv of ${p.pid}: ${p.cmdline.replace(/\0/g, ' ')}`);
      if (p.environ.includes(secret)) this.leaks.push(`environment of ${p.pid}: ${p.cmdline.replace(/\0/g, ' ')}`);
    }
    if (inheritedSecret && p.pid !== process.pid && p.environ.includes(inheritedSecret)) {
      this.leaks.push(`${p.cmdline.replace(/\0/g, ' ')} inherited the worker's environment`);
    }
    const [program] = p.cmdline.split('\0');
    if (!program?.endsWith(`/${this.tool}`) || !p.cmdline.includes(this.database)) return;
    this.sightings += 1;
    const passfile = environValue(p.environ, 'PGPASSFILE');
    if (!passfile) {
      this.leaks.push(`${this.tool} ran without PGPASSFILE`);
      return;
    }
    const [file, dir] = await Promise.all([stat(passfile).catch(() => null), stat(join(passfile, '..')).catch(() => null)]);
    if (file && dir) this.passfiles.set(passfile, { file: file.mode & 0o777, dir: dir.mode & 0o777 });
  }
}

function secretForms(): string[] {
  return [PASSWORD, encodeURIComponent(PASSWORD), TOKEN];
}

function expectNoSecretIn(text: string): void {
  for (const secret of secretForms()) expect(text).not.toContain(secret);
}

async function expectNothingLeft(ws: Workspace): Promise<void> {
  const published: string[] = [];
  for await (const object of ws.storage.list()) published.push(object.key);
  expect(published).toEqual([]);
  expect(await readdir(join(ws.dir, 'tmp')).catch(() => [])).toEqual([]);
  expect(await readdir(join(ws.storage.description, '.tmp')).catch(() => [])).toEqual([]);
  expectNoSecretIn(ws.logs.join(''));
}

async function workspace(): Promise<Workspace> {
  const ws = await createWorkspace();
  workspaces.push(ws);
  return ws;
}

async function asApp<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: server.host, port: server.port, user: USER, password: PASSWORD, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Row counts and an ordered digest of every row, light enough for the big table. */
async function fingerprint(database: string): Promise<Record<string, string>> {
  return asApp(database, async (client) => {
    const result: Record<string, string> = {};
    for (const table of ['filler', 'notes']) {
      const { rows } = await client.query<{ n: string; sum: string }>(
        `SELECT count(*) AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS sum FROM ${table} t`,
      );
      result[table] = `${rows[0]!.n}:${rows[0]!.sum}`;
    }
    return result;
  });
}
