// A run's limits: a time limit, which every run has, and for a backup a maximum size. Past one, the
// run's signal aborts, which stops its tools (the engine kills its child processes and publishes
// nothing when its signal aborts), and the run fails for good with a sentence naming the limit.
import { PermanentError } from '../infra/errors.js';
import type { RunHooks } from './life-cycle.js';

export interface RunLimit {
  /** The hooks to run with: their signal aborts past a limit, and still when the worker's does. */
  hooks: RunHooks;
  /** Stops the run now; it fails with `sentence` (a limit other than time, such as a size). */
  exceed(sentence: string): void;
  /** The error to record for a failed run: the limit's PermanentError when one was passed, `error` otherwise. */
  explain(error: unknown): unknown;
  /** Ends the limit (clears the timer); call it once the run has ended, however it ended. */
  stop(): void;
}

/** Starts a time limit of `seconds` over a run that has just been claimed. */
export function startRunLimit(hooks: RunHooks, seconds: number): RunLimit {
  const controller = new AbortController();
  let exceeded: string | null = null;
  const exceed = (sentence: string) => {
    if (exceeded !== null || controller.signal.aborted) return;
    exceeded = sentence;
    hooks.logger.warn({ limit: sentence }, 'the run went past a limit: stopping it');
    controller.abort(new PermanentError(sentence, 'run-limit'));
  };
  const forward = () => controller.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) forward();
  else hooks.signal?.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(
    () => exceed(`The run timed out after ${describeSeconds(seconds)}: its tools were stopped and nothing was published.`),
    seconds * 1000,
  );
  return {
    hooks: { ...hooks, signal: controller.signal },
    exceed,
    explain: (error) => (exceeded !== null ? new PermanentError(exceeded, 'run-limit') : error),
    stop() {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', forward);
    },
  };
}

/** Runs `run` under a time limit of `seconds`; a run past it, or stopped by `exceed`, throws a PermanentError saying so. */
export async function withinLimits<T>(hooks: RunHooks, seconds: number, run: (limit: RunLimit) => Promise<T>): Promise<T> {
  const limit = startRunLimit(hooks, seconds);
  try {
    // A limit met after the last abortable step changes nothing: the run was done.
    return await run(limit);
  } catch (error) {
    throw limit.explain(error);
  } finally {
    limit.stop();
  }
}

/** 5 → "5 s", 90 → "1 min 30 s", 21600 → "6 h". */
export function describeSeconds(seconds: number): string {
  const parts: string[] = [];
  const units = [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const;
  let rest = Math.round(seconds);
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${unit}`);
  }
  return parts.length > 0 ? parts.join(' ') : '0 s';
}
