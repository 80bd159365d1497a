// Storage down while the WAL streams, against a cluster of the test's own: the backup directory (a
// small tmpfs) is remounted read-only for two minutes while a writer commits a row with its timestamp
// every 100 ms and a bulk load writes tens of MB of WAL. The replication slot keeps what cannot be
// stored; once it holds more than PITR_SLOT_ALERT_BYTES an alert reaches a real webhook receiver and
// `coffre doctor` fails the source's point-in-time check. Storage comes back: the stream stores what
// the slot kept, the slot shrinks, the recovery window has no gap, and a restore to a moment inside
// the outage yields exactly the rows committed at or before it.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pitrState, requestBackup, requestPitrRestore, requestVerification, slotUsage, systemActor, type Source } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { queryRows, startTickWriter } from '../support/pg.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { streamDefaultSource } from '../support/pitr.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.js';
import { privateHome, removePrivateHomes, runCli } from '../../services/cli/test/support/cli.js';

const OUTAGE_MS = 120_000;
const SLOT_ALERT_BYTES = 8 * 1024 * 1024;

let cluster: PostgresCluster;
let stack: TestStack;
let disk: Tmpfs;
let dir: string;
let home: string;
let receiver: HttpReceiver;
let source: Source;
let stopWriter: (() => Promise<void>) | null = null;
let baseId: string;
let committed: { id: number; at: Date }[] = [];

beforeAll(async () => {
  if (!existsSync('services/cli/dist/main.js')) throw new Error('build first: pnpm build (the test runs the built CLI)');
  if (!canMountTmpfs()) throw new Error('this test mounts a tmpfs as BACKUP_DIR and remounts it read-only: run it as root');
  cluster = await startPostgresCluster();
  await sql('postgres', 'CREATE DATABASE shop');
  await sql('shop', 'CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
  await sql('shop', 'CREATE TABLE filler (id bigint, body text)');
  disk = await mountTmpfs(512 << 20);
  dir = await mkdtemp(join(tmpdir(), 'coffre-pitr-outage-'));
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'work'), { mode: 0o755 });
  receiver = await startHttpReceiver();
  home = privateHome();
  stack = await createTestStack({
    sourceUrl: cluster.url('shop'),
    env: {
      BACKUP_DIR: disk.dir,
      // The spool of pg_receivewal and the restores' temporaries stay writable: only storage fails.
      TMP_DIR: join(dir, 'tmp'),
      PITR_WORK_DIR: join(dir, 'work'),
      WAL_FLUSH_SECONDS: '2',
      PITR_SLOT_ALERT_BYTES: String(SLOT_ALERT_BYTES),
    },
  });
  source = await streamDefaultSource(stack, receiver.url('/alerts'));
}, 120_000);

afterAll(async () => {
  await stopWriter?.().catch(() => {});
  removePrivateHomes();
  await stack?.close();
  await receiver?.stop();
  await cluster?.destroy();
  await disk?.unmount();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sql<T extends pg.QueryResultRow>(database: string, text: string): Promise<T[]> {
  return queryRows<T>(cluster.url(database), text);
}

/** Commits one row every 100 ms until stopped; returns every committed row (id, its timestamp). */
function startWriter() {
  return startTickWriter(cluster.url('shop'), 'INSERT INTO ticks DEFAULT VALUES RETURNING id, at');
}

const coffre = async (args: string[]) => {
  const result = await runCli(args, { env: { ...stack.env, HOME: home } });
  return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
};
const pitrDoctorCheck = async () => {
  const report = (await coffre(['doctor', '--json'])).json();
  return (report.checks as { id: string; status: string; message: string; details: Record<string, unknown> }[]).find((c) => c.id === 'pitr')!;
};

describe('storage down while the WAL streams', () => {
  it('alerts while the slot holds the WAL, loses nothing, and restores exactly inside the outage', async () => {
    const { ctx } = stack;
    await eventually(async () => (await ctx.db.walFile.count({ where: { sourceId: source.id } })) > 0, 60_000, 'the first WAL stored');
    const base = await requestBackup(ctx, { sourceId: source.id, type: 'physical' }, systemActor);
    baseId = base.id;
    await eventually(async () => {
      const row = await ctx.db.backup.findUniqueOrThrow({ where: { id: base.id } });
      if (row.status === 'failed') throw new Error(`the base backup failed: ${row.errorMessage}`);
      return row.status === 'completed';
    }, 120_000, 'the base backup');
    expect((await pitrDoctorCheck()).status).toBe('ok');

    const writer = startWriter();
    stopWriter = writer.stop;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const storedBefore = await ctx.db.walFile.count({ where: { sourceId: source.id, kind: 'segment' } });

    await disk.remountReadOnly();
    const outageStart = new Date();
    // About 40 MB of WAL: more than the alert limit, and whole segments finished while nothing is stored.
    for (let batch = 0; batch < 4; batch++) {
      await sql('shop', `INSERT INTO filler SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 12000) g`);
    }
    const held = await eventually(async () => {
      const bytes = await slotUsage(ctx, source.id);
      return bytes !== null && bytes > SLOT_ALERT_BYTES ? bytes : null;
    }, 60_000, 'the slot to hold more than the limit');
    expect(held).toBeGreaterThan(SLOT_ALERT_BYTES);
    const [alert] = await receiver.waitFor(1, (r) => r.path === '/alerts', 60_000);
    expect((alert!.json as { title: string }).title).toMatch(/replication slot holds \d+ MiB of WAL not yet stored/);
    const doctor = await pitrDoctorCheck();
    expect(doctor.status).toBe('fail');
    expect(doctor.message).toContain('of WAL not yet stored (limit PITR_SLOT_ALERT_BYTES');
    // Nothing written during the outage reached storage.
    expect(await ctx.db.walFile.count({ where: { sourceId: source.id, kind: 'segment', receivedAt: { gt: outageStart } } })).toBe(0);
    const remaining = OUTAGE_MS - (Date.now() - outageStart.getTime());
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));

    disk.remountReadWrite();
    const outageEnd = new Date();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await writer.stop();
    const lastRow = writer.rows.at(-1)!;
    committed = [...writer.rows];

    // The stream catches up: the slot shrinks under the limit, the window reaches the last commit without a break.
    await eventually(async () => {
      const bytes = await slotUsage(ctx, source.id);
      return bytes !== null && bytes < SLOT_ALERT_BYTES;
    }, 120_000, 'the slot to shrink once storage is back');
    const { window } = await eventually(async () => {
      const state = await pitrState(ctx, source.id, { checkStorage: true });
      return state.window.latest && state.window.latest >= lastRow.at ? state : null;
    }, 120_000, 'the window to reach the last commit');
    expect(window.gaps).toEqual([]);
    expect(await ctx.db.walFile.count({ where: { sourceId: source.id, kind: 'segment' } })).toBeGreaterThanOrEqual(storedBefore + 2);
    expect((await pitrDoctorCheck()).status).toBe('ok');

    // T: a whole second in the middle of the outage, no commit within 20 ms of it.
    let moment = new Date(Math.ceil((outageStart.getTime() + outageEnd.getTime()) / 2000) * 1000);
    while (writer.rows.some((r) => Math.abs(r.at.getTime() - moment.getTime()) < 20)) moment = new Date(moment.getTime() + 1000);
    expect(moment.getTime()).toBeLessThan(outageEnd.getTime());
    const expected = writer.rows.filter((r) => r.at <= moment).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(writer.rows.length);

    const restore = await requestPitrRestore(ctx, source.id, { targetTime: moment.toISOString(), database: 'shop', targetDatabase: 'shop_in_outage', confirm: 'shop_in_outage' }, systemActor);
    const finished = await eventually(async () => {
      const row = await ctx.db.restore.findUniqueOrThrow({ where: { id: restore.id } });
      return row.status === 'completed' || row.status === 'failed' ? row : null;
    }, 240_000, 'the restore to a moment inside the outage');
    expect(finished.errorMessage).toBeNull();
    // The WAL of the outage was stored after it: the first file stored after T began before T, so the
    // replay ended early and the following files were fetched until a commit after T stopped it.
    expect(finished.log).toMatch(/fetching \d+ more stored WAL file/);
    const restored = (await sql<{ id: number }>('shop_in_outage', 'SELECT id FROM ticks ORDER BY id')).map((r) => r.id);
    expect(restored).toEqual(expected);
  });

  it('proves the base backup by recovering it to a moment picked in its span, with its RTO and recovery point', async () => {
    const { ctx } = stack;
    const verification = await requestVerification(ctx, baseId, systemActor);
    const done = await eventually(async () => {
      const row = await ctx.db.verification.findUniqueOrThrow({ where: { id: verification.id } });
      return row.status === 'completed' || row.status === 'failed' ? row : null;
    }, 240_000, 'the verification of the base backup');
    expect(done.errorMessage).toBeNull();
    expect(done.result).toBe('passed');
    const target = new Date(/recovering base backup "[^"]+" to (\S+Z), a moment picked at random/.exec(done.log ?? '')![1]!);
    expect(target.getTime() % 1000).toBe(0);
    // The rows committed by the moment, none after: a row's timestamp is taken a little before its commit.
    const ticks = (done.tableCounts as { schema: string; table: string; rows: number }[]).find((t) => t.table === 'ticks')!;
    const committedBy = (at: number) => committed.filter((r) => r.at.getTime() <= at).length;
    expect(ticks.rows).toBeGreaterThanOrEqual(committedBy(target.getTime() - 100));
    expect(ticks.rows).toBeLessThanOrEqual(committedBy(target.getTime()));
    const rto = /RTO (\d+\.\d) s: "shop" answered a query/.exec(done.log ?? '');
    expect(rto).not.toBeNull();
    expect(Number(rto![1])).toBeGreaterThan(0);
    const reached = /recovery point reached (\S+Z)/.exec(done.log ?? '');
    if (reached) expect(new Date(reached[1]!).getTime()).toBeLessThanOrEqual(target.getTime());
    process.stdout.write(`proof of the base backup: RTO ${rto![1]} s, recovery point ${reached![1]}, ${ticks.rows} rows of ticks, verification ${done.durationMs} ms\n`);
  });
});
