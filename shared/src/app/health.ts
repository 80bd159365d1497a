// Readiness: coffre's database, Redis, every destination writable, pg_dump present.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { AppContext } from './context.js';
import { destinationDriver } from './destinations.js';
import { resolvePgTool } from '../engine/postgres.js';

export interface HealthCheck {
  ok: boolean;
  message: string;
  latencyMs?: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, HealthCheck>;
}

export async function checkHealth(ctx: AppContext): Promise<HealthReport> {
  const timed = async (work: () => Promise<string>): Promise<HealthCheck> => {
    const started = Date.now();
    try {
      const message = await withTimeout(work(), 3000);
      return { ok: true, message, latencyMs: Date.now() - started };
    } catch (error) {
      return { ok: false, message: (error as Error).message, latencyMs: Date.now() - started };
    }
  };
  const [database, redis, storage, pgDump] = await Promise.all([
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
  ]);
  const checks = { database, redis, storage, pgDump };
  return { status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'degraded', checks };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref();
    }),
  ]);
}
