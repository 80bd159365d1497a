// coffre restore: a backup's database into its source's database (or another database or source),
// its archived files into a directory, or its bucket objects into a bucket. With no backup named on
// a terminal, a wizard picks one; `latest` (or --latest) takes the newest completed one. Either way
// the operator sees what will be written and confirms with the backup's name (--yes for scripts).
import { Command, Option } from 'commander';
import type { BackupView, RestoreRequest, RestoreView, SourceView } from '@coffre/contract';
import { ApiError, type ApiClient } from '../api.js';
import { connect, isInteractive } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { humanAge, humanBytes, humanDuration, note, printJson, printLine } from '../output.js';
import { describeRows, watchRun } from '../progress.js';
import { resolveBackup, resolveSource } from '../resolve.js';

type ArtifactKind = 'database' | 'files' | 'bucket';

interface RestoreOptions {
  source?: string;
  latest?: boolean;
  artifact?: ArtifactKind;
  targetSource?: string;
  targetDatabase?: string;
  targetPath?: string;
  targetPrefix?: string;
  /** A server backup: one of its databases, or all of them plus the globals. */
  database?: string;
  allDatabases?: boolean;
  yes?: boolean;
  wait: boolean;
  json?: boolean;
}

export function restoreCommand(): Command {
  return new Command('restore')
    .description('restore a backup into a database, a directory or a bucket (a wizard when no backup is named on a terminal)')
    .argument('[backup]', 'the backup\'s id or name, or "latest" for the newest completed backup')
    .option('--latest', 'restore the newest completed backup (of --source when given)')
    .option('--source <source>', 'with latest: the newest backup of this source (name or id)')
    .addOption(new Option('-a, --artifact <kind>', 'what to restore (default: the bucket of a bucket backup, else the database)').choices(['database', 'files', 'bucket']))
    .option('-s, --target-source <source>', 'restore onto this source (name or id; default: the backup\'s source)')
    .option('-d, --target-database <database>', 'restore into this database (default: the target source\'s database); created when missing')
    .option('--target-path <dir>', 'files: the absolute directory to recreate the archived files in (under FILES_ROOTS)')
    .option('--target-prefix <prefix>', 'bucket: the key prefix to put the objects under (default: the target source\'s prefix)')
    .option('--database <name>', 'a backup of a whole server: the one database of it to restore (into --target-database, by default its own name)')
    .option('--all-databases', 'a backup of a whole server: every database under its own name plus the globals, into --target-source (none of them may exist there)')
    .option('-y, --yes', 'confirm without asking (sends the backup\'s name as the confirmation)')
    .option('--no-wait', 'return once the restore is queued')
    .option('--json', 'print the restore as JSON')
    .addHelpText(
      'after',
      '\nA database restore replaces the target database\'s content. When the target database exists, the backup is\nloaded into a new database beside it, checked, and swapped in; the replaced one is kept for RESTORE_KEEP_DAYS\n(coffre restore undo <restore>). Where the role may not create or rename databases, a safety backup is\ntaken first instead (trigger pre-restore).\n\nExamples:\n  coffre restore latest --source app --yes\n  coffre restore nightly-full-20260101-020000Z --artifact files --target-path /srv/restored --yes\n  coffre restore media-full-20260101-020000Z --artifact bucket --target-prefix restored/ --yes',
    )
    .action(async (nameOrId: string | undefined, options: RestoreOptions, command: Command) => {
      const api = await connect(command);
      const latest = options.latest || nameOrId === 'latest';
      if (latest && nameOrId && nameOrId !== 'latest') throw new CliError('Name a backup or pass --latest, not both.', ExitCode.usage);
      if (options.source && !latest) throw new CliError('--source chooses among backups with latest: coffre restore latest --source NAME (the target is --target-source).', ExitCode.usage);
      const wizard = !nameOrId && !latest;
      if (wizard && (options.yes || !isInteractive())) {
        throw new CliError('Name the backup to restore (coffre restore <backup> --yes, or coffre restore latest --yes), or run coffre restore on a terminal to choose one.', ExitCode.usage);
      }
      const backup = latest ? await latestBackup(api, options) : wizard ? await pickBackup(api) : await resolveBackup(api, nameOrId!);
      if (backup.status !== 'completed' || backup.deletedAt) {
        throw new CliError(`Backup "${backup.name}" cannot be restored: it is ${backup.deletedAt ? 'deleted' : backup.status}.`, ExitCode.refused);
      }
      const target = await chooseTarget(api, backup, options, wizard);
      explain(backup, target);
      const confirm = await confirmation(backup, options);
      const restore = await requestRestore(api, backup, target, confirm, options);
      if (!options.wait) {
        if (options.json) printJson(restore);
        else printLine(`Restore ${restore.id} queued; follow it with: coffre restore status ${restore.id}`);
        return;
      }
      const done = await watchRun({
        label: `restore of "${backup.name}"`,
        poll: () => api.call('restores.get', { params: { id: restore.id } }),
        totalBytes: backup.sizeBytes,
        followUp: `Follow it with: coffre restore status ${restore.id}`,
      });
      if (options.json) printJson(done);
      if (done.status === 'failed') throw new CliError(`The restore of "${backup.name}" failed: ${done.errorMessage ?? 'no reason recorded'}`);
      if (!options.json) {
        const safety = done.keptDatabase
          ? ` The replaced database is kept as "${done.keptDatabase}" (coffre restore undo ${done.id}).`
          : done.safetyBackupId ? ` A safety backup of the previous content was taken first: ${done.safetyBackupId}.` : '';
        printLine(`Restored "${backup.name}" ${describeTarget(target)} in ${humanDuration(done.durationMs)}.${safety}`);
      }
    })
    .addCommand(
      new Command('status')
        .description('one restore: status, target, safety backup, error')
        .argument('<restore>', 'the restore\'s id')
        .option('--json', 'print the restore as JSON')
        .action(async (id: string, _options: unknown, command: Command) => {
          const api = await connect(command);
          const r = await api.call('restores.get', { params: { id } });
          // `restore` has a --json of its own, which takes the flag wherever it stands on the line.
          if (command.optsWithGlobals<{ json?: boolean }>().json) return printJson(r);
          printLine(`Restore ${r.id} of "${r.backupName ?? r.backupId}" ${await describeRestoreTarget(api, r)}: ${r.status}${r.errorMessage ? ` (${r.errorMessage})` : ''}`);
          if (r.status === 'running') {
            const rows = r.loadedRows ? `, ${describeRows(r.loadedRows, r.expected?.rows)} loaded` : '';
            printLine(`Now: ${r.phase ?? 'starting'} (${humanBytes(r.progressBytes)} of the artifact read${rows})`);
          }
          if (r.safetyBackupId) printLine(`Safety backup: ${r.safetyBackupId}`);
          // Once undone, the replaced database has its name back: the line below says where the restored one is.
          if (r.keptDatabase && !r.undoneAt) printLine(`Replaced database kept as: ${r.keptDatabase}${r.undoable ? ` (undo: coffre restore undo ${r.id})` : ''}`);
          if (r.swapMs !== null) printLine(`Unavailable during the swap: ${r.swapMs} ms`);
          if (r.undoneAt) printLine(`Undone at ${r.undoneAt} by ${r.undoneBy}; the restored database is kept as ${r.undoneDatabase}`);
        }),
    )
    .addCommand(
      new Command('undo')
        .description('swap back the database a restore replaced (the restored one is kept)')
        .argument('<restore>', 'the restore\'s id')
        .option('--json', 'print the restore as JSON')
        .action(async (id: string, _options: unknown, command: Command) => {
          const api = await connect(command);
          const r = await api.call('restores.undo', { params: { id } });
          if (command.optsWithGlobals<{ json?: boolean }>().json) return printJson(r);
          printLine(`Undone: database "${r.targetDatabase}" is again the one restore ${r.id} replaced; the restored one is kept as "${r.undoneDatabase}".`);
        }),
    );
}

type Target =
  | {
      kind: 'database';
      source: SourceView;
      database: string;
      /** Sent only when the operator chose them; otherwise the API applies its own defaults. */
      sendSource: boolean;
      sendDatabase: boolean;
    }
  | { kind: 'files'; path: string }
  | { kind: 'bucket'; source: SourceView; prefix: string | undefined; sendSource: boolean };

/** The newest completed backup (of --source), holding the artifact asked for. */
async function latestBackup(api: ApiClient, options: RestoreOptions): Promise<BackupView> {
  const source = options.source ? await resolveSource(api, options.source) : null;
  const { items } = await api.call('backups.list', { query: { status: 'completed', sourceId: source?.id, pageSize: 20 } });
  const of = source ? ` of source ${source.name}` : '';
  if (items.length === 0) throw new CliError(`There is no completed backup${of} to restore.`, ExitCode.notFound);
  if (!options.artifact) return api.call('backups.get', { params: { id: items[0]!.id } });
  for (const item of items) {
    const backup = await api.call('backups.get', { params: { id: item.id } });
    if (backup.artifacts?.some((a) => a.kind === options.artifact)) return backup;
  }
  throw new CliError(`None of the 20 newest completed backups${of} holds a ${options.artifact} artifact.`, ExitCode.notFound);
}

async function pickBackup(api: ApiClient): Promise<BackupView> {
  const { items } = await api.call('backups.list', { query: { status: 'completed', pageSize: 20 } });
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
  return api.call('backups.get', { params: { id } });
}

async function chooseTarget(api: ApiClient, backup: BackupView, options: RestoreOptions, wizard: boolean): Promise<Target> {
  const kind: ArtifactKind = options.artifact ?? (backup.artifacts?.some((a) => a.kind === 'bucket') ? 'bucket' : 'database');
  const misplaced = kind === 'files' ? ['targetSource', 'targetDatabase', 'targetPrefix'] : kind === 'bucket' ? ['targetDatabase', 'targetPath'] : ['targetPath', 'targetPrefix'];
  const given = misplaced.filter((key) => options[key as keyof RestoreOptions] !== undefined);
  if (given.length) throw new CliError(`${given.map(flagOf).join(', ')} do${given.length === 1 ? 'es' : ''} not apply to a ${kind} restore.`, ExitCode.usage);
  if (kind === 'files') {
    if (!options.targetPath) throw new CliError('A files restore needs --target-path DIR: the absolute directory to recreate the files in.', ExitCode.usage);
    return { kind, path: options.targetPath };
  }
  const sourceRef = options.targetSource ?? backup.sourceId;
  if (!sourceRef) {
    throw new CliError(
      backup.trigger === 'import'
        ? `"${backup.name}" was imported without a source: choose where to restore it with --target-source.`
        : `The source of "${backup.name}" (${backup.sourceName}) no longer exists: choose one with --target-source.`,
      ExitCode.usage,
    );
  }
  const source = await resolveSource(api, sourceRef);
  if (kind === 'bucket') return { kind, source, prefix: options.targetPrefix, sendSource: Boolean(options.targetSource) };
  let database = options.targetDatabase ?? databaseOf(source);
  let sendDatabase = Boolean(options.targetDatabase);
  if (wizard && !options.targetDatabase) {
    const { input } = await import('@inquirer/prompts');
    const answer = (await input({ message: `Restore into which database on ${source.name}?`, default: database })).trim();
    if (answer !== database) sendDatabase = true;
    database = answer;
  }
  return { kind, source, database, sendSource: Boolean(options.targetSource), sendDatabase };
}

function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function explain(backup: BackupView, target: Target): void {
  const lines = [`Backup:   "${backup.name}" (${backup.type}, ${humanBytes(backup.sizeBytes)}, taken ${humanAge(backup.completedAt ?? backup.createdAt)})`];
  if (target.kind === 'database') {
    lines.push(
      `Target:   database "${target.database}" on source ${target.source.name} (${target.source.url})`,
      `If "${target.database}" exists, the backup is loaded beside it and swapped in; the replaced database is kept (coffre restore undo).`,
      `If it does not exist, it is created.`,
    );
  } else if (target.kind === 'files') {
    lines.push(`Target:   directory ${target.path}`, `The archived files are recreated in it; nothing is written outside it.`);
  } else {
    lines.push(`Target:   ${bucketWords(target.source, target.prefix)}`, `Objects of the same keys are replaced by the backup's.`);
  }
  note(lines.join('\n'));
}

/** "into database app", "into directory /srv/restored", "into bucket media (prefix restored/)". */
function describeTarget(target: Target): string {
  if (target.kind === 'database') return `into database ${target.database}`;
  if (target.kind === 'files') return `into directory ${target.path}`;
  return `into ${bucketWords(target.source, target.prefix)}`;
}

async function describeRestoreTarget(api: ApiClient, r: RestoreView): Promise<string> {
  if (r.targetKind === 'files') return `into directory ${r.targetPath}`;
  if (r.targetKind === 'bucket') {
    const source = r.targetSourceId ? await api.call('sources.get', { params: { id: r.targetSourceId } }).catch(() => null) : null;
    return source ? `into ${bucketWords(source, r.targetPath ?? undefined)}` : `into a bucket (prefix ${r.targetPath || 'none'})`;
  }
  return `into database ${r.targetDatabase}`;
}

/** A bucket source's masked URL is s3://bucket/prefix[ at endpoint]. */
function bucketWords(source: SourceView, prefix: string | undefined): string {
  const match = /^s3:\/\/([^/]+)\/(\S*)/.exec(source.url);
  const bucket = match?.[1] ?? source.name;
  const shownPrefix = prefix ?? match?.[2] ?? '';
  return `bucket ${bucket}${shownPrefix ? ` (prefix ${shownPrefix})` : ''} of source ${source.name}`;
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

async function requestRestore(api: ApiClient, backup: BackupView, target: Target, confirm: string, options: RestoreOptions): Promise<RestoreView> {
  const body: RestoreRequest = { confirm, artifact: target.kind };
  if (options.database) body.database = options.database;
  if (options.allDatabases) body.allDatabases = true;
  if (target.kind === 'files') body.targetPath = target.path;
  else {
    if (target.sendSource) body.targetSourceId = target.source.id;
    if (target.kind === 'database' && target.sendDatabase && !options.allDatabases) body.targetDatabase = target.database;
    if (target.kind === 'bucket' && target.prefix !== undefined) body.targetPrefix = target.prefix;
  }
  try {
    return await api.call('backups.restore', { params: { id: backup.id }, body });
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
