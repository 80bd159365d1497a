// pino everywhere: object first, then message. Anything that may hold a secret is redacted.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const redactPaths = [
  'password',
  '*.password',
  'url',
  '*.url',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'secretAccessKey',
  '*.secretAccessKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'connectionString',
  '*.connectionString',
];

/**
 * `buffered`: lines are written to stdout off the request path (flushed at exit), for the API, whose
 * every request logs a line; elsewhere each line is written as it is logged.
 */
export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream; buffered?: boolean } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: options.name ?? 'coffre', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(config, options.destination as pino.DestinationStream);
  return options.buffered ? pino(config, pino.destination({ dest: 1, sync: false })) : pino(config);
}

/** Removes passwords from connection URLs that may appear inside error texts. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@')
    .replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
}
