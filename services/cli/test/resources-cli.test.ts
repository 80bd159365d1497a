// The built `coffre` managing what backups are made of: sources and destinations, configurations that
// write to named destinations, a configuration shown as JSON and created again from it, the
// encryption and retention choices, and the exit code of a missing token.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../../test/support/pg.js';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { listen, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  stack = await createTestStack();
  api = await listen(stack);
  env = { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken };
  dir = await mkdtemp(join(tmpdir(), 'coffre-cli-resources-'));
});

afterAll(async () => {
  removePrivateHomes();
  await rm(dir, { recursive: true, force: true });
  await api?.close();
  await stack?.close();
});

const coffre = (args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}) =>
  runCli(args, { env: { ...env, ...options.env }, input: options.input });

describe('without a token', () => {
  it.each([['backup', 'list'], ['source', 'list'], ['config', 'list']])('coffre %s %s exits 6, as --help and the README say', async (...args) => {
    const result = await coffre(args, { env: { COFFRE_TOKEN: undefined } });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/No API token: set COFFRE_TOKEN/);
  });
});

describe('coffre source', () => {
  it('creates a database source from a URL read on standard input, shows it masked, tests, renames and removes it', async () => {
    const database = await createDatabase('coffre_cli_extra');
    const url = new URL(database.url);
    url.password = 'not-a-real-password';
    const created = await coffre(['source', 'create', 'extra', '--database-url', '-', '--json'], { input: `${url}\n` });
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'extra', kind: 'postgres' });
    expect(created.stdout).not.toContain('not-a-real-password');

    const list = await coffre(['source', 'list']);
    expect(list.stdout).toMatch(/extra\s.*postgres\s.*postgresql:\/\//);
    expect(list.stdout).not.toContain('not-a-real-password');
    expect((await coffre(['source', 'show', 'extra'])).stdout).toMatch(/Kind:\s+PostgreSQL database/);

    const test = await coffre(['source', 'test', 'extra']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^extra: /);

    expect((await coffre(['source', 'update', 'extra', '--name', 'extra-renamed'])).code).toBe(0);
    expect((await coffre(['source', 'delete', 'extra-renamed'])).code).toBe(5);
    expect((await coffre(['source', 'delete', 'extra-renamed', '--yes'])).code).toBe(0);
    expect(await stack.ctx.db.source.count({ where: { name: { startsWith: 'extra' } } })).toBe(0);
  });

  it('test exits 1 with the reason when the database cannot be reached', async () => {
    const created = await coffre(['source', 'create', 'nowhere', '--database-url', 'postgresql://postgres@127.0.0.1:1/nothing']);
    expect(created.code, created.stderr).toBe(0);
    const test = await coffre(['source', 'test', 'nowhere', '--json']);
    expect(test.code).toBe(1);
    expect(JSON.parse(test.stdout)).toMatchObject({ ok: false, message: expect.any(String) });
  });

  it('create without saying what the source is exits 2 with a sentence', async () => {
    const result = await coffre(['source', 'create', 'vague']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--database-url URL for a PostgreSQL database, or --bucket NAME/);
  });
});

describe('coffre destination', () => {
  it('creates a local destination, lists, shows, tests and removes it', async () => {
    const path = join(dir, 'second-copy');
    const created = await coffre(['destination', 'create', 'second', '--path', path, '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'second', kind: 'local', location: path });
    expect((await coffre(['destination', 'list'])).stdout).toMatch(/second\s.*local\s.*second-copy/);
    expect((await coffre(['destination', 'show', 'second'])).stdout).toMatch(/Kind:\s+local directory/);
    const test = await coffre(['destination', 'test', 'second']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/writable/);
    expect((await coffre(['destination', 'delete', 'second', '--yes'])).code).toBe(0);
    expect(await stack.ctx.db.destination.count({ where: { name: 'second' } })).toBe(0);
  });
});

describe('coffre config', () => {
  it('create --destination, repeated, writes to those destinations', async () => {
    expect((await coffre(['destination', 'create', 'copy-a', '--path', join(dir, 'a')])).code).toBe(0);
    expect((await coffre(['destination', 'create', 'copy-b', '--path', join(dir, 'b')])).code).toBe(0);
    const created = await coffre(['config', 'create', '--name', 'two-copies', '--source', 'default', '--destination', 'copy-a', '--destination', 'copy-b', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const ids = (await stack.ctx.db.destination.findMany({ where: { name: { in: ['copy-a', 'copy-b'] } } })).map((d) => d.id);
    expect([...JSON.parse(created.stdout).destinationIds].sort()).toEqual(ids.sort());
    const unknown = await coffre(['config', 'create', '--name', 'nowhere', '--source', 'default', '--destination', 'no-such']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/There is no destination "no-such"/);
  });

  it('config show --json can be fed back to config create --file, and makes the same configuration', async () => {
    const original = await coffre(['config', 'create', '--name', 'original', '--source', 'default', '--schedule', 'weekly', '--weekday', 'monday', '--time', '04:15', '--keep-last', '5', '--daily', '7', '--compression', 'gzip', '--level', '6', '--inactive']);
    expect(original.code, original.stderr).toBe(0);
    const shown = await coffre(['config', 'show', 'original', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const file = join(dir, 'original.json');
    await writeFile(file, shown.stdout);
    const copy = await coffre(['config', 'create', '--file', file, '--name', 'copy-of-original', '--json']);
    expect(copy.code, copy.stderr).toBe(0);
    const strip = ({ id: _i, name: _n, createdAt: _c, updatedAt: _u, ...rest }: Record<string, unknown>) => rest;
    expect(strip(JSON.parse(copy.stdout))).toEqual(strip(JSON.parse(shown.stdout)));
  });

  it('a configuration follows the installation\'s encryption unless --encrypt or --no-encrypt says otherwise', async () => {
    const follows = await coffre(['config', 'create', '--name', 'follows', '--source', 'default', '--json']);
    expect(JSON.parse(follows.stdout)).toMatchObject({ encrypt: null, encrypted: false });
    const off = await coffre(['config', 'create', '--name', 'plaintext', '--source', 'default', '--no-encrypt', '--json']);
    expect(JSON.parse(off.stdout)).toMatchObject({ encrypt: false });
    expect((await coffre(['config', 'show', 'follows'])).stdout).toMatch(/Encrypted:\s+no, as the installation/);
  });

  it('--keep-last 0, which would keep every backup, exits 2 with the API\'s sentence', async () => {
    const result = await coffre(['config', 'create', '--name', 'keeps-none', '--source', 'default', '--keep-last', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/retention\.keepLast must be at least 1 \(got 0\); leave it out to keep every backup/);
  });
  it('--min-keep, --max-total-size, --max-backup-size and --time-limit set the floor, the caps and the time limit', async () => {
    const created = await coffre(['config', 'create', '--name', 'limited', '--source', 'default', '--max-age-days', '7', '--min-keep', '3', '--max-total-size', '50GB', '--max-backup-size', '500MiB', '--time-limit', '90m', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ retention: { maxAgeDays: 7, minKeep: 3, maxTotalBytes: 50_000_000_000 }, maxBackupBytes: 500 * 2 ** 20, timeLimitSeconds: 5400 });
    const shown = await coffre(['config', 'show', 'limited']);
    expect(shown.stdout).toMatch(/Time limit:\s+5400 s/);
    const bad = await coffre(['config', 'create', '--name', 'badly-limited', '--source', 'default', '--time-limit', 'forever']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--time-limit must be a duration such as 90m, 6h or a number of seconds (got "forever").');
  });
});
