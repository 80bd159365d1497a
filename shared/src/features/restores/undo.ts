// Undoing a restore that swapped: the database it replaced (kept as `<db>__before_restore_<time>`)
// takes the target's name again, by the same two renames in one transaction, and the restored one is
// kept in turn as `<db>__undone_<time>`. The kept databases go when RESTORE_KEEP_DAYS have passed
// (maintenance), and so do the databases of loads that failed, which a killed worker may have left.
import type { Restore } from '../../infra/db.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { ConflictError, errorMessage } from '../../infra/errors.js';
import { databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { databaseExistsOn, dropDatabaseIfExists, swapDatabases, undoneDatabaseName } from '../../engine/database-swap.js';
import { recordAudit } from '../audit/audit.js';
import { sourceConnection } from '../sources/sources.js';
import { getRestore } from './commands.js';

/** Swaps the database a restore replaced back in. Refused (409) unless the restore swapped and its kept copy is still there. */
export async function undoRestore(ctx: AppContext, id: string, actor: Actor): Promise<Restore> {
  const restore = await getRestore(ctx, id);
  const refuse = (why: string, code = 'restore_not_undoable') => new ConflictError(`Restore ${restore.id} cannot be undone: ${why}.`, code);
  if (restore.status !== 'completed' || restore.method !== 'swap' || !restore.keptDatabase) {
    throw refuse('only a completed restore that loaded beside its target and swapped keeps the database it replaced');
  }
  if (restore.undoneAt) throw refuse(`it was undone already, at ${restore.undoneAt.toISOString()}`);
  if (restore.keptDroppedAt) throw refuse(`the database it replaced was dropped at ${restore.keptDroppedAt.toISOString()} (RESTORE_KEEP_DAYS)`);
  const source = restore.targetSourceId ? await ctx.db.source.findUnique({ where: { id: restore.targetSourceId } }) : null;
  if (!source) throw refuse('its target source was deleted');
  const target = { ...sourceConnection(ctx, source), database: restore.targetDatabase! };
  const lock = await tryLockDatabase(ctx.queues.redis, databaseLockKey(ctx.queues.prefix, target), ctx.config.STALL_SECONDS * 1000);
  if (!lock) throw refuse(`a backup or restore of database "${target.database}" is running: try again when it ends`, 'database_busy');
  try {
    if (!(await databaseExistsOn(target, restore.keptDatabase))) throw refuse(`database "${restore.keptDatabase}" is no longer on ${target.host}:${target.port}`);
    const undoneDatabase = undoneDatabaseName(target.database, new Date());
    const swap = await swapDatabases(target, { target: target.database, incoming: restore.keptDatabase, outgoing: undoneDatabase }).catch((error: unknown) => {
      throw new ConflictError(`Restore ${restore.id} was not undone, database "${target.database}" is as it was: ${errorMessage(error)}`, 'restore_undo_failed');
    });
    const line =
      `undone by ${actor.name}: "${target.database}" is again the database the restore replaced; the restored one is kept as "${undoneDatabase}". ` +
      `${swap.endedConnections} connection(s) ended; the database was unavailable for ${swap.windowMs} ms`;
    const updated = await ctx.db.restore.update({
      where: { id: restore.id },
      data: { undoneAt: new Date(), undoneBy: actor.name, undoneDatabase, log: `${restore.log ?? ''}\n${new Date().toISOString()} ${line}`.trim() },
    });
    await recordAudit(ctx.db, actor, {
      action: 'restore.undo',
      targetType: 'restore',
      targetId: restore.id,
      summary: { after: { database: target.database, restoredFrom: restore.keptDatabase, restoredKeptAs: undoneDatabase, windowMs: swap.windowMs } },
    });
    return updated;
  } finally {
    await lock.release();
  }
}

export interface DroppedCopies {
  dropped: string[];
  failures: { restoreId: string; error: string }[];
}

/**
 * Drops what restores left on their target servers: the databases they replaced (and, after an
 * undo, the restored ones) once RESTORE_KEEP_DAYS have passed, and the load databases of restores
 * that failed. A database that is gone already counts as dropped.
 */
export async function dropExpiredRestoreCopies(ctx: AppContext, now = new Date()): Promise<DroppedCopies> {
  const report: DroppedCopies = { dropped: [], failures: [] };
  const before = new Date(now.getTime() - ctx.config.RESTORE_KEEP_DAYS * 86_400_000);
  const rows = await ctx.db.restore.findMany({
    where: {
      method: 'swap',
      keptDroppedAt: null,
      OR: [{ status: 'failed' }, { status: 'completed', completedAt: { lte: before } }],
    },
    include: { targetSource: true },
    take: 100,
  });
  for (const row of rows) {
    try {
      if (!row.targetSource) {
        await ctx.db.restore.update({ where: { id: row.id }, data: { keptDroppedAt: now } });
        continue;
      }
      const connection = { ...sourceConnection(ctx, row.targetSource), database: row.targetDatabase! };
      // A failed restore may still have swapped (its worker died after the commit): its kept copy is then the old database, kept its days.
      const names = row.status === 'failed' ? [row.loadDatabase] : [row.keptDatabase, row.undoneDatabase, row.loadDatabase];
      for (const name of names) {
        if (!name || name === row.targetDatabase) continue;
        await dropDatabaseIfExists(connection, name);
        report.dropped.push(name);
      }
      const keptGone = row.status === 'completed' || !row.keptDatabase || !(await databaseExistsOn(connection, row.keptDatabase));
      if (keptGone) await ctx.db.restore.update({ where: { id: row.id }, data: { keptDroppedAt: now } });
      else if ((row.completedAt ?? now) <= before) {
        await dropDatabaseIfExists(connection, row.keptDatabase!);
        report.dropped.push(row.keptDatabase!);
        await ctx.db.restore.update({ where: { id: row.id }, data: { keptDroppedAt: now } });
      }
    } catch (error) {
      report.failures.push({ restoreId: row.id, error: errorMessage(error) });
    }
  }
  return report;
}
