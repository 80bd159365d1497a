// The recovery window of a source and what breaks it, against a cluster of the test's own: WAL and a
// base backup stored encrypted (a segment decrypts with the age CLI, the base backup unpacks with
// age | zstd -dc | tar -x); the window spans from the base backup to the last commit with no break;
// a segment deleted from storage breaks it: the window shows the break, an alert goes out to a
// webhook, a restore past it is refused naming the last reachable moment, and a restore before it
// still yields exactly the rows committed by then. The round-trip fixture (extensions, large objects,
// partitions, non-ASCII names) restored to a moment is identical in schema and data to the source then.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { alertWalGaps, deleteBackup, generateIdentity, pruneWal, recoverToDirectory, pitrState, requestBackup, requestPitrRestore, systemActor, type Source } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { queryRows } from '../support/pg.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { streamDefaultSource } from '../support/pitr.js';
import { createRichDatabase, dataChecksums, schemaDump } from '../support/fixtures.js';

let cluster: PostgresCluster;
let stack: TestStack;
let dir: string;
let identityFile: string;
let receiver: HttpReceiver;
let source: Source;
/** Each row's commit time, the segment it was switched out in. */
const commits: { id: number; at: Date; segment: string }[] = [];
let baseId: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  await sql('postgres', 'CREATE DATABASE shop');
  await sql('shop', 'CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
  dir = await mkdtemp(join(tmpdir(), 'coffre-pitr-window-'));
  await chmod(dir, 0o755);
  const keys = generateIdentity();
  identityFile = join(dir, 'key.txt');
  await writeFile(identityFile, `${keys.identity}\n`, { mode: 0o600 });
  receiver = await startHttpReceiver();
  stack = await createTestStack({
    sourceUrl: cluster.url('shop'),
    env: { WAL_FLUSH_SECONDS: '1', AGE_RECIPIENTS: keys.recipient, AGE_IDENTITY_FILE: identityFile, PITR_WORK_DIR: join(dir, 'work') },
  });
  await mkdir(join(dir, 'work'), { mode: 0o755 });
  source = await streamDefaultSource(stack, receiver.url('/alerts'));

  const base = await requestBackup(stack.ctx, { sourceId: source.id, type: 'physical' }, systemActor);
  baseId = base.id;
  await eventually(async () => {
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: base.id } });
    if (row.status === 'failed') throw new Error(row.errorMessage ?? 'failed');
    return row.status === 'completed';
  }, 120_000, 'the base backup');
  // Rows a second and more apart, each in a segment of its own.
  for (let id = 1; id <= 4; id++) {
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const at = (await sql<{ at: Date }>('shop', `INSERT INTO ticks (id) VALUES (${id}) RETURNING at`))[0]!.at;
    const segment = (await sql<{ name: string }>('shop', 'SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name'))[0]!.name;
    await sql('shop', 'SELECT pg_switch_wal()');
    commits.push({ id, at, segment });
    await eventually(async () => (await stack.ctx.db.walFile.findFirst({ where: { sourceId: source.id, name: segment, kind: 'segment' } })) ?? null, 60_000, `segment ${segment} stored`);
  }
  // A commit after the last row, so that every moment up to it is followed by a commit in the WAL.
  await sql('shop', 'CREATE TABLE after_the_rows (x int)');
  await eventually(async () => {
    const state = await pitrState(stack.ctx, source.id);
    return state.window.latest && state.window.latest > commits.at(-1)!.at ? state : null;
  }, 60_000, 'the window to reach the last row');
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await receiver?.stop();
  await cluster?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sql<T extends pg.QueryResultRow>(database: string, text: string): Promise<T[]> {
  return queryRows<T>(cluster.url(database), text);
}

function stored(key: string): string {
  return join(stack.config.BACKUP_DIR, key);
}

describe('the recovery window', () => {
  it('spans from the base backup to the last commit, without a break', async () => {
    const base = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: baseId } });
    const { window } = await pitrState(stack.ctx, source.id, { checkStorage: true });
    expect(window.gaps).toEqual([]);
    expect(window.earliest).toEqual(base.completedAt);
    expect(window.latest!.getTime()).toBeGreaterThan(commits.at(-1)!.at.getTime());
  });

  it('stores WAL and base backups that standard tools read: age, zstd, tar', async () => {
    const segment = await stack.ctx.db.walFile.findFirstOrThrow({ where: { sourceId: source.id, name: commits[0]!.segment } });
    expect(segment.encrypted).toBe(true);
    const wal = execFileSync('sh', ['-c', `age -d -i "$1" "$2" | zstd -dc`, 'sh', identityFile, stored(segment.key)], { maxBuffer: 64 * 1024 * 1024 });
    expect(wal.length).toBe(16 * 1024 * 1024);
    // XLOG_PAGE_MAGIC of PostgreSQL 15 at the start of every page.
    expect(wal.readUInt16LE(0)).toBe(0xd110);
    const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: baseId, kind: 'database' } });
    const unpacked = join(dir, 'unpacked');
    await mkdir(unpacked);
    execFileSync('sh', ['-c', `age -d -i "$1" "$2" | zstd -dc | tar -x -C "$3"`, 'sh', identityFile, stored(artifact.key), unpacked]);
    expect((await readFile(join(unpacked, 'PG_VERSION'), 'utf8')).trim()).toBe('15');
    const notes = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: baseId, kind: 'restore-notes' } });
    expect(await readFile(stored(notes.key), 'utf8')).toContain('restore_command');
  });

  it('breaks at a deleted segment: shown, alerted, restores past it refused, before it still exact', async () => {
    const lost = await stack.ctx.db.walFile.findFirstOrThrow({ where: { sourceId: source.id, name: commits[2]!.segment } });
    await rm(stored(lost.key));

    const { window } = await pitrState(stack.ctx, source.id, { checkStorage: true });
    expect(window.gaps).toHaveLength(1);
    expect(window.gaps[0]).toMatchObject({ file: lost.name, reason: 'damaged', fromLsn: lost.startLsn });
    const lastReachable = window.gaps[0]!.lastReachable!;
    expect(lastReachable.getTime()).toBeGreaterThanOrEqual(commits[1]!.at.getTime());
    expect(lastReachable.getTime()).toBeLessThan(commits[2]!.at.getTime());

    expect(await alertWalGaps(stack.ctx)).toBe(1);
    const [alert] = await receiver.waitFor(1, (r) => r.path === '/alerts');
    expect((alert!.json as { title: string }).title).toContain(`breaks at ${lost.startLsn}`);

    const past = new Date(Math.ceil(commits[3]!.at.getTime() / 1000) * 1000);
    await expect(requestPitrRestore(stack.ctx, source.id, { targetTime: past.toISOString(), database: 'shop', targetDatabase: 'shop_past', confirm: 'shop_past' }, systemActor)).rejects.toThrow(
      `the last reachable moment is ${lastReachable.toISOString()}`,
    );

    // A whole second between the first two rows.
    const before = new Date(Math.ceil((commits[0]!.at.getTime() + 1) / 1000) * 1000);
    expect(before.getTime()).toBeLessThan(commits[1]!.at.getTime());
    const restore = await requestPitrRestore(stack.ctx, source.id, { targetTime: before.toISOString(), database: 'shop', targetDatabase: 'shop_before', confirm: 'shop_before' }, systemActor);
    const finished = await eventually(async () => {
      const row = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } });
      return row.status === 'completed' || row.status === 'failed' ? row : null;
    }, 240_000, 'the restore before the break');
    expect(finished.errorMessage).toBeNull();
    expect((await sql<{ id: number }>('shop_before', 'SELECT id FROM ticks ORDER BY id')).map((r) => r.id)).toEqual([1]);
  });

  it('recovers the whole cluster into a directory, ready to start, as it was at the moment', async () => {
    const moment = new Date(Math.ceil((commits[0]!.at.getTime() + 1) / 1000) * 1000);
    const target = join(dir, 'cluster');
    const done = await recoverToDirectory(stack.ctx, source.id, moment, target);
    expect(done.dataDir).toBe(join(target, 'data'));
    const socket = join(dir, 'socket');
    await mkdir(socket, { mode: 0o777 });
    await chmod(socket, 0o777);
    // Started as it is, with the source's own settings but for where it listens.
    const server = spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', '/usr/lib/postgresql/15/bin/postgres', '-D', done.dataDir, '-c', 'listen_addresses=', '-c', `unix_socket_directories=${socket}`, '-c', 'port=5432'], { stdio: 'ignore' });
    try {
      const rows = await eventually(async () => {
        const client = new pg.Client({ host: socket, port: 5432, user: 'postgres', database: 'shop' });
        await client.connect();
        try {
          return (await client.query<{ id: number }>('SELECT id FROM ticks ORDER BY id')).rows.map((r) => r.id);
        } finally {
          await client.end();
        }
      }, 30_000, 'the recovered cluster to start');
      expect(rows).toEqual([1]);
    } finally {
      server.kill('SIGINT');
      await Promise.race([new Promise((resolve) => server.on('exit', resolve)), new Promise((resolve) => setTimeout(resolve, 15_000))]);
      server.kill('SIGKILL');
    }
  });

  it('keeps the WAL from the oldest kept base backup on, and deletes what came before', async () => {
    const second = await requestBackup(stack.ctx, { sourceId: source.id, type: 'physical' }, systemActor);
    const taken = await eventually(async () => {
      const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: second.id } });
      return row.status === 'completed' ? row : null;
    }, 120_000, 'the second base backup');
    await eventually(async () => (await pitrState(stack.ctx, source.id)).window.spans.some((s) => s.baseBackups.some((b) => b.id === taken.id)), 60_000, 'the WAL the second base backup needs');
    await deleteBackup(stack.ctx, baseId, systemActor);
    const before = await stack.ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, kind: { not: 'history' } } });
    const report = await pruneWal(stack.ctx, source.id);
    const kept = await stack.ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, kind: { not: 'history' } } });
    expect(report.failures).toEqual([]);
    expect(report.deleted).toBeGreaterThanOrEqual(4);
    expect(kept.length).toBe(before.length - report.deleted);
    const start = taken.walStartLsn!;
    // Every kept file ends after the base backup's start; every removed object is gone from storage.
    const lsn = (text: string) => BigInt(`0x${text.split('/')[0]}`) * 2n ** 32n + BigInt(`0x${text.split('/')[1]}`);
    expect(kept.every((f) => lsn(f.endLsn) > lsn(start))).toBe(true);
    for (const removed of before.filter((f) => !kept.some((k) => k.id === f.id))) await expect(readFile(stored(removed.key))).rejects.toThrow(/ENOENT/);
    const { window } = await pitrState(stack.ctx, source.id, { checkStorage: true });
    expect(window.gaps).toEqual([]);
    expect(window.earliest).toEqual(taken.completedAt);
  });

  it('restores the round-trip fixture as it was at a moment: same schema, same data, sequences never behind', async () => {
    await sql('postgres', 'CREATE DATABASE rich');
    await createRichDatabase(cluster.url('rich'));
    const atMoment = { schema: schemaDump(cluster.url('rich')), data: await dataChecksums(cluster.url('rich')), sequences: await sequenceValues('rich') };
    const lastCommit = (await sql<{ now: Date }>('rich', 'SELECT clock_timestamp() AS now'))[0]!.now;
    const moment = new Date(Math.ceil((lastCommit.getTime() + 1) / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, moment.getTime() - Date.now() + 300));
    // After the moment: rows added, updated and deleted, a large object gone, a table added.
    await sql('rich', "INSERT INTO people (name, mood) VALUES ('After', 'ok')");
    await sql('rich', 'UPDATE orders SET total = total + 1 WHERE id <= 100');
    await sql('rich', "DELETE FROM measurements WHERE city = 'Paris' AND peak < 10");
    await sql('rich', "SELECT lo_unlink(content) FROM documents WHERE title = 'first'");
    await sql('rich', 'CREATE TABLE after_the_moment (x int)');
    expect(await dataChecksums(cluster.url('rich'))).not.toEqual(atMoment.data);
    await eventually(async () => ((await pitrState(stack.ctx, source.id)).window.latest?.getTime() ?? 0) > moment.getTime() + 500, 60_000, 'the window to pass the moment');

    const restore = await requestPitrRestore(stack.ctx, source.id, { targetTime: moment.toISOString(), database: 'rich', targetDatabase: 'rich_at_moment', confirm: 'rich_at_moment' }, systemActor);
    const finished = await eventually(async () => {
      const row = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } });
      return row.status === 'completed' || row.status === 'failed' ? row : null;
    }, 240_000, 'the restore of the fixture');
    expect(finished.errorMessage).toBeNull();
    const restored = cluster.url('rich_at_moment');
    expect(schemaDump(restored)).toBe(atMoment.schema);
    const tablesOf = (sums: Record<string, string>) => Object.fromEntries(Object.entries(sums).filter(([key]) => !(key in atMoment.sequences)));
    expect(tablesOf(await dataChecksums(restored))).toEqual(tablesOf(atMoment.data));
    // PostgreSQL writes a sequence's WAL 32 values ahead of its use: recovered from WAL, a sequence may
    // stand up to 32 steps past where it stood at the moment, never behind it.
    const sequences = await sequenceValues('rich_at_moment');
    expect(Object.keys(sequences).sort()).toEqual(Object.keys(atMoment.sequences).sort());
    for (const [name, { value, step }] of Object.entries(sequences)) {
      const ahead = (value - atMoment.sequences[name]!.value) / step;
      expect(ahead, name).toBeGreaterThanOrEqual(0);
      expect(ahead, name).toBeLessThanOrEqual(32);
    }
  });
});

describe('the segment being written', () => {
  it('is stored under a new key at each shipment, so that no object changes under a reader', async () => {
    await sql('shop', 'INSERT INTO ticks (id) VALUES (100)');
    const first = await eventually(async () => stack.ctx.db.walFile.findFirst({ where: { sourceId: source.id, kind: 'partial', deletedAt: null }, orderBy: { receivedAt: 'desc' } }), 30_000, 'a partial segment');
    await sql('shop', 'INSERT INTO ticks (id) VALUES (101)');
    const next = await eventually(async () => {
      const row = await stack.ctx.db.walFile.findUniqueOrThrow({ where: { id: first.id } });
      return row.key !== first.key ? row : null;
    }, 30_000, 'the next shipment of the segment');
    expect(first.key).toMatch(/\/[0-9A-F]{24}\.partial-[0-9A-F]{16}\.zst\.age$/);
    expect(next.key).toMatch(/\/[0-9A-F]{24}(\.partial-[0-9A-F]{16})?\.zst\.age$/);
    // The old object is deleted right after the row points to the next one: a moment later, not at once.
    await eventually(async () => readFile(stored(first.key)).then(() => null, (error: NodeJS.ErrnoException) => error.code === 'ENOENT'), 10_000, 'the previous shipment deleted');
    expect((await readFile(stored(next.key))).length).toBe(Number(next.sizeBytes));
  });
});

/** Each sequence's position: schema.name → its last value (its start before the first use) and its step. */
async function sequenceValues(database: string): Promise<Record<string, { value: number; step: number }>> {
  const rows = await sql<{ name: string; value: string; step: string }>(
    database,
    "SELECT schemaname || '.' || sequencename AS name, coalesce(last_value, start_value)::text AS value, increment_by::text AS step FROM pg_sequences",
  );
  return Object.fromEntries(rows.map((r) => [r.name, { value: Number(r.value), step: Number(r.step) }]));
}
