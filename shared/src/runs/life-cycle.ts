// The life cycle of a run (a backup, a restore, a verification) in a worker: what the worker hands a
// job (RunHooks), what the job answers (RunOutcome), and how a failed attempt is written on its row:
// final when no retry can help or none is left, a note when the job will be tried again.
import type { Logger } from '../infra/logger.js';
import { PermanentError, errorMessage } from '../infra/errors.js';
import { failRun, noteRun, type RunColumns, type RunModel, type RunStore } from './transitions.js';
import type { RunLog } from './run-log.js';

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

