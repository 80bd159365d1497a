// The checks of `coffre doctor`, in the order an operator would look: coffre's database and its
// schema, Redis and its eviction policy, the workers alive, the PostgreSQL tools for each source, the
// backup directories and their disks, runs that are stuck, temporaries left behind, schedulers
// against the configurations, and whether each scheduled configuration is backed up on time.
// Each check answers OK, WARN or FAIL with a sentence and the fix; with --fix, what is safe to repair
// is repaired (schedulers re-synced, stale temporaries removed, lost runs failed through
// reconciliation, noeviction set, a missing backup directory created) and the check runs again.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Destination, Source } from '@coffre/shared';
import type { LocalCoffre } from '../local.js';
import { humanBytes } from '../output.js';
import type { CheckResult } from './report.js';
import type { Outcome, Shared } from './outcome.js';
import { lastBackupOutcome, stuckRunsCheck, temporariesCheck, workersCheck } from './runs.js';

interface CheckDefinition {
  id: string;
  title: string;
  subject?: string;
  run: () => Promise<Outcome>;
}

const CHECK_TIMEOUT_MS = 20_000;
const DISK_WARN_PERCENT = 80;
const DISK_FAIL_PERCENT = 95;

export async function runChecks(local: LocalCoffre, options: { fix: boolean }): Promise<CheckResult[]> {
  const shared = await import('@coffre/shared');
  const { ctx } = local;
  const results: CheckResult[] = [];
  const check = async (definition: CheckDefinition) => {
    const result = await evaluate(definition, options.fix, shared);
    results.push(result);
    return result;
  };
  const skip = (id: string, title: string, why: string) => {
    results.push({ id, subject: null, title, status: 'skip', message: `Not checked: ${why}.`, fix: null, fixed: null, details: {} });
  };

  const database = await check({ id: 'database', title: 'coffre database', run: () => databaseCheck(local) });
  const databaseUp = database.status === 'ok';
  if (databaseUp) await check({ id: 'migrations', title: 'database schema', run: () => migrationsCheck(local) });
  else skip('migrations', 'database schema', "coffre's database cannot be reached");

  const redis = await check({ id: 'redis', title: 'Redis', run: () => redisCheck(local) });
  const redisUp = redis.status === 'ok';
  if (redisUp) await check({ id: 'redis-eviction', title: 'Redis eviction policy', run: () => evictionCheck(local) });
  else skip('redis-eviction', 'Redis eviction policy', 'Redis cannot be reached');

  if (!databaseUp) {
    if (redisUp) await check({ id: 'workers', title: 'workers', run: () => workersCheck(shared, local) });
    else skip('workers', 'workers', 'Redis cannot be reached (workers announce themselves there)');
    for (const [id, title] of [
      ['pg-tools', 'pg_dump and pg_restore'],
      ['backup-directory', 'backup directory'],
      ['disk-usage', 'disk usage'],
      ['stuck-runs', 'stuck runs'],
      ['stale-temporaries', 'temporary files'],
      ['schedulers', 'schedulers'],
      ['last-backups', 'last backups'],
    ] as const) {
      skip(id, title, "coffre's database cannot be reached");
    }
    return results;
  }

  if (redisUp) await check({ id: 'workers', title: 'workers', run: () => workersCheck(shared, local) });
  else skip('workers', 'workers', 'Redis cannot be reached (workers announce themselves there)');

  const sources = (await ctx.db.source.findMany({ orderBy: { name: 'asc' } })).filter((s) => s.kind === 'postgres');
  if (sources.length === 0) {
    await check({
      id: 'pg-tools',
      title: 'pg_dump and pg_restore',
      run: async () => ({ status: 'warn', message: 'No PostgreSQL source is registered, so there is nothing to back up.', fix: 'Set SOURCE_DATABASE_URL, or add a source (POST /api/sources).' }),
    });
  }
  for (const source of sources) {
    await check({ id: 'pg-tools', title: 'pg_dump and pg_restore', subject: source.name, run: () => pgToolsCheck(shared, local, source) });
  }

  const directories = await localDirectories(local);
  for (const directory of directories) {
    const usable = await check({ id: 'backup-directory', title: 'backup directory', subject: directory.name, run: () => directoryCheck(shared, directory) });
    if (usable.status === 'fail') skip('disk-usage', 'disk usage', `the directory of destination ${directory.name} is not usable`);
    else await check({ id: 'disk-usage', title: 'disk usage', subject: directory.name, run: () => diskCheck(shared, directory) });
  }

  if (redisUp) await check({ id: 'stuck-runs', title: 'stuck runs', run: () => stuckRunsCheck(shared, local) });
  else skip('stuck-runs', 'stuck runs', 'Redis cannot be reached (a run is stuck when its job is gone from the queue)');
  await check({ id: 'stale-temporaries', title: 'temporary files', run: () => temporariesCheck(shared, local) });
  if (redisUp) await check({ id: 'schedulers', title: 'schedulers', run: () => schedulersCheck(shared, local) });
  else skip('schedulers', 'schedulers', 'Redis cannot be reached');

  const configurations = (await shared.listConfigurations(ctx)).filter((c) => c.active && c.schedule.kind !== 'manual');
  if (configurations.length === 0) {
    await check({ id: 'last-backups', title: 'last backups', run: async () => ({ status: 'ok', message: 'No active scheduled configuration: nothing can be overdue.' }) });
  }
  for (const configuration of configurations) {
    await check({ id: 'last-backups', title: 'last backup', subject: configuration.name, run: async () => lastBackupOutcome(configuration) });
  }
  return results;
}

async function evaluate(definition: CheckDefinition, fix: boolean, shared: Shared): Promise<CheckResult> {
  let outcome = await guarded(definition.run, shared);
  let fixed: string | null = null;
  if (fix && outcome.status !== 'ok' && outcome.repair) {
    try {
      fixed = await outcome.repair();
    } catch (error) {
      fixed = `the repair failed: ${shared.scrubSecrets((error as Error).message)}`;
    }
    outcome = await guarded(definition.run, shared);
  }
  return {
    id: definition.id,
    subject: definition.subject ?? null,
    title: definition.title,
    status: outcome.status,
    message: outcome.message,
    fix: outcome.status === 'ok' ? null : (outcome.fix ?? null),
    fixed,
    details: outcome.details ?? {},
  };
}

/** A check that throws or hangs is a FAIL with its reason, never a crash of the doctor. */
async function guarded(run: () => Promise<Outcome>, shared: Shared): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    return { status: 'fail', message: `The check could not run: ${shared.scrubSecrets((error as Error).message)}.` };
  } finally {
    clearTimeout(timer);
  }
}

async function databaseCheck(local: LocalCoffre): Promise<Outcome> {
  try {
    await local.ctx.db.$queryRaw`SELECT 1`;
  } catch (error) {
    const { scrubSecrets } = await import('@coffre/shared');
    return {
      status: 'fail',
      message: `coffre's database cannot be reached: ${scrubSecrets(firstLine(error))}.`,
      fix: 'Check DATABASE_URL, and that its PostgreSQL server runs and accepts this user.',
    };
  }
  return { status: 'ok', message: "coffre's database answers." };
}

async function migrationsCheck(local: LocalCoffre): Promise<Outcome> {
  const fix = 'Apply the migrations: pnpm db:migrate (with the same DATABASE_URL).';
  let rows: { migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }[];
  try {
    rows = await local.ctx.db.$queryRawUnsafe('SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations');
  } catch {
    return { status: 'fail', message: "coffre's database has no coffre schema: no migration was ever applied to it.", fix };
  }
  const applied = rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name);
  const broken = rows.filter((r) => !r.finished_at && !r.rolled_back_at).map((r) => r.migration_name);
  if (broken.length > 0) {
    return { status: 'fail', message: `Migration ${broken.join(', ')} started and did not finish.`, fix: 'Read the migration\'s error in _prisma_migrations.logs, repair the schema, then pnpm db:migrate.', details: { broken } };
  }
  const known = knownMigrations();
  if (known === null) {
    return { status: 'ok', message: `${applied.length} migration(s) applied (the migrations folder is not beside this coffre, so pending ones cannot be listed).`, details: { applied: applied.length } };
  }
  const pending = known.filter((name) => !applied.includes(name));
  const unknown = applied.filter((name) => !known.includes(name));
  if (pending.length > 0) return { status: 'fail', message: `${pending.length} migration(s) are not applied: ${pending.join(', ')}.`, fix, details: { pending } };
  if (unknown.length > 0) {
    return {
      status: 'warn',
      message: `The database has migrations this coffre does not know (${unknown.join(', ')}): a newer coffre migrated it.`,
      fix: 'Run the same coffre version as the API and workers.',
      details: { unknown },
    };
  }
  return { status: 'ok', message: `The schema is up to date (${applied.length} migration(s) applied).`, details: { applied: applied.length } };
}

/** The migration folders shipped with this coffre (prisma/migrations above the CLI), or null. */
function knownMigrations(): string[] | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const migrations = join(dir, 'prisma', 'migrations');
    if (existsSync(migrations)) {
      return readdirSyncDirectories(migrations);
    }
  }
  return null;
}

function readdirSyncDirectories(path: string): string[] {
  return readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

async function redisCheck(local: LocalCoffre): Promise<Outcome> {
  const fix = 'Start Redis, or point REDIS_URL at the Redis the API and workers use.';
  if (!local.redisReady) return { status: 'fail', message: `Redis at ${redactUrl(local.config.REDIS_URL)} does not answer.`, fix };
  try {
    const pong = await local.redis.ping();
    return { status: 'ok', message: `Redis at ${redactUrl(local.config.REDIS_URL)} answers (${pong}).` };
  } catch (error) {
    return { status: 'fail', message: `Redis at ${redactUrl(local.config.REDIS_URL)} does not answer: ${firstLine(error)}.`, fix };
  }
}

async function evictionCheck(local: LocalCoffre): Promise<Outcome> {
  let policy: string | undefined;
  try {
    const answer = (await local.redis.config('GET', 'maxmemory-policy')) as string[];
    policy = answer[1];
  } catch (error) {
    return {
      status: 'warn',
      message: `Redis does not tell its maxmemory-policy (${firstLine(error)}): queued jobs are safe only with noeviction.`,
      fix: 'Check with your Redis provider that maxmemory-policy is noeviction.',
    };
  }
  if (policy === 'noeviction') return { status: 'ok', message: 'maxmemory-policy is noeviction: Redis never drops queued jobs.', details: { policy } };
  return {
    status: 'warn',
    message: `maxmemory-policy is ${policy ?? 'unknown'}: under memory pressure Redis may evict queued jobs and schedulers.`,
    fix: 'Set maxmemory-policy noeviction in redis.conf (coffre doctor --fix sets it at once with CONFIG SET, which does not survive a restart).',
    details: { policy: policy ?? null },
    repair: async () => {
      await local.redis.config('SET', 'maxmemory-policy', 'noeviction');
      return 'set maxmemory-policy noeviction with CONFIG SET; this does not persist across a Redis restart: also put "maxmemory-policy noeviction" in redis.conf (or run CONFIG REWRITE).';
    },
  };
}

async function pgToolsCheck(shared: Shared, local: LocalCoffre, source: Source): Promise<Outcome> {
  let server: { major: number; version: string };
  try {
    const connection = shared.sourceConnection(local.ctx, source);
    server = await shared.withPgClient(connection, (client) => shared.detectServerVersion(client));
  } catch (error) {
    return {
      status: 'fail',
      message: `Source ${source.name} (${source.urlMasked}) cannot be reached, so its backups will fail: ${shared.scrubSecrets(firstLine(error))}`,
      fix: 'Start its server, or correct the source URL (PUT /api/sources/:id).',
    };
  }
  const found: string[] = [];
  for (const tool of ['pg_dump', 'pg_restore'] as const) {
    try {
      const resolved = await shared.resolvePgTool(tool, server.major);
      found.push(`${tool} ${resolved.version} (${resolved.path})`);
    } catch (error) {
      return {
        status: 'fail',
        message: `Source ${source.name} runs PostgreSQL ${server.version}: ${firstLine(error)}`,
        fix: `Install postgresql-client-${server.major} where the workers run (apt-get install postgresql-client-${server.major}).`,
        details: { serverVersion: server.version },
      };
    }
  }
  return { status: 'ok', message: `PostgreSQL ${server.version}: ${found.join(', ')}.`, details: { serverVersion: server.version } };
}

interface LocalDirectory {
  /** The destination's name (`local` for BACKUP_DIR). */
  name: string;
  path: string;
}

/** The local destinations; BACKUP_DIR as `local` when none is registered yet (the API and workers register it at start). */
async function localDirectories(local: LocalCoffre): Promise<LocalDirectory[]> {
  const rows = await local.ctx.db.destination.findMany({ where: { kind: 'local' }, orderBy: { name: 'asc' } });
  const directories = rows.map((d: Destination) => ({ name: d.name, path: resolve((d.config as { path: string }).path) }));
  return directories.length > 0 ? directories : [{ name: 'local', path: resolve(local.config.BACKUP_DIR) }];
}

async function directoryCheck(shared: Shared, directory: LocalDirectory): Promise<Outcome> {
  const { path } = directory;
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    if (info.code !== 'ENOENT') return { status: 'fail', message: `${path} cannot be read (${info.code ?? info.message}).`, fix: 'Give coffre\'s user access to it.' };
    return {
      status: 'fail',
      message: `${path} does not exist.`,
      fix: `Create it (mkdir -p ${path}) on a disk with room for the backups, or set BACKUP_DIR.`,
      repair: async () => {
        await mkdir(path, { recursive: true, mode: 0o750 });
        return `created ${path}.`;
      },
    };
  }
  if (!info.isDirectory()) return { status: 'fail', message: `${path} is not a directory.`, fix: 'Move the file away, or point BACKUP_DIR elsewhere.' };
  try {
    await shared.createLocalStorage(path).checkWritable();
  } catch (error) {
    return { status: 'fail', message: firstLine(error), fix: 'Give coffre\'s user write permission, or mount the disk read-write.' };
  }
  return { status: 'ok', message: `${path} exists and is writable.` };
}

async function diskCheck(shared: Shared, directory: LocalDirectory): Promise<Outcome> {
  const { path } = directory;
  const usage = await shared.createLocalStorage(path).usage!();
  const details = { path, usedPercent: usage.usedPercent, freeBytes: usage.freeBytes, totalBytes: usage.totalBytes };
  const measured = `${usage.usedPercent}% used, ${humanBytes(usage.freeBytes)} free of ${humanBytes(usage.totalBytes)}`;
  const fix = 'Free space: delete old backups (coffre backup delete), tighten retention (keepLast, maxAgeDays), or move BACKUP_DIR to a larger disk.';
  if (usage.usedPercent > DISK_FAIL_PERCENT) return { status: 'fail', message: `The disk of ${path} is nearly full: ${measured}; the next backups may not fit.`, fix, details };
  if (usage.usedPercent > DISK_WARN_PERCENT) return { status: 'warn', message: `The disk of ${path} is filling up: ${measured}.`, fix, details };
  return { status: 'ok', message: `${measured}.`, details };
}

async function schedulersCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const { ctx } = local;
  const configurations = await ctx.db.backupConfiguration.findMany();
  const expectedBackups = new Map<string, { pattern: string; tz: string | undefined; name: string }>();
  const expectedVerifies = new Map<string, string>();
  for (const c of configurations) {
    if (!c.active) continue;
    const schedule = shared.scheduleFromColumns(c);
    const cron = shared.scheduleProblems(schedule).length === 0 ? shared.scheduleToCron(schedule) : null;
    if (cron) expectedBackups.set(`configuration-${c.id}`, { pattern: cron.pattern, tz: cron.tz, name: c.name });
    if (['daily', 'weekly', 'monthly'].includes(c.verifySchedule)) expectedVerifies.set(`verify-${c.id}`, c.name);
  }
  const backupSchedulers = await ctx.queues.queue('backup').getJobSchedulers(0, -1);
  const verifySchedulers = await ctx.queues.queue('restore').getJobSchedulers(0, -1);
  const maintenance = await ctx.queues.queue('maintenance').getJobSchedulers(0, -1);

  const missing = [...expectedBackups].filter(([key]) => !backupSchedulers.some((s) => s.key === key)).map(([, v]) => v.name);
  const drifted = backupSchedulers
    .filter((s) => expectedBackups.has(s.key))
    .filter((s) => {
      const expected = expectedBackups.get(s.key)!;
      return s.pattern !== expected.pattern || (s.tz ?? undefined) !== (expected.tz ?? undefined);
    })
    .map((s) => expectedBackups.get(s.key)!.name);
  const extra = [
    ...backupSchedulers.filter((s) => s.key.startsWith('configuration-') && !expectedBackups.has(s.key)),
    ...verifySchedulers.filter((s) => s.key.startsWith('verify-') && !expectedVerifies.has(s.key)),
  ].map((s) => s.key);
  const missingVerifies = [...expectedVerifies].filter(([key]) => !verifySchedulers.some((s) => s.key === key)).map(([, name]) => name);
  const maintenanceMissing = !maintenance.some((s) => s.key === shared.MAINTENANCE_SCHEDULER);

  const details = {
    expectedBackupSchedulers: expectedBackups.size,
    backupSchedulers: backupSchedulers.filter((s) => s.key.startsWith('configuration-')).length,
    missing,
    drifted,
    extra,
    missingVerifications: missingVerifies,
    maintenanceMissing,
  };
  const problems: string[] = [];
  if (missing.length) problems.push(`no scheduler fires configuration(s) ${missing.map((n) => `"${n}"`).join(', ')}, so their scheduled backups are not taken`);
  if (drifted.length) problems.push(`the scheduler of ${drifted.map((n) => `"${n}"`).join(', ')} fires on another schedule than configured`);
  if (missingVerifies.length) problems.push(`no scheduler verifies ${missingVerifies.map((n) => `"${n}"`).join(', ')}`);
  if (extra.length) problems.push(`${extra.length} scheduler(s) fire for configurations that are gone or inactive (${extra.join(', ')})`);
  if (maintenanceMissing) problems.push('the maintenance scheduler (retention, reconciliation) is missing');
  if (problems.length === 0) {
    return { status: 'ok', message: `${expectedBackups.size} active scheduled configuration(s), each with its scheduler; maintenance scheduled.`, details };
  }
  return {
    status: missing.length || drifted.length ? 'fail' : 'warn',
    message: `Schedulers are out of step with the configurations: ${problems.join('; ')}.`,
    fix: 'coffre doctor --fix re-syncs them (as every worker does at start).',
    details,
    repair: async () => {
      const synced = await shared.syncAllSchedulers(ctx);
      return `re-synced the schedulers: ${synced.backups} backup and ${synced.verifications} verification scheduler(s), and maintenance.`;
    },
  };
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0]!.replace(/\.$/, '');
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'REDIS_URL';
  }
}
