// Point-in-time recovery across a split brain, against clusters of the test's own: coffre streams from
// a primary P; a hot standby S of it is promoted (timeline 2) while P goes on taking writes, and coffre,
// still streaming from P, stores P's WAL of timeline 1 well past the fork (two more segments). Then the
// operator moves the source to S (PUT /api/sources/:id {url}). The stream must go on on timeline 2 from
// the fork, the window must follow timeline 2 with no break and name P's stored WAL past the fork as
// divergent, and restores from the base backup taken on timeline 1 must yield S's history: to a moment
// before the fork exactly the rows committed by then, to a moment while both servers took writes S's
// rows by then and none of P's. Moved back to P, then to a server of another cluster, the stream is
// refused, and GET /api/sources/:id/pitr names each refusal and when; moved to S again, it streams
// and the failure shown is cleared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { eventually, type TestStack } from '../support/stack.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { queryRows, withClient } from '../support/pg.js';
import { compareLsn, restoreShopToMoments, startFailoverWriter, startPitrStack, startShopClusters, type FailoverWriter } from '../support/pitr.js';

let primary: PostgresCluster;
let standby: PostgresCluster;
let stranger: PostgresCluster | undefined;
let stack: TestStack;
let pitr: Awaited<ReturnType<typeof startPitrStack>>;
const writers: FailoverWriter[] = [];

beforeAll(async () => {
  ({ primary, standby } = await startShopClusters());
  pitr = await startPitrStack(primary.url('shop'));
  stack = pitr.stack;
}, 60_000);

afterAll(async () => {
  for (const writer of writers) await writer.stop().catch(() => {});
  await pitr?.close();
  await stranger?.destroy();
  await standby?.destroy();
  await primary?.destroy();
});

const api = (method: 'get' | 'put' | 'post', path: string) => request(stack.app)[method](path).set('Authorization', `Bearer ${stack.adminToken}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const walLsn = async (server: PostgresCluster) => (await queryRows<{ lsn: string }>(server.url('postgres'), 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
const OLD_PRIMARY = 'old primary after the fork';

describe('point-in-time recovery across a split brain', () => {
  it('moved to the promoted server after storing the old primary past the fork: goes on on its timeline, restores hold its rows only, the window names the divergent WAL', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    const write = (server: () => PostgresCluster, note: string) => {
      const writer = startFailoverWriter(() => server().url('shop'), note);
      writers.push(writer);
      return writer;
    };
    const streamError = async () => (await api('get', `/api/sources/${source.id}/pitr`).expect(200)).body.streamError as { message: string; at: string } | null;
    const storedEnd = async (timeline: number) =>
      (await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, timeline, kind: { not: 'history' } }, select: { endLsn: true } })).map((f) => f.endLsn).sort(compareLsn).at(-1) ?? '0/0';

    await api('put', `/api/sources/${source.id}/pitr`).send({ enabled: true }).expect(200);
    await eventually(async () => (await ctx.db.walFile.count({ where: { sourceId: source.id } })) > 0, 30_000, 'the first WAL stored');
    const beforeFork = write(() => primary, 'before the fork');
    const requested = await api('post', '/api/backups').send({ sourceId: source.id, type: 'physical' }).expect(202);
    const base = await eventually(async () => {
      const row = await ctx.db.backup.findUniqueOrThrow({ where: { id: requested.body.id } });
      if (row.status === 'failed') throw new Error(`the base backup failed: ${row.errorMessage}`);
      return row.status === 'completed' ? row : null;
    }, 60_000, 'the base backup');
    expect(base.timeline).toBe(1);
    await sleep(2500);
    await beforeFork.stop();

    // S replays every commit made before the fork, then is promoted while P stays up.
    const beforePromotion = await walLsn(primary);
    await eventually(async () => {
      const [{ lsn }] = await queryRows<{ lsn: string }>(standby.url('postgres'), 'SELECT pg_last_wal_replay_lsn()::text AS lsn');
      return compareLsn(lsn!, beforePromotion) >= 0;
    }, 30_000, 'the standby to replay every commit before the fork');
    standby.promote();
    const promotedAt = Date.now();
    const [{ text }] = await queryRows<{ text: string }>(standby.url('postgres'), "SELECT pg_read_file('pg_wal/00000002.history') AS text");
    const forkLsn = /^1\s+(\S+)/m.exec(text)![1]!;

    // The split brain: both take writes; P's WAL past the fork runs over two more segments, which coffre stores.
    const onOld = write(() => primary, OLD_PRIMARY);
    const onNew = write(() => standby, 'new primary');
    const firstSwitchAt = Date.now() + 2000;
    for (let i = 0; i < 2; i++) {
      await sleep(2000);
      await withClient(primary.url('postgres'), (c) => c.query('SELECT pg_switch_wal()'));
    }
    await sleep(1000);
    await onOld.stop();
    const oldEnd = await walLsn(primary);
    await eventually(async () => compareLsn(await storedEnd(1), oldEnd) >= 0, 30_000, "the old primary's last commit stored on timeline 1");
    expect(onOld.rows.length).toBeGreaterThan(20);

    // The operator moves the source to S; S's writes go on through the move.
    const movedAt = Date.now();
    await api('put', `/api/sources/${source.id}`).send({ url: standby.url('shop') }).expect(200);
    const history = await eventually(() => ctx.db.walFile.findFirst({ where: { sourceId: source.id, name: '00000002.history', deletedAt: null } }), 40_000, "timeline 2's history file stored");
    const historyMs = Date.now() - movedAt;
    expect(history).toMatchObject({ parentTimeline: 1, startLsn: forkLsn });
    await sleep(1000);
    await onNew.stop();
    const newEnd = await walLsn(standby);
    await eventually(async () => compareLsn(await storedEnd(2), newEnd) >= 0, 30_000, "the new primary's last commit stored on timeline 2");
    const committed = await queryRows<{ id: number; at: Date; note: string }>(standby.url('shop'), 'SELECT id, at, note FROM ticks ORDER BY id');
    expect(committed.filter((r) => r.note === 'new primary' && r.at.getTime() > movedAt).length).toBeGreaterThan(0);

    // The window follows timeline 2 from the base backup on, and names what of timeline 1 lies past the fork.
    const lastCommit = committed.at(-1)!.at;
    const state = await eventually(async () => {
      const { body } = await api('get', `/api/sources/${source.id}/pitr?checkStorage=true`).expect(200);
      return body.window.latest && new Date(body.window.latest) >= lastCommit ? body : null;
    }, 30_000, 'the window to reach the last commit on timeline 2');
    expect(state.window.gaps).toEqual([]);
    // Moving the source restarts its stream ("the source's connection changed"): no failure to show.
    expect(state.streamError).toBeNull();
    expect(state.window.spans).toHaveLength(1);
    expect(state.window.spans[0].baseBackups.map((b: { id: string }) => b.id)).toEqual([base.id]);
    expect(state.window.divergent).toEqual([{ timeline: 1, fromLsn: forkLsn, toLsn: await storedEnd(1), newTimeline: 2 }]);
    expect(compareLsn(state.window.divergent[0].toLsn, oldEnd)).toBeGreaterThanOrEqual(0);
    expect(stack.logs.some((line) => line.includes('kept writing after the fork'))).toBe(true);

    // A moment before the fork, and one while both servers took writes (a commit of P's before it),
    // before P's segment holding the fork was finished: that segment of timeline 1 was stored after the
    // moment, so the restore needs the segment that follows it, and timeline 2's copy of it must be the one.
    const before = quietMoment(committed, base.completedAt!.getTime() + 200, promotedAt);
    const during = quietMoment([...committed, ...onOld.rows], promotedAt + 500, firstSwitchAt);
    expect(onOld.rows.some((r) => r.at < during)).toBe(true);
    expect(committed.some((r) => r.note === 'new primary' && r.at < during)).toBe(true);
    const started = Date.now();
    const restores = [
      { moment: before, database: 'shop_before_fork' },
      { moment: during, database: 'shop_split_brain' },
    ];
    await restoreShopToMoments(stack, source.id, restores);
    for (const restore of restores) {
      const restored = await queryRows<{ id: number; note: string }>(standby.url(restore.database), 'SELECT id, note FROM ticks ORDER BY id');
      expect(restored.filter((r) => r.note === OLD_PRIMARY)).toEqual([]);
      expect(restored).toEqual(committed.filter((r) => r.at <= restore.moment).map(({ id, note }) => ({ id, note })));
    }

    // Moved back to the old primary, still on timeline 1: the stream refuses it with a sentence, and
    // nothing more of its timeline is stored.
    await withClient(primary.url('shop'), (c) => c.query("INSERT INTO ticks (note) VALUES ('old primary, moved back to')"));
    await withClient(primary.url('postgres'), (c) => c.query('SELECT pg_switch_wal()'));
    const movedBackAt = Date.now();
    await api('put', `/api/sources/${source.id}`).send({ url: primary.url('shop') }).expect(200);
    const refusal = `names a server on timeline 1, but its stored WAL already follows timeline 2`;
    await eventually(async () => stack.logs.some((line) => line.includes(refusal)), 40_000, 'the stream to refuse the old primary');
    // Written on the source before the job failed (and was logged): the API shows it at once.
    const refused = await streamError();
    expect(refused?.message).toContain(`Source "default" ${refusal}`);
    expect(Date.parse(refused!.at)).toBeGreaterThanOrEqual(movedBackAt);
    await sleep(2000);
    expect(await storedEnd(1)).toBe(state.window.divergent[0].toLsn);

    // Pointed at a server of another cluster (its own initdb: another system identifier), with a
    // database of the same name: refused too, whatever its timeline and LSN.
    const [{ id: clusterId }] = await queryRows<{ id: string }>(primary.url('postgres'), 'SELECT system_identifier::text AS id FROM pg_control_system()');
    expect((await ctx.db.source.findUniqueOrThrow({ where: { id: source.id } })).pitrSystemId).toBe(clusterId);
    stranger = await startPostgresCluster();
    await withClient(stranger.url('postgres'), (c) => c.query('CREATE DATABASE shop'));
    const [{ id: strangerId }] = await queryRows<{ id: string }>(stranger.url('postgres'), 'SELECT system_identifier::text AS id FROM pg_control_system()');
    const storedBeforeStranger = await ctx.db.walFile.count({ where: { sourceId: source.id, timeline: 1 } });
    const movedToStrangerAt = Date.now();
    await api('put', `/api/sources/${source.id}`).send({ url: stranger.url('shop') }).expect(200);
    const otherCluster = `names a server of database cluster ${strangerId}, but its stored WAL is of cluster ${clusterId}`;
    await eventually(async () => stack.logs.some((line) => line.includes(otherCluster)), 40_000, 'the stream to refuse the other cluster');
    const refusedStranger = await streamError();
    expect(refusedStranger?.message).toContain(`Source "default" ${otherCluster}`);
    expect(Date.parse(refusedStranger!.at)).toBeGreaterThanOrEqual(movedToStrangerAt);
    expect(await ctx.db.walFile.count({ where: { sourceId: source.id, timeline: 1 } })).toBe(storedBeforeStranger);
    expect(await queryRows(stranger.url('postgres'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);

    // Pointed at S again: the stream goes on on timeline 2 (its next attempt, after its backoff, or a new
    // job once the refused one ran out of attempts), and the failure shown is cleared.
    await api('put', `/api/sources/${source.id}`).send({ url: standby.url('shop') }).expect(200);
    await withClient(standby.url('shop'), (c) => c.query("INSERT INTO ticks (note) VALUES ('after the refusals')"));
    const afterRefusals = await walLsn(standby);
    await eventually(async () => compareLsn(await storedEnd(2), afterRefusals) >= 0, 90_000, 'the WAL written after the refusals stored on timeline 2');
    await eventually(async () => (await streamError()) === null, 10_000, 'the failure shown to be cleared once it streams');

    console.info(
      `split brain: ${onOld.rows.length} commits on the old primary past the fork (${forkLsn} → ${oldEnd}); ` +
        `history of timeline 2 stored ${historyMs} ms after the move; window ${state.window.earliest} → ${state.window.latest}; ` +
        `two restores (before the fork, during the split brain) in ${Date.now() - started} ms`,
    );
  });
});

/** The middle of the widest stretch between two commits made from `from` to `to` (at least 40 ms wide). */
function quietMoment(rows: { at: Date }[], from: number, to: number): Date {
  const times = rows.map((r) => r.at.getTime()).filter((t) => t > from && t < to).sort((a, b) => a - b);
  let best = { width: 0, at: from };
  for (let i = 1; i < times.length; i++) {
    const width = times[i]! - times[i - 1]!;
    if (width > best.width) best = { width, at: times[i - 1]! + Math.floor(width / 2) };
  }
  expect(best.width).toBeGreaterThanOrEqual(40);
  return new Date(best.at);
}
