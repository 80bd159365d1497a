// Data offsets written into a custom-format dump made through a pipe (as every coffre dump is):
// every TABLE DATA and large-object entry then points at its own block, pg_restore --jobs loads the
// same rows as from the dump as it was, and a dump with offsets already, or one cut short, is left
// alone. Real pg_dump output of the rich fixture: extensions, partitions, large objects, odd names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readArchiveHead, readInt, readTocEntry, writeDataOffsets } from '@coffre/shared';
import { createDatabase, dropCreatedDatabases, withClient } from '../../test/support/pg.js';
import { createRichDatabase, rowCounts } from '../../test/support/fixtures.js';

let dir: string;
let source: { name: string; url: string };
let piped: string;

/** pg_dump -Fc -Z0 written to a pipe, as coffre runs it: no offsets in its TOC. */
async function dumpThroughPipe(url: string, file: string): Promise<void> {
  const child = spawn('pg_dump', ['-Fc', '-Z0', '-d', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await pipeline(child.stdout, createWriteStream(file));
  expect(await exited).toBe(0);
}

/** Each TOC entry's offset flag and offset, by dump id. */
function offsets(bytes: Buffer): Map<number, { flag: number; at: number }> {
  const { reader, minor, offSize } = readArchiveHead(bytes);
  const out = new Map<number, { flag: number; at: number }>();
  for (let remaining = reader.int(); remaining > 0; remaining--) {
    const { dumpId } = readTocEntry(reader, minor);
    const flag = reader.byte();
    let at = 0;
    for (let i = offSize - 1; i >= 0; i--) at = at * 256 + bytes[reader.position + i]!;
    reader.skip(offSize);
    out.set(dumpId, { flag, at });
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-offsets-'));
  source = await createDatabase('coffre_offsets');
  await createRichDatabase(source.url);
  await withClient(source.url, (c) => c.query("SELECT lo_from_bytea(0, convert_to(repeat(E'blob\\n', 1000), 'UTF8'))"));
  piped = join(dir, 'piped.dump');
  await dumpThroughPipe(source.url, piped);
});

afterAll(async () => {
  await dropCreatedDatabases();
  await rm(dir, { recursive: true, force: true });
});

describe('writeDataOffsets', () => {
  it('points every entry with data at a block of its own dump id, and only the offsets change', async () => {
    const before = await readFile(piped);
    const unset = [...offsets(before).values()].filter((o) => o.flag === 1).length;
    expect(unset).toBeGreaterThan(5);
    const file = join(dir, 'offsets.dump');
    await copyFile(piped, file);
    expect(await writeDataOffsets(file)).toBe(unset);
    const after = await readFile(file);
    expect(after.length).toBe(before.length);
    const { intSize } = readArchiveHead(after);
    let changed = 0;
    for (const [dumpId, { flag, at }] of offsets(after)) {
      expect(flag).not.toBe(1);
      if (flag !== 2) continue;
      // The block there: its type (1 data, 3 large objects), then this entry's own dump id.
      expect([1, 3]).toContain(after[at]);
      expect(readInt(after, at + 1, intSize)).toBe(dumpId);
      changed++;
    }
    expect(changed).toBe(unset);
    // Nothing but the TOC's offset fields differs.
    const differing = [...after.keys()].filter((i) => after[i] !== before[i]);
    expect(Math.max(...differing)).toBeLessThan(offsets(after).size * 200 + 64 * 1024);
    // Written once, there is nothing left to write.
    expect(await writeDataOffsets(file)).toBe(0);
  });

  it('pg_restore --jobs loads the same rows from it as from the dump as it was', async () => {
    const file = join(dir, 'restored.dump');
    await copyFile(piped, file);
    await writeDataOffsets(file);
    const expected = await rowCounts(source.url);
    for (const dump of [file, piped]) {
      const target = await createDatabase('coffre_offsets_target');
      const restored = spawnSync('pg_restore', ['--no-owner', '--exit-on-error', '--jobs=2', '-d', target.url, dump], { encoding: 'utf8' });
      expect(restored.stderr).toBe('');
      expect(restored.status).toBe(0);
      expect(await rowCounts(target.url)).toEqual(expected);
      const blob = await withClient(target.url, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM pg_largeobject_metadata'));
      expect(Number(blob.rows[0]!.n)).toBeGreaterThan(0);
    }
  });

  it('leaves a dump pg_dump wrote to a file (offsets set) as it is, and refuses one cut short', async () => {
    const own = join(dir, 'own.dump');
    expect(spawnSync('pg_dump', ['-Fc', '-Z0', '-d', source.url, '-f', own]).status).toBe(0);
    const before = await readFile(own);
    expect(await writeDataOffsets(own)).toBe(0);
    expect((await readFile(own)).equals(before)).toBe(true);

    const cut = join(dir, 'cut.dump');
    await copyFile(piped, cut);
    await truncate(cut, Math.floor(before.length * 0.9));
    await expect(writeDataOffsets(cut)).rejects.toThrow(/ends in the middle of a block/);
    const garbage = join(dir, 'garbage.dump');
    await writeFile(garbage, 'not a dump at all');
    await expect(writeDataOffsets(garbage)).rejects.toThrow(/not a custom-format archive/);
  });

  it('read behind a writer still writing it, finds the same offsets by the time the writer is done; a writer that stops short leaves it refused', async () => {
    const whole = await readFile(piped);
    const complete = join(dir, 'complete.dump');
    await copyFile(piped, complete);
    await writeDataOffsets(complete);
    const expected = await readFile(complete);

    /** Writes the first `upTo` bytes of the dump in small pieces with pauses, as a decompressor would; the scan runs beside it. */
    const follow = async (name: string, upTo: number) => {
      const file = join(dir, name);
      const handle = await open(file, 'wx');
      let writing = true;
      const scan = writeDataOffsets(file, { writing: () => writing });
      // The scan starts on an empty file, as it does beside a decompressor that has not written yet.
      await new Promise((resolve) => setTimeout(resolve, 50));
      let reads = 0;
      try {
        for (let at = 0; at < upTo; at += 7919) {
          await handle.write(whole, at, Math.min(7919, upTo - at), at);
          // Pauses longer than the scan's wait: it meets the end of what is written again and again.
          if (++reads % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
        }
      } finally {
        writing = false;
        await handle.close();
      }
      return { file, scan };
    };
    const followed = await follow('followed.dump', whole.length);
    expect(await followed.scan).toBeGreaterThan(5);
    expect((await readFile(followed.file)).equals(expected)).toBe(true);

    const stopped = await follow('stopped.dump', Math.floor(whole.length * 0.9));
    await expect(stopped.scan).rejects.toThrow(/ends in the middle of a block/);
  });
});
