// Why a source's WAL stream fails shows where operators look, GET /api/sources/:id/pitr, as the
// contract says: against a private PostgreSQL that demands passwords, a source whose password it
// refuses shows the sentence and when (never the password); given the right one, the stream streams
// and the failure is cleared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { pitrStateSchema } from '@coffre/contract';
import { ensureWalStreams, parseLsn, slotNameFor } from '@coffre/shared';
import { startPrivatePostgres, type PrivatePostgres } from '../../../test/support/private-postgres.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';

const USER = 'coffre_streamer';
const PASSWORD = `right-${randomBytes(8).toString('hex')}`;
const WRONG = `wrong-${randomBytes(8).toString('hex')}`;

let server: PrivatePostgres;
let stack: TestStack;

beforeAll(async () => {
  server = await startPrivatePostgres();
  await server.query(`CREATE ROLE ${USER} LOGIN REPLICATION PASSWORD ${pg.escapeLiteral(PASSWORD)}`);
  stack = await createTestStack({ sourceUrl: server.url(USER, WRONG, 'postgres'), env: { WAL_FLUSH_SECONDS: '2' } });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await server?.stop();
});

describe('a failing WAL stream in the PITR state', () => {
  it('shows the sentence and when while the server refuses the password, and nothing once it streams', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    // Turned on as if its password had been changed since: turning it on through the API checks the connection first.
    await ctx.db.source.update({ where: { id: source.id }, data: { pitrEnabled: true, pitrSlot: slotNameFor(source.id) } });
    const api = (method: 'get' | 'put', path: string) => request(stack.app)[method](path).set('Authorization', `Bearer ${stack.adminToken}`);
    const state = async () => (await api('get', `/api/sources/${source.id}/pitr`).expect(200)).body;

    expect((await state()).streamError).toBeNull();
    const started = Date.now();
    stack.startWorkers({ concurrency: 2 });
    await ensureWalStreams(ctx);
    const failing = await eventually(async () => {
      const body = await state();
      return body.streamError ? body : null;
    }, 30_000, 'the stream failure in the PITR state');
    expect(pitrStateSchema.parse(failing)).toEqual(failing);
    expect(failing.streamError.message).toBe(`PostgreSQL at 127.0.0.1:${server.port} refused the credentials of user "${USER}": check the user and password in the source URL.`);
    expect(Date.parse(failing.streamError.at)).toBeGreaterThanOrEqual(started);
    expect(Date.parse(failing.streamError.at)).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(failing)).not.toContain(WRONG);

    await api('put', `/api/sources/${source.id}`).send({ url: server.url(USER, PASSWORD, 'postgres') }).expect(200);
    await eventually(async () => (await state()).streamError === null, 60_000, 'the failure cleared once the stream streams');
    const [streaming] = (await server.query<{ pid: number; state: string }>('SELECT pid, state FROM pg_stat_replication WHERE usename = $1', [USER])).rows;
    expect(['catchup', 'streaming']).toContain(streaming?.state);

    // Moving the source (the same server under another URL) restarts its stream there: no failure to show meanwhile.
    await api('put', `/api/sources/${source.id}`).send({ url: `${server.url(USER, PASSWORD, 'postgres')}?sslmode=disable` }).expect(200);
    const shown: unknown[] = [];
    await eventually(async () => {
      shown.push((await state()).streamError);
      const { rows } = await server.query<{ pid: number }>('SELECT pid FROM pg_stat_replication WHERE usename = $1', [USER]);
      return rows.some((r) => r.pid !== streaming!.pid) || null;
    }, 60_000, 'the stream restarted on the moved source');
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.filter((error) => error !== null)).toEqual([]);
  });

  // The role has REPLICATION alone: pg_stat_replication hides how far its stream flushed, so the
  // segment being written waits until full. Let in pg_monitor, it is stored every WAL_FLUSH_SECONDS.
  it('stores the segment being written once the role may see its stream\'s progress', async () => {
    const { ctx } = stack;
    const source = await ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
    const commit = async () => {
      await server.query('CREATE TABLE IF NOT EXISTS ticks (at timestamptz DEFAULT clock_timestamp())');
      await server.query('INSERT INTO ticks DEFAULT VALUES');
      return parseLsn((await server.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn')).rows[0]!.lsn);
    };
    const storedEnd = async () => {
      const files = await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null }, select: { endLsn: true } });
      return files.reduce((end, f) => (parseLsn(f.endLsn) > end ? parseLsn(f.endLsn) : end), 0n);
    };
    const hidden = await commit();
    // Four times WAL_FLUSH_SECONDS: nothing covers it, the segment is not full.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(await storedEnd()).toBeLessThan(hidden);

    await server.query(`GRANT pg_monitor TO ${USER}`);
    const seen = await commit();
    await eventually(async () => (await storedEnd()) >= seen, 20_000, 'the segment being written stored up to the commit');
    const partials = await ctx.db.walFile.count({ where: { sourceId: source.id, kind: 'partial', deletedAt: null } });
    expect(partials).toBeGreaterThan(0);
  });
});
