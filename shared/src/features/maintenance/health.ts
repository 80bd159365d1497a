// Health: what coffre's dependencies answer. The checks here are the one place that asks; the API
// (GET /api/health) and `coffre doctor` each word what they found for their readers.
//
// The API answers in two depths. Anyone may ask whether coffre is up: the answer is a cached status
// (its database answers a query and Redis a PING), refreshed at most every 30 s, so that a flood of
// anonymous requests costs one query and one PING per 30 s and never touches storage or spawns a
// process. The details — every destination written to, pg_dump found, the workers alive — need a
// token and are computed at most every 30 s too, however many ask. The doctor looks deeper: the
// schema's migrations, Redis's eviction policy, the tools each source needs.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { AppContext } from '../../infra/context.js';
import { destinationDriver } from '../destinations/destinations.js';
import { liveWorkers, type WorkerBeat } from '../../infra/heartbeats.js';
import { resolvePgTool, detectServerVersion, withPgClient, type PgTool, type ServerVersion } from '../../engine/postgres.js';
import type { Source } from '../../infra/db.js';
import { errorMessage } from '../../infra/errors.js';
import { sourceConnection } from '../sources/sources.js';
import { withTimeout } from '../../infra/timeouts.js';

/** What one check found: the facts it measured, or why it could not; and how long it took. */
export type Probe<T> = { ok: true; value: T; latencyMs: number } | { ok: false; error: string; latencyMs: number };

/** How long a check may take before it counts as failed (the API's; the doctor gives its own). */
export const HEALTH_CHECK_TIMEOUT_MS = 3000;

export interface HealthCheck {
  ok: boolean;
  message: string;
  latencyMs?: number;
}

export type HealthStatus = 'ok' | 'degraded';

export interface HealthReport {
  status: HealthStatus;
  checkedAt: string;
  checks: Record<string, HealthCheck>;
  /** The workers whose heartbeat is current (they do not count in status: the API serves without them). */
  workers: { alive: number; items: WorkerBeat[] };
}

/** How long an answer is reused. The anonymous status checks a degraded answer again after 5 s. */
export const HEALTH_CACHE_MS = 30_000;
const DEGRADED_STATUS_CACHE_MS = 5_000;

interface Caches {
  status: () => Promise<{ status: HealthStatus }>;
  report: () => Promise<HealthReport>;
}

const caches = new WeakMap<AppContext, Caches>();

function cachesOf(ctx: AppContext): Caches {
  let found = caches.get(ctx);
  if (!found) {
    found = {
      status: cachedAnswer(() => checkReachable(ctx), HEALTH_CACHE_MS, DEGRADED_STATUS_CACHE_MS),
      report: cachedAnswer(() => checkHealth(ctx), HEALTH_CACHE_MS, HEALTH_CACHE_MS),
    };
    caches.set(ctx, found);
  }
  return found;
}

/** The anonymous answer: reachable database and Redis, from a cache; a dropped Redis connection shows at once. */
export async function healthStatus(ctx: AppContext): Promise<HealthStatus> {
  // The connection's own state costs nothing to read: an outage needs no round trip to be seen.
  if (ctx.queues.redis.status !== 'ready') return 'degraded';
  return (await cachesOf(ctx).status()).status;
}

/** The authenticated answer: every check, computed at most every 30 s. */
export function healthReport(ctx: AppContext): Promise<HealthReport> {
  return cachesOf(ctx).report();
}

/** Forgets the cached answers (the next request checks again). */
export function clearHealthCache(ctx: AppContext): void {
  caches.delete(ctx);
}

/** Every check of the API's report, now. */
export async function checkHealth(ctx: AppContext): Promise<HealthReport> {
  const [database, redis, storage, pgDump, workers] = await Promise.all([
    probeDatabase(ctx),
    probeRedis(ctx),
    probeStorage(ctx),
    probePgDump(),
    probeWorkers(ctx),
  ]);
  const checks = {
    database: reported(database, () => 'reachable'),
    redis: reported(redis, (pong) => (pong === 'PONG' ? 'reachable' : `answered ${pong}`)),
    storage: reported(storage, (writable) => `${writable} destination(s) writable`),
    pgDump: reported(pgDump, (tool) => `pg_dump ${tool.version} at ${tool.path}`),
  };
  const alive = workers.ok ? workers.value : [];
  return {
    status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'degraded',
    checkedAt: new Date().toISOString(),
    checks,
    workers: { alive: alive.length, items: alive },
  };
}

async function checkReachable(ctx: AppContext): Promise<{ status: HealthStatus }> {
  const [database, redis] = await Promise.all([probeDatabase(ctx), probeRedis(ctx)]);
  return { status: database.ok && redis.ok ? 'ok' : 'degraded' };
}

function reported<T>(probe: Probe<T>, describe: (value: T) => string): HealthCheck {
  return { ok: probe.ok, message: probe.ok ? describe(probe.value) : probe.error, latencyMs: probe.latencyMs };
}

/** Runs one check: it never throws, and one that does not answer within `timeoutMs` failed. */
export async function probe<T>(work: () => Promise<T>, timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<Probe<T>> {
  const started = Date.now();
  try {
    const value = await withTimeout(work(), timeoutMs);
    return { ok: true, value, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, error: errorMessage(error), latencyMs: Date.now() - started };
  }
}

/** coffre's own database answers a query. */
export function probeDatabase(ctx: AppContext, timeoutMs?: number): Promise<Probe<void>> {
  return probe(async () => {
    await ctx.db.$queryRaw`SELECT 1`;
  }, timeoutMs);
}

/** Redis's answer to PING. */
export function probeRedis(ctx: AppContext, timeoutMs?: number): Promise<Probe<string>> {
  return probe(() => ctx.queues.redis.ping(), timeoutMs);
}

/** Every destination takes a write: how many there are. */
export function probeStorage(ctx: AppContext, timeoutMs?: number): Promise<Probe<number>> {
  return probe(async () => {
    const destinations = await ctx.db.destination.findMany();
    for (const d of destinations) await destinationDriver(ctx, d).checkWritable();
    return destinations.length;
  }, timeoutMs);
}

/** A pg_dump of any version, installed and executable. */
export function probePgDump(timeoutMs?: number): Promise<Probe<PgTool>> {
  return probe(async () => {
    const tool = await resolvePgTool('pg_dump', 0);
    await access(tool.path, constants.X_OK);
    return tool;
  }, timeoutMs);
}

/** The workers whose heartbeat is current. */
export function probeWorkers(ctx: AppContext, timeoutMs?: number): Promise<Probe<WorkerBeat[]>> {
  return probe(() => liveWorkers(ctx), timeoutMs);
}

/** What stands still while no worker runs; each count is 0 when the database does not answer. */
export async function workWaitingForWorkers(ctx: AppContext): Promise<{ scheduledConfigurations: number; waitingBackups: number }> {
  const scheduledConfigurations = await ctx.db.backupConfiguration.count({ where: { active: true, scheduleKind: { not: 'manual' } } }).catch(() => 0);
  const waitingBackups = await ctx.db.backup.count({ where: { status: { in: ['pending', 'running'] } } }).catch(() => 0);
  return { scheduledConfigurations, waitingBackups };
}

export interface MigrationState {
  /** Migrations applied to the database, by name. */
  applied: string[];
  /** Migrations that started and neither finished nor were rolled back. */
  unfinished: string[];
}

/** The migrations recorded in coffre's database; fails when it has no coffre schema at all. */
export function probeMigrations(ctx: AppContext, timeoutMs?: number): Promise<Probe<MigrationState>> {
  return probe(async () => {
    const rows: { migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }[] = await ctx.db.$queryRawUnsafe(
      'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations',
    );
    return {
      applied: rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name),
      unfinished: rows.filter((r) => !r.finished_at && !r.rolled_back_at).map((r) => r.migration_name),
    };
  }, timeoutMs);
}

/** Redis's maxmemory-policy (queued jobs are safe only with noeviction); null when it does not say. */
export function probeRedisEviction(ctx: AppContext, timeoutMs?: number): Promise<Probe<string | null>> {
  return probe(async () => ((await ctx.queues.redis.config('GET', 'maxmemory-policy')) as string[])[1] ?? null, timeoutMs);
}

/** Sets noeviction at once (CONFIG SET: it does not survive a Redis restart). */
export async function setRedisNoEviction(ctx: AppContext): Promise<void> {
  await ctx.queues.redis.config('SET', 'maxmemory-policy', 'noeviction');
}

export interface SourceTools {
  server: ServerVersion;
  /** pg_dump, then pg_restore: each found for the server's version, or why not. */
  tools: { name: 'pg_dump' | 'pg_restore'; found: Probe<PgTool> }[];
}

/** The server a PostgreSQL source runs, and the tools that back it up and restore it; fails when the source cannot be reached. */
export function probeSourceTools(ctx: AppContext, source: Source, timeoutMs?: number): Promise<Probe<SourceTools>> {
  return probe(async () => {
    const server = await withPgClient(sourceConnection(ctx, source), (client) => detectServerVersion(client));
    const tools: SourceTools['tools'] = [];
    for (const name of ['pg_dump', 'pg_restore'] as const) tools.push({ name, found: await probe(() => resolvePgTool(name, server.major), timeoutMs) });
    return { server, tools };
  }, timeoutMs);
}

/**
 * One computation at a time, its answer reused for `okMs` (`degradedMs` when degraded). An ok answer
 * past its time is still served while the next is computed, so that no request waits on a refresh; a
 * degraded one is not, so that a recovery shows as soon as it is checked again.
 */
function cachedAnswer<T extends { status: HealthStatus }>(compute: () => Promise<T>, okMs: number, degradedMs: number): () => Promise<T> {
  let last: { value: T; at: number } | null = null;
  let pending: Promise<T> | null = null;
  const refresh = () => {
    pending ??= compute()
      .then((value) => {
        last = { value, at: Date.now() };
        return value;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
  return () => {
    if (last) {
      const fresh = Date.now() - last.at < (last.value.status === 'ok' ? okMs : degradedMs);
      if (fresh) return Promise.resolve(last.value);
      if (last.value.status === 'ok') {
        refresh().catch(() => {});
        return Promise.resolve(last.value);
      }
    }
    return refresh();
  };
}
