// coffre config list|show|create|enable|disable|run|delete: backup configurations over the API.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import type { ConfigurationCreateRequest, ConfigurationDetails } from '@coffre/contract';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { fields, humanAge, note, printJson, printLine, table } from '../output.js';
import { resolveConfiguration, resolveDestination, resolveSource } from '../resolve.js';
import { waitForBackup } from './backup.js';

const weekdays = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface CreateOptions {
  file?: string;
  dumpJobs?: string;
  name?: string;
  source?: string;
  type?: string;
  schedule?: string;
  time?: string;
  weekday?: string;
  dayOfMonth?: string;
  cron?: string;
  timezone?: string;
  compression?: string;
  level?: string;
  encrypt?: boolean;
  keepLast?: string;
  maxAgeDays?: string;
  daily?: string;
  weekly?: string;
  monthly?: string;
  yearly?: string;
  minKeep?: string;
  maxTotalSize?: string;
  maxBackupSize?: string;
  timeLimit?: string;
  include?: string[];
  exclude?: string[];
  destination: string[];
  verify?: string;
  inactive?: boolean;
  json?: boolean;
}

export function configCommand(): Command {
  const config = new Command('config').description('backup configurations: what to back up, when, how and for how long');

  config
    .command('list')
    .description('every configuration, with its schedule, next run and last success')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const { items } = await api.call('configurations.list');
      if (options.json) return printJson(items);
      if (items.length === 0) return printLine('No configurations yet: create one with coffre config create.');
      printLine(
        table(
          ['NAME', 'SOURCE', 'TYPE', 'SCHEDULE', 'ACTIVE', 'NEXT RUN', 'LAST SUCCESS', 'ID'],
          items.map((c) => [
            c.name,
            c.sourceName,
            c.type,
            c.scheduleDescription,
            c.active ? 'yes' : 'no',
            c.nextRunAt ?? '-',
            `${humanAge(c.lastCompletedAt)}${c.overdue ? ' (OVERDUE)' : ''}`,
            c.id,
          ]),
        ),
      );
    });

  config
    .command('show')
    .description('one configuration')
    .argument('<configuration>', 'name or id')
    .option('--json', 'print it as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const c = await resolveConfiguration(api, nameOrId);
      if (options.json) return printJson(c);
      printLine(describeConfiguration(c));
    });

  config
    .command('create')
    .description('create a configuration from flags, or from a JSON file (flags given on top override it)')
    .option('-f, --file <file>', 'a JSON body as POST /api/configurations takes it ("source" may name the source)')
    .option('-n, --name <name>', 'its name')
    .option('-s, --source <source>', 'the source to back up (name or id)')
    .addOption(new Option('-t, --type <type>', 'what to dump').choices(['full', 'schema', 'data', 'physical']))
    .addOption(new Option('--schedule <kind>', 'when it runs').choices(['manual', 'hourly', 'daily', 'weekly', 'monthly', 'cron']))
    .option('--time <HH:MM>', 'time of day (daily, weekly, monthly), or the minute MM (hourly)')
    .option('--weekday <day>', 'day of the week for weekly: sunday … saturday, or 0 … 6')
    .option('--day-of-month <n>', 'day of the month for monthly (1–28)')
    .option('--cron <pattern>', 'a cron pattern (with --schedule cron)')
    .option('--timezone <zone>', 'IANA time zone of the schedule (default UTC)')
    .addOption(new Option('--compression <name>', 'compression of the artifacts').choices(['zstd', 'gzip', 'none']))
    .option('--level <n>', 'compression level')
    .option('--dump-jobs <n>', 'parallel pg_dump jobs: 1 (default) dumps in the custom format, 2 to 32 in the directory format')
    .option('--encrypt', 'always encrypt the artifacts to AGE_RECIPIENTS (default: as the installation, encrypted when AGE_RECIPIENTS is set)')
    .option('--no-encrypt', 'never encrypt: store the artifacts in plaintext (refused when REQUIRE_ENCRYPTION is set)')
    .option('--keep-last <n>', 'retention: keep the newest N backups')
    .option('--max-age-days <n>', 'retention: delete backups older than N days (1–365)')
    .option('--daily <n>', 'retention: keep one backup a day for N days')
    .option('--weekly <n>', 'retention: keep one backup a week for N weeks')
    .option('--monthly <n>', 'retention: keep one backup a month for N months')
    .option('--yearly <n>', 'retention: keep one backup a year for N years')
    .option('--min-keep <n>', 'retention floor: the newest N completed backups are always kept, whatever the other rules say')
    .option('--max-total-size <size>', 'retention: delete the oldest backups while they add up to more than this (e.g. 50GB, 500MiB, or bytes)')
    .option('--max-backup-size <size>', 'a backup that grows past this size is stopped and fails (e.g. 10GB)')
    .option('--time-limit <duration>', 'a run that takes longer is stopped and fails (e.g. 90m, 6h, or seconds; default RUN_TIME_LIMIT_SECONDS)')
    .option('--include <paths...>', 'absolute paths of files to archive beside the dump')
    .option('--exclude <patterns...>', 'glob patterns left out of the file archive')
    .option('--destination <destination>', 'write to this destination (name or id); repeat it for several (default: the default destination)', (value: string, all: string[]) => [...all, value], [] as string[])
    .addOption(new Option('--verify <kind>', 'test-restore the newest backup on this schedule').choices(['none', 'daily', 'weekly', 'monthly']))
    .option('--inactive', 'create it inactive (its schedule does not run)')
    .option('--json', 'print the configuration as JSON')
    .action(async (options: CreateOptions, command: Command) => {
      const api = await connect(command);
      const body = await createBody(options);
      const sourceName = typeof body.source === 'string' ? body.source : undefined;
      delete body.source;
      if (options.source || sourceName) body.sourceId = (await resolveSource(api, (options.source ?? sourceName)!)).id;
      if (options.destination.length > 0) body.destinationIds = await Promise.all(options.destination.map(async (d) => (await resolveDestination(api, d)).id));
      if (!body.name) throw new CliError('A configuration needs a name: --name NAME (or "name" in --file).', ExitCode.usage);
      if (!body.sourceId) throw new CliError('A configuration needs a source: --source NAME (or "sourceId" in --file).', ExitCode.usage);
      const created = await api.call('configurations.create', { body: body as ConfigurationCreateRequest });
      if (options.json) return printJson(created);
      printLine(`Created configuration "${created.name}" (${created.id}): ${created.scheduleDescription}${created.active ? '' : ', inactive'}.`);
    });

  for (const [name, active] of [['enable', true], ['disable', false]] as const) {
    config
      .command(name)
      .description(active ? 'activate a configuration: its schedule runs' : 'deactivate a configuration: its schedule stops')
      .argument('<configuration>', 'name or id')
      .option('--json', 'print the configuration as JSON')
      .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
        const api = await connect(command);
        const c = await resolveConfiguration(api, nameOrId);
        const updated = await api.call(active ? 'configurations.activate' : 'configurations.deactivate', { params: { id: c.id } });
        if (options.json) return printJson(updated);
        printLine(`Configuration "${updated.name}" is ${active ? `active: ${updated.scheduleDescription}${updated.nextRunAt ? `, next run ${updated.nextRunAt}` : ''}` : 'inactive: its schedule no longer runs'}.`);
      });
  }

  config
    .command('run')
    .description('take a backup now as the configuration says')
    .argument('<configuration>', 'name or id')
    .option('-w, --wait', 'wait for it to finish, showing progress')
    .option('--json', 'print the backup as JSON')
    .action(async (nameOrId: string, options: { wait?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const c = await resolveConfiguration(api, nameOrId);
      const requested = await api.call('backups.create', { body: { configurationId: c.id } });
      if (!options.wait) {
        if (options.json) return printJson(requested);
        return printLine(`Backup "${requested.name}" of configuration "${c.name}" requested (${requested.id}).`);
      }
      if (!options.json) note(`Backup "${requested.name}" of configuration "${c.name}" requested (${requested.id}).`);
      const done = await waitForBackup(api, requested, options.json);
      if (options.json) printJson(done);
      else printLine(`Backup "${done.name}" completed.`);
    });

  config
    .command('delete')
    .description('delete a configuration and its schedule (its backups stay)')
    .argument('<configuration>', 'name or id')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {deleted: id} as JSON')
    .action(async (nameOrId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const c = await resolveConfiguration(api, nameOrId);
      await confirmAction(`Delete configuration "${c.name}"? Its backups stay.`, { yes: options.yes, refusal: `Configuration "${c.name}" was not deleted.` });
      await api.call('configurations.delete', { params: { id: c.id } });
      if (options.json) printJson({ deleted: c.id });
      else printLine(`Deleted configuration "${c.name}".`);
    });

  return config;
}

/**
 * What `config show --json` adds to a configuration and the API computes itself: left out of a
 * --file body, so that a configuration shown can be created again (under another --name).
 */
const shownOnly = ['id', 'sourceName', 'scheduleDescription', 'nextRunAt', 'lastRunAt', 'createdAt', 'updatedAt', 'overdue', 'lastCompletedAt', 'lastStatus', 'encrypted', 'overdueAt'];

/** The POST body: the file's JSON, then every flag given on top of it. */
async function createBody(options: CreateOptions): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = options.file ? await readJsonFile(options.file) : {};
  for (const key of shownOnly) delete body[key];
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set('name', options.name);
  set('type', options.type);
  set('compression', options.compression);
  set('compressionLevel', wholeNumber(options.level, '--level'));
  set('dumpJobs', wholeNumber(options.dumpJobs, '--dump-jobs'));
  set('encrypt', options.encrypt);
  set('includePaths', options.include);
  set('excludePatterns', options.exclude);
  set('verifySchedule', options.verify);
  set('maxBackupBytes', byteSize(options.maxBackupSize, '--max-backup-size'));
  set('timeLimitSeconds', durationSeconds(options.timeLimit, '--time-limit'));
  if (options.inactive) body.active = false;
  if (options.schedule || options.time || options.weekday || options.dayOfMonth || options.cron || options.timezone) {
    const schedule: Record<string, unknown> = { ...(body.schedule as Record<string, unknown> | undefined) };
    if (options.schedule) schedule.kind = options.schedule;
    if (options.cron && !schedule.kind) schedule.kind = 'cron';
    if (options.time) schedule.time = options.time;
    if (options.weekday) schedule.weekday = weekday(options.weekday);
    if (options.dayOfMonth) schedule.dayOfMonth = wholeNumber(options.dayOfMonth, '--day-of-month');
    if (options.cron) schedule.cron = options.cron;
    if (options.timezone) schedule.timezone = options.timezone;
    body.schedule = schedule;
  }
  const rules = { keepLast: options.keepLast, maxAgeDays: options.maxAgeDays, daily: options.daily, weekly: options.weekly, monthly: options.monthly, yearly: options.yearly, minKeep: options.minKeep };
  if (Object.values(rules).some((v) => v !== undefined) || options.maxTotalSize !== undefined) {
    const retention: Record<string, unknown> = { ...(body.retention as Record<string, unknown> | undefined) };
    for (const [key, value] of Object.entries(rules)) if (value !== undefined) retention[key] = wholeNumber(value, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (options.maxTotalSize !== undefined) retention.maxTotalBytes = byteSize(options.maxTotalSize, '--max-total-size');
    body.retention = retention;
  }
  return body;
}

async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, ExitCode.usage);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON: ${(error as Error).message}.`, ExitCode.usage);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${path} must hold one JSON object.`, ExitCode.usage);
  return value as Record<string, unknown>;
}

function wholeNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new CliError(`${flag} must be a whole number (got "${text}").`, ExitCode.usage);
  return Number(text);
}

const sizeUnits: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** "50GB" → 50 000 000 000, "500MiB" → 524 288 000, "1234" → 1234 bytes. */
export function byteSize(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new CliError(`${flag} must be a size such as 50GB, 500MiB or a number of bytes (got "${text}").`, ExitCode.usage);
  return Math.round(Number(match[1]) * unit);
}

const durationUnits: Record<string, number> = { '': 1, s: 1, m: 60, min: 60, h: 3600, d: 86_400 };

/** "90m" → 5400, "6h" → 21600, "45" → 45 seconds. */
export function durationSeconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? durationUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new CliError(`${flag} must be a duration such as 90m, 6h or a number of seconds (got "${text}").`, ExitCode.usage);
  return Number(match[1]) * unit;
}

function weekday(text: string): number {
  const index = weekdays.findIndex((d) => d.startsWith(text.toLowerCase()) && text.length >= 2);
  if (index >= 0) return index;
  const n = wholeNumber(text, '--weekday')!;
  if (n > 6) throw new CliError('--weekday must be sunday … saturday, or 0 (Sunday) … 6.', ExitCode.usage);
  return n;
}

function describeConfiguration(c: ConfigurationDetails): string {
  const retention = Object.entries(c.retention).map(([k, v]) => `${k} ${v}`).join(', ') || 'keep every backup';
  return fields([
    ['Configuration', c.name],
    ['Id', c.id],
    ['Source', c.sourceName],
    ['Type', c.type],
    ['Schedule', c.scheduleDescription],
    ['Active', c.active ? 'yes' : 'no'],
    ['Next run', c.nextRunAt],
    ['Last success', c.lastCompletedAt ? `${c.lastCompletedAt} (${humanAge(c.lastCompletedAt)})${c.overdue ? ' OVERDUE' : ''}` : c.overdue ? 'never (OVERDUE)' : 'never'],
    ['Last status', c.lastStatus],
    ['Compression', `${c.compression}${c.compressionLevel ? ` level ${c.compressionLevel}` : ''}`],
    ['Dump', c.dumpJobs > 1 ? `pg_dump directory format, ${c.dumpJobs} jobs` : 'pg_dump custom format'],
    ['Encrypted', `${c.encrypted ? 'yes (age)' : 'no'}${c.encrypt === null ? ', as the installation' : ''}`],
    ['Retention', retention],
    ['Maximum size', c.maxBackupBytes === null ? undefined : `${c.maxBackupBytes} bytes a backup`],
    ['Time limit', c.timeLimitSeconds === null ? 'RUN_TIME_LIMIT_SECONDS' : `${c.timeLimitSeconds} s`],
    ['Files', c.includePaths.length ? c.includePaths.join(', ') : undefined],
    ['Verify', c.verifySchedule],
  ]);
}
