// Parallel dumps (pg_dump --format=directory --jobs N) stored as one tar through the artifact chain:
// they restore to exactly what was dumped, count their rows exactly, read with standard tools, and
// a failed dump leaves neither an artifact nor its temporary directory. Real PostgreSQL, pg_dump,
// pg_restore, zstd, tar and age.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIdentity, parsePostgresUrl, runParallelRestore } from '@coffre/shared';
import { withPrivateDirectory } from '../src/engine/directory-dump.js';
import { tarArchive } from '../../test/support/tar.js';
import { adminQuery, createDatabase, dropCreatedDatabases, dropDatabase, withClient } from '../../test/support/pg.js';
import { createRichDatabase, dataChecksums, schemaDump } from '../../test/support/fixtures.js';
import { artifactPath, backup, createWorkspace, restore, type Workspace } from '../../test/support/engine.js';
import { databaseUrl } from '../../test/support/env.js';

let ws: Workspace;
let source: { name: string; url: string };
let sourceSchema: string;
let sourceData: Record<string, string>;

beforeAll(async () => {
  ws = await createWorkspace();
  source = await createDatabase('coffre_dir_src');
  await createRichDatabase(source.url);
  sourceSchema = schemaDump(source.url);
  sourceData = await dataChecksums(source.url);
});

afterAll(async () => {
  await dropCreatedDatabases();
  await ws.cleanup();
});

describe('a directory-format backup with pg_dump --jobs', () => {
  it.each([
    ['zstd', false],
    ['zstd', true],
    ['none', false],
  ] as const)('with %s compression (encrypted: %s) restores in one transaction to an identical schema and data', async (compression, encrypt) => {
    const taken = await backup(ws, source.url, { compression, encrypt, dumpJobs: 2 });
    expect(taken.dumpFormat).toBe('directory');
    const target = await createDatabase('coffre_dir_rt');
    await restore(ws, taken, target.url, { compression, encrypted: encrypt, dumpFormat: 'directory' });
    expect(schemaDump(target.url)).toBe(sourceSchema);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
  });

  it('records every table with the same exact row counts as a custom-format backup', async () => {
    const parallel = await backup(ws, source.url, { dumpJobs: 3 });
    const custom = await backup(ws, source.url);
    expect(custom.dumpFormat).toBe('custom');
    const counts = Object.fromEntries(parallel.tableCounts.map((t) => [`${t.schema}.${t.table}`, t.rows]));
    expect(counts['public.people']).toBe(501);
    expect(counts['public.orders']).toBe(2000);
    expect(counts['Weird Schema.Quoted "Table"']).toBe(50);
    expect(counts['public.measurements_2025'] + counts['public.measurements_2026']).toBe(601);
    expect(parallel.tableCounts).toEqual(custom.tableCounts);
    expect(parallel.recordsCount).toBe(custom.recordsCount);
    // Counted from the data files, not by a second scan of every table.
    expect(ws.logs.join('')).not.toMatch(/could not be counted/);
  });

  it('loads into a new database with pg_restore --jobs from the unpacked directory', async () => {
    const taken = await backup(ws, source.url, { dumpJobs: 2, encrypt: true });
    const target = await createDatabase('coffre_dir_par');
    const stat = await ws.storage.stat(taken.key);
    const loaded = await runParallelRestore({
      artifact: { open: () => ws.storage.get(taken.key), storedSizeBytes: stat?.sizeBytes, sizeBytes: taken.sizeBytes, checksumSha256: taken.checksumSha256, encrypted: true },
      compression: 'zstd',
      identities: [parseIdentity(ws.identity)],
      target: parsePostgresUrl(target.url),
      jobs: 2,
      dumpFormat: 'directory',
      tmpDir: join(ws.dir, 'tmp'),
      logger: ws.logger,
    });
    expect(loaded.dumpBytes).toBeGreaterThan(0);
    expect(schemaDump(target.url)).toBe(sourceSchema);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
    expect(await readdir(join(ws.dir, 'tmp'))).toEqual([]);
  });

  it('restores into a database it creates, with pg_restore --jobs', async () => {
    const taken = await backup(ws, source.url, { dumpJobs: 2 });
    const name = `coffre_dir_new_${Date.now()}`;
    try {
      await restore(ws, taken, databaseUrl(name), { dumpFormat: 'directory', createDatabase: true, jobs: 2 });
      expect(await dataChecksums(databaseUrl(name))).toEqual(sourceData);
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });

  it('a data-only directory backup restored over the schema gives back exactly the data', async () => {
    const schemaOnly = await backup(ws, source.url, { type: 'schema', dumpJobs: 2 });
    const dataOnly = await backup(ws, source.url, { type: 'data', dumpJobs: 2 });
    const target = await createDatabase('coffre_dir_data');
    await restore(ws, schemaOnly, target.url, { type: 'schema', dumpFormat: 'directory' });
    await withClient(target.url, (c) => c.query("INSERT INTO audit_log (note) VALUES ('stale row')"));
    await restore(ws, dataOnly, target.url, { type: 'data', dumpFormat: 'directory', tables: dataOnly.tableCounts });
    const { '(large objects)': _lo, ...tables } = await dataChecksums(target.url);
    const { '(large objects)': _slo, ...sourceTables } = sourceData;
    expect(tables).toEqual(sourceTables);
  });

  it('zstd -dc FILE | tar -x, then pg_restore -j 2 -d DB database, restores it without coffre', async () => {
    const taken = await backup(ws, source.url, { dumpJobs: 2 });
    const target = await createDatabase('coffre_dir_cli');
    const file = await artifactPath(ws, taken.key);
    const unpacked = join(ws.dir, `unpacked-${Date.now()}`);
    await mkdir(unpacked);
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', 'zstd -dc "$1" | tar -x -C "$2" && pg_restore -j 2 --no-owner -d "$3" "$2/database"', 'restore', file, unpacked, target.url]);
    expect(run.status, run.stderr.toString()).toBe(0);
    expect(schemaDump(target.url)).toBe(sourceSchema);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
  });
});

describe('a failing pg_dump in directory mode', () => {
  it('publishes nothing and leaves no temporary directory', async () => {
    // A role that may select from both tables, but row-level security guards one of them: pg_dump
    // (row_security off) fails when its COPY reaches that table, in the data phase, with the other
    // table's rows already written into its directory.
    const role = `coffre_dir_limited_${process.pid}`;
    const db = await createDatabase('coffre_dir_fail');
    await withClient(db.url, (c) =>
      c.query(`CREATE TABLE readable AS SELECT g FROM generate_series(1, 100000) g; CREATE TABLE secret AS SELECT g FROM generate_series(1, 1000) g;
               ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
               DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN; GRANT SELECT ON readable, secret TO ${role}`),
    );
    const tmp = join(ws.dir, 'tmp');
    const url = new URL(db.url);
    url.username = role;
    url.password = '';
    const key = `failing-${Date.now()}.tar.zst`;
    try {
      await expect(backup(ws, url.toString(), { dumpJobs: 2, key })).rejects.toThrow(/pg_dump failed: .*row-level security/);
      expect(await ws.storage.stat(key)).toBeNull();
      const stored = await readdir(join(ws.dir, 'backups'), { recursive: true });
      expect(stored.filter((name) => name.includes('failing-'))).toEqual([]);
      expect(await readdir(tmp).catch(() => [])).toEqual([]);
    } finally {
      await dropDatabase(db.name);
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe('the private directories of directory-format dumps and restores', () => {
  it('are created 0700 in the temporary folder and removed when the work fails', async () => {
    const tmp = join(ws.dir, 'tmp-private');
    let seen = '';
    await expect(
      withPrivateDirectory(tmp, async (dir) => {
        seen = dir;
        expect((await stat(dir)).mode & 0o777).toBe(0o700);
        await writeFile(join(dir, 'partial.dat'), 'half a table');
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(seen.startsWith(tmp)).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('an altered artifact is refused, the target is untouched and no unpacked directory is left', async () => {
    const taken = await backup(ws, source.url, { dumpJobs: 2, compression: 'none' });
    const file = await artifactPath(ws, taken.key);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(file, bytes);
    const target = await createDatabase('coffre_dir_altered');
    await withClient(target.url, (c) => c.query("CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched')"));
    const before = await dataChecksums(target.url);
    await expect(restore(ws, taken, target.url, { compression: 'none', dumpFormat: 'directory' })).rejects.toThrow(/altered/);
    expect(await dataChecksums(target.url)).toEqual(before);
    expect(await readdir(join(ws.dir, 'tmp'))).toEqual([]);
  });

  it('a tar holding anything but pg_dump\'s files in database/ is refused, and nothing lands outside', async () => {
    const planted = tarArchive([
      { name: 'database/', type: 'directory' },
      { name: 'database/toc.dat', content: 'PGDMP' },
      { name: 'database/../../escaped.txt', content: 'out of the directory' },
    ]);
    const key = `planted-${Date.now()}.tar`;
    await mkdir(join(ws.dir, 'backups'), { recursive: true });
    await writeFile(await artifactPath(ws, key), planted);
    const target = await createDatabase('coffre_dir_planted');
    const recorded = { key, sizeBytes: planted.length, checksumSha256: createHash('sha256').update(planted).digest('hex') };
    await expect(restore(ws, recorded, target.url, { compression: 'none', dumpFormat: 'directory' })).rejects.toThrow(
      /not a directory-format dump as coffre writes it: it holds "database\/\.\.\/\.\.\/escaped\.txt"/,
    );
    expect(await readdir(ws.dir)).not.toContain('escaped.txt');
    expect(await readdir(join(ws.dir, 'tmp'))).toEqual([]);
  });
});
