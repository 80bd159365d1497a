// Every setting coffre reads from the environment, parsed once. A bad value stops the process
// with a sentence naming the variable (and never echoes a secret).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { redisUrlProblem } from './redis-url.js';

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/.+/.test(v), 'must be a postgresql:// URL');

/** A whole number in a range; every way to miss it gets the same sentence. */
const wholeNumber = (min: number, max: number | null, fallback: number) => {
  const error = max === null ? `must be a whole number of ${min} or more` : `must be a whole number from ${min} to ${max}`;
  const atLeast = z.coerce.number({ error }).int({ error }).min(min, { error });
  return (max === null ? atLeast : atLeast.max(max, { error })).default(fallback);
};

const positiveInt = (fallback: number) => wholeNumber(1, null, fallback);

export const environmentSchema = z.object({
  /** coffre's own metadata database (history, configurations, users, audit). */
  DATABASE_URL: postgresUrl,
  /**
   * Redis for the BullMQ queues (redis://, rediss://), or the sentinels of one
   * (redis+sentinel://host1:26379,host2:26379/mymaster). Use `maxmemory-policy noeviction`.
   */
  REDIS_URL: z
    .string()
    .trim()
    .default('redis://127.0.0.1:6379')
    .superRefine((v, ctx) => {
      const problem = redisUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Prefix of every Redis key coffre writes, so that several installations can share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .trim()
    .default('coffre')
    .refine((v) => /^[A-Za-z0-9_-]{1,64}$/.test(v), 'may hold letters, digits, - and _ only'),
  /** Port of the API and web UI. */
  PORT: wholeNumber(0, 65535, 3000),
  /** Address the API listens on. */
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** The local destination: where artifacts are written unless a configuration says otherwise. */
  BACKUP_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./backups')
    .transform((v) => resolve(v)),
  /** How many backups outside any configuration are kept (the newest ones). */
  MAX_BACKUPS: positiveInt(30),
  /** The largest dump an import may upload, in bytes, as sent (compressed and encrypted or not). Default 20 GiB. */
  IMPORT_MAX_BYTES: positiveInt(20 * 1024 ** 3),
  /** Registers (or updates) a source named `default` with this URL at start. */
  SOURCE_DATABASE_URL: postgresUrl.optional(),
  /** age public keys (age1…) every new encrypted artifact is encrypted to; commas or spaces between them. */
  AGE_RECIPIENTS: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || v.split(/[\s,]+/).filter(Boolean).every((r) => /^age1[02-9ac-hj-np-z]{58}$/.test(r)), 'must be age1… public keys separated by commas or spaces'),
  /** File holding the age identities (AGE-SECRET-KEY-1…) used to decrypt for restores and verifications. */
  AGE_IDENTITY_FILE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? resolve(v) : undefined)),
  /** Bootstraps an admin API token with this value when no admin exists (at least 24 characters). */
  ADMIN_TOKEN: z.string().trim().min(24, 'must be at least 24 characters long').optional(),
  /** Encrypts stored credentials (source URLs, S3 keys, webhook secrets). Keep it: without it they cannot be read. */
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters long (for example: openssl rand -hex 32)'),
  /** pino log level. */
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),
  /** Backups and restores one worker process runs at once (never two of one source database). */
  WORKER_CONCURRENCY: positiveInt(2),
  /** pg_restore --jobs of a database restore (into a new database, or beside the target before the swap). Default: the worker's cores. */
  RESTORE_JOBS: wholeNumber(1, 64, availableParallelism()),
  /** Days the database a restore replaced is kept (as `<db>__before_restore_<time>`, for `coffre restore undo`) before maintenance drops it. */
  RESTORE_KEEP_DAYS: z.coerce
    .number({ error: 'must be a number of days of 0 or more' })
    .min(0, { error: 'must be a number of days of 0 or more' })
    .default(7),
  /** Seconds after which a job whose worker stopped renewing its lock is taken back (BullMQ stall check). */
  STALL_SECONDS: positiveInt(30),
  /** Seconds a run (backup, restore, verification) may take before its tools are stopped and it fails; a configuration may set its own. */
  RUN_TIME_LIMIT_SECONDS: positiveInt(6 * 60 * 60),
  /** Point-in-time recovery: seconds between two uploads of the WAL segment being written (the partial segment). */
  WAL_FLUSH_SECONDS: positiveInt(10),
  /** Point-in-time recovery: WAL bytes a source's replication slot may hold (storage failing) before coffre alerts (default 1 GiB). */
  PITR_SLOT_ALERT_BYTES: positiveInt(1024 * 1024 * 1024),
  /** Point-in-time recovery: where restores to a moment unpack the base backup and run their private instance (default: TMP_DIR). When the worker runs as root, the postgres OS user must be able to enter it. */
  PITR_WORK_DIR: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? resolve(v) : undefined)),
  /** Cron pattern of the maintenance run: retention, reconciliation, overdue checks. */
  MAINTENANCE_CRON: z.string().trim().default('0 * * * *'),
  /** Hours after which a `running` row whose job is gone is marked failed by reconciliation. */
  STUCK_AFTER_HOURS: z.coerce
    .number({ error: 'must be a number of hours above 0' })
    .positive({ error: 'must be a number of hours above 0' })
    .default(6),
  /** Bearer token that may read /metrics; when unset, /metrics needs an API token like every route. */
  METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters long').optional(),
  /** Public URL of the web UI, used in notification links. */
  PUBLIC_URL: z.string().trim().url('must be a URL').optional(),
  /** Sends `Secure` cookies; set it when the UI is served over HTTPS. */
  COOKIE_SECURE: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Directory for temporary files of restores and verifications (default: inside BACKUP_DIR). */
  TMP_DIR: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? resolve(v) : undefined)),
  /**
   * Directories files backups may read and files restores may write into: absolute paths separated
   * by commas. Unset, files backups and restores are refused. coffre's own state (COFFRE_HOME,
   * BACKUP_DIR, TMP_DIR, AGE_IDENTITY_FILE) is refused whatever the list says.
   */
  FILES_ROOTS: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || v.split(',').every((p) => p.trim() === '' || p.trim().startsWith('/')), 'must be absolute paths (starting with /) separated by commas')
    .transform((v) => (v ? v.split(',').map((p) => p.trim()).filter(Boolean).map((p) => resolve(p)) : [])),
  /** Where `pnpm start` keeps coffre's generated settings and keys; never backed up, never restored into. */
  COFFRE_HOME: z
    .string()
    .trim()
    .default('.coffre')
    .transform((v) => resolve(v)),
  /** Refuses every unencrypted artifact: configurations may not opt out, and AGE_RECIPIENTS must be set. */
  REQUIRE_ENCRYPTION: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** OpenID Connect single sign-on: the provider's issuer URL (its discovery document is read from it). Unset: no SSO. */
  OIDC_ISSUER: z.string().trim().url('must be a URL').optional(),
  /** The client coffre is registered as at the provider. */
  OIDC_CLIENT_ID: z.string().trim().min(1).optional(),
  /** Its secret (never logged). */
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Where the provider sends the browser back: <public URL>/api/auth/oidc/callback, registered at the provider. */
  OIDC_REDIRECT_URL: z.string().trim().url('must be a URL').optional(),
  /** The claim that carries the user's groups or role (a string or a list of strings). */
  OIDC_ROLE_CLAIM: z.string().trim().min(1).default('groups'),
  /** Claim values to roles, e.g. coffre-admins=admin,coffre-ops=operator; the highest match wins. */
  OIDC_ROLE_MAP: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || v.split(',').every((pair) => /^[^=,]+=(viewer|operator|admin)$/.test(pair.trim())), 'must be value=role pairs separated by commas (roles: viewer, operator, admin)'),
  /** The role of a user whose claim matches no entry of OIDC_ROLE_MAP; unset, such a login is refused. */
  OIDC_DEFAULT_ROLE: z.enum(['viewer', 'operator', 'admin'], { error: 'must be viewer, operator or admin' }).optional(),
  /**
   * OpenTelemetry: the OTLP/HTTP collector traces are sent to (…/v1/traces is added). Unset (and
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset): no tracing, and no tracing SDK is loaded.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().trim().refine((v) => /^https?:\/\/[^/\s]+/.test(v) && URL.canParse(v), 'must be an http:// or https:// URL').optional(),
  /** The full URL traces are sent to, when it is not <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().trim().refine((v) => /^https?:\/\/[^/\s]+/.test(v) && URL.canParse(v), 'must be an http:// or https:// URL').optional(),
  /** How traces are encoded: coffre sends OTLP over HTTP as JSON only. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/json'], { error: 'must be http/json (coffre sends OTLP over HTTP as JSON)' }).optional(),
  /** The service name traces carry; coffre-api, coffre-worker when unset. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(100).optional(),
  /** The name on the login page's button ("Sign in with <name>"); the issuer's host name when unset. */
  OIDC_PROVIDER_NAME: z.string().trim().min(1).max(60).optional(),
});

export type Config = z.infer<typeof environmentSchema> & { TMP_DIR: string };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment. Throws a ConfigError whose message names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = emptyAsUnset(env);
  const parsed = environmentSchema.safeParse(values);
  if (!parsed.success) {
    // zod's messages here never quote the value: SECRET_KEY, ADMIN_TOKEN and URLs with passwords stay out of logs.
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const missing = issue.code === 'invalid_type' && values[name] === undefined;
      return missing ? `${name} is not set` : `${name} ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment: ${problems.join('; ')}.`);
  }
  const config = parsed.data;
  const oidc = [config.OIDC_ISSUER, config.OIDC_CLIENT_ID, config.OIDC_CLIENT_SECRET, config.OIDC_REDIRECT_URL];
  if (oidc.some(Boolean) && !oidc.every(Boolean)) {
    throw new ConfigError('Invalid environment: single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URL together; some are not set.');
  }
  if (config.REQUIRE_ENCRYPTION && !config.AGE_RECIPIENTS) {
    throw new ConfigError('Invalid environment: REQUIRE_ENCRYPTION is true but AGE_RECIPIENTS is not set: set it to the age public keys to encrypt to.');
  }
  return { ...config, TMP_DIR: config.TMP_DIR ?? resolve(config.BACKUP_DIR, '.tmp') };
}

/** Calls loadConfig and, on a bad environment, prints the sentence and exits (for process entry points). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`coffre: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

function emptyAsUnset(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(environmentSchema.shape)) {
    const value = env[key];
    out[key] = value === '' ? undefined : value;
  }
  return out;
}
