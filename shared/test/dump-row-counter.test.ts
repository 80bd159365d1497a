// Row counts read from pg_dump's own stream (custom format, -Z0) against SELECT count(*): real
// pg_dump output of empty tables, values with newlines, rows larger than a pipe's buffer (200 KB), hundreds
// of tables, a partitioned table, a table without columns and large objects; fed whole, byte by
// byte and in uneven pieces. A backup records those counts without a second scan of any table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { CustomArchiveRowCounter, createLogger, listDumpedTables } from '@coffre/shared';
import { createDatabase, dropCreatedDatabases, withClient } from '../../test/support/pg.js';
import { backup, createWorkspace, type Workspace } from '../../test/support/engine.js';

let ws: Workspace;
let source: { name: string; url: string };
let dump: Buffer;
let expected: Map<string, number>;

beforeAll(async () => {
  ws = await createWorkspace();
  source = await createDatabase('coffre_rowcount');
  await withClient(source.url, async (c) => {
    await c.query(`
      CREATE TABLE empty (id int);
      CREATE TABLE texts (id int, body text);
      INSERT INTO texts VALUES (1, E'line one\\nline two\\r\\n'), (2, E'\\\\.'), (3, E'\\\\.\\n\\\\.'), (4, NULL), (5, ''), (6, E'tab\\there');
      CREATE TABLE big (id int, body text);
      INSERT INTO big SELECT g, repeat(md5(g::text) || E'\\n', 6000) FROM generate_series(1, 5) g;
      CREATE TABLE wide (id int, doc jsonb);
      INSERT INTO wide SELECT g, jsonb_build_object('n', g, 'text', E'a\\nb', 'list', jsonb_build_array(g, g + 1)) FROM generate_series(1, 3000) g;
      CREATE TABLE no_columns ();
      INSERT INTO no_columns SELECT FROM generate_series(1, 7);
      CREATE TABLE measurements (at int NOT NULL, v int) PARTITION BY RANGE (at);
      CREATE TABLE measurements_a PARTITION OF measurements FOR VALUES FROM (0) TO (100);
      CREATE TABLE measurements_b PARTITION OF measurements FOR VALUES FROM (100) TO (1000);
      INSERT INTO measurements SELECT g, g FROM generate_series(0, 456) g;
      CREATE SCHEMA "Odd Schema";
      CREATE TABLE "Odd Schema"."tab""le" (x text);
      INSERT INTO "Odd Schema"."tab""le" VALUES ('a'), ('b');
      SELECT lo_from_bytea(0, convert_to(repeat(E'blob\\n', 1000), 'UTF8'));`);
    for (let i = 0; i < 200; i++) await c.query(`CREATE TABLE many_${i} AS SELECT g FROM generate_series(1, ${i % 7}) g`);
    expected = new Map();
    for (const table of await listDumpedTables(c)) {
      if (table.kind === 'p') continue;
      const name = `${c.escapeIdentifier(table.schema)}.${c.escapeIdentifier(table.table)}`;
      const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${name}`);
      expected.set(`${table.schema}.${table.table}`, Number(rows[0]!.n));
    }
  });
  dump = pgDump(source.url, ['-Fc', '-Z0']);
});

afterAll(async () => {
  await dropCreatedDatabases();
  await ws.cleanup();
});

function pgDump(url: string, args: string[]): Buffer {
  const run = spawnSync('pg_dump', [...args, '--no-password', url], { maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`pg_dump failed: ${run.stderr.toString()}`);
  return run.stdout;
}

function countInPieces(bytes: Buffer, sizes: (i: number) => number): Map<string, number> {
  const counter = new CustomArchiveRowCounter();
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    counter.feed(bytes.subarray(at, at + size));
    at += size;
  }
  return counter.finish().rows;
}

describe('counting rows in a custom-format dump', () => {
  it('finds every table of the database, with the count SELECT count(*) gives', () => {
    expect(expected.size).toBeGreaterThan(200);
    expect(expected.get('public.empty')).toBe(0);
    expect(expected.get('public.big')).toBe(5);
    expect(countInPieces(dump, () => dump.length)).toEqual(expected);
  });

  it('gives the same counts whatever the pieces the stream arrives in', () => {
    expect(countInPieces(dump, () => 1)).toEqual(expected);
    expect(countInPieces(dump, (i) => [7, 3, 5000, 1, 65536, 13][i % 6]!)).toEqual(expected);
    expect(countInPieces(dump, () => 65536)).toEqual(expected);
  });

  it('reads rows larger than a piece, values holding newlines and a partitioned table', () => {
    const rows = countInPieces(dump, () => 4096);
    expect(rows.get('public.texts')).toBe(6);
    expect(rows.get('public.big')).toBe(5);
    expect(rows.get('public.no_columns')).toBe(7);
    expect(rows.get('public.measurements_a')! + rows.get('public.measurements_b')!).toBe(457);
    expect(rows.has('public.measurements')).toBe(false);
    expect(rows.get('Odd Schema.tab"le')).toBe(2);
  });

  it('refuses what it cannot read, rather than guessing', () => {
    const compressed = pgDump(source.url, ['-Fc', '-Z1']);
    const counter = new CustomArchiveRowCounter();
    counter.feed(compressed);
    expect(() => counter.finish()).toThrow(/compressed by pg_dump itself/);

    const cut = new CustomArchiveRowCounter();
    cut.feed(dump.subarray(0, dump.length - 3));
    expect(() => cut.finish()).toThrow(/ended in the middle/);

    const plain = new CustomArchiveRowCounter();
    plain.feed(pgDump(source.url, ['-Fp']));
    expect(() => plain.finish()).toThrow(/not a custom-format archive/);

    const damaged = Buffer.from(dump);
    // The first data block's type byte: the byte before the first data block's dump id.
    const start = findFirstDataBlock(damaged);
    damaged[start] = 9;
    const broken = new CustomArchiveRowCounter();
    broken.feed(damaged);
    expect(() => broken.finish()).toThrow(/unknown type 9/);
  });
});

/** Where the data starts (its first block's type byte): the shortest prefix after which a counter reads data. */
function findFirstDataBlock(bytes: Buffer): number {
  let [low, high] = [1, bytes.length];
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const counter = new CustomArchiveRowCounter();
    counter.feed(bytes.subarray(0, mid));
    if (counter.readingData) high = mid;
    else low = mid + 1;
  }
  return low;
}

describe('a backup', () => {
  it('records the exact counts: from its own stream uncompressed (without counting again), beside the dump compressed', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    for (const compression of ['zstd', 'none'] as const) {
      lines.length = 0;
      const taken = await backup(ws, source.url, { compression, logger: createLogger({ level: 'debug', destination: sink }) });
      const recorded = new Map(taken.tableCounts.filter((t) => t.kind === 'r').map((t) => [`${t.schema}.${t.table}`, t.rows]));
      expect(recorded).toEqual(expected);
      expect(taken.tableCounts.find((t) => t.table === 'measurements')).toMatchObject({ kind: 'p', rows: 0 });
      expect(taken.recordsCount).toBe([...expected.values()].reduce((a, b) => a + b, 0));
      expect(lines.join('')).not.toMatch(/second scan|could not be counted/);
    }
  });
});
