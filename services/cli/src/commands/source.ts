// coffre source list|show|create|update|delete|test: the databases and buckets coffre backs up.
// URLs are shown with their password masked, as the API gives them.
import { Command } from 'commander';
import type { SourceInput, SourceView } from '@coffre/contract';
import { addBucketOptions, bucketBody, hasBucketFlags, type BucketFlags } from '../bucket-options.js';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { fields, humanAge, printJson, printLine, table } from '../output.js';
import { resolveSource } from '../resolve.js';
import { secretValue } from '../secret-input.js';

interface SourceFlags extends BucketFlags {
  databaseUrl?: string;
  server?: boolean;
  includeDatabase?: string[];
  excludeDatabase?: string[];
  name?: string;
  json?: boolean;
}

const urlHelp = 'the database\'s postgresql:// URL; "-" reads it from standard input (arguments show in ps)';

export function sourceCommand(): Command {
  const source = new Command('source').description('the PostgreSQL databases and S3 buckets coffre backs up');

  source
    .command('list')
    .description('every source, its URL shown with the password masked')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const { items } = await api.call('sources.list');
      if (options.json) return printJson(items);
      if (items.length === 0) return printLine('No sources yet: add one with coffre source create NAME --database-url URL.');
      printLine(table(['NAME', 'KIND', 'URL', 'ID'], items.map((s) => [s.name, s.kind, s.url, s.id])));
    });

  source
    .command('show')
    .description('one source')
    .argument('<source>', 'name or id')
    .option('--json', 'print it as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const s = await resolveSource(api, nameOrId);
      if (options.json) return printJson(s);
      printLine(describeSource(s));
    });

  addBucketOptions(
    source
      .command('create')
      .description('register a PostgreSQL database (--database-url) or an S3 bucket (--bucket …)')
      .argument('<name>', 'its name: letters, digits, ".", "_" and "-"')
      .option('--database-url <url>', urlHelp),
  )
    .option('--server', 'back up the whole server of --database-url: every database (templates excluded) and the globals')
    .option('--include-database <pattern...>', 'with --server: only databases matching these patterns (* any characters)')
    .option('--exclude-database <pattern...>', 'with --server: leave out databases matching these patterns')
    .option('--json', 'print the source as JSON')
    .action(async (name: string, options: SourceFlags, command: Command) => {
      const api = await connect(command);
      let body: Record<string, unknown>;
      if (options.databaseUrl && hasBucketFlags(options)) throw new CliError('A source is a database (--database-url) or a bucket (--bucket …), not both.', ExitCode.usage);
      if (options.databaseUrl) {
        body = { name, url: await secretValue(options.databaseUrl, '--database-url') };
        if (options.server) Object.assign(body, { scope: 'server', includeDatabases: options.includeDatabase ?? [], excludeDatabases: options.excludeDatabase ?? [] });
      } else if (hasBucketFlags(options)) body = { name, kind: 's3', ...(await bucketBody(options)) };
      else throw new CliError('Say what the source is: --database-url URL for a PostgreSQL database, or --bucket NAME (with its endpoint and keys) for a bucket.', ExitCode.usage);
      const created = await api.call('sources.create', { body: body as SourceInput });
      if (options.json) return printJson(created);
      printLine(`Created source "${created.name}" (${created.kind}): ${created.url}. Check it with: coffre source test ${created.name}`);
    });

  addBucketOptions(
    source
      .command('update')
      .description('rename a source or change its URL or bucket settings')
      .argument('<source>', 'name or id')
      .option('--name <name>', 'a new name')
      .option('--database-url <url>', urlHelp),
  )
    .option('--json', 'print the source as JSON')
    .action(async (nameOrId: string, options: SourceFlags, command: Command) => {
      const api = await connect(command);
      const s = await resolveSource(api, nameOrId);
      const body: Record<string, unknown> = { ...(await bucketBody(options)) };
      if (options.name) body.name = options.name;
      if (options.databaseUrl) body.url = await secretValue(options.databaseUrl, '--database-url');
      if (Object.keys(body).length === 0) throw new CliError('Nothing to change: give --name, --database-url or bucket settings.', ExitCode.usage);
      const updated = await api.call('sources.update', { params: { id: s.id }, body });
      if (options.json) return printJson(updated);
      printLine(`Updated source "${updated.name}": ${updated.url}.`);
    });

  source
    .command('delete')
    .description('remove a source (its backups stay in the history)')
    .argument('<source>', 'name or id')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {deleted: id} as JSON')
    .action(async (nameOrId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const s = await resolveSource(api, nameOrId);
      await confirmAction(`Remove source "${s.name}"? Its backups stay in the history.`, { yes: options.yes, refusal: `Source "${s.name}" was not removed.` });
      await api.call('sources.delete', { params: { id: s.id } });
      if (options.json) return printJson({ deleted: s.id });
      printLine(`Removed source "${s.name}".`);
    });

  source
    .command('test')
    .description('connect to a source and report its server version (exit 1 when it cannot be reached)')
    .argument('<source>', 'name or id')
    .option('--json', 'print {ok, serverVersion, message} as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const s = await resolveSource(api, nameOrId);
      const result = await api.call('sources.test', { params: { id: s.id } });
      if (options.json) printJson(result);
      else printLine(`${s.name}: ${result.message}`);
      if (!result.ok) process.exitCode = ExitCode.failure;
    });

  return source;
}

function describeSource(s: SourceView): string {
  return fields([
    ['Source', s.name],
    ['Id', s.id],
    ['Kind', s.kind === 's3' ? 'S3 bucket' : 'PostgreSQL database'],
    ['URL', s.url],
    ['Created', `${s.createdAt} (${humanAge(s.createdAt)})`],
  ]);
}
