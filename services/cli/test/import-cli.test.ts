// The built `coffre import FILE` against a real API: a gzip-compressed pg_dump file is streamed,
// becomes a completed backup with trigger import, and restores to the database it was dumped from;
// a file that is not a dump is refused with the API's sentence and exit code 1 class (not stored).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';
import { listen, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;
let dir: string;
let source: { name: string; url: string };
const restored = uniqueName('coffre_cli_imp');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-cli-import-'));
  source = await createDatabase('coffre_cli_imp_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  api = await listen(stack);
  stack.startWorkers();
});

afterAll(async () => {
  removePrivateHomes();
  execFileSync('dropdb', ['--if-exists', '--force', '-h', '127.0.0.1', '-U', 'postgres', restored]);
  await api?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const coffre = (args: string[]) => runCli(args, { env: { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken } });

describe('coffre import', () => {
  it('streams a dump file made by pg_dump, which becomes a backup that restores to the same data', async () => {
    const file = join(dir, 'shop.dump.gz');
    await writeFile(file, gzipSync(execFileSync('pg_dump', ['-Fc', `--dbname=${source.url}`], { maxBuffer: 256 << 20 })));
    const result = await coffre(['import', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const backup = JSON.parse(result.stdout) as { id: string; name: string; trigger: string; status: string; dumpFormat: string };
    expect(backup).toMatchObject({ trigger: 'import', status: 'completed', dumpFormat: 'custom' });
    expect(backup.name).toMatch(/^shop-import-full-/);

    const withoutTarget = await coffre(['restore', backup.id, '--target-database', restored, '--yes', '--json']);
    expect(withoutTarget.stderr).toMatch(/was imported without a source: choose where to restore it with --target-source/);
    const restore = await coffre(['restore', backup.id, '--target-source', 'default', '--target-database', restored, '--yes', '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    await eventually(async () => (await stack.ctx.db.restore.findFirst({ where: { backupId: backup.id, status: 'completed' } })) ?? null, 120_000, 'the restore');
    expect(await dataChecksums(databaseUrl(restored))).toEqual(await dataChecksums(source.url));
  });

  it('a file that is not a dump is refused with the API\'s sentence, and nothing is stored', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'just some notes\n'.repeat(100));
    const rows = await stack.ctx.db.backup.count();
    const result = await coffre(['import', file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not a PostgreSQL dump.*Nothing was stored/);
    expect(await stack.ctx.db.backup.count()).toBe(rows);
  });
});
