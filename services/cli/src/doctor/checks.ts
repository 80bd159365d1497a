// The checks of `coffre doctor`, in the order an operator would look: coffre's database and its
// schema, Redis and its eviction policy, the workers alive, the PostgreSQL tools for each source, the
// backup directories and their disks, SFTP and rclone destinations reachable and writable, notification
// channels reachable and how their last delivery went, runs that are stuck, temporaries left behind, schedulers
// against the configurations, and whether each scheduled configuration is backed up on time.
// Each check answers OK, WARN or FAIL with a sentence and the fix; with --fix, what is safe to repair
// is repaired (schedulers re-synced, stale temporaries removed, lost runs failed through
// reconciliation, noeviction set, a missing backup directory created) and the check runs again.
import type { LocalCoffre } from '../local.js';
import type { CheckResult } from './report.js';
import type { Outcome, Shared } from './outcome.js';
import { CHECK_TIMEOUT_MS, databaseCheck, directoryCheck, diskCheck, evictionCheck, migrationsCheck, pgToolsCheck, redisCheck, remoteDestinationCheck } from './dependencies.js';
import { notificationChannelCheck } from './notifications.js';
import { pitrCheck } from './pitr.js';
import { lastBackupOutcome, schedulersCheck, stuckRunsCheck, temporariesCheck, workersCheck } from './runs.js';

interface CheckDefinition {
  id: string;
  title: string;
  subject?: string;
  run: () => Promise<Outcome>;
}

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

  const database = await check({ id: 'database', title: 'coffre database', run: () => databaseCheck(shared, local) });
  const databaseUp = database.status === 'ok';
  if (databaseUp) await check({ id: 'migrations', title: 'database schema', run: () => migrationsCheck(shared, local) });
  else skip('migrations', 'database schema', "coffre's database cannot be reached");

  const redis = await check({ id: 'redis', title: 'Redis', run: () => redisCheck(shared, local) });
  const redisUp = redis.status === 'ok';
  if (redisUp) await check({ id: 'redis-eviction', title: 'Redis eviction policy', run: () => evictionCheck(shared, local) });
  else skip('redis-eviction', 'Redis eviction policy', 'Redis cannot be reached');

  if (!databaseUp) {
    if (redisUp) await check({ id: 'workers', title: 'workers', run: () => workersCheck(shared, local) });
    else skip('workers', 'workers', 'Redis cannot be reached (workers announce themselves there)');
    for (const [id, title] of [
      ['pg-tools', 'pg_dump and pg_restore'],
      ['backup-directory', 'backup directory'],
      ['disk-usage', 'disk usage'],
      ['destination-connection', 'destination connection'],
      ['notification-channel', 'notification channel'],
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

  const sources = (await shared.listSources(ctx)).filter((s) => s.kind === 'postgres');
  if (sources.length === 0) {
    await check({
      id: 'pg-tools',
      title: 'pg_dump and pg_restore',
      run: async () => ({ status: 'warn', message: 'No PostgreSQL source is registered, so there is nothing to back up.', fix: 'Set SOURCE_DATABASE_URL, or add a source (POST /api/sources).' }),
    });
  }
  for (const source of sources) {
    await check({ id: 'pg-tools', title: 'pg_dump and pg_restore', subject: source.name, run: () => pgToolsCheck(shared, local, source) });
    if (source.pitrEnabled) await check({ id: 'pitr', title: 'point-in-time recovery', subject: source.name, run: () => pitrCheck(shared, local, source) });
  }

  const directories = await shared.localDestinationFolders(ctx);
  for (const directory of directories) {
    const usable = await check({ id: 'backup-directory', title: 'backup directory', subject: directory.name, run: () => directoryCheck(shared, directory) });
    if (usable.status === 'fail') skip('disk-usage', 'disk usage', `the directory of destination ${directory.name} is not usable`);
    else await check({ id: 'disk-usage', title: 'disk usage', subject: directory.name, run: () => diskCheck(shared, directory) });
  }

  // SFTP servers and rclone remotes: reachable, logged in and writable from this machine.
  for (const destination of (await shared.listDestinations(ctx)).filter((d) => d.kind === 'sftp' || d.kind === 'rclone')) {
    await check({ id: 'destination-connection', title: 'destination connection', subject: destination.name, run: () => remoteDestinationCheck(shared, local, destination.id) });
  }

  // Notification channels that are on: their server reachable from here, and their newest delivery.
  for (const channel of (await shared.listChannels(ctx)).filter((c) => c.enabled)) {
    await check({ id: 'notification-channel', title: 'notification channel', subject: channel.name, run: () => notificationChannelCheck(shared, local, channel) });
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
  try {
    return await shared.withTimeout(run(), CHECK_TIMEOUT_MS, `no answer within ${CHECK_TIMEOUT_MS / 1000} s`);
  } catch (error) {
    return { status: 'fail', message: `The check could not run: ${shared.scrubSecrets((error as Error).message)}.` };
  }
}
