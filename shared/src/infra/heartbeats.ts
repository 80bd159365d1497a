// Worker liveness. Every worker writes `<prefix>:worker:<workerId>` every few seconds with a TTL of a
// few beats, and keeps its id in the set `<prefix>:workers`; a worker that dies (SIGKILL, OOM, a lost
// machine) simply stops, and its key expires. Runs record the workerId that claimed them, so a running
// row whose worker has no key lost it — seen at once, not after hours or at the next worker start —
// and temporaries tagged with a process no heartbeat names belong to dead runs.
import { hostname } from 'node:os';
import type { Config } from './config.js';
import { PROCESS_TAG } from './temporary-names.js';
import { waitAtMost } from './timeouts.js';
import type { AppContext } from './context.js';

export interface WorkerBeat {
  workerId: string;
  /** The tag of the process (temporary files carry it too). */
  process: string;
  host: string;
  pid: number;
  startedAt: string;
  queues: string[];
  beatAt: string;
}

export interface Heartbeat {
  readonly workerId: string;
  /** Beats now (after Redis came back, before anything is judged by heartbeats). */
  beatNow(): Promise<void>;
  /** Stops beating and removes the key: a worker that stops cleanly is gone at once. */
  stop(): Promise<void>;
}

/** How often a worker beats, and how long its key outlives its last beat. Derived from STALL_SECONDS. */
export function heartbeatTiming(config: Pick<Config, 'STALL_SECONDS'>): { intervalMs: number; ttlMs: number } {
  const intervalMs = Math.min(10_000, Math.max(1_000, Math.round((config.STALL_SECONDS * 1000) / 3)));
  // Three missed beats, and never less than 10 s: a busy event loop must not look like a death.
  return { intervalMs, ttlMs: Math.max(3 * intervalMs, 10_000) };
}

const keyOf = (prefix: string, workerId: string) => `${prefix}:worker:${workerId}`;
const registryOf = (prefix: string) => `${prefix}:workers`;

export function startHeartbeat(ctx: AppContext, worker: { workerId: string; queues: string[] }): Heartbeat {
  const { intervalMs, ttlMs } = heartbeatTiming(ctx.config);
  const { redis, prefix } = ctx.queues;
  const startedAt = new Date().toISOString();
  let inFlight = false;
  const beat = async () => {
    // A Redis that is away holds the command: one beat at a time, the next one catches up.
    if (inFlight) return;
    inFlight = true;
    try {
      const value: WorkerBeat = { workerId: worker.workerId, process: PROCESS_TAG, host: hostname(), pid: process.pid, startedAt, queues: worker.queues, beatAt: new Date().toISOString() };
      await redis.multi().set(keyOf(prefix, worker.workerId), JSON.stringify(value), 'PX', ttlMs).zadd(registryOf(prefix), Date.now(), worker.workerId).exec();
    } catch (error) {
      ctx.logger.warn({ err: (error as Error).message }, 'the worker heartbeat could not be written');
    } finally {
      inFlight = false;
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    workerId: worker.workerId,
    beatNow: beat,
    async stop() {
      clearInterval(timer);
      const removal = redis.multi().del(keyOf(prefix, worker.workerId)).zrem(registryOf(prefix), worker.workerId).exec();
      // With Redis away the key expires by itself: never hold a shutdown for it.
      await waitAtMost(removal, 1_000);
    },
  };
}

/** The workers whose heartbeat is current, oldest first. Throws when Redis cannot be read. */
export async function liveWorkers(ctx: Pick<AppContext, 'queues' | 'config'>): Promise<WorkerBeat[]> {
  const { redis, prefix } = ctx.queues;
  const ids = await redis.zrange(registryOf(prefix), '0', '-1');
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keyOf(prefix, id)));
  const alive: WorkerBeat[] = [];
  const gone: string[] = [];
  values.forEach((value, i) => {
    const beat = value ? parseBeat(value) : null;
    if (beat) alive.push(beat);
    else gone.push(ids[i]!);
  });
  // Dead ids leave the registry; one that beats again between the two reads is put back by its next beat.
  if (gone.length) await redis.zrem(registryOf(prefix), ...gone).catch(() => {});
  return alive.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function parseBeat(text: string): WorkerBeat | null {
  try {
    const beat = JSON.parse(text) as WorkerBeat;
    return typeof beat.workerId === 'string' && Array.isArray(beat.queues) ? beat : null;
  } catch {
    return null;
  }
}
