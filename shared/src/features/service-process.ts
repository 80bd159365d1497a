// What the API and worker processes share at start and at stop: their context built from the
// environment alone, the default destination and source registered, and one clean stop on the first
// SIGTERM or SIGINT.
import { loadConfigOrExit } from '../infra/config.js';
import { createDb } from '../infra/db.js';
import { createJobQueues, type ConnectionRole } from '../infra/jobs/queues.js';
import { createLogger } from '../infra/logger.js';
import { startTracing, stopTracing } from '../infra/tracing.js';
import type { AppContext } from '../infra/context.js';
import { createAppContext } from './context.js';
import { ensureDefaultDestination } from './destinations/destinations.js';
import { ensureDefaultSource } from './sources/sources.js';

/**
 * The context of a service process, from the environment alone: a bad setting stops the process
 * with a sentence naming it. The API's queue connection fails fast, a worker's retries (queues.ts).
 */
export function createServiceContext(service: ConnectionRole, options: { bufferedLogs?: boolean } = {}): AppContext {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: `coffre-${service}`, buffered: options.bufferedLogs });
  const db = createDb(config.DATABASE_URL);
  const queues = createJobQueues({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, role: service });
  return createAppContext({ config, db, queues, logger });
}

/** The `local` destination (BACKUP_DIR) and the `default` source (SOURCE_DATABASE_URL), registered when missing. */
export async function ensureDefaults(ctx: AppContext): Promise<void> {
  await ensureDefaultDestination(ctx);
  await ensureDefaultSource(ctx);
}

/** Calls `stop` once, on the first SIGTERM or SIGINT; the answer tells whether a stop has begun. */
export function onStopSignals(stop: (signal: NodeJS.Signals) => Promise<void>): () => boolean {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void stop(signal);
    });
  }
  return () => stopping;
}

/**
 * Starts exporting traces when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT); without one
 * nothing is loaded. Before the first request or job, so that each is traced whole.
 */
export function startServiceTracing(ctx: AppContext, service: ConnectionRole): Promise<void> {
  return startTracing(ctx.config, `coffre-${service}`, ctx.logger);
}

/** Closes the queues (and their Redis connection), then coffre's database, then sends the last spans. */
export async function closeServiceContext(ctx: AppContext): Promise<void> {
  await ctx.queues.close();
  await ctx.db.$disconnect();
  await stopTracing();
}
