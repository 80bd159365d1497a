// The heart of coffre: a backup restores to exactly what was dumped, and a damaged artifact never
// reaches a database. Real PostgreSQL, pg_dump, pg_restore, zstd, gzip and age.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, runFilesBackup, type CompressionKind } from '@coffre/shared';
import { createDatabase, dropCreatedDatabases, withClient } from '../../test/support/pg.js';
import { createRichDatabase, dataChecksums, rowCounts, schemaDump } from '../../test/support/fixtures.js';
import { artifactPath, backup, createWorkspace, readArtifact, restore, type Workspace } from '../../test/support/engine.js';
import { databaseUrl } from '../../test/support/env.js';

let ws: Workspace;
let source: { name: string; url: string };
let sourceSchema: string;
let sourceData: Record<string, string>;

beforeAll(async () => {
  ws = await createWorkspace();
  source = await createDatabase('coffre_src');
  await createRichDatabase(source.url);
  sourceSchema = schemaDump(source.url);
  sourceData = await dataChecksums(source.url);
});

afterAll(async () => {
  await dropCreatedDatabases();
  await ws.cleanup();
});

describe('round trip', () => {
  const cases: [CompressionKind, boolean][] = [
    ['zstd', false],
    ['zstd', true],
    ['gzip', false],
    ['gzip', true],
    ['none', false],
    ['none', true],
  ];

  it.each(cases)('a full backup with %s compression (encrypted: %s) restores to an identical schema and data', async (compression, encrypt) => {
    const taken = await backup(ws, source.url, { compression, encrypt });
    expect(taken.sizeBytes).toBeGreaterThan(0);
    expect(taken.checksumSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(taken.serverVersion).toMatch(/^\d+\.\d+/);
    expect(taken.pgDumpVersion).toMatch(/^\d+\.\d+/);

    const target = await createDatabase('coffre_rt');
    await restore(ws, taken, target.url, { compression, encrypted: encrypt });
    expect(schemaDump(target.url)).toBe(sourceSchema);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
  });

  it('records the tables and their exact row counts', async () => {
    const taken = await backup(ws, source.url);
    const counts = Object.fromEntries(taken.tableCounts.map((t) => [`${t.schema}.${t.table}`, t.rows]));
    expect(counts['public.people']).toBe(501);
    expect(counts['public.orders']).toBe(2000);
    expect(counts['Weird Schema.Quoted "Table"']).toBe(50);
    expect(counts['public.measurements_2025'] + counts['public.measurements_2026']).toBe(601);
    expect(taken.tablesCount).toBe(taken.tableCounts.length);
    expect(taken.recordsCount).toBe(taken.tableCounts.reduce((s, t) => s + t.rows, 0));
  });

  it('restores into a database it creates', async () => {
    const taken = await backup(ws, source.url);
    const name = `coffre_new_${Date.now()}`;
    const url = databaseUrl(name);
    try {
      await restore(ws, taken, url, { createDatabase: true });
      expect(await dataChecksums(url)).toEqual(sourceData);
    } finally {
      execFileSync('dropdb', ['--if-exists', '--force', '-h', '127.0.0.1', '-U', 'postgres', name]);
    }
  });
});

describe('schema-only and data-only backups', () => {
  it('a schema-only backup restores the schema and no rows', async () => {
    const taken = await backup(ws, source.url, { type: 'schema' });
    expect(taken.recordsCount).toBeNull();
    const target = await createDatabase('coffre_schema');
    await restore(ws, taken, target.url, { type: 'schema' });
    expect(schemaDump(target.url)).toBe(sourceSchema);
    const counts = await rowCounts(target.url);
    for (const [table, n] of Object.entries(counts)) {
      if (!table.endsWith('_seq')) expect({ table, n }).toEqual({ table, n: 0 });
    }
    expect((await dataChecksums(target.url))['public.mood_counts']).toBe('unpopulated');
  });

  it('a data-only backup restored over the schema gives back exactly the data, replacing what was there', async () => {
    const schemaOnly = await backup(ws, source.url, { type: 'schema' });
    const dataOnly = await backup(ws, source.url, { type: 'data' });
    const target = await createDatabase('coffre_data');
    await restore(ws, schemaOnly, target.url, { type: 'schema' });
    // Rows that the data-only restore must replace.
    await withClient(target.url, (c) => c.query("INSERT INTO audit_log (note) VALUES ('stale row')"));
    await restore(ws, dataOnly, target.url, { type: 'data', tables: dataOnly.tableCounts });
    const { '(large objects)': _lo, ...tables } = await dataChecksums(target.url);
    const { '(large objects)': _slo, ...sourceTables } = sourceData;
    expect(tables).toEqual(sourceTables);
    expect(schemaDump(target.url)).toBe(sourceSchema);
  });
});

describe('standard tools read coffre artifacts', () => {
  it('zstd -dc FILE | pg_restore -d DB restores an unencrypted artifact', async () => {
    const taken = await backup(ws, source.url, { compression: 'zstd' });
    const target = await createDatabase('coffre_cli');
    const file = await artifactPath(ws, taken.key);
    const zstd = spawnSync('bash', ['-o', 'pipefail', '-c', `zstd -dc "$1" | pg_restore --no-owner -d "$2"`, 'restore', file, target.url]);
    expect(zstd.status, zstd.stderr.toString()).toBe(0);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
  });

  it('age -d -i KEY FILE | zstd -dc | pg_restore -d DB restores an encrypted artifact', async () => {
    const taken = await backup(ws, source.url, { compression: 'zstd', encrypt: true });
    const target = await createDatabase('coffre_age');
    const file = await artifactPath(ws, taken.key);
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', `age -d -i "$1" "$2" | zstd -dc | pg_restore --no-owner -d "$3"`, 'restore', ws.identityFile, file, target.url]);
    expect(run.status, run.stderr.toString()).toBe(0);
    expect(await dataChecksums(target.url)).toEqual(sourceData);
  });
});

describe('damaged artifacts are refused before pg_restore runs, and the target is unchanged', () => {
  let encrypted: Awaited<ReturnType<typeof backup>>;
  let target: { name: string; url: string };
  let before: Record<string, string>;

  beforeAll(async () => {
    // Enough data for several 64 KiB chunks of the age payload.
    const bulky = await createDatabase('coffre_bulky');
    await withClient(bulky.url, (c) => c.query('CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g'));
    encrypted = await backup(ws, bulky.url, { compression: 'none', encrypt: true });
    expect(encrypted.sizeBytes).toBeGreaterThan(5 * 65552);
    target = await createDatabase('coffre_damaged');
    await withClient(target.url, (c) => c.query('CREATE TABLE marker (v text); INSERT INTO marker VALUES ($$untouched$$)'));
    before = await dataChecksums(target.url);
  });

  async function refusal(mutate: (bytes: Buffer) => Buffer, identity?: string): Promise<IntegrityError> {
    const key = `damaged-${Math.random().toString(36).slice(2)}.dump.age`;
    await writeFile(join(ws.storage.description, key), mutate(await readArtifact(ws, encrypted.key)));
    const error = await restore(ws, { ...encrypted, key }, target.url, { compression: 'none', encrypted: true, identity }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IntegrityError);
    expect(await dataChecksums(target.url)).toEqual(before);
    return error as IntegrityError;
  }

  const chunk = 64 * 1024 + 16;
  const headerEnd = (bytes: Buffer) => bytes.indexOf('\n', bytes.indexOf('\n--- ') + 1) + 1 + 16;

  it('one flipped byte', async () => {
    const error = await refusal((b) => {
      const copy = Buffer.from(b);
      copy[headerEnd(b) + chunk * 2 + 100]! ^= 0x01;
      return copy;
    });
    expect(error.reason).toBe('altered');
    expect(error.message).toMatch(/chunk 2 fails authentication: the artifact's bytes were altered/);
  });

  it('truncation', async () => {
    const error = await refusal((b) => b.subarray(0, b.length - 1000));
    expect(error.reason).toBe('truncated');
    expect(error.message).toMatch(/truncated: \d+ of the \d+ recorded bytes are stored \(1000 missing\)/);
  });

  it('appended bytes', async () => {
    const error = await refusal((b) => Buffer.concat([b, Buffer.from('trailing garbage')]));
    expect(error.reason).toBe('appended');
    expect(error.message).toMatch(/16 bytes longer than the backup recorded/);
  });

  it('a dropped chunk', async () => {
    const error = await refusal((b) => {
      const start = headerEnd(b) + chunk * 3;
      return Buffer.concat([b.subarray(0, start), b.subarray(start + chunk)]);
    });
    expect(error.reason).toBe('reordered');
    expect(error.message).toMatch(/chunk 3 is out of sequence \(it is chunk 4\): chunks are missing before it: a chunk was dropped/);
  });

  it('a wrong identity', async () => {
    const { generateIdentity } = await import('@coffre/shared');
    const error = await refusal((b) => b, generateIdentity().identity);
    expect(error.reason).toBe('wrong-key');
    expect(error.message).toMatch(/none of the configured age identities can decrypt this artifact/i);
  });

  it('an unencrypted artifact with a flipped byte', async () => {
    const plain = await backup(ws, source.url, { compression: 'zstd' });
    const key = `flipped-${Date.now()}.dump.zst`;
    const bytes = Buffer.from(await readArtifact(ws, plain.key));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x80;
    await writeFile(join(ws.storage.description, key), bytes);
    const error = await restore(ws, { ...plain, key }, target.url).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toMatch(/altered: its SHA-256 is [0-9a-f]{64}, the backup recorded/);
    expect(await dataChecksums(target.url)).toEqual(before);
  });
});

describe('failed dumps', () => {
  it('a missing database gives a sentence and leaves nothing under a final name', async () => {
    const local = await createWorkspace();
    try {
      const error = await backup(local, databaseUrl('coffre_no_such_db'), { key: 'x/missing.dump.zst' }).then(() => null, (e: Error) => e);
      expect(error?.message).toBe('Database "coffre_no_such_db" does not exist on 127.0.0.1:5432: check the database name in the source URL.');
      expect(await local.storage.stat('x/missing.dump.zst')).toBeNull();
      expect(await filesUnder(join(local.dir, 'backups'))).toEqual([]);
    } finally {
      await local.cleanup();
    }
  });

  it('pg_dump killed mid-dump fails the run and publishes nothing', async () => {
    const big = await createDatabase('coffre_big');
    await withClient(big.url, (c) =>
      c.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS body FROM generate_series(1, 600000) g"),
    );
    const local = await createWorkspace();
    try {
      const running = backup(local, big.url, { key: 'killed.dump.zst' }).then(() => null, (e: Error) => e);
      const pid = await waitForProcess((cmd) => cmd.startsWith('pg_dump') || cmd.includes('/pg_dump\0'), big.name);
      process.kill(pid, 'SIGKILL');
      const error = await running;
      expect(error?.message).toMatch(/^pg_dump was killed by SIGKILL before the dump was complete/);
      expect(await local.storage.stat('killed.dump.zst')).toBeNull();
      expect(await filesUnder(join(local.dir, 'backups'))).toEqual([]);
    } finally {
      await local.cleanup();
    }
  });
});

describe('a failed tool reads the same in every artifact', () => {
  it('a compressor that fails is named with what it said, for a dump as for a file archive, and nothing is published', async () => {
    // A zstd that takes the whole dump, then fails: the failure is the compressor's alone.
    const bin = join(ws.dir, 'failing-zstd');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'zstd'), "#!/bin/sh\ncat >/dev/null\necho 'zstd: error: the disk caught fire' >&2\nexit 1\n", { mode: 0o755 });
    await writeFile(join(ws.dir, 'notes.txt'), 'a file to archive');
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const dumped = await backup(ws, source.url, { key: 'failing-zstd.dump.zst' }).then(() => null, (e: Error) => e);
      const archived = await runFilesBackup({
        paths: [join(ws.dir, 'notes.txt')],
        compression: 'zstd',
        recipients: [],
        targets: [{ driver: ws.storage, key: 'failing-zstd.tar.zst' }],
      }).then(() => null, (e: Error) => e);
      const sentence = 'zstd exited with code 1: zstd: error: the disk caught fire.';
      expect({ dump: dumped?.message, archive: archived?.message }).toEqual({ dump: sentence, archive: sentence });
      expect(await ws.storage.stat('failing-zstd.dump.zst')).toBeNull();
      expect(await ws.storage.stat('failing-zstd.tar.zst')).toBeNull();
    } finally {
      process.env.PATH = path;
    }
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Polls /proc for a process whose command line matches, naming the database. */
async function waitForProcess(match: (cmdline: string) => boolean, needle: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const pid of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).catch(() => '');
      if (match(cmdline) && cmdline.includes(needle)) return Number(pid);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the process never appeared');
}
