// Point-in-time recovery across a timeline switch, against clusters of the test's own: a primary P and
// a hot standby S made from it (pg_basebackup -R), coffre's source pointing at S (streaming the WAL of
// a standby, with its slot on the standby). A writer commits a row with its timestamp every 100 ms to P;
// after ~10 s P stops (fast), S is promoted (timeline 2) and the writer goes on against S for ~10 s.
// The stream must follow the switch and store timeline 2's history file, the recovery window must run
// across both timelines with no break, and a restore to a moment before the switch and one after it
// (both from the base backup taken on timeline 1) must yield exactly the rows committed by then.
// Then an operator's failover: S (now the primary) stops, a standby S2 made from it is promoted
// (timeline 3) and its WAL before the switch is recycled (switch, checkpoint) before the source's
// connection is changed to S2 through the API. S2 has no coffre slot: coffre creates it, finds that
// S2 no longer has the WAL where the stored WAL ends, resumes where its new slot starts, and the
// window says so (a break, with the last reachable moment; a restore into it is refused). The second
// test goes on from the state the first one leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { eventually, type TestStack } from '../support/stack.js';
import { startStandbyCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { queryRows, withClient } from '../support/pg.js';
import { compareLsn, restoreShopToMoments, startFailoverWriter, startPitrStack, startShopClusters, type FailoverWriter } from '../support/pitr.js';

let primary: PostgresCluster;
let standby: PostgresCluster;
let secondStandby: PostgresCluster | null = null;
let stack: TestStack;
let pitr: Awaited<ReturnType<typeof startPitrStack>>;
let writer: FailoverWriter | null = null;

beforeAll(async () => {
  ({ primary, standby } = await startShopClusters());
  pitr = await startPitrStack(standby.url('shop'));
  stack = pitr.stack;
}, 60_000);

afterAll(async () => {
  await writer?.stop().catch(() => {});
  await pitr?.close();
  await secondStandby?.destroy();
  await standby?.destroy();
  await primary?.destroy();
});

const api = (method: 'get' | 'put' | 'post', path: string) => request(stack.app)[method](path).set('Authorization', `Bearer ${stack.adminToken}`);

describe('point-in-time recovery across a timeline switch', () => {
  it('follows a promotion of the standby it streams from: one window over both timelines, restores before and after the switch', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    let target = primary.url('shop');
    writer = startFailoverWriter(() => target);
    const untilWriterRan = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, writer!.started + ms - Date.now())));

    await api('put', `/api/sources/${source.id}/pitr`).send({ enabled: true }).expect(200);
    await eventually(async () => (await ctx.db.walFile.count({ where: { sourceId: source.id } })) > 0, 30_000, 'the first WAL stored from the standby');
    const requested = await api('post', '/api/backups').send({ sourceId: source.id, type: 'physical' }).expect(202);
    const base = await eventually(async () => {
      const row = await ctx.db.backup.findUniqueOrThrow({ where: { id: requested.body.id } });
      if (row.status === 'failed') throw new Error(`the base backup from the standby failed: ${row.errorMessage}`);
      return row.status === 'completed' ? row : null;
    }, 60_000, 'the base backup from the standby');
    expect(base.timeline).toBe(1);

    // The slot on the standby follows what is stored (pg_current_wal_flush_lsn() is an error there).
    const slotOnStandby = () => queryRows<{ restart: string }>(standby.url('postgres'), "SELECT restart_lsn::text AS restart FROM pg_replication_slots WHERE slot_name LIKE 'coffre\\_%'");
    await eventually(async () => compareLsn((await slotOnStandby())[0]!.restart, base.walEndLsn!) >= 0, 15_000, 'the slot on the standby to move past the base backup');

    // The failover: P stops, S is promoted, the writer reconnects to S.
    await untilWriterRan(10_000);
    target = standby.url('shop');
    const switchStarted = Date.now();
    primary.stop();
    standby.promote();
    const promotedAt = Date.now();
    const [{ timeline }] = await queryRows<{ timeline: number }>(standby.url('postgres'), "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS timeline");
    expect(timeline).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, promotedAt + 10_000 - Date.now())));
    await writer.stop();

    // What S holds is what was committed (a row whose INSERT failed as P stopped may or may not be in it);
    // every row the writer saw committed is there.
    const committed = await queryRows<{ id: number; at: Date }>(standby.url('shop'), 'SELECT id, at FROM ticks ORDER BY id');
    expect(committed.map((r) => r.id)).toEqual(expect.arrayContaining(writer.rows.map((r) => r.id)));
    const onTimeline1 = committed.filter((r) => r.at.getTime() < switchStarted);
    const onTimeline2 = committed.filter((r) => r.at.getTime() > promotedAt);
    expect(onTimeline1.length).toBeGreaterThan(50);
    expect(onTimeline2.length).toBeGreaterThan(50);

    const history = await eventually(() => ctx.db.walFile.findFirst({ where: { sourceId: source.id, name: '00000002.history', deletedAt: null } }), 30_000, "timeline 2's history file stored");
    expect(history.kind).toBe('history');
    expect(history.parentTimeline).toBe(1);
    const lastCommit = committed.at(-1)!.at;
    const state = await eventually(async () => {
      const { body } = await api('get', `/api/sources/${source.id}/pitr?checkStorage=true`).expect(200);
      return body.window.latest && new Date(body.window.latest) >= lastCommit ? body : null;
    }, 30_000, 'the window to reach the last commit on timeline 2');
    const historyStoredMs = history.receivedAt.getTime() - promotedAt;
    expect(state.window.gaps).toEqual([]);
    expect(state.window.spans).toHaveLength(1);
    expect(state.window.spans[0].baseBackups.map((b: { id: string }) => b.id)).toEqual([base.id]);
    const timelines = await ctx.db.walFile.groupBy({ by: ['timeline'], where: { sourceId: source.id, deletedAt: null, kind: { not: 'history' } } });
    expect(timelines.map((t) => t.timeline).sort()).toEqual([1, 2]);
    const restartedStreams = stack.logs.filter((line) => line.includes('pg_receivewal stopped')).length;

    // A whole second on timeline 1 after the base backup, and one on timeline 2, no commit within 20 ms of either.
    const before = quietSecond(committed, Math.max(base.completedAt!.getTime() + 1000, switchStarted - 3000));
    const after = quietSecond(committed, promotedAt + 4000);
    expect(before.getTime()).toBeLessThan(switchStarted);
    expect(after.getTime()).toBeLessThan(lastCommit.getTime());

    const started = Date.now();
    const restores = [
      { moment: before, database: 'shop_before_switch' },
      { moment: after, database: 'shop_after_switch' },
    ];
    await restoreShopToMoments(stack, source.id, restores);
    for (const restore of restores) {
      const restored = (await queryRows<{ id: number }>(standby.url(restore.database), 'SELECT id FROM ticks ORDER BY id')).map((r) => r.id);
      expect(restored).toEqual(committed.filter((r) => r.at <= restore.moment).map((r) => r.id));
    }
    console.info(
      `timeline switch: history file stored ${historyStoredMs} ms after the promotion; pg_receivewal restarted ${restartedStreams} time(s); ` +
        `window ${state.window.earliest} → ${state.window.latest}; two restores (before and after the switch) in ${Date.now() - started} ms`,
    );
  });

  it('resumes on a promoted server its connection was moved to, which has no slot and no longer the WAL after what was stored: the window shows the break', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    const lastRow = await withClient(standby.url('shop'), async (c) => {
      const row = (await c.query<{ id: number; at: Date }>("INSERT INTO ticks (note) VALUES ('before the second failover') RETURNING id, at")).rows[0]!;
      return { ...row, lsn: (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn };
    });
    secondStandby = await startStandbyCluster(standby);
    await eventually(async () => (await queryRows(secondStandby!.url('shop'), "SELECT 1 FROM ticks WHERE note = 'before the second failover'")).length === 1, 30_000, 'the second standby to catch up');
    await eventually(async () => {
      const stored = await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, timeline: 2, kind: { not: 'history' } }, select: { endLsn: true } });
      return stored.some((f) => compareLsn(f.endLsn, lastRow.lsn) >= 0);
    }, 30_000, 'the stream to store the last commit on timeline 2');

    standby.stop();
    const failoverAt = Date.now();
    secondStandby.promote();
    // S2 recycles what it has of timeline 2: its checkpoints move past it and no slot holds it.
    await withClient(secondStandby.url('shop'), async (c) => {
      for (let i = 0; i < 2; i++) {
        await c.query("INSERT INTO ticks (note) VALUES ('on timeline 3')");
        await c.query('SELECT pg_switch_wal()');
        await c.query('CHECKPOINT');
      }
    });
    const storedOnTimeline2 = async () =>
      (await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, timeline: 2, kind: { not: 'history' } } })).map((f) => f.endLsn).sort(compareLsn).at(-1)!;
    const storedBefore = await storedOnTimeline2();
    await api('put', `/api/sources/${source.id}`).send({ url: secondStandby.url('shop') }).expect(200);

    await eventually(async () => (await queryRows(secondStandby!.url('postgres'), "SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE 'coffre\\_%'")).length === 1, 30_000, 'the slot created on the promoted server');
    await eventually(() => ctx.db.walFile.findFirst({ where: { sourceId: source.id, name: '00000003.history', deletedAt: null } }), 60_000, "timeline 3's history file stored");
    await eventually(() => ctx.db.walFile.findFirst({ where: { sourceId: source.id, timeline: 3, kind: { not: 'history' }, deletedAt: null } }), 30_000, 'WAL of timeline 3 stored');
    const resumedMs = Date.now() - failoverAt;
    expect(stack.logs.some((line) => line.includes('no longer has the WAL after the stored WAL'))).toBe(true);
    // The old stream may store a little more of timeline 2 before it stops: the break starts where it ended.
    const storedEnd = await storedOnTimeline2();
    expect(compareLsn(storedEnd, storedBefore)).toBeGreaterThanOrEqual(0);

    const { body } = await api('get', `/api/sources/${source.id}/pitr`).expect(200);
    expect(body.window.gaps).toHaveLength(1);
    const gap = body.window.gaps[0];
    expect(gap).toMatchObject({ timeline: 2, fromLsn: storedEnd, reason: 'missing' });
    expect(compareLsn(gap.toLsn, storedEnd)).toBeGreaterThan(0);
    expect(gap.lastReachable).not.toBeNull();
    const lastReachable = new Date(gap.lastReachable);
    expect(lastReachable.getTime()).toBeGreaterThanOrEqual(lastRow.at.getTime());
    // The span of the first test ends there; nothing after the break is reachable without a new base backup.
    expect(body.window.spans).toHaveLength(1);
    expect(body.window.latest).toBe(gap.lastReachable);
    const refused = await api('post', `/api/sources/${source.id}/pitr/restore`)
      .send({ targetTime: new Date(lastReachable.getTime() + 1000).toISOString(), database: 'shop', targetDatabase: 'shop_in_break', confirm: 'shop_in_break' })
      .expect(409);
    expect(refused.body.error.message).toContain(lastReachable.toISOString());
    // The last reachable moment holds what the window says: every commit of timeline 2 up to it.
    const { body: atBreak } = await api('post', `/api/sources/${source.id}/pitr/restore`)
      .send({ targetTime: lastReachable.toISOString(), database: 'shop', targetDatabase: 'shop_at_break', confirm: 'shop_at_break' })
      .expect(202);
    const finished = await eventually(async () => {
      const { body: restore } = await api('get', `/api/restores/${atBreak.id}`).expect(200);
      return restore.status === 'completed' || restore.status === 'failed' ? restore : null;
    }, 120_000, 'the restore to the last reachable moment');
    expect(finished.errorMessage ?? null).toBeNull();
    const restored = await queryRows<{ id: number }>(secondStandby.url('shop_at_break'), 'SELECT id FROM ticks ORDER BY id');
    const onTimeline2 = await queryRows<{ id: number }>(secondStandby.url('shop'), "SELECT id FROM ticks WHERE note <> 'on timeline 3' ORDER BY id");
    expect(restored).toEqual(onTimeline2);

    // A base backup of the new server starts a new span after the break.
    const requested = await api('post', '/api/backups').send({ sourceId: source.id, type: 'physical' }).expect(202);
    await eventually(async () => {
      const row = await ctx.db.backup.findUniqueOrThrow({ where: { id: requested.body.id } });
      if (row.status === 'failed') throw new Error(`the base backup of the promoted server failed: ${row.errorMessage}`);
      return row.status === 'completed' && row.timeline === 3 ? row : null;
    }, 60_000, 'a base backup on timeline 3');
    const after = await eventually(async () => {
      const { body: state } = await api('get', `/api/sources/${source.id}/pitr`).expect(200);
      return state.window.spans.length === 2 ? state : null;
    }, 30_000, 'a second span after the break');
    expect(after.window.gaps).toHaveLength(1);
    console.info(`source moved to a promoted server without the WAL: stream resumed (timeline 3 stored) ${resumedMs} ms after the failover; break ${gap.fromLsn} → ${gap.toLsn}, last reachable ${gap.lastReachable}`);
  });
});

/** The first whole second from `from` with no commit within 20 ms of it. */
function quietSecond(rows: { at: Date }[], from: number): Date {
  let moment = new Date(Math.ceil(from / 1000) * 1000);
  while (rows.some((r) => Math.abs(r.at.getTime() - moment.getTime()) < 20)) moment = new Date(moment.getTime() + 1000);
  return moment;
}
