// The `coffre` command: every subcommand, the settings it reads, and what its exit codes mean.
import { Command, CommanderError } from 'commander';
import { backupCommand } from './commands/backup.js';
import { channelCommand } from './commands/channel.js';
import { configCommand } from './commands/config.js';
import { doctorCommand } from './commands/doctor.js';
import { decryptCommand, keygenCommand } from './commands/keys.js';
import { destinationCommand } from './commands/destination.js';
import { sourceCommand } from './commands/source.js';
import { loginCommand, whoamiCommand } from './commands/login.js';
import { userCommand } from './commands/user.js';
import { cleanupCommand, storageCommand } from './commands/maintenance.js';
import { restoreCommand } from './commands/restore.js';
import { importCommand } from './commands/import.js';
import { pitrCommand } from './commands/pitr.js';
import { CliError, ExitCode, exitCodeHelp, type ExitCodeValue } from './exit-codes.js';

const settingsHelp = `Settings:
  Commands that talk to the API read --url and --token, else COFFRE_URL and COFFRE_TOKEN, else the file
  written by coffre login (~/.config/coffre/config.json, mode 0600; COFFRE_CONFIG names another).
  doctor, cleanup and storage run where coffre runs and read its environment (DATABASE_URL, REDIS_URL,
  SECRET_KEY, BACKUP_DIR, …) like the API and workers. --json prints what scripts read; progress and
  notes go to stderr.`;

export function buildProgram(): Command {
  const program = new Command('coffre')
    .description('backups of PostgreSQL databases and the files beside them, from the terminal')
    .version('0.1.0')
    .option('--url <url>', 'the coffre API (default: COFFRE_URL, or the saved settings)')
    .option('--token <token>', 'an API token (default: COFFRE_TOKEN, or the saved settings; prefer those: arguments show in ps)')
    .addHelpText('after', `\n${settingsHelp}\n\n${exitCodeHelp}`);
  for (const command of [
    backupCommand(),
    restoreCommand(),
    importCommand(),
    pitrCommand(),
    configCommand(),
    sourceCommand(),
    destinationCommand(),
    channelCommand(),
    keygenCommand(),
    decryptCommand(),
    doctorCommand(),
    cleanupCommand(),
    storageCommand(),
    loginCommand(),
    whoamiCommand(),
    userCommand(),
  ]) {
    program.addCommand(command);
  }
  configureAll(program);
  return program;
}

/** Runs the command line and answers its exit code; every error becomes one sentence on stderr. */
export async function run(argv: string[]): Promise<ExitCodeValue | number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help, or the version).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`coffre: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === 'ExitPromptError') {
    process.stderr.write('coffre: cancelled; nothing was changed.\n');
    return ExitCode.refused;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`coffre: ${message}\n`);
  if (process.env.COFFRE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}

/** Settings commander copies only to subcommands made with .command(), applied to every one. */
function configureAll(command: Command): void {
  command.exitOverride();
  command.showHelpAfterError('(add --help for usage)');
  command.configureHelp({ showGlobalOptions: true, sortSubcommands: false });
  for (const sub of command.commands) configureAll(sub);
}
