// The life cycle of a run (a backup, a restore, a verification) in a worker: what the worker hands a
// job (RunHooks), what the job answers (RunOutcome), and how a failed attempt is written on its row:
// final when no retry can help or none is left, a note when the job will be tried again.
import type { Logger } from '../infra/logger.js';
import { PermanentError, errorMessage } from '../infra/errors.js';
import { failRun, noteRun, type RunColumns, type RunModel, type RunStore } from './transitions.js';
import { createRunLog, type RunLog, type RunLogChange } from './run-log.js';

export interface RunHooks {
  workerId: string;
  /** 1-based attempt number of the job, and how many it may have. */
  attempt: number;
  maxAttempts: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Reports bytes written to the job (BullMQ progress). */
  reportProgress?(bytes: number): void;
  /** True once the worker is stopping: an aborted run goes back to the queue instead of failing. */
  isShuttingDown?(): boolean;
}

/** How often at most a live run log writes its lines on the row (a new phase is written at once). */
const LIVE_LOG_EVERY_MS = 1000;

/**
 * A run log whose lines and phase reach the run's row while it runs, so that whoever watches the
 * row (the web UI hears every write through the live event stream) sees them as they come. Writes
 * go one after the other (a late one never overwrites a newer one) and only on a running row: once
 * the run ended, its final log stays.
 */
export function createLiveRunLog<M extends RunModel>(store: RunStore, model: M, id: string, logger: Logger, previous?: string | null): RunLog {
  let waiting: RunLogChange | null = null;
  let lastWrite = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writes: Promise<void> = Promise.resolve();
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const change = waiting;
    waiting = null;
    lastWrite = Date.now();
    if (change) writes = writes.then(() => noteRun(store, model, id, change as RunColumns[M])).catch(() => {});
  };
  return createRunLog(logger, 60, previous, (change) => {
    waiting = { ...waiting, ...change };
    const since = Date.now() - lastWrite;
    if (change.phase !== undefined || since >= LIVE_LOG_EVERY_MS) flush();
    else if (!timer) {
      timer = setTimeout(flush, LIVE_LOG_EVERY_MS - since);
      timer.unref?.();
    }
  });
}

/** completed: done; skipped: nothing to do (row finished or gone); busy: the database is locked, try later. */
export type RunOutcome = 'completed' | 'skipped' | 'busy';

/** Writes a failure on the row: final (failed) when no retry can help or none is left, a note otherwise. */
export async function recordFailure<M extends RunModel>(
  ctx: RunStore,
  model: M,
  id: string,
  error: unknown,
  hooks: RunHooks,
  log: RunLog,
  /** Columns written with a final failure (in the same update, so that readers never see half of it). */
  finalData?: RunColumns[M],
): Promise<void> {
  const message = errorMessage(error);
  if (hooks.isShuttingDown?.()) {
    log.warn('the worker stopped during the run: the job goes back to the queue and starts again');
    await noteRun(ctx, model, id, { errorMessage: 'A worker stopped during this run; it will start again on another worker.', log: log.text() });
    return;
  }
  const final = finalReason(error, hooks);
  if (final) {
    log.warn(`attempt ${hooks.attempt} of ${hooks.maxAttempts} failed and will not be retried (${final}): ${message}`);
    await failRun(ctx, model, id, message, { ...finalData, log: log.text() });
  } else {
    log.warn(`attempt ${hooks.attempt} of ${hooks.maxAttempts} failed, retrying: ${message}`);
    await noteRun(ctx, model, id, { errorMessage: `Attempt ${hooks.attempt} of ${hooks.maxAttempts} failed, retrying: ${message}`, log: log.text() });
  }
}

/** Why a failed attempt is the last one, in a few words; null when another attempt follows. */
function finalReason(error: unknown, hooks: RunHooks): string | null {
  if (error instanceof PermanentError) return 'a retry cannot fix this';
  if (hooks.signal?.aborted) return 'the run was cancelled';
  if (hooks.attempt >= hooks.maxAttempts) return hooks.maxAttempts === 1 ? 'this kind of run is not retried' : 'it was the last attempt';
  return null;
}

