// Prometheus metrics, computed from coffre's database and Redis at scrape time. Nothing is counted in
// a process's memory: every API instance answers the same truth, a restart loses nothing, and a
// backup run by any worker on any machine shows at the next scrape.
//
// The counters and histograms are derived from the history table over ALL its rows, not a window:
// rows are never deleted (deleting a backup removes its artifacts and keeps the row), so the values
// only ever grow and behave as Prometheus counters (rate(), increase(), histogram_quantile() work).
// A window (say 30 days) would make them shrink as rows age out, which Prometheus reads as resets.
// The price is one aggregate pass over the Backup table per scrape; the scrape is a handful of
// grouped queries run together (see the metrics test for its measured time).
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { JobType } from 'bullmq';
import { Prisma } from '../../infra/db.js';
import { queueNames } from '../../infra/jobs/definition.js';
import type { AppContext } from '../../infra/context.js';
import { withTimeout } from '../../infra/timeouts.js';

/** Upper bounds of the duration histogram, in seconds. */
export const DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200];
/** Upper bounds of the size histogram, in bytes. */
export const SIZE_BUCKETS = [1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];

const QUEUE_STATES: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'];
const QUEUE_TIMEOUT_MS = 2_000;

export interface MetricsPage {
  contentType: string;
  body: string;
}

export async function collectMetrics(ctx: AppContext): Promise<MetricsPage> {
  const [backups, histograms, lastSuccess, restores, verifications, stored, deliveries, queues] = await Promise.all([
    ctx.db.backup.groupBy({ by: ['status', 'type', 'sourceName'], _count: { _all: true } }),
    completedHistograms(ctx),
    ctx.db.$queryRaw<{ name: string; last: Date | null }[]>`
      SELECT c.name, max(b."completedAt") AS last
        FROM "BackupConfiguration" c
        LEFT JOIN "Backup" b ON b."configurationId" = c.id AND b.status = 'completed'
       GROUP BY c.id, c.name`,
    ctx.db.restore.groupBy({ by: ['status'], _count: { _all: true } }),
    ctx.db.verification.groupBy({ by: ['status', 'result'], _count: { _all: true } }),
    ctx.db.$queryRaw<{ name: string; kind: string; bytes: number; objects: number }[]>`
      SELECT d.name, d.kind::text AS kind,
             coalesce(sum(a."sizeBytes") FILTER (WHERE a."deletedAt" IS NULL), 0)::float8 AS bytes,
             (count(a.id) FILTER (WHERE a."deletedAt" IS NULL))::int AS objects
        FROM "Destination" d
        LEFT JOIN "BackupArtifact" a ON a."destinationId" = d.id
       GROUP BY d.id, d.name, d.kind`,
    ctx.db.$queryRaw<{ channel: string; status: string; n: number }[]>`
      SELECT c.name AS channel, d.status, count(*)::int AS n
        FROM "NotificationDelivery" d JOIN "NotificationChannel" c ON c.id = d."channelId"
       GROUP BY c.name, d.status`,
    queueCounts(ctx),
  ]);

  const registry = new Registry();
  const registers = [registry];

  const backupGauge = new Gauge({ name: 'coffre_backups', help: 'Backups in the history, by status, type and source.', labelNames: ['status', 'type', 'source'], registers });
  const failed = new Counter({
    name: 'coffre_backups_failed_total',
    help: 'Backups that ended failed, by type and source (counted from the history table; 0 for every pair that has backups).',
    labelNames: ['type', 'source'],
    registers,
  });
  for (const row of backups) {
    backupGauge.set({ status: row.status, type: row.type, source: row.sourceName }, row._count._all);
    failed.inc({ type: row.type, source: row.sourceName }, row.status === 'failed' ? row._count._all : 0);
  }

  tableHistogram(registry, {
    name: 'coffre_backup_duration_seconds',
    help: 'Duration of completed backups, by type (every completed backup in the history).',
    bounds: DURATION_BUCKETS,
    series: histograms.map((h) => ({ labels: { type: h.type }, buckets: h.duration_buckets, sum: h.duration_sum_ms / 1000, count: h.duration_count })),
  });
  tableHistogram(registry, {
    name: 'coffre_backup_size_bytes',
    help: 'Stored size of completed backups, by type (every completed backup in the history).',
    bounds: SIZE_BUCKETS,
    series: histograms.map((h) => ({ labels: { type: h.type }, buckets: h.size_buckets, sum: h.size_sum, count: h.size_count })),
  });

  const last = new Gauge({
    name: 'coffre_configuration_last_success_timestamp_seconds',
    help: 'Unix time of the last completed backup of each configuration (0: none yet).',
    labelNames: ['configuration'],
    registers,
  });
  for (const row of lastSuccess) last.set({ configuration: row.name }, row.last ? row.last.getTime() / 1000 : 0);

  const restoreGauge = new Gauge({ name: 'coffre_restores', help: 'Restores in the history, by status.', labelNames: ['status'], registers });
  for (const row of restores) restoreGauge.set({ status: row.status }, row._count._all);

  const verificationGauge = new Gauge({
    name: 'coffre_verifications',
    help: 'Verifications (test restores) in the history, by status and result (passed, failed, none while unfinished).',
    labelNames: ['status', 'result'],
    registers,
  });
  for (const row of verifications) verificationGauge.set({ status: row.status, result: row.result ?? 'none' }, row._count._all);

  const bytes = new Gauge({ name: 'coffre_destination_stored_bytes', help: 'Bytes of artifacts held by each destination (artifacts not deleted).', labelNames: ['destination', 'kind'], registers });
  const objects = new Gauge({ name: 'coffre_destination_stored_objects', help: 'Artifacts held by each destination (not deleted).', labelNames: ['destination', 'kind'], registers });
  for (const row of stored) {
    bytes.set({ destination: row.name, kind: row.kind }, row.bytes);
    objects.set({ destination: row.name, kind: row.kind }, row.objects);
  }

  const deliveryGauge = new Gauge({ name: 'coffre_notification_deliveries', help: 'Notification deliveries, by channel and status.', labelNames: ['channel', 'status'], registers });
  for (const row of deliveries) deliveryGauge.set({ channel: row.channel, status: row.status }, row.n);

  const queueUp = new Gauge({ name: 'coffre_queue_up', help: '1 when the job queues (Redis) answered this scrape, 0 otherwise.', registers });
  const jobs = new Gauge({ name: 'coffre_queue_jobs', help: 'Jobs in each queue, by state.', labelNames: ['queue', 'state'], registers });
  queueUp.set(queues ? 1 : 0);
  for (const [queue, counts] of Object.entries(queues ?? {})) {
    for (const state of QUEUE_STATES) jobs.set({ queue, state }, counts[state] ?? 0);
  }

  return { contentType: registry.contentType, body: await registry.metrics() };
}

interface HistogramRow {
  type: string;
  duration_count: number;
  duration_sum_ms: number;
  duration_buckets: number[];
  size_count: number;
  size_sum: number;
  size_buckets: number[];
}

/** Cumulative bucket counts of completed backups, per type, in one pass over the table. */
async function completedHistograms(ctx: AppContext): Promise<HistogramRow[]> {
  // The bounds are our constants, written into the SQL as literals.
  const under = (column: string, bounds: number[], scale: number) =>
    Prisma.raw(bounds.map((le) => `count(*) FILTER (WHERE "${column}" <= ${le * scale})`).join(', '));
  return ctx.db.$queryRaw<HistogramRow[]>`
    SELECT type::text AS type,
           (count(*) FILTER (WHERE "durationMs" IS NOT NULL))::int AS duration_count,
           coalesce(sum("durationMs"), 0)::float8 AS duration_sum_ms,
           ARRAY[${under('durationMs', DURATION_BUCKETS, 1000)}]::int[] AS duration_buckets,
           (count(*) FILTER (WHERE "sizeBytes" IS NOT NULL))::int AS size_count,
           coalesce(sum("sizeBytes"), 0)::float8 AS size_sum,
           ARRAY[${under('sizeBytes', SIZE_BUCKETS, 1)}]::int[] AS size_buckets
      FROM "Backup"
     WHERE status = 'completed'
     GROUP BY type`;
}

/** Job counts per queue, or null when Redis does not answer in time (the rest of the page still comes). */
async function queueCounts(ctx: AppContext): Promise<Record<string, Record<string, number>> | null> {
  const counting = Promise.all(queueNames.map(async (name) => [name, await ctx.queues.queue(name).getJobCounts(...QUEUE_STATES)] as const));
  return withTimeout(counting, QUEUE_TIMEOUT_MS).then(
    (counts) => Object.fromEntries(counts),
    () => null,
  );
}

/**
 * A histogram whose buckets come from the database already counted. prom-client's Histogram only
 * learns by observe(), one value at a time; the registry needs no more than a name and get(), so
 * this registers exactly that, in the shape prom-client's own histograms give.
 */
function tableHistogram(
  registry: Registry,
  spec: { name: string; help: string; bounds: number[]; series: { labels: Record<string, string>; buckets: number[]; sum: number; count: number }[] },
): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    async get() {
      const values = spec.series.flatMap(({ labels, buckets, sum, count }) => [
        ...spec.bounds.map((le, i) => ({ metricName: `${spec.name}_bucket`, labels: { ...labels, le }, value: buckets[i] ?? 0 })),
        { metricName: `${spec.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
        { metricName: `${spec.name}_sum`, labels, value: sum },
        { metricName: `${spec.name}_count`, labels, value: count },
      ]);
      return { name: spec.name, help: spec.help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}
