// Health, in two depths. Anyone may ask whether coffre is up: the answer is a cached status (its
// database answers a query and Redis a PING), refreshed at most every 30 s, so that a flood of
// anonymous requests costs one query and one PING per 30 s and never touches storage or spawns a
// process. The details — every destination written to, pg_dump found, the workers alive — need a
// token and are computed at most every 30 s too, however many ask.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { AppContext } from '../../infra/context.js';
import { destinationDriver } from '../destinations/destinations.js';
import { liveWorkers, type WorkerBeat } from '../../infra/heartbeats.js';
import { resolvePgTool } from '../../engine/postgres.js';

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

/** Every check, now. */
export async function checkHealth(ctx: AppContext): Promise<HealthReport> {
  const [database, redis, storage, pgDump, workers] = await Promise.all([
    timed(async () => {
      await ctx.db.$queryRaw`SELECT 1`;
      return 'reachable';
    }),
    timed(async () => {
      const pong = await ctx.queues.redis.ping();
      return pong === 'PONG' ? 'reachable' : `answered ${pong}`;
    }),
    timed(async () => {
      const destinations = await ctx.db.destination.findMany();
      for (const d of destinations) await destinationDriver(ctx, d).checkWritable();
      return `${destinations.length} destination(s) writable`;
    }),
    timed(async () => {
      const tool = await resolvePgTool('pg_dump', 0);
      await access(tool.path, constants.X_OK);
      return `pg_dump ${tool.version} at ${tool.path}`;
    }),
    withTimeout(liveWorkers(ctx), 3000).catch(() => [] as WorkerBeat[]),
  ]);
  const checks = { database, redis, storage, pgDump };
  return {
    status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'degraded',
    checkedAt: new Date().toISOString(),
    checks,
    workers: { alive: workers.length, items: workers },
  };
}

async function checkReachable(ctx: AppContext): Promise<{ status: HealthStatus }> {
  const [database, redis] = await Promise.all([
    timed(async () => {
      await ctx.db.$queryRaw`SELECT 1`;
      return 'reachable';
    }),
    timed(async () => ((await ctx.queues.redis.ping()) === 'PONG' ? 'reachable' : 'no PONG')),
  ]);
  return { status: database.ok && redis.ok ? 'ok' : 'degraded' };
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

async function timed(work: () => Promise<string>): Promise<HealthCheck> {
  const started = Date.now();
  try {
    const message = await withTimeout(work(), 3000);
    return { ok: true, message, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, message: (error as Error).message, latencyMs: Date.now() - started };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref();
    }),
  ]);
}
