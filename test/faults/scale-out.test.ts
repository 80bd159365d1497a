// Scale-out: three worker processes on one Redis take 60 backups of 6 sources. No job runs twice
// (every row's attempts = 1, every object is written once: each write announces itself through a
// zero-length failpoint before its rename), and no two backups of one source overlap in time (the
// per-database lock). Reports the throughput.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createSource, requestBackup, systemActor } from '@coffre/shared';
import { createDatabase, withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { auditArtifacts } from '../support/artifact-audit.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const SOURCES = 6;
const BACKUPS_PER_SOURCE = 10;
const WORKERS = 3;

let stack: TestStack;
let workers: WorkerProcess[] = [];
const sourceIds: string[] = [];

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: npx tsc -b (the test runs the built worker)');
  stack = await createTestStack();
  for (let i = 0; i < SOURCES; i++) {
    const db = await createDatabase(`coffre_scale_${i}`);
    await withClient(db.url, (c) => c.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, ${20_000 + i * 5_000}) g`));
    sourceIds.push((await createSource(stack.ctx, { name: `scale-${i}`, url: db.url }, systemActor)).id);
  }
  workers = await Promise.all(
    Array.from({ length: WORKERS }, () => startWorkerProcess(stack, { WORKER_CONCURRENCY: '2', COFFRE_FAILPOINTS: 'storage.before-rename=0' })),
  );
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack?.close();
});

it(`${WORKERS} workers run ${SOURCES * BACKUPS_PER_SOURCE} backups of ${SOURCES} sources: each once, never two at a time on a source`, async () => {
  const started = Date.now();
  const ids: string[] = [];
  for (let round = 0; round < BACKUPS_PER_SOURCE; round++) {
    for (const sourceId of sourceIds) ids.push((await requestBackup(stack.ctx, { sourceId }, systemActor)).id);
  }
  await eventually(
    async () => (await stack.ctx.db.backup.count({ where: { id: { in: ids }, status: { in: ['completed', 'failed'] } } })) === ids.length,
    300_000,
    'every backup to finish',
  );
  const elapsedMs = Date.now() - started;
  const rows = await stack.ctx.db.backup.findMany({ where: { id: { in: ids } }, orderBy: { startedAt: 'asc' } });

  expect(rows.filter((r) => r.status !== 'completed').map((r) => ({ id: r.id, status: r.status, error: r.errorMessage }))).toEqual([]);
  expect(rows.filter((r) => r.attempts !== 1).map((r) => ({ id: r.id, attempts: r.attempts }))).toEqual([]);

  // Each object written once, across all three workers.
  const writes = new Map<string, number>();
  for (const worker of workers) {
    for (const event of worker.failpoints) writes.set(event.detail!, (writes.get(event.detail!) ?? 0) + 1);
  }
  const databaseKeys = [...writes.keys()].filter((k) => k.includes('/database.dump'));
  expect(databaseKeys).toHaveLength(ids.length);
  expect([...writes.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(writes.size).toBe(ids.length * 3);

  // No overlap on a source: each source's runs, ordered by start, each end before the next starts.
  const overlaps: string[] = [];
  for (const sourceId of sourceIds) {
    const spans = rows.filter((r) => r.sourceId === sourceId).map((r) => ({ id: r.id, start: r.startedAt!.getTime(), end: r.completedAt!.getTime() }));
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]!.start < spans[i - 1]!.end) overlaps.push(`${spans[i - 1]!.id} and ${spans[i]!.id} on source ${sourceId}`);
    }
  }
  expect(overlaps).toEqual([]);

  const byWorker = new Map<string, number>();
  for (const row of rows) byWorker.set(row.workerId ?? '?', (byWorker.get(row.workerId ?? '?') ?? 0) + 1);
  expect(byWorker.size).toBe(WORKERS);

  const audit = await auditArtifacts(stack.ctx, stack.config.BACKUP_DIR);
  expect(audit.mismatches).toEqual([]);
  expect(audit.strayFiles).toEqual([]);

  const perMinute = Math.round((ids.length / (elapsedMs / 60_000)) * 10) / 10;
  console.info(
    `scale-out: ${ids.length} backups of ${SOURCES} sources by ${WORKERS} workers in ${(elapsedMs / 1000).toFixed(1)} s = ${perMinute} backups/min; ` +
      `per worker ${JSON.stringify(Object.fromEntries(byWorker))}; ${writes.size} objects written once each; ${audit.bytesChecked} bytes checked`,
  );
});
