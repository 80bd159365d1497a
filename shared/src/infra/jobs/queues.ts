// BullMQ queues over one Redis. The API's connection fails fast (a request gets a 503 instead of
// hanging while Redis is away); workers' connections wait and retry. REDIS_URL may name a Redis or
// the sentinels of one (redis-url.ts): then every connection asks them where the primary is, and
// again after a failover.
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { UnavailableError } from '../errors.js';
import { parseRedisUrl, type RedisTarget } from '../redis-url.js';
import { currentTraceparent } from '../tracing.js';
import { jobOptions, type JobDefinition, type QueueName } from './definition.js';

export type ConnectionRole = 'api' | 'worker';

export function createRedis(url: string, role: ConnectionRole): Redis {
  const options: RedisOptions = {
    // Workers block on Redis and must wait for it; the API must answer now.
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectionName: `coffre-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    // A primary demoted to replica (a failover) refuses writes: reconnect, to whichever is primary now, and resend.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
  const target = parseRedisUrl(url);
  return target.kind === 'direct' ? new Redis(target.url, options) : new Redis({ ...sentinelOptions(target), ...options });
}

/** ioredis's options to reach the primary the sentinels name, and to follow it when they replace it. */
export function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    username: target.username,
    password: target.password,
    sentinelUsername: target.sentinelUsername,
    sentinelPassword: target.sentinelPassword,
    db: target.db,
    // No failoverDetector: when its +switch-master arrives while a connection is reconnecting (the old
    // primary is dead, so all of them are), ioredis ends that connection for good ("Connection is
    // closed."); the failover test lost a worker's queue that way. Reconnecting asks the sentinels anyway.
    failoverDetector: false,
    // All sentinels away: keep asking (a connection whose strategy gives up ends for good), at most every 5 s.
    sentinelRetryStrategy: (times) => Math.min(times * 200, 5_000),
  };
}

/** The address (host:port) a connection reached: with Sentinel, the primary they named. Null when not connected. */
export function reachedRedisAddress(redis: Redis): string | null {
  const stream = (redis as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  if (!stream?.remoteAddress || !stream.remotePort) return null;
  return `${stream.remoteAddress.includes(':') ? `[${stream.remoteAddress}]` : stream.remoteAddress}:${stream.remotePort}`;
}

export interface JobQueues {
  readonly redis: Redis;
  readonly prefix: string;
  queue(name: QueueName): Queue;
  /**
   * Adds a job of a definition, its payload validated (a no-op when its id exists). Typed callers
   * use enqueue() of features/catalog.ts, which names the definition from the catalog.
   */
  add(name: string, definition: JobDefinition, payload: unknown, options?: Pick<JobsOptions, 'delay' | 'priority'>): Promise<Job>;
  /**
   * Creates or updates the job scheduler `schedulerId`, which fires `name` with `payload` on `repeat`.
   * The only way coffre schedules: the payload is validated against the definition and every firing
   * gets its options (attempts, backoff, how many finished firings Redis keeps). Typed callers use
   * schedule() of features/catalog.ts.
   */
  schedule(name: string, definition: JobDefinition, schedulerId: string, repeat: ScheduleRepeat, payload: unknown): Promise<void>;
  close(): Promise<void>;
}

/** When a scheduler fires: a cron pattern in a time zone, or every so many milliseconds. */
export type ScheduleRepeat = { pattern: string; tz?: string } | { every: number };

export function createJobQueues(options: { redisUrl: string; prefix: string; role: ConnectionRole; redis?: Redis }): JobQueues {
  const redis = options.redis ?? createRedis(options.redisUrl, options.role);
  redis.on('error', () => {}); // reported by health checks; ioredis reconnects by itself
  const queues = new Map<QueueName, Queue>();
  const queue = (name: QueueName) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix: options.prefix, skipWaitingForReady: options.role === 'api' });
      q.on('error', () => {});
      queues.set(name, q);
    }
    return q;
  };
  return {
    redis,
    prefix: options.prefix,
    queue,
    async add(name, definition, payload, extra) {
      const data = definition.payload.parse(payload);
      const jobId = definition.jobId?.(data);
      // The trace of the request that queued the job, continued by the worker that runs it (an id, nothing secret).
      const traceparent = currentTraceparent();
      try {
        return await queue(definition.queue).add(name, traceparent ? { ...(data as object), traceparent } : data, { ...jobOptions(definition), ...extra, jobId });
      } catch (error) {
        throw new UnavailableError(`The job queue (Redis) is unavailable, so the job could not be queued: ${(error as Error).message}`);
      }
    },
    async schedule(name, definition, schedulerId, repeat, payload) {
      const data = definition.payload.parse(payload);
      const opts = jobOptions(definition);
      try {
        // Upserting replaces the scheduler's pending firing with one in the future: a firing that waits
        // for a worker (and says, when one takes it, which firings were missed) would vanish. Every worker
        // syncs the schedulers at start, so an unchanged scheduler is left as it is.
        const existing = await queue(definition.queue).getJobScheduler(schedulerId);
        if (existing && sameScheduler(existing, { name, ...repeat, template: { data, opts } })) return;
        await queue(definition.queue).upsertJobScheduler(schedulerId, repeat, { name, data, opts });
      } catch (error) {
        throw new UnavailableError(`The job queue (Redis) is unavailable, so the schedule could not be saved: ${(error as Error).message}`);
      }
    },
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      if (!options.redis) redis.disconnect();
    },
  };
}

/** Whether a stored scheduler fires the same job, on the same schedule, with the same data and options. */
function sameScheduler(existing: object, wanted: object): boolean {
  const pick = ({ name, pattern, tz, every, template }: { name?: unknown; pattern?: unknown; tz?: unknown; every?: unknown; template?: unknown }) =>
    canonical({ name, pattern, tz, every, template });
  return pick(existing) === pick(wanted);
}

/** JSON with sorted keys and without undefined values: equal objects, equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

