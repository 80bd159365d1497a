// A restore to a moment, in a worker: recover the source's cluster to that moment in a private
// instance (recover.ts), dump the chosen database from it, then restore that dump into the target
// through the same path as any restore (safety backup of an existing target, a checked read, one
// transaction), and remove the private instance and its directory whatever happened.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import type { AppContext } from '../../infra/context.js';
import { PermanentError } from '../../infra/errors.js';
import { databaseLockKey, tryLockDatabase } from '../../infra/locks.js';
import { claimRun, completeRun, failRun } from '../../runs/transitions.js';
import { recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { createRunLog, type RunLog } from '../../runs/run-log.js';
import { runDatabaseBackup } from '../../engine/backup-pipeline.js';
import { runDatabaseRestore } from '../../engine/restore-pipeline.js';
import { createLocalStorage } from '../../storage/local.js';
import type { PgConnection } from '../../engine/postgres.js';
import { sourceConnection } from '../sources/sources.js';
import { checkRestoreTarget } from '../restores/targets.js';
import { databaseExists } from '../restores/commands.js';
import { takeSafetyBackup } from '../restores/job.js';
import { recoverToMoment, type RecoveryTimings } from './recover.js';
import { formatRestoreTimings } from './timings.js';

export async function runPitrRestoreJob(ctx: AppContext, restoreId: string, hooks: RunHooks): Promise<RunOutcome> {
  const restore = await ctx.db.restore.findUnique({ where: { id: restoreId }, include: { backup: { include: { source: true } }, targetSource: true } });
  if (!restore || restore.status === 'completed' || restore.status === 'failed') return 'skipped';
  if (!restore.targetSource || !restore.targetTime || !restore.sourceDatabase || !restore.backup.source) {
    await failRun(ctx, 'restore', restoreId, 'The source or the target of this restore to a moment was deleted before it ran.');
    return 'skipped';
  }
  const target = { ...sourceConnection(ctx, restore.targetSource), database: restore.targetDatabase! };
  const lock = await tryLockDatabase(ctx.queues.redis, databaseLockKey(ctx.queues.prefix, target), ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  const log = createRunLog(hooks.logger.child({ restoreId }));
  try {
    if (!(await claimRun(ctx, 'restore', restoreId, hooks.workerId))) return 'skipped';
    const started = Date.now();
    try {
      await checkRestoreTarget(ctx, target, { allowSystemDatabase: restore.allowSystemDatabase });
      const sourceUser = sourceConnection(ctx, restore.backup.source).user;
      const dump = await dumpAtMoment(ctx, { base: restore.backup, moment: restore.targetTime, database: restore.sourceDatabase, users: ['postgres', sourceUser], hooks, log }, async (artifact) => {
        const createDatabase = !(await databaseExists(target, target.database));
        if (!createDatabase) {
          const safety = await takeSafetyBackup(ctx, restore.targetSource!, { kind: 'postgres', connection: target }, hooks, log);
          await ctx.db.restore.update({ where: { id: restoreId }, data: { safetyBackupId: safety.id } });
        }
        const loadStarted = Date.now();
        await loadDump(ctx, artifact, target, createDatabase, hooks);
        return { createDatabase, loadMs: Date.now() - loadStarted };
      });
      const totalMs = Date.now() - started;
      log.info(`restored database "${restore.sourceDatabase}" as of ${restore.targetTime.toISOString()} into ${target.database}`);
      const { fetchMs, baseBackupMs, walFiles, replayMs } = dump.timings;
      log.info(formatRestoreTimings({ totalMs, fetchMs, baseBackupMs, walFiles, replayMs, dumpMs: dump.dumpMs, loadMs: dump.result.loadMs }));
      await completeRun(ctx, 'restore', restoreId, { durationMs: totalMs, createDatabase: dump.result.createDatabase, log: log.text() });
      return 'completed';
    } catch (error) {
      await recordFailure(ctx, 'restore', restoreId, error, { ...hooks, attempt: hooks.maxAttempts }, log);
      throw error;
    }
  } finally {
    await lock.release();
  }
}

interface DumpedArtifact {
  file: string;
  sizeBytes: number;
  checksumSha256: string;
}

/**
 * Recovers to the moment, dumps `database` from the private instance into a file of the work
 * directory, stops the instance, and hands the dump to `use`; the directory goes whatever happens.
 */
async function dumpAtMoment<T>(
  ctx: AppContext,
  input: { base: Parameters<typeof recoverToMoment>[1]; moment: Date; database: string; users: string[]; hooks: RunHooks; log: RunLog },
  use: (dump: DumpedArtifact) => Promise<T>,
): Promise<{ result: T; timings: RecoveryTimings; dumpMs: number }> {
  await mkdir(ctx.config.PITR_WORK_DIR ?? ctx.config.TMP_DIR, { recursive: true });
  const workDir = await mkdtemp(join(ctx.config.PITR_WORK_DIR ?? ctx.config.TMP_DIR, 'pitr-'));
  try {
    const recovered = await recoverToMoment(ctx, input.base, input.moment, { workDir, users: input.users, action: 'promote', log: input.log, signal: input.hooks.signal });
    let dumped: DumpedArtifact;
    const dumpStarted = Date.now();
    try {
      const connection: PgConnection = { host: recovered.instance.socketDir, port: recovered.instance.port, user: recovered.instance.superuser, database: input.database };
      const dumpDir = join(workDir, 'dump');
      await mkdir(dumpDir, { recursive: true });
      const written = await runDatabaseBackup({
        connection,
        type: 'full',
        compression: 'zstd',
        recipients: [],
        targets: [{ driver: createLocalStorage(dumpDir), key: 'database.dump.zst' }],
        tmpDir: workDir,
        countRows: false,
        logger: input.hooks.logger,
        signal: input.hooks.signal,
      }).catch((error: Error) => {
        if (/does not exist/.test(error.message)) throw new PermanentError(`Database "${input.database}" did not exist at that moment: ${error.message}`);
        throw error;
      });
      dumped = { file: join(dumpDir, 'database.dump.zst'), sizeBytes: written.sizeBytes, checksumSha256: written.checksumSha256 };
      input.log.info(`dumped "${input.database}" as it was at that moment: ${written.tablesCount} tables, ${written.sizeBytes} bytes`);
    } finally {
      await recovered.instance.stop();
    }
    const dumpMs = Date.now() - dumpStarted;
    return { result: await use(dumped), timings: recovered.timings, dumpMs };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function loadDump(ctx: AppContext, dump: DumpedArtifact, target: PgConnection, createDatabase: boolean, hooks: RunHooks): Promise<void> {
  await runDatabaseRestore({
    artifact: { open: async () => createReadStream(dump.file), sizeBytes: dump.sizeBytes, checksumSha256: dump.checksumSha256, encrypted: false },
    compression: 'zstd',
    identities: [],
    target,
    createDatabase,
    type: 'full',
    tmpDir: ctx.config.TMP_DIR,
    signal: hooks.signal,
    logger: hooks.logger,
  });
}
