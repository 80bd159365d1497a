// Restoring a whole server backup into a server: the globals first (roles, memberships, tablespaces;
// a role that exists there already is left as it is), then every database under its own name, owner
// and privileges (pg_restore --create). None of the databases may exist on the target: a server
// restore never overwrites, so it needs no safety backup. A database that fails is dropped again and
// fails the restore with its name.
import type { Backup, Restore, Source } from '../../infra/db.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import type { AppContext } from '../../infra/context.js';
import { dropDatabase } from '../../engine/restore-pipeline.js';
import { claimRun, completeRun, failRun } from '../../runs/transitions.js';
import { databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { sourceConnection } from '../sources/sources.js';
import { createRunLog } from '../../runs/run-log.js';
import { recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { databaseExists } from './commands.js';
import { checkRestoreTarget } from './targets.js';
import { restoreBackupInto } from './copies.js';

export async function runServerRestore(ctx: AppContext, restore: Restore & { backup: Backup; targetSource: Source | null }, hooks: RunHooks): Promise<RunOutcome> {
  if (!restore.targetSource) {
    await failRun(ctx, 'restore', restore.id, 'The target source was deleted before the restore ran.');
    return 'skipped';
  }
  const server = { ...sourceConnection(ctx, restore.targetSource), database: 'postgres' };
  const lock = await tryLockDatabase(ctx.queues.redis, `${databaseLockKey(ctx.queues.prefix, server)}:server`, ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  const log = createRunLog(hooks.logger.child({ restoreId: restore.id }));
  try {
    if (!(await claimRun(ctx, 'restore', restore.id, hooks.workerId))) return 'skipped';
    const started = Date.now();
    try {
      const artifacts = await ctx.db.backupArtifact.findMany({ where: { backupId: restore.backupId, deletedAt: null, kind: { startsWith: 'database:' } }, select: { kind: true } });
      const databases = [...new Set(artifacts.map((a) => a.kind.slice('database:'.length)))].sort();
      for (const database of databases) {
        await checkRestoreTarget(ctx, { ...server, database }, { allowSystemDatabase: false });
        if (await databaseExists(server, database)) {
          throw new PermanentError(`Database "${database}" exists on the target server already: a server restore creates every database and overwrites none. Nothing was restored.`);
        }
      }
      log.info(`restoring the globals of "${restore.backup.name}"`);
      await restoreBackupInto(ctx, restore.backup, server, false, hooks, log, undefined, { kind: 'globals', serverPart: 'globals' });
      for (const database of databases) {
        log.info(`restoring database "${database}"`);
        try {
          await restoreBackupInto(ctx, restore.backup, server, false, hooks, log, undefined, { kind: `database:${database}`, serverPart: 'create' });
        } catch (error) {
          await dropDatabase(server, database).catch(() => {});
          throw new PermanentError(`Database "${database}" could not be restored (${errorMessage(error)}); it was dropped again.`);
        }
      }
      log.info(`restored the globals and ${databases.length} databases in ${Date.now() - started} ms`);
      await completeRun(ctx, 'restore', restore.id, { durationMs: Date.now() - started, createDatabase: true, log: log.text() });
      return 'completed';
    } catch (error) {
      await recordFailure(ctx, 'restore', restore.id, error, { ...hooks, attempt: hooks.maxAttempts }, log);
      throw error;
    }
  } finally {
    await lock.release();
  }
}
