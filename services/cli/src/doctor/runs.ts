// The checks of `coffre doctor` about runs: whether any worker is alive (heartbeats), runs that lost
// their worker or have been going for too long, temporaries that dead runs left behind, schedulers
// against the configurations, and whether each scheduled configuration completed a backup when one
// was due.
import { rm } from 'node:fs/promises';
import { judgeProtection, type ConfigurationDetails } from '@coffre/shared';
import type { LocalCoffre } from '../local.js';
import { humanAge, humanBytes } from '../output.js';
import type { Outcome, Shared } from './outcome.js';

export async function workersCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const { ctx } = local;
  const workers = await shared.liveWorkers(ctx);
  const ttl = Math.round(shared.heartbeatTiming(ctx.config).ttlMs / 1000);
  const details = { alive: workers.length, workers: workers.map((w) => `${w.workerId} (${w.queues.join(', ')}; beat ${humanAge(w.beatAt)})`) };
  if (workers.length === 0) {
    // Counted when the database answers; without it, that no worker lives is news enough.
    const { scheduledConfigurations: scheduled, waitingBackups: waiting } = await shared.workWaitingForWorkers(ctx);
    const what = [scheduled ? `${scheduled} scheduled configuration(s) are not backed up` : '', waiting ? `${waiting} backup(s) wait for a worker` : ''].filter(Boolean);
    return {
      status: scheduled || waiting ? 'fail' : 'warn',
      message: `No worker is alive (none has sent a heartbeat in the last ${ttl} s): no backup, restore or maintenance runs${what.length ? `; ${what.join(', and ')}` : ''}.`,
      fix: 'Start a worker where coffre runs: pnpm worker (or docker compose up -d worker), with the same DATABASE_URL, REDIS_URL and QUEUE_PREFIX.',
      details,
    };
  }
  const unserved = shared.queueNames.filter((queue) => !workers.some((w) => w.queues.includes(queue)));
  const alive = `${workers.length} worker(s) alive: ${workers.map((w) => `${w.host} pid ${w.pid}`).join(', ')}`;
  if (unserved.length > 0) {
    return { status: 'warn', message: `${alive}; but none serves the ${unserved.join(', ')} queue(s).`, fix: 'Start a worker that serves every queue (pnpm worker does).', details };
  }
  return { status: 'ok', message: `${alive}.`, details };
}

export async function stuckRunsCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const hours = local.config.STUCK_AFTER_HOURS;
  // The same judgement reconciliation makes: a job gone from the queue, or a worker without heartbeat.
  const seen = await shared.reconcile(local.ctx, { dryRun: true });
  const lostIds = new Set(seen.failedRunning.map((r) => r.id));
  const long = (await shared.longRuns(local.ctx, hours)).filter((r) => !lostIds.has(r.id));
  const details = { lost: seen.failedRunning.length, requeue: seen.requeuedPending.length, overLimit: long.length, limitHours: hours };
  if (seen.failedRunning.length === 0 && seen.requeuedPending.length === 0 && long.length === 0) {
    return { status: 'ok', message: `No run has lost its worker, and none has been pending or running for more than ${hours} h.`, details };
  }
  const parts: string[] = [];
  if (seen.failedRunning.length) parts.push(`${seen.failedRunning.length} run(s) lost their worker (${seen.failedRunning.map((r) => `${r.model} ${r.id}: ${shared.clause(r.reason)}`).join('; ')})`);
  if (seen.requeuedPending.length) parts.push(`${seen.requeuedPending.length} pending run(s) are missing from the queue`);
  if (long.length) parts.push(`${long.length} run(s) have been ${long.map((r) => r.status).includes('pending') ? 'pending or running' : 'running'} for more than ${hours} h (${long.map((r) => `${r.model} ${r.id}`).join(', ')})`);
  const canRepair = seen.failedRunning.length > 0 || seen.requeuedPending.length > 0;
  return {
    status: 'warn',
    message: `${parts.join('; ')}.`,
    fix: `${canRepair ? 'coffre doctor --fix marks lost runs failed and queues missing ones again. ' : ''}${long.length ? `Check that a worker runs; coffre cleanup stuck --hours ${hours} marks runs older than that failed.` : ''}`.trim(),
    details,
    ...(canRepair
      ? {
          repair: async () => {
            const done = await shared.reconcile(local.ctx, {});
            return `marked ${done.failedRunning.length} lost run(s) failed and queued ${done.requeuedPending.length} pending run(s) again (reconciliation).`;
          },
        }
      : {}),
  };
}

export async function temporariesCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const folders = await shared.temporaryFolders(local.ctx);
  const leftovers = await shared.leftoverTemporaries(local.ctx);
  const hours = shared.STALE_TEMPORARY_MS / 3600_000;
  if (leftovers.length === 0) return { status: 'ok', message: `No temporary file left by a dead run, and none older than ${hours} h, in ${folders.join(', ')}.` };
  const bytes = leftovers.reduce((sum, s) => sum + s.sizeBytes, 0);
  const dead = leftovers.filter((l) => l.why === 'dead').length;
  const old = leftovers.length - dead;
  const found = [old ? `${old} older than ${hours} h` : '', dead ? `${dead} of run(s) whose worker is dead (no heartbeat)` : ''].filter(Boolean).join(' and ');
  return {
    status: 'warn',
    message: `${leftovers.length} temporary file(s) (${humanBytes(bytes)}) were left by runs that died: ${found}.`,
    fix: 'coffre doctor --fix removes them (so do coffre cleanup stuck, a worker starting, and the hourly maintenance run).',
    details: { count: leftovers.length, sizeBytes: bytes, files: leftovers.slice(0, 20).map((s) => s.path) },
    repair: async () => {
      // Looked up again: a file may have been touched since, and only leftovers go.
      const now = await shared.leftoverTemporaries(local.ctx);
      for (const file of now) await rm(file.path, { recursive: true, force: true });
      return `removed ${now.length} stale temporary file(s).`;
    },
  };
}

export async function schedulersCheck(shared: Shared, local: LocalCoffre): Promise<Outcome> {
  const drift = await shared.schedulerDrift(local.ctx);
  const { missing, drifted, extra, missingVerifications, maintenanceMissing } = drift;
  const names = (list: string[]) => list.map((n) => `"${n}"`).join(', ');
  const problems: string[] = [];
  if (missing.length) problems.push(`no scheduler fires configuration(s) ${names(missing)}, so their scheduled backups are not taken`);
  if (drifted.length) problems.push(`the scheduler of ${names(drifted)} fires on another schedule than configured`);
  if (missingVerifications.length) problems.push(`no scheduler verifies ${names(missingVerifications)}`);
  if (extra.length) problems.push(`${extra.length} scheduler(s) fire for configurations that are gone or inactive (${extra.join(', ')})`);
  if (maintenanceMissing) problems.push('the maintenance scheduler (retention, reconciliation) is missing');
  const details = { ...drift };
  if (problems.length === 0) {
    return { status: 'ok', message: `${drift.expectedBackupSchedulers} active scheduled configuration(s), each with its scheduler; maintenance scheduled.`, details };
  }
  return {
    status: missing.length || drifted.length ? 'fail' : 'warn',
    message: `Schedulers are out of step with the configurations: ${problems.join('; ')}.`,
    fix: 'coffre doctor --fix re-syncs them (as every worker does at start).',
    details,
    repair: async () => {
      const synced = await shared.syncAllSchedulers(local.ctx);
      return `re-synced the schedulers: ${synced.backups} backup and ${synced.verifications} verification scheduler(s), and maintenance.`;
    },
  };
}

/** One scheduled configuration: a completed backup (artifacts kept) within its interval plus a grace. */
export function lastBackupOutcome(configuration: ConfigurationDetails): Outcome {
  const c = configuration;
  const last = c.lastCompletedAt ? `the last successful backup still kept was ${humanAge(c.lastCompletedAt)}` : 'it has never completed a backup (or none is kept)';
  const details = { lastCompletedAt: c.lastCompletedAt, lastStatus: c.lastStatus, schedule: c.scheduleDescription, overdueAt: c.overdueAt };
  const fix = `See why with coffre backup list --config "${c.name}" --status failed, check that a worker runs, then coffre config run "${c.name}".`;
  const due = c.overdueAt ? ` (overdue at ${c.overdueAt} unless one completes)` : '';
  // The dashboard's rule (rules/protection.ts): a configuration whose newest finished run failed is failing.
  const newestFinished = c.lastStatus === 'completed' || c.lastStatus === 'failed' ? c.lastStatus : null;
  const judged = judgeProtection({ lastCompletedAt: c.lastCompletedAt ? new Date(c.lastCompletedAt) : null, newestFinished, schedules: 1, overdue: c.overdue ? [c.name] : [] });
  if (judged.status === 'failing') {
    return { status: 'fail', message: `Failing: its newest run failed; ${last}${c.overdue ? ', and it is overdue' : due}.`, fix, details };
  }
  if (c.overdue) {
    return { status: 'warn', message: `Overdue: ${last}, and it runs ${c.scheduleDescription.replace(/^E/, 'e')}.`, fix, details };
  }
  // Not overdue yet, but no success at all is not "on time" either.
  if (!c.lastCompletedAt) return { status: 'ok', message: `Not due yet: no backup has completed since it was created or activated${due}.`, details };
  return { status: 'ok', message: `On time: ${last} (${c.scheduleDescription}).`, details };
}
