// coffre doctor: the first thing to run when something is wrong. Runs where coffre runs, with the
// same environment as the API and workers; exit code 1 when any check FAILs.
import { Command } from 'commander';
import { runChecks } from '../doctor/checks.js';
import { doctorJsonSchema, renderReport, summarize } from '../doctor/report.js';
import { ExitCode } from '../exit-codes.js';
import { openLocalCoffre } from '../local.js';
import { printJson, printLine } from '../output.js';

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check coffre\'s database, Redis, tools, disks, stuck runs, schedulers and overdue backups')
    .option('--fix', 'repair what is safe: re-sync schedulers, remove stale temporaries, fail lost runs, set Redis noeviction, create a missing backup directory')
    .option('--json', 'print the report as JSON (its schema: coffre doctor --schema)')
    .option('--schema', 'print the JSON schema of the --json report and exit')
    .addHelpText('after', '\nIt reads DATABASE_URL, REDIS_URL, SECRET_KEY, BACKUP_DIR… like the API and workers. Exit code 1 when any check fails.')
    .action(async (options: { fix?: boolean; json?: boolean; schema?: boolean }) => {
      if (options.schema) return printJson(doctorJsonSchema());
      const local = await openLocalCoffre();
      try {
        const report = summarize(await runChecks(local, { fix: Boolean(options.fix) }), Boolean(options.fix));
        if (options.json) printJson(report);
        else printLine(renderReport(report, Boolean(process.stdout.isTTY) && !process.env.NO_COLOR));
        if (report.status === 'fail') process.exitCode = ExitCode.failure;
      } finally {
        await local.close();
      }
    });
}
