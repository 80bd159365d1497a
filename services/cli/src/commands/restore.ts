// coffre restore: a backup into its source's database (or another database or source). With no
// backup named on a terminal, a wizard picks one; either way the operator sees what will be
// overwritten and confirms with the backup's name (--yes sends it for scripts).
import { Command } from 'commander';
import type { BackupView, RestoreView, SourceView } from '@coffre/shared';
import { ApiError, type ApiClient } from '../api.js';
import { connect, isInteractive } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { humanAge, humanBytes, humanDuration, note, printJson, printLine } from '../output.js';
import { watchRun } from '../progress.js';
import { resolveBackup, resolveSource } from '../resolve.js';

interface RestoreOptions {
  targetSource?: string;
  targetDatabase?: string;
  yes?: boolean;
  wait: boolean;
  json?: boolean;
}

export function restoreCommand(): Command {
  return new Command('restore')
    .description('restore a backup into a database (a wizard when no backup is named on a terminal)')
    .argument('[backup]', 'the backup\'s id or name')
    .option('-s, --target-source <source>', 'restore onto this source\'s server (name or id; default: the backup\'s source)')
    .option('-d, --target-database <database>', 'restore into this database (default: the target source\'s database); created when missing')
    .option('-y, --yes', 'confirm without asking (sends the backup\'s name as the confirmation)')
    .option('--no-wait', 'return once the restore is queued')
    .option('--json', 'print the restore as JSON')
    .addHelpText(
      'after',
      '\nA restore replaces the target database\'s content. When the target database exists, a safety backup\nof it is taken first (trigger pre-restore), so the restore can itself be undone.',
    )
    .action(async (nameOrId: string | undefined, options: RestoreOptions, command: Command) => {
      const api = await connect(command);
      const wizard = !nameOrId;
      if (wizard && (options.yes || !isInteractive())) {
        throw new CliError('Name the backup to restore (coffre restore <backup> --yes), or run coffre restore on a terminal to choose one.', ExitCode.usage);
      }
      const backup = wizard ? await pickBackup(api) : await resolveBackup(api, nameOrId);
      if (backup.status !== 'completed' || backup.deletedAt) {
        throw new CliError(`Backup "${backup.name}" cannot be restored: it is ${backup.deletedAt ? 'deleted' : backup.status}.`, ExitCode.refused);
      }
      const target = await chooseTarget(api, backup, options, wizard);
      explain(backup, target);
      const confirm = await confirmation(backup, options);
      const restore = await requestRestore(api, backup, target, confirm);
      if (!options.wait) {
        if (options.json) printJson(restore);
        else printLine(`Restore ${restore.id} queued; follow it with: coffre restore status ${restore.id}`);
        return;
      }
      const done = await watchRun({
        label: `restore of "${backup.name}"`,
        poll: () => api.get<RestoreView>(`/api/restores/${restore.id}`),
        totalBytes: backup.sizeBytes,
        followUp: `Follow it with: coffre restore status ${restore.id}`,
      });
      if (options.json) printJson(done);
      if (done.status === 'failed') throw new CliError(`The restore of "${backup.name}" failed: ${done.errorMessage ?? 'no reason recorded'}`);
      if (!options.json) {
        const safety = done.safetyBackupId ? ` A safety backup of the previous content was taken first: ${done.safetyBackupId}.` : '';
        printLine(`Restored "${backup.name}" into database ${done.targetDatabase} in ${humanDuration(done.durationMs)}.${safety}`);
      }
    })
    .addCommand(
      new Command('status')
        .description('one restore: status, target, safety backup, error')
        .argument('<restore>', 'the restore\'s id')
        .option('--json', 'print the restore as JSON')
        .action(async (id: string, _options: unknown, command: Command) => {
          const api = await connect(command);
          const r = await api.get<RestoreView>(`/api/restores/${encodeURIComponent(id)}`);
          // `restore` has a --json of its own, which takes the flag wherever it stands on the line.
          if (command.optsWithGlobals<{ json?: boolean }>().json) return printJson(r);
          printLine(`Restore ${r.id} of "${r.backupName ?? r.backupId}" into ${r.targetDatabase}: ${r.status}${r.errorMessage ? ` (${r.errorMessage})` : ''}`);
          if (r.safetyBackupId) printLine(`Safety backup: ${r.safetyBackupId}`);
        }),
    );
}

interface Target {
  source: SourceView;
  database: string;
  /** Sent only when the operator chose them; otherwise the API applies its own defaults. */
  sendSource: boolean;
  sendDatabase: boolean;
}

async function pickBackup(api: ApiClient): Promise<BackupView> {
  const { items } = await api.get<{ items: BackupView[] }>('/api/backups', { status: 'completed', pageSize: 20 });
  if (items.length === 0) throw new CliError('There is no completed backup to restore yet.', ExitCode.notFound);
  const { select } = await import('@inquirer/prompts');
  const id = await select({
    message: 'Which backup do you want to restore?',
    pageSize: 10,
    choices: items.map((b) => ({
      name: `${b.name}  (${b.sourceName}, ${b.type}, ${humanBytes(b.sizeBytes)}, ${humanAge(b.completedAt ?? b.createdAt)})`,
      value: b.id,
    })),
  });
  return api.get<BackupView>(`/api/backups/${id}`);
}

async function chooseTarget(api: ApiClient, backup: BackupView, options: RestoreOptions, wizard: boolean): Promise<Target> {
  const sourceRef = options.targetSource ?? backup.sourceId;
  if (!sourceRef) {
    throw new CliError(`The source of "${backup.name}" (${backup.sourceName}) no longer exists: choose one with --target-source.`, ExitCode.usage);
  }
  const source = await resolveSource(api, sourceRef);
  let database = options.targetDatabase ?? databaseOf(source);
  let sendDatabase = Boolean(options.targetDatabase);
  if (wizard && !options.targetDatabase) {
    const { input } = await import('@inquirer/prompts');
    const answer = (await input({ message: `Restore into which database on ${source.name}?`, default: database })).trim();
    if (answer !== database) sendDatabase = true;
    database = answer;
  }
  return { source, database, sendSource: Boolean(options.targetSource), sendDatabase };
}

function explain(backup: BackupView, target: Target): void {
  note(
    [
      `Backup:   "${backup.name}" (${backup.type}, ${humanBytes(backup.sizeBytes)}, taken ${humanAge(backup.completedAt ?? backup.createdAt)})`,
      `Target:   database "${target.database}" on source ${target.source.name} (${target.source.url})`,
      `If "${target.database}" exists, its content is replaced by the backup's; a safety backup of it is taken first.`,
      `If it does not exist, it is created.`,
    ].join('\n'),
  );
}

async function confirmation(backup: BackupView, options: RestoreOptions): Promise<string> {
  if (options.yes) return backup.name;
  if (!isInteractive()) {
    throw new CliError(`Not restored: confirm by typing the backup's name on a terminal, or pass --yes in scripts.`, ExitCode.refused);
  }
  const { input } = await import('@inquirer/prompts');
  const typed = await input({ message: `Type the backup's name (${backup.name}) to restore it:` });
  if (typed.trim() !== backup.name) {
    throw new CliError(`The name typed does not match "${backup.name}": nothing was restored.`, ExitCode.refused);
  }
  return backup.name;
}

async function requestRestore(api: ApiClient, backup: BackupView, target: Target, confirm: string): Promise<RestoreView> {
  try {
    return await api.post<RestoreView>(`/api/backups/${backup.id}/restore`, {
      confirm,
      ...(target.sendSource ? { targetSourceId: target.source.id } : {}),
      ...(target.sendDatabase ? { targetDatabase: target.database } : {}),
    });
  } catch (error) {
    // The API checks the confirmation too: a mismatch there is a refusal, not a usage error.
    if (error instanceof ApiError && error.status === 400 && /^confirm\b/.test(error.message)) {
      throw new CliError(error.message, ExitCode.refused);
    }
    throw error;
  }
}

/** The database named in a source's (masked) URL. */
function databaseOf(source: SourceView): string {
  try {
    return decodeURIComponent(new URL(source.url).pathname.replace(/^\//, '')) || 'postgres';
  } catch {
    return 'postgres';
  }
}
