// What the point-in-time recovery tests start with: a webhook for disk.warning alerts, workers, and
// point-in-time recovery on for the stack's default source (its WAL streaming from then on). And what
// the timeline tests share: LSN order, and an application writing through a failover.
import request from 'supertest';
import pg from 'pg';
import { setPitr, systemActor, type Source } from '@coffre/shared';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStack, eventually, type TestStack } from './stack.js';
import { startPostgresCluster, startStandbyCluster, type PostgresCluster } from './postgres-cluster.js';
import { queryRows, withClient } from './pg.js';

export async function streamDefaultSource(stack: TestStack, alertsUrl: string): Promise<Source> {
  await request(stack.app)
    .post('/api/notification-channels')
    .set('Authorization', `Bearer ${stack.adminToken}`)
    .send({ name: 'pitr-alerts', kind: 'webhook', url: alertsUrl, events: ['disk.warning'] })
    .expect(201);
  stack.startWorkers({ concurrency: 2 });
  const source = await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
  await setPitr(stack.ctx, source.id, true, systemActor);
  return source;
}

export function compareLsn(a: string, b: string): number {
  const value = (lsn: string) => lsn.split('/').reduce((n, part) => n * 2n ** 32n + BigInt(`0x${part}`), 0n);
  return Number(value(a) - value(b) > 0n) - Number(value(a) - value(b) < 0n);
}

export interface FailoverWriter {
  rows: { id: number; at: Date }[];
  started: number;
  stop(): Promise<void>;
}

/**
 * Commits one row (`note`) to `ticks` every 100 ms on the server `target()` names, reconnecting (to
 * whatever it names then) whenever a statement fails: the application of a failover. `rows`: every
 * row seen committed.
 */
export function startFailoverWriter(target: () => string, note = 'tick'): FailoverWriter {
  const rows: { id: number; at: Date }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const client = new pg.Client({ connectionString: target() });
      client.on('error', () => {});
      try {
        await client.connect();
        while (running) {
          rows.push((await client.query<{ id: number; at: Date }>('INSERT INTO ticks (note) VALUES ($1) RETURNING id, at', [note])).rows[0]!);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        await client.end().catch(() => {});
      }
    }
  })();
  return {
    rows,
    started: Date.now(),
    async stop() {
      running = false;
      await done;
    },
  };
}

/**
 * Restores the source's database `shop` to each moment, into a database of its own, all at once
 * through the API, and waits for every restore to complete (a failed one fails the test).
 */
export async function restoreShopToMoments(stack: TestStack, sourceId: string, restores: { moment: Date; database: string }[]): Promise<void> {
  const api = (method: 'get' | 'post', path: string) => request(stack.app)[method](path).set('Authorization', `Bearer ${stack.adminToken}`);
  const started = await Promise.all(
    restores.map(async ({ moment, database }) => {
      const { body } = await api('post', `/api/sources/${sourceId}/pitr/restore`)
        .send({ targetTime: moment.toISOString(), database: 'shop', targetDatabase: database, confirm: database })
        .expect(202);
      return { id: body.id as string, moment };
    }),
  );
  for (const restore of started) {
    const finished = await eventually(async () => {
      const { body } = await api('get', `/api/restores/${restore.id}`).expect(200);
      return body.status === 'completed' || body.status === 'failed' ? body : null;
    }, 120_000, `the restore to ${restore.moment.toISOString()}`);
    if (finished.errorMessage) throw new Error(`the restore to ${restore.moment.toISOString()} failed: ${finished.errorMessage}`);
  }
}

/**
 * What the timeline tests fail over: a primary with database `shop` and its table `ticks` (a row per
 * commit: id, at, note), and a hot standby that has replayed the table.
 */
export async function startShopClusters(): Promise<{ primary: PostgresCluster; standby: PostgresCluster }> {
  const primary = await startPostgresCluster();
  await withClient(primary.url('postgres'), (c) => c.query('CREATE DATABASE shop'));
  await withClient(primary.url('shop'), (c) => c.query('CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)'));
  const standby = await startStandbyCluster(primary);
  await eventually(async () => (await queryRows(standby.url('shop'), 'SELECT count(*) FROM ticks')).length === 1, 30_000, 'the standby to replay the table');
  return { primary, standby };
}

/**
 * A stack whose default source is `sourceUrl`, with WAL flushed every 2 s, a 5 s stall window, a
 * private PITR work directory (removed by `close`) and two workers.
 */
export async function startPitrStack(sourceUrl: string): Promise<{ stack: TestStack; close(): Promise<void> }> {
  const workDir = await mkdtemp(join(tmpdir(), 'coffre-pitr-work-'));
  await chmod(workDir, 0o755);
  const stack = await createTestStack({ sourceUrl, env: { WAL_FLUSH_SECONDS: '2', STALL_SECONDS: '5', PITR_WORK_DIR: workDir } });
  stack.startWorkers({ concurrency: 2 });
  return {
    stack,
    async close() {
      await stack.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
