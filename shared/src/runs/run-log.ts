// The short log a run keeps on its row (the details panel's "log excerpt"), beside the process logs.
import type { Logger } from '../infra/logger.js';
import { scrubSecrets } from '../infra/logger.js';

export interface RunLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  text(): string;
}

/** `previous` is the log of earlier attempts of the same run, kept above this attempt's lines. */
export function createRunLog(logger: Logger, maxLines = 60, previous?: string | null): RunLog {
  const lines: string[] = previous ? previous.split('\n').slice(-maxLines) : [];
  const add = (level: string, message: string) => {
    lines.push(`${new Date().toISOString()} ${level} ${scrubSecrets(message)}`);
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
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
    text: () => lines.join('\n'),
  };
}
