// BullMQ workers over the job catalog. Each job name has exactly one handler, checked at start;
// a handler's PermanentError becomes BullMQ's UnrecoverableError (no retry), a busy database sends
// the job back with a short delay, and a stopping worker hands its running jobs back to the queue.
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import {
  PermanentError,
  failRun,
  runOfJob,
  createRedis,
  jobCatalog,
  startHeartbeat,
  jobNames,
  jobsOfQueue,
  queueNames,
  type AppContext,
  type Heartbeat,
  type JobName,
  type QueueName,
  type RunHooks,
  type RunOutcome,
} from '@coffre/shared';

export type Handler = (ctx: AppContext, payload: never, hooks: RunHooks, job: Job) => Promise<RunOutcome | object | void>;
export type Handlers = Record<JobName, Handler>;

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

/** Fails when a job of the catalog has no handler, or a handler names no job. */
export function checkHandlers(handlers: Partial<Record<string, Handler>>): asserts handlers is Handlers {
  const missing = jobNames.filter((name) => typeof handlers[name] !== 'function');
  const unknown = Object.keys(handlers).filter((name) => !(name in jobCatalog));
  if (missing.length || unknown.length) {
    throw new Error(
      [missing.length ? `no handler for job(s) ${missing.join(', ')}` : '', unknown.length ? `handler(s) for unknown job(s) ${unknown.join(', ')}` : '']
        .filter(Boolean)
        .join('; '),
    );
  }
}

export function startWorkers(ctx: AppContext, handlers: Handlers, options: WorkerOptions): RunningWorkers {
  checkHandlers(handlers);
  const shutdown = new AbortController();
  const served = options.queues ?? [...queueNames];
  const heartbeat = options.heartbeat ?? startHeartbeat(ctx, { workerId: options.workerId, queues: served });
  const connections = served.map(() => createRedis(ctx.config.REDIS_URL, 'worker'));
  const workers = served.map((queue, i) => {
    const connection = connections[i]!;
    connection.on('error', () => {});
    const worker = new Worker(queue, (job, token, signal) => process(job, token, signal), {
      connection,
      prefix: ctx.queues.prefix,
      concurrency: queue === 'maintenance' ? 1 : queue === 'notifications' ? 4 : options.concurrency,
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
      const run = final ? runOfJob(job.name, job.data) : null;
      if (run) void failRun(ctx, run.model, run.id, `The job failed for good: ${error.message}`).catch(() => {});
    });
    return worker;
  });

  async function process(job: Job, token: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const name = job.name as JobName;
    const definition = jobCatalog[name];
    if (!definition || !jobsOfQueue(definition.queue).includes(name)) throw new UnrecoverableError(`unknown job ${job.name}`);
    const parsed = definition.payload.safeParse(job.data);
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
    try {
      const outcome = await handlers[name](ctx, parsed.data as never, hooks, job);
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
