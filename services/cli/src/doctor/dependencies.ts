// The checks of `coffre doctor` about what coffre stands on: its database and schema, Redis and its
// eviction policy, the PostgreSQL tools of each source, the backup directories and their disks. The
// asking is shared's health checks (the same the API's GET /api/health runs); this is the wording.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Source } from '@coffre/shared';
import type { LocalCoffre } from '../local.js';
import { humanBytes } from '../output.js';
import { firstLine, type Outcome, type Shared } from './outcome.js';

/** A check may take this long (the API's health answers within 3 s; an operator running doctor can wait). */
export const CHECK_TIMEOUT_MS = 20_000;
const DISK_WARN_PERCENT = 80;
const DISK_FAIL_PERCENT = 95;

export async function databaseCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const answer = await shared.probeDatabase(local.ctx, CHECK_TIMEOUT_MS);
  if (answer.ok) return { status: 'ok', message: "coffre's database answers." };
  return {
    status: 'fail',
    message: `coffre's database cannot be reached: ${shared.scrubSecrets(firstLine(answer.error))}.`,
    fix: 'Check DATABASE_URL, and that its PostgreSQL server runs and accepts this user.',
  };
}

export async function migrationsCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const fix = 'Apply the migrations: pnpm db:migrate (with the same DATABASE_URL).';
  const state = await shared.probeMigrations(local.ctx, CHECK_TIMEOUT_MS);
  if (!state.ok) return { status: 'fail', message: "coffre's database has no coffre schema: no migration was ever applied to it.", fix };
  const { applied, unfinished: broken } = state.value;
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
      return readdirSync(migrations, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    }
  }
  return null;
}

export async function redisCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const fix = 'Start Redis, or point REDIS_URL at the Redis the API and workers use.';
  const through = shared.parseRedisUrl(local.config.REDIS_URL).kind === 'sentinel';
  const where = `Redis at ${shared.describeRedisUrl(local.config.REDIS_URL)}`;
  if (!local.redisReady) {
    const why = through ? ' (no sentinel answered, or none knows a primary by that name)' : '';
    return { status: 'fail', message: `${where} does not answer${why}.`, fix: through ? `${fix} With Sentinel, check the sentinels' addresses and the master group name.` : fix };
  }
  const pong = await shared.probeRedis(local.ctx, CHECK_TIMEOUT_MS);
  if (!pong.ok) return { status: 'fail', message: `${where} does not answer: ${firstLine(pong.error)}.`, fix };
  const reached = shared.reachedRedisAddress(local.redis);
  const server = reached ? (through ? `, the primary the sentinels named is ${reached}` : `, at ${reached}`) : '';
  return { status: 'ok', message: `${where} answers (${pong.value}${server}).`, details: reached ? { reached } : undefined };
}

export async function evictionCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const answer = await shared.probeRedisEviction(local.ctx, CHECK_TIMEOUT_MS);
  if (!answer.ok) {
    return {
      status: 'warn',
      message: `Redis does not tell its maxmemory-policy (${firstLine(answer.error)}): queued jobs are safe only with noeviction.`,
      fix: 'Check with your Redis provider that maxmemory-policy is noeviction.',
    };
  }
  const policy = answer.value;
  if (policy === 'noeviction') return { status: 'ok', message: 'maxmemory-policy is noeviction: Redis never drops queued jobs.', details: { policy } };
  return {
    status: 'warn',
    message: `maxmemory-policy is ${policy ?? 'unknown'}: under memory pressure Redis may evict queued jobs and schedulers.`,
    fix: 'Set maxmemory-policy noeviction in redis.conf (coffre doctor --fix sets it at once with CONFIG SET, which does not survive a restart).',
    details: { policy },
    repair: async () => {
      await shared.setRedisNoEviction(local.ctx);
      return 'set maxmemory-policy noeviction with CONFIG SET; this does not persist across a Redis restart: also put "maxmemory-policy noeviction" in redis.conf (or run CONFIG REWRITE).';
    },
  };
}

export async function pgToolsCheck(shared: Shared, local: LocalCoffre, source: Source): Promise<Outcome> {
  const answer = await shared.probeSourceTools(local.ctx, source, CHECK_TIMEOUT_MS);
  if (!answer.ok) {
    return {
      status: 'fail',
      message: `Source ${source.name} (${source.urlMasked}) cannot be reached, so its backups will fail: ${shared.scrubSecrets(firstLine(answer.error))}`,
      fix: 'Start its server, or correct the source URL (PUT /api/sources/:id).',
    };
  }
  const { server, tools } = answer.value;
  const details = { serverVersion: server.version };
  const found: string[] = [];
  for (const { name, found: tool } of tools) {
    if (!tool.ok) {
      return {
        status: 'fail',
        message: `Source ${source.name} runs PostgreSQL ${server.version}: ${firstLine(tool.error)}`,
        fix: `Install postgresql-client-${server.major} where the workers run (apt-get install postgresql-client-${server.major}).`,
        details,
      };
    }
    found.push(`${name} ${tool.value.version} (${tool.value.path})`);
  }
  return { status: 'ok', message: `PostgreSQL ${server.version}: ${found.join(', ')}.`, details };
}

export interface LocalDirectory {
  /** The destination's name (`local` for BACKUP_DIR). */
  name: string;
  path: string;
}

export async function directoryCheck(shared: Shared, directory: LocalDirectory): Promise<Outcome> {
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

export async function diskCheck(shared: Shared, directory: LocalDirectory): Promise<Outcome> {
  const { path } = directory;
  const usage = await shared.createLocalStorage(path).usage!();
  const details = { path, usedPercent: usage.usedPercent, freeBytes: usage.freeBytes, totalBytes: usage.totalBytes };
  const measured = `${usage.usedPercent}% used, ${humanBytes(usage.freeBytes)} free of ${humanBytes(usage.totalBytes)}`;
  const fix = 'Free space: delete old backups (coffre backup delete), tighten retention (keepLast, maxAgeDays), or move BACKUP_DIR to a larger disk.';
  if (usage.usedPercent > DISK_FAIL_PERCENT) return { status: 'fail', message: `The disk of ${path} is nearly full: ${measured}; the next backups may not fit.`, fix, details };
  if (usage.usedPercent > DISK_WARN_PERCENT) return { status: 'warn', message: `The disk of ${path} is filling up: ${measured}.`, fix, details };
  return { status: 'ok', message: `${measured}.`, details };
}

/** An SFTP server or rclone remote takes a write (a probe file, removed after): reachable, logged in, writable. */
export async function remoteDestinationCheck(shared: Shared, local: LocalCoffre, id: string): Promise<Outcome> {
  const destination = await shared.getDestination(local.ctx, id);
  const where = shared.destinationToApi(destination).location;
  const started = Date.now();
  try {
    await shared.destinationDriver(local.ctx, destination).checkWritable();
  } catch (error) {
    const fix =
      destination.kind === 'sftp'
        ? 'Check that the server is up and reachable from this machine, the login (key or password) and that the user may write in the folder; a changed host key is refused until the destination pins the new one (hostKeySha256).'
        : 'Check that rclone is installed here (rclone version), that the remote of the stored configuration is reachable and its credentials valid (rclone lsd REMOTE: with the same configuration).';
    return { status: 'fail', message: `${where}: ${shared.scrubSecrets(firstLine(error))}.`, fix, details: { kind: destination.kind } };
  }
  const pinned = destination.kind === 'sftp' ? ((await shared.getDestination(local.ctx, id)).config as { hostKeySha256?: string | null }).hostKeySha256 : null;
  const details = { kind: destination.kind, milliseconds: Date.now() - started, ...(pinned ? { hostKeySha256: pinned } : {}) };
  return { status: 'ok', message: `${where} is reachable and writable${pinned ? ` (host key ${pinned})` : ''}.`, details };
}
