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

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: options.name ?? 'coffre', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination as pino.DestinationStream) : pino(config);
}

/** Removes passwords from connection URLs that may appear inside error texts. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@')
    .replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
}
