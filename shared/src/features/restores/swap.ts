// Restores of a database by loading beside it and swapping (engine/database-swap.ts): the backup
// goes into `<db>__restoring_<hex>` with pg_restore --jobs, is checked against the backup's tables
// and counts, and only then takes the target's name; the replaced database stays as
// `<db>__before_restore_<time>` (the safety copy, which `restore undo` swaps back) until maintenance
// drops it after RESTORE_KEEP_DAYS. Each name is written on the row before it exists, so that what
// a killed worker left is found and dropped.
import type { Backup, Restore } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { errorMessage } from '../../infra/errors.js';
import { failpoint } from '../../infra/failpoints.js';
import type { PgConnection } from '../../engine/postgres.js';
import type { TableCount } from '../../engine/counts.js';
import { runParallelRestore } from '../../engine/parallel-restore.js';
import {
  checkLoadedDatabase,
  createLoadDatabase,
  databaseExistsOn,
  dropDatabaseIfExists,
  keptDatabaseName,
  loadDatabaseName,
  swapDatabases,
} from '../../engine/database-swap.js';
import type { RunLog } from '../../runs/run-log.js';
import type { RunHooks } from '../../runs/life-cycle.js';
import { completeRun } from '../../runs/transitions.js';
import { sourceConnection } from '../sources/sources.js';
import { withEachCopy } from './copies.js';

export interface SwapRestoreOutcome {
  keptDatabase: string;
  swapMs: number;
}

/** Loads the backup beside `target`, checks it, swaps it in. The target is untouched until the swap commits. */
export async function restoreBySwap(
  ctx: AppContext,
  restore: Restore & { backup: Backup },
  target: PgConnection,
  hooks: RunHooks,
  log: RunLog,
  progress: RestoreProgress,
): Promise<SwapRestoreOutcome> {
  const loadName = loadDatabaseName(target.database);
  const keptName = keptDatabaseName(target.database, new Date());
  await ctx.db.restore.update({ where: { id: restore.id }, data: { method: 'swap', loadDatabase: loadName, keptDatabase: keptName } });
  log.info(`loading the backup into a new database "${loadName}" beside "${target.database}", which stays in use until the swap`);
  let created = false;
  try {
    // Created while the artifact is read.
    await loadAndCheck(ctx, restore.backup, { ...target, database: loadName }, hooks, log, progress, async () => {
      await failpoint('restore.create-database', loadName);
      await createLoadDatabase(target, loadName);
      created = true;
    });
    await failpoint('restore.after-check', restore.id);
    log.phase('swapping');
    const swap = await swapDatabases(target, { target: target.database, incoming: loadName, outgoing: keptName });
    await failpoint('restore.after-swap', restore.id);
    log.info(
      `swapped: "${target.database}" is the restored database; the one it replaced is kept as "${keptName}" for ${ctx.config.RESTORE_KEEP_DAYS} day(s) ` +
        `(coffre restore undo ${restore.id}). ${swap.endedConnections} connection(s) ended; the database was unavailable for ${swap.windowMs} ms`,
    );
    return { keptDatabase: keptName, swapMs: swap.windowMs };
  } catch (error) {
    if (!created) throw error;
    await dropDatabaseIfExists(target, loadName).then(
      () => log.info(`"${target.database}" was left as it was; the new database "${loadName}" was dropped`),
      (dropError: unknown) => log.warn(`could not drop "${loadName}" (maintenance will): ${errorMessage(dropError)}`),
    );
    throw error;
  }
}

/** Where a database restore reports how far it is: the bytes of the artifact read, then the rows loaded. */
export interface RestoreProgress {
  bytes(read: number): void;
  /** Resolves once the count is recorded (or could not be). */
  rows(loaded: number): Promise<void>;
}

/**
 * Creates `database` with `create` while the artifact is read, then pg_restore --jobs into it, then the
 * check against the backup's tables and counts. When this fails, the creation has ended (done or
 * failed): the caller drops the database.
 */
export async function loadAndCheck(
  ctx: AppContext,
  backup: Backup,
  database: PgConnection,
  hooks: RunHooks,
  log: RunLog,
  progress: RestoreProgress,
  create: () => Promise<void>,
): Promise<void> {
  const identities = backup.encrypted ? await ctx.identities() : [];
  const jobs = ctx.config.RESTORE_JOBS;
  log.phase('checking the artifact');
  // Created while the artifact is read; a creation that fails stops the read (runParallelRestore) and is the restore's error.
  const created = create();
  // Settles when the creation has ended: its error, or null. Awaited before this fails, so that the caller drops only a database whose creation has ended.
  const creationFailure = created.then(
    () => null,
    (error: unknown) => error,
  );
  const loaded = await withEachCopy(ctx, backup, 'database', log, (artifact) =>
    runParallelRestore({
      artifact,
      targetReady: created,
      compression: backup.compression,
      identities,
      target: database,
      jobs,
      dumpFormat: backup.dumpFormat === 'directory' ? 'directory' : 'custom',
      tmpDir: ctx.config.TMP_DIR,
      signal: hooks.signal,
      onProgress: (bytes) => progress.bytes(bytes),
      onLoadStarted: () => log.phase('loading'),
      onLoadedRows: (rows) => void progress.rows(rows),
      logger: hooks.logger,
    }).catch(async (error: unknown) => {
      // A creation that failed is not tried again on the next copy of the artifact: nothing was wrong with this one.
      const failure = await creationFailure;
      if (failure) throw new Error(`Database "${database.database}" could not be created: ${errorMessage(failure)}`, { cause: failure });
      throw error;
    }),
  ).catch(async (error: unknown) => {
    // Also when no copy was read at all.
    await creationFailure;
    throw error;
  });
  log.info(`artifact read and checked in ${loaded.readMs} ms (${loaded.dumpBytes} bytes of dump); pg_restore --jobs=${jobs} loaded it in ${loaded.loadMs} ms`);
  const started = performance.now();
  log.phase('counting rows');
  const tables = (backup.tableCounts as unknown as TableCount[] | null) ?? [];
  const check = await checkLoadedDatabase(database, tables, { jobs, countRows: backup.type === 'full' });
  const counted =
    backup.type === 'full' && tables.some((t) => t.rows >= 0)
      ? `, ${check.records} rows as the backup holds (${check.confirmed} shown loaded by the server's counters of the new database, ${check.records - check.confirmed} counted)`
      : '';
  log.info(`checked against the backup: ${check.tables} tables present${counted}, in ${Math.round(performance.now() - started)} ms`);
  // The server's counters may not have shown the last loads yet: every row the backup holds is there.
  // Awaited: the row must hold it before the run completes (a running row only takes it).
  if (counted) await progress.rows(check.records);
}

/**
 * A swap restore whose worker was lost: when its swap had committed (the kept database exists and the
 * load database no longer does), the target holds the restored database, and the row is completed
 * (undo stays possible) rather than failed. Returns false when the swap had not committed: the target
 * kept its old content, and the caller fails the row.
 */
export async function completeIfSwapped(ctx: AppContext, restoreId: string, lost: string): Promise<boolean> {
  const row = await ctx.db.restore.findUnique({ where: { id: restoreId }, include: { targetSource: true } });
  if (!row || row.status !== 'running' || row.method !== 'swap' || !row.keptDatabase || !row.loadDatabase || !row.targetSource || !row.targetDatabase) return false;
  const target = { ...sourceConnection(ctx, row.targetSource), database: row.targetDatabase };
  const [kept, loading] = await Promise.all([databaseExistsOn(target, row.keptDatabase), databaseExistsOn(target, row.loadDatabase)]);
  if (!kept || loading) return false;
  const note = `${lost.replace(/\.?$/, '.')} The swap had committed before: "${row.targetDatabase}" is the restored database, and the one it replaced is kept as "${row.keptDatabase}" (coffre restore undo ${row.id}).`;
  return completeRun(ctx, 'restore', row.id, {
    durationMs: row.startedAt ? Date.now() - row.startedAt.getTime() : null,
    errorMessage: note,
    log: `${row.log ?? ''}${row.log ? '\n' : ''}${new Date().toISOString()} warn ${note}`,
  });
}
