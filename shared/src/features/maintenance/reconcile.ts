// Reconciliation: the history table against the queue, the workers' heartbeats and the stored objects.
// - a `running` row whose job is gone or failed becomes `failed` ("worker lost"), and so does one whose
//   worker has no heartbeat while no living worker serves its queue to take the job over;
// - a `pending` row whose job is missing (Redis restarted empty) is queued again;
// - temporary files older than a bound, or left by a process that has no heartbeat, are removed;
// - stored objects without a row, and rows whose objects are missing, are reported, and fixed only
//   when asked (fixMissing / fixOrphans).
import type { AppContext } from '../../infra/context.js';
import { destinationDriver } from '../destinations/destinations.js';
import { liveWorkers, type WorkerBeat } from '../../infra/heartbeats.js';
import { failRun } from '../../runs/transitions.js';
import { clause } from '../../infra/sentences.js';
import { removeLeftoverTemporaries, STALE_TEMPORARY_MS } from './temporaries.js';
import { enqueue } from '../catalog.js';
import { completeIfSwapped } from '../restores/swap.js';

export interface ReconcileReport {
  failedRunning: { model: string; id: string; reason: string }[];
  /** Restores whose worker was lost after their swap had committed: completed, not failed. */
  completedAfterSwap: string[];
  requeuedPending: { model: string; id: string }[];
  removedTemporaries: number;
  orphanObjects: { destination: string; key: string; sizeBytes: number }[];
  /** Objects of a destination laid out as coffre never writes: not coffre's, never reported as orphans nor removed. */
  foreignObjects: number;
  missingObjects: { destination: string; backupId: string; key: string }[];
  fixedMissing: number;
  removedOrphans: number;
}

export interface ReconcileOptions {
  now?: Date;
  /** A pending row younger than this may still be on its way to the queue. */
  pendingGraceMs?: number;
  /**
   * A running row written to within this window is left alone even when its job is gone: after Redis
   * lost its jobs, the worker running it may still be alive and about to finish. 0 (the default, for
   * an operator's explicit request) judges by the queue alone.
   */
  liveWindowMs?: number;
  temporariesOlderThanMs?: number;
  /** Check stored objects against the rows (lists every destination). */
  checkStorage?: boolean;
  fixMissing?: boolean;
  fixOrphans?: boolean;
  dryRun?: boolean;
}

type RunRow = { id: string; status: string; createdAt: Date; updatedAt: Date; startedAt: Date | null; workerId: string | null; trigger?: string; sourceId?: string | null; targetTime?: Date | null };

/** The job that runs a row: a restore to a moment (targetTime) is a job of the point-in-time recovery feature. */
const jobOf = {
  backup: (row: RunRow) => ({ id: `backup-${row.id}`, name: 'backup.run' as const, payload: { backupId: row.id } }),
  restore: (row: RunRow) =>
    row.targetTime
      ? { id: `pitr-restore-${row.id}`, name: 'pitr.restore' as const, payload: { restoreId: row.id } }
      : { id: `restore-${row.id}`, name: 'restore.run' as const, payload: { restoreId: row.id } },
  verification: (row: RunRow) => ({ id: `verification-${row.id}`, name: 'verification.run' as const, payload: { verificationId: row.id } }),
};
const queueOf = { backup: 'backup', restore: 'restore', verification: 'restore' } as const;

export async function reconcile(ctx: AppContext, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const report: ReconcileReport = {
    failedRunning: [],
    completedAfterSwap: [],
    requeuedPending: [],
    removedTemporaries: 0,
    orphanObjects: [],
    foreignObjects: 0,
    missingObjects: [],
    fixedMissing: 0,
    removedOrphans: 0,
  };
  await reconcileRuns(ctx, now, options, report);
  report.removedTemporaries = options.dryRun ? 0 : await removeStaleTemporaries(ctx, options.temporariesOlderThanMs);
  if (options.checkStorage) await reconcileStorage(ctx, options, report);
  return report;
}

async function reconcileRuns(ctx: AppContext, now: Date, options: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const grace = options.pendingGraceMs ?? 30_000;
  const workers = await liveWorkers(ctx);
  for (const model of ['backup', 'restore', 'verification'] as const) {
    const rows = await (ctx.db[model] as unknown as { findMany(args: object): Promise<RunRow[]> }).findMany({ where: { status: { in: ['pending', 'running'] } }, orderBy: { createdAt: 'asc' }, take: 5000 });
    const queue = ctx.queues.queue(queueOf[model]);
    const served = workers.some((w) => w.queues.includes(queueOf[model]));
    for (const row of rows) {
      if (model === 'backup' && row.trigger === 'pre-restore') {
        // A safety backup runs inside its restore's job: it is lost when no restore is running.
        const restoring = await ctx.db.restore.count({ where: { status: 'running', targetSourceId: row.sourceId ?? undefined } });
        if (restoring === 0 && now.getTime() - row.createdAt.getTime() > grace) {
          await markLost(ctx, model, row.id, 'The worker running this safety backup was lost (its restore is no longer running).', options, report);
        }
        continue;
      }
      const runs = jobOf[model](row);
      const job = await queue.getJob(runs.id);
      const state = job ? await job.getState() : 'missing';
      if (row.status === 'running') {
        const recentlyAlive = now.getTime() - row.updatedAt.getTime() < (options.liveWindowMs ?? 0);
        if ((state === 'missing' || state === 'unknown') && recentlyAlive) continue;
        if (state === 'missing' || state === 'completed' || state === 'unknown') {
          await markLost(ctx, model, row.id, `Worker lost: the ${model}'s job is ${state === 'missing' ? 'gone from the queue (was Redis restarted or flushed?)' : `${state} while the row still said running`}.`, options, report);
        } else if (state === 'failed') {
          await markLost(ctx, model, row.id, `Worker lost: ${clause(job?.failedReason || 'the job failed without recording why')}.`, options, report);
        } else if (row.workerId && !served && !isAlive(workers, row.workerId)) {
          // Its job still waits or looks active, but the worker that claimed it has stopped sending
          // heartbeats and no worker lives to take it over (one that does is left to BullMQ's stall check).
          await markLost(ctx, model, row.id, `Worker lost: worker ${row.workerId} stopped sending heartbeats, and no worker is alive to take the ${model} over.`, options, report);
        }
      } else if (state === 'missing' && now.getTime() - row.createdAt.getTime() > grace) {
        report.requeuedPending.push({ model, id: row.id });
        if (!options.dryRun) {
          await enqueue(ctx, runs.name, runs.payload as never);
        }
      } else if (state === 'failed') {
        await markLost(ctx, model, row.id, `The job failed before it started: ${clause(job?.failedReason || 'no reason recorded')}.`, options, report);
      }
    }
  }
}

async function markLost(ctx: AppContext, model: 'backup' | 'restore' | 'verification', id: string, reason: string, options: ReconcileOptions, report: ReconcileReport) {
  // A restore lost after its swap committed did restore: the target holds the backup.
  // (A target server that cannot be reached says nothing either way: the row is failed as before.)
  if (model === 'restore' && !options.dryRun && (await completeIfSwapped(ctx, id, reason).catch(() => false))) {
    report.completedAfterSwap.push(id);
    return;
  }
  report.failedRunning.push({ model, id, reason });
  if (!options.dryRun) await failRun(ctx, model, id, reason);
}

function isAlive(workers: WorkerBeat[], workerId: string): boolean {
  return workers.some((w) => w.workerId === workerId);
}

async function removeStaleTemporaries(ctx: AppContext, olderThanMs?: number): Promise<number> {
  let removed = 0;
  // Unfinished uploads elsewhere than on a local disk (S3 multipart uploads) are known by age only.
  for (const destination of await ctx.db.destination.findMany({ where: { kind: { not: 'local' } } })) {
    const driver = destinationDriver(ctx, destination);
    removed += (await driver.removeStaleTemporaries?.(olderThanMs ?? STALE_TEMPORARY_MS).catch(() => 0)) ?? 0;
  }
  return removed + (await removeLeftoverTemporaries(ctx, { olderThanMs }));
}

const BACKUP_ID_IN_KEY = /(?:^|\/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/**
 * The keys coffre writes: `<yyyy>/<mm>/<dd>/<backup id>/…` (or `<backup id>/…`) and `wal/<source id>/…`.
 * Anything else in a destination was put there by someone else (a local destination may be a
 * directory that holds other files): it is never an orphan, and never removed.
 */
const COFFRE_KEY = new RegExp(`^(?:(?:\\d{4}/\\d{2}/\\d{2}/)?${UUID}/|wal/${UUID}/)[^/]`);

async function reconcileStorage(ctx: AppContext, options: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const destinations = await ctx.db.destination.findMany();
  for (const destination of destinations) {
    const driver = destinationDriver(ctx, destination);
    const artifacts = await ctx.db.backupArtifact.findMany({
      where: { destinationId: destination.id, deletedAt: null },
      include: { backup: { select: { id: true, status: true, deletedAt: true } } },
    });
    const expected = new Map(artifacts.map((a) => [a.key, a]));
    // The stored WAL of point-in-time recovery is recorded in its own table.
    const wal = new Set((await ctx.db.walFile.findMany({ where: { destinationIds: { has: destination.id }, deletedAt: null }, select: { key: true } })).map((w) => w.key));
    const seen = new Set<string>();
    for await (const object of driver.list()) {
      seen.add(object.key);
      if (expected.has(object.key) || wal.has(object.key)) continue;
      if (!COFFRE_KEY.test(object.key)) {
        report.foreignObjects += 1;
        continue;
      }
      // A WAL file being stored now is recorded just after its upload.
      if (object.key.startsWith('wal/') && Date.now() - object.modifiedAt.getTime() < 3600_000) continue;
      const backupId = BACKUP_ID_IN_KEY.exec(object.key)?.[1];
      const row = backupId ? await ctx.db.backup.findUnique({ where: { id: backupId }, select: { status: true } }) : null;
      // Objects of a run still going are not orphans yet.
      if (row && (row.status === 'pending' || row.status === 'running')) continue;
      report.orphanObjects.push({ destination: destination.name, key: object.key, sizeBytes: object.sizeBytes });
      if (options.fixOrphans && !options.dryRun) {
        await driver.delete(object.key);
        report.removedOrphans += 1;
      }
    }
    for (const artifact of artifacts) {
      if (seen.has(artifact.key) || artifact.backup.status !== 'completed') continue;
      report.missingObjects.push({ destination: destination.name, backupId: artifact.backupId, key: artifact.key });
      if (options.fixMissing && !options.dryRun) {
        await ctx.db.backupArtifact.update({ where: { id: artifact.id }, data: { deletedAt: new Date() } });
        const left = await ctx.db.backupArtifact.count({ where: { backupId: artifact.backupId, kind: 'database', deletedAt: null } });
        if (left === 0) {
          await ctx.db.backup.update({
            where: { id: artifact.backupId },
            data: { deletedAt: new Date(), errorMessage: 'Its artifacts were found missing from storage by reconciliation.' },
          });
        }
        report.fixedMissing += 1;
      }
    }
  }
}

export interface LongRun {
  model: 'backup' | 'restore' | 'verification';
  id: string;
  status: string;
  since: Date;
}

/** Runs still pending or running after `hours` (since they were created, or started running). */
export async function longRuns(ctx: AppContext, hours: number, now = new Date()): Promise<LongRun[]> {
  const before = new Date(now.getTime() - hours * 3600_000);
  const runs: LongRun[] = [];
  const where = { OR: [{ status: 'running' as const, startedAt: { lt: before } }, { status: 'pending' as const, createdAt: { lt: before } }] };
  const select = { id: true, status: true, startedAt: true, createdAt: true } as const;
  const rows = {
    backup: await ctx.db.backup.findMany({ where, select }),
    restore: await ctx.db.restore.findMany({ where, select }),
    verification: await ctx.db.verification.findMany({ where, select }),
  };
  for (const model of ['backup', 'restore', 'verification'] as const) {
    for (const row of rows[model]) runs.push({ model, id: row.id, status: row.status, since: row.status === 'running' ? (row.startedAt ?? row.createdAt) : row.createdAt });
  }
  return runs;
}
