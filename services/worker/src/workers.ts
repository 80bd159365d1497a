// BullMQ workers over the job catalog. Each job name has exactly one handler, checked at start;
// a handler's PermanentError becomes BullMQ's UnrecoverableError (no retry), a busy database sends
// the job back with a short delay, and a stopping worker hands its running jobs back to the queue.
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import {
  PermanentError,
  contextFromTraceparent,
  failRun,
  inSpan,
  traceparentOf,
  withoutTraceparent,
  runOfJob,
  createRedis,
  definitionOf,
  startHeartbeat,
  jobNames,
  queueNames,
  type AppContext,
  type Heartbeat,
  type JobHandlers,
  type JobName,
  type QueueName,
  type RunHooks,
  type RunOutcome,
} from '@coffre/shared';

export type Handlers = JobHandlers;

/** Refusals of jobs that reached a queue other than their own (their rows are not failed for it). */
const misroutedErrors = new WeakSet<Error>();
const misrouted = Object.assign((error: Error) => (misroutedErrors.add(error), error), { has: (error: Error) => misroutedErrors.has(error) });

export interface WorkerOptions {
  concurrency: number;
  stallSeconds: number;
  workerId: string;
  /** Queues to serve (all by default). */
  queues?: QueueName[];
  /** The process's heartbeat when it started one already (main does, before it checks the queue); else one is started. */
  heartbeat?: Heartbeat;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking jobs, lets running ones finish for up to `graceMs`, then hands the rest back. */
  close(graceMs: number): Promise<void>;
}

/**
 * Refuses to start when a job of the catalog has no handler, when a handler names no job, or when a
 * queue this worker serves is not the queue the catalog gives a job it would take.
 */
export function checkHandlers(handlers: Partial<Record<string, unknown>>, served: readonly QueueName[] = queueNames): asserts handlers is Handlers {
  const problems: string[] = [];
  const missing = jobNames.filter((name) => typeof handlers[name] !== 'function');
  if (missing.length) problems.push(`no handler for job(s) ${missing.join(', ')}`);
  const unknown = Object.keys(handlers).filter((name) => !definitionOf(name));
  if (unknown.length) problems.push(`handler(s) for unknown job(s) ${unknown.join(', ')}`);
  const strange = served.filter((queue) => !queueNames.includes(queue));
  if (strange.length) problems.push(`queue(s) ${strange.join(', ')} are not coffre's`);
  if (problems.length) throw new Error(`The worker cannot start: ${problems.join('; ')}.`);
}

export function startWorkers(ctx: AppContext, handlers: Handlers, options: WorkerOptions): RunningWorkers {
  const served = options.queues ?? [...queueNames];
  checkHandlers(handlers, served);
  const shutdown = new AbortController();
  const heartbeat = options.heartbeat ?? startHeartbeat(ctx, { workerId: options.workerId, queues: served });
  const connections = served.map(() => createRedis(ctx.config.REDIS_URL, 'worker'));
  const workers = served.map((queue, i) => {
    const connection = connections[i]!;
    connection.on('error', () => {});
    const worker = new Worker(queue, (job, token, signal) => process(queue, job, token, signal), {
      connection,
      prefix: ctx.queues.prefix,
      // A WAL stream is a job that lasts as long as its source streams: one slot per source, mostly idle.
      concurrency: queue === 'maintenance' ? 1 : queue === 'notifications' ? 4 : queue === 'wal' ? 64 : options.concurrency,
      lockDuration: options.stallSeconds * 1000,
      stalledInterval: options.stallSeconds * 1000,
      maxStalledCount: 1,
      autorun: true,
    });
    worker.on('error', (error) => ctx.logger.error({ err: error, queue }, 'worker error'));
    worker.on('failed', (job, error) => {
      if (!job) return;
      ctx.logger.warn({ queue, job: job.name, jobId: job.id, attempt: job.attemptsMade, err: error.message }, 'job failed');
      // Whatever failed it for good (a handler that threw before writing, a job stalled too often), its
      // row must not stay pending or running: the transition is conditional, so a row already ended stays as it is.
      const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      // A job refused for being on another queue than its own says nothing about its row.
      const run = final && !misrouted.has(error) ? runOfJob(job.name, job.data) : null;
      if (run) void failRun(ctx, run.model, run.id, `The job failed for good: ${error.message}`).catch(() => {});
    });
    return worker;
  });

  async function process(queue: QueueName, job: Job, token: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const name = job.name as JobName;
    const definition = definitionOf(name);
    if (!definition) throw new UnrecoverableError(`unknown job ${job.name}`);
    // A job is only run by the workers of its own queue: one added to another queue is refused.
    if (definition.queue !== queue) throw misrouted(new UnrecoverableError(`job ${job.name} belongs to queue ${definition.queue}, not ${queue}`));
    const parsed = definition.payload.safeParse(withoutTraceparent(job.data));
    if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}`);
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort);
    shutdown.signal.addEventListener('abort', onAbort);
    const logger = ctx.logger.child({ job: name, jobId: job.id, attempt: job.attemptsMade + 1 });
    const hooks: RunHooks = {
      workerId: options.workerId,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? definition.attempts,
      logger,
      signal: abort.signal,
      isShuttingDown: () => shutdown.signal.aborted,
      reportProgress: (bytes) => void job.updateProgress({ bytes }).catch(() => {}),
    };
    // The job's span continues the trace of the request that queued it (its traceparent), when there is one.
    const attempt = async (): Promise<unknown> => {
      try {
        const handler = handlers[name] as (ctx: AppContext, payload: unknown, hooks: RunHooks, job: Job) => Promise<RunOutcome | object | void>;
        const outcome = await handler(ctx, parsed.data, hooks, job);
        if (outcome === 'busy') {
          // Another run holds this database: come back shortly, without spending an attempt.
          await job.moveToDelayed(Date.now() + 1000 + Math.floor(Math.random() * 1000), token);
          throw new DelayedError();
        }
        return outcome ?? 'done';
      } catch (error) {
        if (error instanceof DelayedError || error instanceof WaitingError) throw error;
        if (shutdown.signal.aborted) {
          logger.warn('worker stopping: the job goes back to the queue for another worker');
          await job.moveToWait(token);
          throw new WaitingError();
        }
        if (error instanceof PermanentError) throw new UnrecoverableError(error.message);
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        shutdown.signal.removeEventListener('abort', onAbort);
      }
    };
    return inSpan(`job ${name}`, () => jobAttributes(queue, job), attempt, contextFromTraceparent(traceparentOf(job.data)), {
      isFailure: (error) => !(error instanceof DelayedError || error instanceof WaitingError),
    });
  }

  return {
    workers,
    async close(graceMs) {
      const closing = Promise.all(workers.map((w) => w.close()));
      const timer = setTimeout(() => {
        ctx.logger.warn({ graceMs }, 'running jobs did not finish in time: handing them back to the queue');
        shutdown.abort();
      }, graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
      // Only now: until its jobs are finished or handed back, this worker is alive.
      await heartbeat.stop();
      connections.forEach((c) => c.disconnect());
    },
  };
}

/** What a job's span says about it: its queue, its name, its id and the history row it moves (ids only). */
function jobAttributes(queue: QueueName, job: Job): Record<string, string | number> {
  const run = runOfJob(job.name, job.data);
  return {
    'messaging.system': 'bullmq',
    'messaging.destination.name': queue,
    'coffre.job.name': job.name,
    'coffre.job.id': String(job.id),
    'coffre.job.attempt': job.attemptsMade + 1,
    ...(run ? { [`coffre.${run.model}.id`]: run.id } : {}),
  };
}
