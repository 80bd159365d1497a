// The environment is read once, at start: a bad value stops the process with a sentence naming the
// variable, and the sentence never repeats a secret.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, generateIdentity, loadConfig } from '@coffre/shared';

const VALID = {
  DATABASE_URL: 'postgresql://coffre:metadata-pw@127.0.0.1:5432/coffre',
  SECRET_KEY: 'k'.repeat(48),
};

function failure(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('required variables', () => {
  it('a missing DATABASE_URL and SECRET_KEY are both named in one sentence', () => {
    expect(failure({})).toBe('Invalid environment: DATABASE_URL is not set; SECRET_KEY is not set.');
  });

  it('an empty value counts as not set', () => {
    expect(failure({ DATABASE_URL: '', SECRET_KEY: VALID.SECRET_KEY })).toBe('Invalid environment: DATABASE_URL is not set.');
    expect(failure({ DATABASE_URL: VALID.DATABASE_URL, SECRET_KEY: '' })).toBe('Invalid environment: SECRET_KEY is not set.');
  });

  it('a DATABASE_URL that is not a PostgreSQL URL is named', () => {
    expect(failure({ ...VALID, DATABASE_URL: 'mysql://root@db/app' })).toBe('Invalid environment: DATABASE_URL must be a postgresql:// URL.');
  });
});

describe('bad values are named', () => {
  it.each(['abc', '70000', '-1', '3.5'])('PORT=%s', (port) => {
    expect(failure({ ...VALID, PORT: port })).toBe('Invalid environment: PORT must be a whole number from 0 to 65535.');
  });

  it.each(['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis:/x'])('REDIS_URL=%s', (url) => {
    expect(failure({ ...VALID, REDIS_URL: url })).toBe('Invalid environment: REDIS_URL must be a redis://, rediss:// or redis+sentinel:// URL.');
  });

  it.each([
    ['not-a-key'],
    [`${generateIdentity().recipient},age1tooshort`],
    [generateIdentity().identity],
    [generateIdentity().recipient.toUpperCase()],
  ])('AGE_RECIPIENTS=%s', (recipients) => {
    expect(failure({ ...VALID, AGE_RECIPIENTS: recipients })).toBe(
      'Invalid environment: AGE_RECIPIENTS must be age1… public keys separated by commas or spaces.',
    );
  });

  it.each(['0', 'ten', '2.5'])('MAX_BACKUPS=%s', (value) => {
    expect(failure({ ...VALID, MAX_BACKUPS: value })).toBe('Invalid environment: MAX_BACKUPS must be a whole number of 1 or more.');
  });

  it('several bad values are all named at once', () => {
    const message = failure({ ...VALID, PORT: 'x', REDIS_URL: 'x', LOG_LEVEL: 'loud', COOKIE_SECURE: 'yes' });
    expect(message).toBe(
      'Invalid environment: REDIS_URL must be a redis://, rediss:// or redis+sentinel:// URL; PORT must be a whole number from 0 to 65535; ' +
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; COOKIE_SECURE must be true or false.',
    );
  });
});

describe('secrets are never repeated', () => {
  const canary = 'canary-7f3a9c';

  it.each([
    ['SECRET_KEY', { ...VALID, SECRET_KEY: `short-${canary}` }],
    ['ADMIN_TOKEN', { ...VALID, ADMIN_TOKEN: `tok-${canary}` }],
    ['METRICS_TOKEN', { ...VALID, METRICS_TOKEN: canary }],
    ['DATABASE_URL', { ...VALID, DATABASE_URL: `mysql://root:${canary}@db/app` }],
    ['SOURCE_DATABASE_URL', { ...VALID, SOURCE_DATABASE_URL: `http://app:${canary}@db/app` }],
    ['REDIS_URL', { ...VALID, REDIS_URL: `http://:${canary}@cache:6379` }],
    ['REDIS_URL', { ...VALID, REDIS_URL: `redis+sentinel://:${canary}@s1:26379,s2:x/mymaster` }],
    ['REDIS_URL', { ...VALID, REDIS_URL: `redis+sentinel://s1:26379/mymaster?sentinelPassword=${canary}&dbb=1` }],
  ])('a bad %s is named without its value', (name, env) => {
    const message = failure(env);
    expect(message).toContain(`${name} `);
    expect(message).not.toContain(canary);
  });

  it('a valid SECRET_KEY beside a bad variable is not repeated either', () => {
    const message = failure({ ...VALID, SECRET_KEY: `${canary}-${'s'.repeat(40)}`, PORT: 'nope' });
    expect(message).not.toContain(canary);
  });
});

describe('defaults', () => {
  it('BACKUP_DIR ./backups resolved to an absolute path, MAX_BACKUPS 30, PORT 3000', () => {
    const config = loadConfig(VALID);
    expect(config.BACKUP_DIR).toBe(resolve('backups'));
    expect(isAbsolute(config.BACKUP_DIR)).toBe(true);
    expect(config.MAX_BACKUPS).toBe(30);
    expect(config.PORT).toBe(3000);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.TMP_DIR).toBe(join(config.BACKUP_DIR, '.tmp'));
    expect(config.AGE_RECIPIENTS).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('relative paths are resolved against the working directory; numbers are read from text', () => {
    const recipients = [generateIdentity().recipient, generateIdentity().recipient];
    const config = loadConfig({
      ...VALID,
      BACKUP_DIR: 'var/backups',
      AGE_IDENTITY_FILE: 'keys/age.txt',
      PORT: ' 8080 ',
      MAX_BACKUPS: '7',
      AGE_RECIPIENTS: `${recipients[0]}, ${recipients[1]}`,
    });
    expect(config.BACKUP_DIR).toBe(resolve('var/backups'));
    expect(config.AGE_IDENTITY_FILE).toBe(resolve('keys/age.txt'));
    expect(config.PORT).toBe(8080);
    expect(config.MAX_BACKUPS).toBe(7);
    expect(config.AGE_RECIPIENTS).toBe(`${recipients[0]}, ${recipients[1]}`);
  });
});

describe('a process started with a bad environment', () => {
  const script = resolve('test/support/print-config.ts');
  const tsx = resolve('node_modules/.bin/tsx');
  const start = (env: Record<string, string>) =>
    spawnSync(tsx, ['--conditions', 'source', script], { env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' });

  it('exits with EX_CONFIG (78) and prints the sentence on stderr', () => {
    const run = start({ SECRET_KEY: 'short-canary-value' });
    expect(run.status).toBe(78);
    expect(run.stderr.trim()).toBe(
      'coffre: Invalid environment: DATABASE_URL is not set; SECRET_KEY must be at least 32 characters long (for example: openssl rand -hex 32).',
    );
    expect(run.stdout + run.stderr).not.toContain('short-canary-value');
  });

  it('starts with a valid environment', () => {
    const run = start({ ...VALID, PORT: '4321' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ PORT: 4321 });
  });
});

describe('OpenTelemetry settings', () => {
  it('an OTLP protocol other than http/json, or an endpoint that is not a URL, is named', () => {
    expect(failure({ ...VALID, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('Invalid environment: OTEL_EXPORTER_OTLP_PROTOCOL must be http/json (coffre sends OTLP over HTTP as JSON).');
    expect(failure({ ...VALID, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toBe('Invalid environment: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL.');
  });

  it('tracing is off unless an endpoint is set', () => {
    const config = loadConfig(VALID);
    expect([config.OTEL_EXPORTER_OTLP_ENDPOINT, config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT]).toEqual([undefined, undefined]);
    expect(loadConfig({ ...VALID, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
  });
});
