// A worker process: runs backups, restores, verifications and maintenance from the queues. Run as
// many as wanted, on as many machines as share the Redis and the database.
import {
  closeServiceContext,
  createServiceContext,
  ensureDefaults,
  ensureWalStreams,
  liveWindowMs,
  onStopSignals,
  startServiceTracing,
  PROCESS_TAG,
  queueNames,
  reconcile,
  startHeartbeat,
  syncAllSchedulers,
  sweepSecretsLeftovers,
  type Heartbeat,
} from '@coffre/shared';
import { handlers } from './handlers.js';
import { startWorkers, type RunningWorkers } from './workers.js';

const ctx = createServiceContext('worker');
const { config, logger, queues } = ctx;
await startServiceTracing(ctx, 'worker');
// The process tag: the same mark its temporary files carry, so that what it leaves when it dies is known.
const workerId = PROCESS_TAG;

// Signals are handled from the first moment: a stop during start-up is a clean stop too.
let running: RunningWorkers | null = null;
let heartbeat: Heartbeat | null = null;
const stopping = onStopSignals(shutdown);

await ensureDefaults(ctx);
// Passfiles of workers of this machine killed before they could remove them (secret-files.ts).
await sweepSecretsLeftovers().then((removed) => removed && logger.info({ removed }, 'removed the passfile directories of worker processes that are gone'), (error: unknown) => logger.warn({ err: error }, 'could not sweep leftover passfile directories'));
// Beating before the queue is checked: reconciliation must count this worker among the living, so that
// a dead worker's job is left for this one to take over instead of being failed.
heartbeat = startHeartbeat(ctx, { workerId, queues: [...queueNames] });
await recoverQueue();
// A Redis restarted empty has lost its job schedulers and queued jobs: whenever the connection comes
// back, the schedulers are put back and pending rows whose jobs are gone are queued again.
let connectionLost = false;
queues.redis.on('close', () => (connectionLost = true));
queues.redis.on('ready', () => {
  if (stopping() || !connectionLost) return;
  connectionLost = false;
  void recoverQueue();
  // A job queued in the moment a Sentinel failover demoted the old primary may have been acknowledged
  // and then dropped: its row waits pending. Looked at again once such a row is past reconciliation's
  // 30-second grace for pending rows.
  setTimeout(() => {
    if (!stopping()) void recoverQueue();
  }, 35_000).unref();
});

async function recoverQueue(): Promise<void> {
  try {
    // After Redis came back empty, this worker's heartbeat must be there again before anything is judged.
    await heartbeat?.beatNow();
    await syncAllSchedulers(ctx);
    // The WAL streams of the sources with point-in-time recovery on: queued again when Redis lost them.
    await ensureWalStreams(ctx);
    const report = await reconcile(ctx, { liveWindowMs: liveWindowMs(ctx) });
    if (report.requeuedPending.length || report.failedRunning.length || report.completedAfterSwap.length) {
      logger.info({ requeued: report.requeuedPending.length, lost: report.failedRunning.length, completedAfterSwap: report.completedAfterSwap.length }, 'queue recovered against the history');
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not check the queue against the history');
  }
}
if (!stopping()) {
  running = startWorkers(ctx, handlers, { concurrency: config.WORKER_CONCURRENCY, stallSeconds: config.STALL_SECONDS, workerId, heartbeat: heartbeat ?? undefined });
  logger.info({ workerId, concurrency: config.WORKER_CONCURRENCY }, 'worker ready');
}

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, 'stopping: no new jobs; running ones finish or go back to the queue');
  const graceMs = Number(process.env.SHUTDOWN_GRACE_SECONDS ?? 25) * 1000;
  try {
    await (running ? running.close(graceMs) : heartbeat?.stop());
    await closeServiceContext(ctx);
    logger.info('worker stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'worker did not stop cleanly');
    process.exit(1);
  }
}
