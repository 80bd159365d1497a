// coffre backup create|list|show|download|delete|verify: thin over the backups API.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { ArtifactKind, BackupView, DownloadQuery, VerificationView } from '@coffre/contract';
import type { ApiClient } from '../api.js';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { fields, humanAge, humanBytes, humanDuration, note, printJson, printLine, table } from '../output.js';
import { pollIntervalMs, watchRun } from '../progress.js';
import { resolveBackup, resolveConfiguration, resolveSource } from '../resolve.js';

const backupTypes = ['full', 'schema', 'data', 'physical'];
const statuses = ['pending', 'running', 'completed', 'failed'];
const triggers = ['manual', 'schedule', 'pre-restore', 'cli', 'import'];
const artifacts = ['database', 'files', 'bucket', 'manifest', 'restore-notes'];

export function backupCommand(): Command {
  const backup = new Command('backup').description('take, list, inspect, download, verify and delete backups');

  backup
    .command('create')
    .description('take a backup now (of a source, or as a configuration says)')
    .option('-s, --source <source>', 'the source to back up, by name or id (default: the only or "default" source)')
    .option('-c, --config <configuration>', 'back up as this configuration says (name or id)')
    .addOption(new Option('-t, --type <type>', 'what to dump').choices(backupTypes))
    .option('-n, --name <name>', 'the backup\'s name (default: <source>-<type>-<timestamp>)')
    .option('--dump-jobs <n>', "parallel pg_dump jobs: 2 to 32 dump in the directory format (default: the configuration's, else 1)")
    .option('-w, --wait', 'wait for it to finish, showing progress')
    .option('--json', 'print the backup as JSON')
    .action(async (options: { source?: string; config?: string; type?: string; name?: string; dumpJobs?: string; wait?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const body: Record<string, string | number> = {};
      // The API says what is wrong with the number, in the same sentence as for any client.
      if (options.dumpJobs !== undefined) body.dumpJobs = /^\d+$/.test(options.dumpJobs.trim()) ? Number(options.dumpJobs) : options.dumpJobs;
      if (options.source) body.sourceId = (await resolveSource(api, options.source)).id;
      if (options.config) body.configurationId = (await resolveConfiguration(api, options.config)).id;
      if (options.type) body.type = options.type;
      if (options.name) body.name = options.name;
      const requested = await api.call('backups.create', { body });
      if (!options.wait) {
        if (options.json) printJson(requested);
        else printLine(`Backup "${requested.name}" requested (${requested.id}); follow it with: coffre backup show ${requested.id}`);
        return;
      }
      if (!options.json) note(`Backup "${requested.name}" requested (${requested.id}).`);
      const done = await waitForBackup(api, requested, options.json);
      if (options.json) printJson(done);
      else printLine(`Backup "${done.name}" completed: ${humanBytes(done.sizeBytes)} in ${humanDuration(done.durationMs)}, ${contentOf(done)}, sha256 ${done.checksumSha256}.`);
    });

  backup
    .command('list')
    .description('the backup history, newest first')
    .option('--status <statuses>', `only these statuses (comma-separated: ${statuses.join(', ')})`)
    .option('--type <types>', `only these types (comma-separated: ${backupTypes.join(', ')})`)
    .option('--trigger <triggers>', `only these triggers (comma-separated: ${triggers.join(', ')})`)
    .option('-s, --source <source>', 'only backups of this source (name or id)')
    .option('-c, --config <configuration>', 'only backups of this configuration (name or id)')
    .option('-q, --search <text>', 'names or source names containing this text')
    .option('--from <date>', 'created on or after this date (YYYY-MM-DD or ISO 8601)')
    .option('--to <date>', 'created on or before this date')
    .option('--deleted', 'include backups whose artifacts were deleted')
    .option('--page <n>', 'page number, from 1', '1')
    .option('-l, --limit <n>', 'backups per page (at most 100)', '20')
    .option('--json', 'print the page as JSON ({items,total,page,pageSize})')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const api = await connect(command);
      const page = await api.call('backups.list', { query: {
        status: options.status as string | undefined,
        type: options.type as string | undefined,
        trigger: options.trigger as string | undefined,
        sourceId: options.source ? (await resolveSource(api, String(options.source))).id : undefined,
        configurationId: options.config ? (await resolveConfiguration(api, String(options.config))).id : undefined,
        q: options.search as string | undefined,
        from: options.from as string | undefined,
        to: options.to as string | undefined,
        includeDeleted: options.deleted ? 'true' : undefined,
        page: String(options.page),
        pageSize: String(options.limit),
      } });
      if (options.json) return printJson(page);
      if (page.items.length === 0) return printLine(page.total === 0 ? 'No backups match.' : `Page ${page.page} is past the end (${page.total} backups).`);
      printLine(
        table(
          ['ID', 'NAME', 'TYPE', 'STATUS', 'TRIGGER', 'SIZE', 'CREATED', 'DURATION'],
          page.items.map((b) => [b.id, b.name, b.type, b.deletedAt ? `${b.status} (deleted)` : b.status, b.trigger, humanBytes(b.sizeBytes), humanAge(b.createdAt), humanDuration(b.durationMs)]),
        ),
      );
      const first = (page.page - 1) * page.pageSize + 1;
      const more = first + page.items.length - 1 < page.total ? `; --page ${page.page + 1} for more` : '';
      printLine(`${first}–${first + page.items.length - 1} of ${page.total}${more}`);
    });

  backup
    .command('show')
    .description('one backup: status, sizes, counts, artifacts, newest verification')
    .argument('<backup>', 'the backup\'s id or name')
    .option('--log', 'print the run log too')
    .option('--json', 'print the backup as JSON')
    .action(async (nameOrId: string, options: { log?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const b = await resolveBackup(api, nameOrId);
      if (options.json) return printJson(b);
      printLine(describeBackup(b));
      if (options.log && b.log) printLine(`\nLog:\n${b.log}`);
    });

  backup
    .command('download')
    .description('download an artifact; its SHA-256 is checked before the file appears under its name')
    .argument('<backup>', 'the backup\'s id or name')
    .option('-o, --output <file>', 'where to write it (default: the name the API gives, in the current directory; "-" for standard output)')
    .addOption(new Option('-a, --artifact <kind>', 'which artifact').choices(artifacts).default('database'))
    .option('-d, --destination <destination>', 'read the copy in this destination (name or id; default: the first copy that can be read)')
    .option('-f, --force', 'replace the output file if it exists')
    .option('--json', 'print {file, sizeBytes, checksumSha256, destination} as JSON')
    .action(async (nameOrId: string, options: { output?: string; artifact: ArtifactKind; destination?: string; force?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const b = await resolveBackup(api, nameOrId);
      const query: DownloadQuery = { artifact: options.artifact, ...(options.destination ? { destination: options.destination } : {}) };
      if (options.output === '-') {
        await downloadToStdout(api, b, query);
        return;
      }
      const result = await downloadArtifact(api, b, query, options.output, Boolean(options.force));
      if (options.json) printJson(result);
      else printLine(`Wrote ${result.file} (${humanBytes(result.sizeBytes)}, sha256 ${result.checksumSha256} verified, from destination ${result.destination}).`);
    });

  backup
    .command('delete')
    .description('delete a backup\'s artifacts (its history row stays, marked deleted)')
    .argument('<backup>', 'the backup\'s id or name')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {deleted: id} as JSON')
    .action(async (nameOrId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const b = await resolveBackup(api, nameOrId);
      await confirmAction(`Delete the artifacts of backup "${b.name}" (${humanBytes(b.sizeBytes)})? They cannot be recovered.`, {
        yes: options.yes,
        refusal: `Backup "${b.name}" was not deleted.`,
      });
      await api.call('backups.delete', { params: { id: b.id } });
      if (options.json) printJson({ deleted: b.id });
      else printLine(`Deleted the artifacts of backup "${b.name}".`);
    });

  backup
    .command('verify')
    .description('test-restore a backup into a scratch database and compare its tables and rows')
    .argument('<backup>', 'the backup\'s id or name')
    .option('-w, --wait', 'wait for the result (exit code 4 when it fails)')
    .option('--json', 'print the verification as JSON')
    .action(async (nameOrId: string, options: { wait?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const b = await resolveBackup(api, nameOrId);
      const requested = await api.call('backups.verify', { params: { id: b.id } });
      if (!options.wait) {
        if (options.json) printJson(requested);
        else printLine(`Verification of "${b.name}" requested (${requested.id}).`);
        return;
      }
      const done = await waitForVerification(api, requested, b.name);
      if (options.json) printJson(done);
      if (done.result === 'passed') {
        if (!options.json) printLine(`Verification passed: "${b.name}" restores with ${done.tablesFound} tables and ${done.recordsFound} rows, as recorded.`);
        return;
      }
      if (!options.json && done.differences?.length) {
        printLine(table(['TABLE', 'RECORDED', 'RESTORED'], done.differences.map((d) => [d.table, d.expected ?? 'absent', d.found ?? 'absent'])));
      }
      throw new CliError(
        done.result === 'failed'
          ? `Verification failed: "${b.name}" does not restore as recorded. ${done.errorMessage ?? ''}`.trim()
          : `The verification of "${b.name}" could not run: ${done.errorMessage ?? 'no reason recorded'}.`,
        done.result === 'failed' ? ExitCode.verificationFailed : ExitCode.failure,
      );
    });

  return backup;
}

/** Waits for a backup to finish; a failed one is printed first with --json (scripts read why), then reported. */
export async function waitForBackup(api: ApiClient, requested: BackupView, json = false): Promise<BackupView> {
  const done = await watchRun({
    label: `backup "${requested.name}"`,
    poll: () => api.call('backups.get', { params: { id: requested.id } }),
    followUp: `Follow it with: coffre backup show ${requested.id}`,
  });
  if (done.status === 'failed') {
    if (json) printJson(done);
    throw new CliError(`Backup "${done.name}" failed: ${done.errorMessage ?? 'no reason recorded'}`);
  }
  return done;
}

async function waitForVerification(api: ApiClient, requested: VerificationView, name: string): Promise<VerificationView> {
  const poll = () => api.call('verifications.get', { params: { id: requested.id } });
  let done = await watchRun({ label: `verification of "${name}"`, poll, followUp: `Follow it with: coffre backup show ${requested.backupId}` });
  // A failed run records its result just after its status: give it a moment to land.
  for (let i = 0; done.status === 'failed' && done.result === null && i < 10; i++) {
    await new Promise((r) => setTimeout(r, Math.min(pollIntervalMs(), 300)));
    done = await poll();
  }
  return done;
}

export function describeBackup(b: BackupView): string {
  const lines = [
    fields([
      ['Backup', b.name],
      ['Id', b.id],
      ['Status', b.deletedAt ? `${b.status} (artifacts deleted ${humanAge(b.deletedAt)})` : b.status],
      ['Error', b.errorMessage ?? undefined],
      ['Type', b.type],
      ['Trigger', b.trigger],
      ['Source', b.sourceName],
      ['Configuration', b.configurationId ?? undefined],
      ['Created', `${b.createdAt} (${humanAge(b.createdAt)})`],
      ['Duration', humanDuration(b.durationMs)],
      ['Size', b.status === 'running' ? `${humanBytes(b.progressBytes)} so far` : humanBytes(b.sizeBytes)],
      ['Compression', b.compression],
      ['Encrypted', b.encrypted ? 'yes (age)' : 'no'],
      ['SHA-256', b.checksumSha256],
      ['Tables', b.objectsCount === null ? b.tablesCount : undefined],
      ['Rows', b.objectsCount === null ? b.recordsCount : undefined],
      ['Objects', b.objectsCount ?? undefined],
      ['Files', b.filesCount ?? undefined],
      ['PostgreSQL', b.serverVersion ? `${b.serverVersion} (pg_dump ${b.pgDumpVersion ?? '?'})` : undefined],
      ['Verified', b.lastVerification ? `${b.lastVerification.result ?? b.lastVerification.status} ${humanAge(b.lastVerification.completedAt)}` : 'never'],
    ]),
  ];
  if (b.artifacts?.length) {
    lines.push('', table(['ARTIFACT', 'DESTINATION', 'SIZE', 'KEY'], b.artifacts.map((a) => [a.kind, a.destination, humanBytes(a.sizeBytes), a.key])));
  }
  return lines.join('\n');
}

/** What a completed backup holds, in words: "12 tables, 3400 rows, 5 files" or "40 objects". */
export function contentOf(b: BackupView): string {
  const parts = b.objectsCount !== null ? [`${b.objectsCount} objects`] : [`${b.tablesCount ?? 0} tables`, `${b.recordsCount ?? 0} rows`];
  if (b.filesCount !== null) parts.push(`${b.filesCount} files`);
  return parts.join(', ');
}

interface DownloadResult {
  file: string;
  sizeBytes: number;
  checksumSha256: string;
  destination: string | null;
}

/**
 * Streams an artifact to a temporary file beside the output, hashing it on the way, and renames it
 * only when its length and SHA-256 match what the API announced: a half or damaged download never
 * appears under the name.
 */
async function downloadArtifact(api: ApiClient, b: BackupView, query: DownloadQuery, output: string | undefined, force: boolean): Promise<DownloadResult> {
  const download = await api.download({ params: { id: b.id }, query });
  const file = resolve(output ?? download.fileName ?? `${b.name}.${query.artifact}`);
  if (!force && (await access(file).then(() => true, () => false))) {
    download.body.destroy();
    throw new CliError(`${file} exists: choose another name with -o, or pass --force to replace it.`, ExitCode.refused);
  }
  if (!download.checksumSha256) {
    download.body.destroy();
    throw new CliError('The API sent no X-Checksum-SHA256 header, so the download cannot be checked: nothing was written.');
  }
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.part`);
  const hash = createHash('sha256');
  let received = 0;
  const bar = process.stderr.isTTY && download.sizeBytes
    ? new cliProgress.SingleBar({ format: `${basename(file)} [{bar}] {percentage}% {value}/{total} bytes, {eta_formatted} left`, stream: process.stderr, barsize: 24 }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(download.sizeBytes!, 0);
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      bar?.update(received);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(download.body, measure, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
    bar?.stop();
    const actual = hash.digest('hex');
    if (download.sizeBytes !== null && received !== download.sizeBytes) {
      throw new CliError(`The download stopped after ${received} of ${download.sizeBytes} bytes: nothing was written. Try again.`);
    }
    if (actual !== download.checksumSha256.toLowerCase()) {
      throw new CliError(
        `The download does not match its checksum (expected sha256 ${download.checksumSha256}, received ${actual}): nothing was written. Try again; if it happens again, run coffre backup verify ${b.id}.`,
      );
    }
    await rename(temporary, file);
    return { file, sizeBytes: received, checksumSha256: actual, destination: download.destination };
  } catch (error) {
    bar?.stop();
    await rm(temporary, { force: true });
    if (error instanceof CliError) throw error;
    throw new CliError(`The download failed: ${(error as Error).message}. Nothing was written.`);
  }
}

/**
 * Streams an artifact to standard output for a pipe (`-o - | zstd -dc | pg_restore`). The bytes are
 * out before they can all be checked: the checksum is checked at the end, and a mismatch or a short
 * stream exits 1 with a sentence on stderr, so that `set -o pipefail` scripts stop.
 */
async function downloadToStdout(api: ApiClient, b: BackupView, query: DownloadQuery): Promise<void> {
  const download = await api.download({ params: { id: b.id }, query });
  const hash = createHash('sha256');
  let received = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(download.body, measure, process.stdout);
  } catch (error) {
    throw new CliError(`The download stopped after ${received} bytes: ${(error as Error).message}. What was written to standard output is incomplete.`);
  }
  const actual = hash.digest('hex');
  if (download.sizeBytes !== null && received !== download.sizeBytes) {
    throw new CliError(`The download stopped after ${received} of ${download.sizeBytes} bytes: what was written to standard output is incomplete.`);
  }
  if (download.checksumSha256 && actual !== download.checksumSha256.toLowerCase()) {
    throw new CliError(`The bytes written to standard output do not match their checksum (expected sha256 ${download.checksumSha256}, received ${actual}): do not use them.`);
  }
  note(`Wrote ${humanBytes(received)} to standard output (sha256 ${actual} verified, from destination ${download.destination ?? 'unknown'}).`);
}
