// What the point-in-time recovery tests start with: a webhook for disk.warning alerts, workers, and
// point-in-time recovery on for the stack's default source (its WAL streaming from then on). And what
// the timeline tests share: LSN order, and an application writing through a failover.
import request from 'supertest';
import pg from 'pg';
import { setPitr, systemActor, type Source } from '@coffre/shared';
import { eventually, type TestStack } from './stack.js';

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
