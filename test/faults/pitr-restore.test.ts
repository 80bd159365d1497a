// Point-in-time recovery, end to end against a cluster of the test's own (initdb, wal_level replica):
// a writer commits a row with its timestamp every 100 ms for 60 s while coffre streams the WAL; the streaming
// worker is killed with SIGKILL midway and another takes the stream over from the slot; a restore to a
// moment T between two commits (T falls while no worker was streaming) yields exactly the rows
// committed at or before T, none after; its log records the parts of its time (fetch, replay, dump,
// load), which add up to no more than its total.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseRestoreTimings, pitrState, requestBackup, requestPitrRestore, setPitr, systemActor } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { startTickWriter } from '../support/pg.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

let cluster: PostgresCluster;
let stack: TestStack;
let workDir: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
  await withCluster('postgres', (c) => c.query('CREATE DATABASE shop'));
  await withCluster('shop', (c) => c.query('CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)'));
  workDir = await mkdtemp(join(tmpdir(), 'coffre-pitr-work-'));
  await chmod(workDir, 0o755);
  stack = await createTestStack({ sourceUrl: cluster.url('shop'), env: { WAL_FLUSH_SECONDS: '2', STALL_SECONDS: '5', PITR_WORK_DIR: workDir } });
});

let stopWriter: (() => Promise<void>) | null = null;

afterAll(async () => {
  await stopWriter?.().catch(() => {});
  for (const worker of workers) await worker.crash().catch(() => {});
  await stack?.close();
  await cluster?.destroy();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function withCluster<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Commits one row every 100 ms until stopped; returns every committed row (id, its timestamp). */
function startWriter() {
  return startTickWriter(cluster.url('shop'), "INSERT INTO ticks (note) VALUES ('tick') RETURNING id, at");
}

describe('restore to a moment', () => {
  it('restores exactly the rows committed at or before T, across a worker killed while streaming', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    workers.push(await startWorkerProcess(stack));
    await setPitr(ctx, source.id, true, systemActor);
    const writer = startWriter();
    const writerStarted = Date.now();
    const untilWriterRan = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, writerStarted + ms - Date.now())));
    stopWriter = writer.stop;
    await eventually(async () => (await ctx.db.walFile.count({ where: { sourceId: source.id } })) > 0, 60_000, 'the first WAL stored');

    const base = await requestBackup(ctx, { sourceId: source.id, type: 'physical' }, systemActor);
    const taken = await eventually(async () => {
      const row = await ctx.db.backup.findUniqueOrThrow({ where: { id: base.id } });
      if (row.status === 'failed') throw new Error(`the base backup failed: ${row.errorMessage}`);
      return row.status === 'completed' ? row : null;
    }, 120_000, 'the base backup');
    expect(taken.walStartLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

    // The writer commits for 60 s; the streaming worker is killed in the middle.
    await untilWriterRan(30_000);
    const killedAt = new Date();
    await workers[0]!.crash();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    workers.push(await startWorkerProcess(stack));
    await untilWriterRan(60_000);
    await writer.stop();
    expect(writer.rows.at(-1)!.at.getTime() - writer.rows[0]!.at.getTime()).toBeGreaterThan(58_000);
    const lastRow = writer.rows.at(-1)!;

    // T: a whole second while no worker streamed, no commit within 20 ms of it.
    let moment = new Date(Math.ceil((killedAt.getTime() + 1000) / 1000) * 1000);
    while (writer.rows.some((r) => Math.abs(r.at.getTime() - moment.getTime()) < 20)) moment = new Date(moment.getTime() + 1000);
    const expected = writer.rows.filter((r) => r.at <= moment).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(writer.rows.length);

    await eventually(async () => {
      const state = await pitrState(ctx, source.id);
      return state.window.latest && state.window.latest >= lastRow.at ? state : null;
    }, 60_000, 'the window to reach the last commit');

    // The moment with its zone, to the second: 02:00:07+01:00 is 01:00:07Z.
    const local = new Date(moment.getTime() + 3600_000).toISOString().slice(0, 19);
    const restore = await requestPitrRestore(ctx, source.id, { targetTime: `${local}+01:00`, database: 'shop', targetDatabase: 'shop_at_t', confirm: 'shop_at_t' }, systemActor);
    const finished = await eventually(async () => {
      const row = await ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } });
      return row.status === 'completed' || row.status === 'failed' ? row : null;
    }, 240_000, 'the restore to a moment');
    expect(finished.errorMessage).toBeNull();
    expect(finished.status).toBe('completed');

    // Its parts (what `pnpm bench --only pitr` reports) are in its log, and fit in its total.
    const timings = parseRestoreTimings(finished.log);
    expect(timings, finished.log ?? 'no log').not.toBeNull();
    const { totalMs, fetchMs, baseBackupMs, walFiles, replayMs, dumpMs, loadMs } = timings!;
    expect(totalMs).toBe(finished.durationMs);
    for (const part of [fetchMs, baseBackupMs, replayMs, dumpMs, loadMs]) expect(part).toBeGreaterThan(0);
    expect(walFiles).toBeGreaterThan(0);
    expect(baseBackupMs).toBeLessThanOrEqual(fetchMs);
    expect(fetchMs + replayMs + dumpMs + loadMs).toBeLessThanOrEqual(totalMs);

    const restored = await withCluster('shop_at_t', async (c) => (await c.query<{ id: number }>('SELECT id FROM ticks ORDER BY id')).rows.map((r) => r.id));
    expect(restored).toEqual(expected);
  });
});
