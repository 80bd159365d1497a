// coffre cleanup stuck and coffre storage reconcile: shared's reconciliation, run where coffre runs
// (same environment as the API and workers), for when an operator wants it now rather than at the
// next hourly maintenance run.
import { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import { openLocalCoffre, type LocalCoffre } from '../local.js';
import { humanBytes, note, printJson, printLine, table } from '../output.js';

export function cleanupCommand(): Command {
  const cleanup = new Command('cleanup').description('clear what runs that died left behind');
  cleanup
    .command('stuck')
    .description('mark failed the runs whose worker is gone, and those pending or running for more than N hours')
    .option('--hours <n>', 'a run older than this is stuck (default: STUCK_AFTER_HOURS, 6)')
    .option('--dry-run', 'only say what would be done')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nA run whose job is gone from the queue (its worker died, Redis was flushed) is failed whatever its age;\n' +
        'pending runs missing from the queue are queued again; temporary files older than 6 h are removed.\n' +
        'A run older than --hours is failed even if a worker still holds it: that worker\'s result is then discarded.',
    )
    .action(async (options: { hours?: string; dryRun?: boolean; json?: boolean }) => {
      await withLocal(async (local) => {
        const hours = options.hours === undefined ? local.config.STUCK_AFTER_HOURS : Number(options.hours);
        if (!Number.isFinite(hours) || hours <= 0) throw new CliError('--hours must be a number of hours above 0.', ExitCode.usage);
        requireRedis(local);
        const { reconcile, failRun, longRuns } = await import('@coffre/shared');
        const dryRun = Boolean(options.dryRun);
        const report = await reconcile(local.ctx, { dryRun, checkStorage: false });
        // Runs reconciliation just failed or queued again are handled; the rest over the limit are stuck.
        const handled = new Set([...report.failedRunning, ...report.requeuedPending].map((r) => r.id));
        const overLimit = (await longRuns(local.ctx, hours)).filter((r) => !handled.has(r.id));
        const failed: typeof overLimit = [];
        for (const run of overLimit) {
          const reason = `Marked failed by coffre cleanup stuck: it had been ${run.status} since ${run.since.toISOString()}, more than ${hours} h.`;
          if (dryRun || (await failRun(local.ctx, run.model, run.id, reason))) failed.push(run);
        }
        const result = {
          dryRun,
          hours,
          lostWorker: report.failedRunning,
          overLimit: failed.map((r) => ({ model: r.model, id: r.id, status: r.status, since: r.since.toISOString() })),
          requeuedPending: report.requeuedPending,
          removedTemporaries: report.removedTemporaries,
        };
        if (options.json) return printJson(result);
        const rows = [
          ...report.failedRunning.map((r) => [r.model, r.id, 'lost its worker', r.reason]),
          ...failed.map((r) => [r.model, r.id, `${r.status} > ${hours} h`, `since ${r.since.toISOString()}`]),
          ...report.requeuedPending.map((r) => [r.model, r.id, 'missing from the queue', 'queued again']),
        ];
        if (rows.length) printLine(table(['RUN', 'ID', 'FOUND', 'DETAIL'], rows));
        const verb = dryRun ? 'Would mark' : 'Marked';
        printLine(
          `${verb} ${report.failedRunning.length + failed.length} stuck run(s) failed, ${dryRun ? 'would queue' : 'queued'} ${report.requeuedPending.length} again` +
            (dryRun ? '.' : `, removed ${report.removedTemporaries} stale temporary file(s).`),
        );
      });
    });
  return cleanup;
}

export function storageCommand(): Command {
  const storage = new Command('storage').description('stored objects against the backup history');
  storage
    .command('reconcile')
    .description('list objects no backup owns (orphans) and backups whose objects are missing; fix them when asked')
    .option('--fix-missing', 'mark backups whose artifacts are missing as deleted (their rows stay)')
    .option('--fix-orphans', 'delete stored objects no backup owns')
    .option('--dry-run', 'only report, change nothing')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nLike the hourly maintenance run, it also fails runs whose worker is gone and removes stale temporary files\n(unless --dry-run).')
    .action(async (options: { fixMissing?: boolean; fixOrphans?: boolean; dryRun?: boolean; json?: boolean }) => {
      await withLocal(async (local) => {
        requireRedis(local);
        const { reconcile } = await import('@coffre/shared');
        const report = await reconcile(local.ctx, {
          checkStorage: true,
          fixMissing: Boolean(options.fixMissing),
          fixOrphans: Boolean(options.fixOrphans),
          dryRun: Boolean(options.dryRun),
        });
        if (options.json) return printJson({ dryRun: Boolean(options.dryRun), ...report });
        if (report.orphanObjects.length) {
          printLine(`Orphan objects (no backup owns them)${report.removedOrphans ? ', deleted' : ''}:`);
          printLine(table(['DESTINATION', 'KEY', 'SIZE'], report.orphanObjects.map((o) => [o.destination, o.key, humanBytes(o.sizeBytes)])));
        }
        if (report.missingObjects.length) {
          printLine(`Missing objects (their backup says they exist)${report.fixedMissing ? ', marked deleted' : ''}:`);
          printLine(table(['DESTINATION', 'BACKUP', 'KEY'], report.missingObjects.map((o) => [o.destination, o.backupId, o.key])));
        }
        printLine(
          `${report.orphanObjects.length} orphan object(s)${report.removedOrphans ? ` (${report.removedOrphans} deleted)` : ''}, ` +
            `${report.missingObjects.length} missing object(s)${report.fixedMissing ? ` (${report.fixedMissing} marked deleted)` : ''}; ` +
            `${report.failedRunning.length} lost run(s) ${options.dryRun ? 'found' : 'failed'}` +
            `${report.foreignObjects ? `; ${report.foreignObjects} object(s) coffre did not write were left alone` : ''}.`,
        );
        if (!options.dryRun && ((report.orphanObjects.length && !options.fixOrphans) || (report.missingObjects.length && !options.fixMissing))) {
          note('Nothing was deleted or marked: pass --fix-orphans and/or --fix-missing to repair (try --dry-run first).');
        }
      });
    });
  return storage;
}

async function withLocal(work: (local: LocalCoffre) => Promise<void>): Promise<void> {
  const local = await openLocalCoffre();
  try {
    await work(local);
  } finally {
    await local.close();
  }
}

function requireRedis(local: LocalCoffre): void {
  if (!local.redisReady) throw new CliError('Redis does not answer (REDIS_URL): reconciliation compares the history with the queue, so it needs Redis. Run coffre doctor.');
}
