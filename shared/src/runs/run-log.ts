// The short log a run keeps on its row (the details panel's "log excerpt"), beside the process logs,
// and the phase the run is in ("dumping", "loading"…). A live run log (createLiveRunLog in
// life-cycle.ts) writes both on the row while the run runs, so that the web UI streams them.
import type { Logger } from '../infra/logger.js';
import { scrubSecrets } from '../infra/logger.js';

export interface RunLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** The run enters a phase: said in the log, and written on the row by a live run log. */
  phase(name: string): void;
  text(): string;
}

/** What changed in a run log: its text, and the phase when a new one began. */
export interface RunLogChange {
  log: string;
  phase?: string;
}

/**
 * `previous` is the log of earlier attempts of the same run, kept above this attempt's lines;
 * `onChange` hears every line and phase.
 */
export function createRunLog(logger: Logger, maxLines = 60, previous?: string | null, onChange?: (change: RunLogChange) => void): RunLog {
  const lines: string[] = previous ? previous.split('\n').slice(-maxLines) : [];
  const text = () => lines.join('\n');
  const add = (level: string, message: string, phase?: string) => {
    lines.push(`${new Date().toISOString()} ${level} ${scrubSecrets(message)}`);
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
    onChange?.(phase === undefined ? { log: text() } : { log: text(), phase });
  };
  return {
    info(message, fields) {
      logger.info(fields ?? {}, message);
      add('info', message);
    },
    warn(message, fields) {
      logger.warn(fields ?? {}, message);
      add('warn', message);
    },
    phase(name) {
      logger.info({ phase: name }, `phase: ${name}`);
      add('info', `phase: ${name}`, name);
    },
    text,
  };
}
