// /metrics: who may read it, and whether what it says is true — counts of real backups run by the
// workers, the failed counter moving when a backup fails, histograms built from the table, queue
// depths as BullMQ reports them, bytes per destination — and how long a scrape takes on a big table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import express from 'express';
import { createJobQueues, queueNames } from '@coffre/shared';
import { DURATION_BUCKETS, SIZE_BUCKETS, collectMetrics } from '@coffre/shared/metrics';
import { metricsScraperAccess } from '../src/routes/metrics.js';
import { withClient } from '../../../test/support/pg.js';
import { databaseUrl } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { deadPort } from '../../../test/support/receivers.js';

const METRICS_TOKEN = 'scraper-token-5b1f0c2e9d';

let stack: TestStack;
let auth: { Authorization: string };
let viewer: string;
let missingSourceId: string;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

beforeAll(async () => {
  stack = await createTestStack({ env: { METRICS_TOKEN } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  viewer = await stack.token('viewer');
  stack.startWorkers({ concurrency: 2 });
  const source = await request(stack.app).post('/api/sources').set(auth).send({ name: 'missing-db', url: databaseUrl('coffre_metrics_no_such_db') });
  expect(source.status).toBe(201);
  missingSourceId = source.body.id;
});

afterAll(async () => {
  await stack?.close();
});

async function scrape(): Promise<Sample[]> {
  const res = await request(stack.app).get('/metrics').set('Authorization', `Bearer ${viewer}`);
  expect(res.status).toBe(200);
  return parseExposition(res.text);
}

/** Prometheus text format: `name{a="x",b="y"} value` lines; comments skipped. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels (undefined when there is none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels);
  const found = samples.filter((s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function backupAndWait(body: Record<string, unknown>) {
  const created = await request(stack.app).post('/api/backups').set(auth).send(body);
  expect(created.status).toBe(202);
  return eventually(async () => {
    const row = await stack.ctx.db.backup.findUnique({ where: { id: created.body.id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : null;
  }, 90_000, 'the backup to finish');
}

describe('who may read /metrics', () => {
  it('needs a token: none is 401, a viewer token reads the Prometheus text format', async () => {
    const anonymous = await request(stack.app).get('/metrics');
    expect(anonymous.status).toBe(401);
    const res = await request(stack.app).get('/metrics').set('Authorization', `Bearer ${viewer}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toContain('# TYPE coffre_backups_failed_total counter');
    expect(res.text).toContain('# TYPE coffre_backup_duration_seconds histogram');
  });

  it('METRICS_TOKEN opens /metrics (through metricsScraperAccess, ahead of authentication) and nothing else', async () => {
    // app.ts does not mount the scraper access yet; this is the one line it needs, in front of it.
    const app = express();
    app.use('/metrics', metricsScraperAccess(stack.ctx));
    app.use(stack.app);
    const scraper = { Authorization: `Bearer ${METRICS_TOKEN}` };
    const ok = await request(app).get('/metrics').set(scraper);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('coffre_queue_up 1');
    expect((await request(app).get('/api/backups').set(scraper)).status).toBe(401);
    expect((await request(app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    expect((await request(app).get('/metrics').set('Authorization', `Bearer ${viewer}`)).status).toBe(200);
  });
});

describe('what /metrics says', () => {
  it('after a few backups holds the right counts, sums, queue depths and stored bytes', async () => {
    const runs = [await backupAndWait({ name: 'm1' }), await backupAndWait({ name: 'm2' }), await backupAndWait({ name: 'm3' }), await backupAndWait({ sourceId: missingSourceId, name: 'm-fail' })];
    expect(runs.map((b) => b.status)).toEqual(['completed', 'completed', 'completed', 'failed']);
    // The worker writes a run's end on its row before BullMQ moves its job: the queue is read once it did.
    const backups = stack.ctx.queues.queue('backup');
    await eventually(async () => {
      const counts = await backups.getJobCounts('completed', 'failed', 'active');
      return counts.completed === 3 && counts.failed === 1 && counts.active === 0;
    }, 10_000, 'the backup jobs to end in the queue');
    const samples = await scrape();

    expect(valueOf(samples, 'coffre_backups', { status: 'completed', type: 'full', source: 'default' })).toBe(3);
    expect(valueOf(samples, 'coffre_backups', { status: 'failed', type: 'full', source: 'missing-db' })).toBe(1);
    expect(valueOf(samples, 'coffre_backups_failed_total', { type: 'full', source: 'missing-db' })).toBe(1);
    expect(valueOf(samples, 'coffre_backups_failed_total', { type: 'full', source: 'default' })).toBe(0);

    const completed = runs.filter((b) => b.status === 'completed');
    expect(valueOf(samples, 'coffre_backup_duration_seconds_count', { type: 'full' })).toBe(3);
    expect(valueOf(samples, 'coffre_backup_duration_seconds_bucket', { type: 'full', le: '+Inf' })).toBe(3);
    expect(valueOf(samples, 'coffre_backup_duration_seconds_sum', { type: 'full' })).toBeCloseTo(completed.reduce((s, b) => s + b.durationMs!, 0) / 1000, 6);
    expect(valueOf(samples, 'coffre_backup_size_bytes_sum', { type: 'full' })).toBe(completed.reduce((s, b) => s + Number(b.sizeBytes), 0));
    expect(valueOf(samples, 'coffre_backup_size_bytes_count', { type: 'full' })).toBe(3);

    const artifacts = await stack.ctx.db.backupArtifact.aggregate({ where: { deletedAt: null }, _sum: { sizeBytes: true }, _count: true });
    expect(valueOf(samples, 'coffre_destination_stored_bytes', { destination: 'local', kind: 'local' })).toBe(Number(artifacts._sum.sizeBytes));
    expect(valueOf(samples, 'coffre_destination_stored_objects', { destination: 'local', kind: 'local' })).toBe(artifacts._count);
    expect(artifacts._count).toBe(9); // database, manifest and RESTORE.md of each completed backup

    expect(valueOf(samples, 'coffre_queue_up')).toBe(1);
    for (const queue of queueNames) {
      const counts = await stack.ctx.queues.queue(queue).getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      for (const [state, n] of Object.entries(counts)) expect({ queue, state, n: valueOf(samples, 'coffre_queue_jobs', { queue, state }) }).toEqual({ queue, state, n });
    }
    expect(valueOf(samples, 'coffre_queue_jobs', { queue: 'backup', state: 'completed' })).toBe(3);
    expect(valueOf(samples, 'coffre_queue_jobs', { queue: 'backup', state: 'failed' })).toBe(1);
  });

  it('a failing backup increments the failed counter', async () => {
    const before = valueOf(await scrape(), 'coffre_backups_failed_total', { type: 'full', source: 'missing-db' })!;
    const failed = await backupAndWait({ sourceId: missingSourceId, name: 'm-fail-again' });
    expect(failed.status).toBe('failed');
    const after = await scrape();
    expect(valueOf(after, 'coffre_backups_failed_total', { type: 'full', source: 'missing-db' })).toBe(before + 1);
    expect(valueOf(after, 'coffre_backups_failed_total', { type: 'full', source: 'default' })).toBe(0);
  });

  it('reports the last success of each configuration, and restores and verifications by status', async () => {
    const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    const ran = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'metrics-config', sourceId });
    const idle = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'never-ran', sourceId });
    expect([ran.status, idle.status]).toEqual([201, 201]);
    const run = await request(stack.app).post(`/api/configurations/${ran.body.id}/run`).set(auth);
    expect(run.status).toBe(202);
    const backup = await eventually(async () => {
      const row = await stack.ctx.db.backup.findUnique({ where: { id: run.body.id } });
      return row?.status === 'completed' ? row : null;
    }, 90_000);

    const verify = await request(stack.app).post(`/api/backups/${backup.id}/verify`).set(auth);
    expect(verify.status).toBe(202);
    await eventually(async () => (await stack.ctx.db.verification.findUnique({ where: { id: verify.body.id } }))?.status === 'completed', 90_000, 'the verification');
    await stack.ctx.db.restore.createMany({
      data: [
        { backupId: backup.id, status: 'failed', targetDatabase: 'x' },
        { backupId: backup.id, status: 'failed', targetDatabase: 'y' },
        { backupId: backup.id, status: 'completed', targetDatabase: 'z' },
      ],
    });

    const samples = await scrape();
    expect(valueOf(samples, 'coffre_configuration_last_success_timestamp_seconds', { configuration: 'metrics-config' })).toBe(backup.completedAt!.getTime() / 1000);
    expect(valueOf(samples, 'coffre_configuration_last_success_timestamp_seconds', { configuration: 'never-ran' })).toBe(0);
    expect(valueOf(samples, 'coffre_verifications', { status: 'completed', result: 'passed' })).toBe(1);
    expect(valueOf(samples, 'coffre_restores', { status: 'failed' })).toBe(2);
    expect(valueOf(samples, 'coffre_restores', { status: 'completed' })).toBe(1);
  });

  it('histograms are cumulative and exact, and a scrape stays fast over 100 000 backups', async () => {
    const rows = 100_000;
    // Synthetic schema-only backups: durations cycle 0.1 s … 100 s, sizes grow 1 kB … 100 MB.
    await withClient(stack.env.DATABASE_URL!, (c) =>
      c.query(
        `INSERT INTO "Backup" (id, name, type, status, trigger, "sourceName", "durationMs", "sizeBytes", "completedAt", "updatedAt")
         SELECT gen_random_uuid(), 'synthetic-' || i, 'schema', 'completed', 'schedule', 'synthetic', (i % 1000 + 1) * 100, i::bigint * 1000, now(), now()
           FROM generate_series(1, $1::int) AS i`,
        [rows],
      ),
    );
    const durations = Array.from({ length: rows }, (_, k) => ((k + 1) % 1000 + 1) * 100);
    const sizes = Array.from({ length: rows }, (_, k) => (k + 1) * 1000);

    const timings: number[] = [];
    let samples: Sample[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      samples = await scrape();
      timings.push(performance.now() - started);
    }
    timings.sort((a, b) => a - b);
    console.log(`scrape over ${rows} extra backups: median ${timings[2]!.toFixed(0)} ms, slowest ${timings[4]!.toFixed(0)} ms`);
    expect(timings[2]).toBeLessThan(1_500);

    for (const le of DURATION_BUCKETS) {
      expect({ le, n: valueOf(samples, 'coffre_backup_duration_seconds_bucket', { type: 'schema', le: String(le) }) }).toEqual({ le, n: durations.filter((d) => d <= le * 1000).length });
    }
    for (const le of SIZE_BUCKETS) {
      expect({ le, n: valueOf(samples, 'coffre_backup_size_bytes_bucket', { type: 'schema', le: String(le) }) }).toEqual({ le, n: sizes.filter((s) => s <= le).length });
    }
    expect(valueOf(samples, 'coffre_backup_duration_seconds_count', { type: 'schema' })).toBe(rows);
    expect(valueOf(samples, 'coffre_backup_duration_seconds_sum', { type: 'schema' })).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 1000, 3);
    expect(valueOf(samples, 'coffre_backup_size_bytes_sum', { type: 'schema' })).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(valueOf(samples, 'coffre_backups', { status: 'completed', type: 'schema', source: 'synthetic' })).toBe(rows);
  });

  it('with Redis unreachable, still answers from the database within a few seconds, saying the queues are down', async () => {
    const queues = createJobQueues({ redisUrl: `redis://127.0.0.1:${await deadPort()}`, prefix: 'coffre-dead', role: 'api' });
    try {
      const started = Date.now();
      const page = await collectMetrics({ ...stack.ctx, queues });
      expect(Date.now() - started).toBeLessThan(5_000);
      const samples = parseExposition(page.body);
      expect(valueOf(samples, 'coffre_queue_up')).toBe(0);
      expect(samples.some((s) => s.name === 'coffre_queue_jobs')).toBe(false);
      expect(valueOf(samples, 'coffre_backups', { status: 'completed', type: 'full', source: 'default' })).toBeGreaterThanOrEqual(3);
    } finally {
      await queues.close();
    }
  });
});
