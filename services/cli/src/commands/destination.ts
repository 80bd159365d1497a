// coffre destination list|show|create|update|delete|test: where artifacts are written, a local
// directory, an S3-compatible bucket, an SFTP server or an rclone remote. Credentials are never shown.
import { Command } from 'commander';
import type { DestinationInput, DestinationView } from '@coffre/contract';
import { addBucketOptions, bucketBody, hasBucketFlags, type BucketFlags } from '../bucket-options.js';
import { confirmAction, connect } from '../cli-context.js';
import { addRemoteOptions, remoteBody, remoteKind, type RemoteFlags } from '../remote-options.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { fields, humanAge, printJson, printLine, table } from '../output.js';
import { resolveDestination } from '../resolve.js';

interface DestinationFlags extends BucketFlags, RemoteFlags {
  path?: string;
  name?: string;
  default?: boolean;
  json?: boolean;
}

export function destinationCommand(): Command {
  const destination = new Command('destination').description('where artifacts are written: local directories, S3-compatible buckets, SFTP servers, rclone remotes');

  destination
    .command('list')
    .description('every destination and where it writes')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const { items } = await api.call('destinations.list');
      if (options.json) return printJson(items);
      printLine(table(['NAME', 'KIND', 'WHERE', 'DEFAULT', 'ID'], items.map((d) => [d.name, d.kind, d.location, d.isDefault ? 'yes' : '', d.id])));
    });

  destination
    .command('show')
    .description('one destination')
    .argument('<destination>', 'name or id')
    .option('--json', 'print it as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const d = await resolveDestination(api, nameOrId);
      if (options.json) return printJson(d);
      printLine(describeDestination(d));
    });

  addRemoteOptions(
    addBucketOptions(
      destination
        .command('create')
        .description('add a local directory (--path), an S3 bucket (--bucket …), an SFTP server (--sftp …) or an rclone remote (--rclone-remote …)')
        .argument('<name>', 'its name: letters, digits, ".", "_" and "-"')
        .option('--path <dir>', 'an absolute directory on the machines that run workers'),
      { serverSideEncryption: true },
    ),
  )
    .option('--default', 'write there when a configuration names no destination')
    .option('--json', 'print the destination as JSON')
    .action(async (name: string, options: DestinationFlags, command: Command) => {
      const api = await connect(command);
      const remote = remoteKind(options);
      if ([options.path, hasBucketFlags(options), remote].filter(Boolean).length > 1) {
        throw new CliError('A destination is one of a directory (--path), a bucket (--bucket …), an SFTP server (--sftp …) or an rclone remote (--rclone-remote …).', ExitCode.usage);
      }
      let body: Record<string, unknown>;
      if (options.path) body = { name, kind: 'local', path: options.path };
      else if (hasBucketFlags(options)) body = { name, kind: 's3', ...(await bucketBody(options)) };
      else if (remote) body = { name, kind: remote, ...(await remoteBody(options)) };
      else {
        throw new CliError(
          'Say where it writes: --path DIR for a local directory, --bucket NAME (with its endpoint and keys) for S3, --sftp USER@HOST (with --private-key-file or --password) or --rclone-remote NAME --rclone-config-file FILE.',
          ExitCode.usage,
        );
      }
      if (options.default) body.isDefault = true;
      const created = await api.call('destinations.create', { body: body as DestinationInput });
      if (options.json) return printJson(created);
      printLine(`Created destination "${created.name}": ${created.location}. Check it with: coffre destination test ${created.name}`);
    });

  addRemoteOptions(
    addBucketOptions(
      destination
        .command('update')
        .description('rename a destination or change where it writes (credentials are replaced only when given)')
        .argument('<destination>', 'name or id')
        .option('--name <name>', 'a new name')
        .option('--path <dir>', 'a new directory (local destinations)'),
      { serverSideEncryption: true },
    ),
  )
    .option('--default', 'make it the default destination')
    .option('--json', 'print the destination as JSON')
    .action(async (nameOrId: string, options: DestinationFlags, command: Command) => {
      const api = await connect(command);
      const d = await resolveDestination(api, nameOrId);
      const body: Record<string, unknown> = { ...(await bucketBody(options)), ...(await remoteBody(options)) };
      if (options.name) body.name = options.name;
      if (options.path) body.path = options.path;
      if (options.default) body.isDefault = true;
      if (Object.keys(body).length === 0) throw new CliError('Nothing to change: give --name, --path, --default, or bucket, SFTP or rclone settings.', ExitCode.usage);
      const updated = await api.call('destinations.update', { params: { id: d.id }, body });
      if (options.json) return printJson(updated);
      printLine(`Updated destination "${updated.name}": ${updated.location}.`);
    });

  destination
    .command('delete')
    .description('remove a destination that holds no artifacts and no configuration uses')
    .argument('<destination>', 'name or id')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {deleted: id} as JSON')
    .action(async (nameOrId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const d = await resolveDestination(api, nameOrId);
      await confirmAction(`Remove destination "${d.name}" (${d.location})?`, { yes: options.yes, refusal: `Destination "${d.name}" was not removed.` });
      await api.call('destinations.delete', { params: { id: d.id } });
      if (options.json) return printJson({ deleted: d.id });
      printLine(`Removed destination "${d.name}".`);
    });

  destination
    .command('test')
    .description('check that a destination can be written (exit 1 when it cannot)')
    .argument('<destination>', 'name or id')
    .option('--json', 'print {ok, message} as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const d = await resolveDestination(api, nameOrId);
      const result = await api.call('destinations.test', { params: { id: d.id } });
      if (options.json) printJson(result);
      else printLine(`${d.name}: ${result.message}`);
      if (!result.ok) process.exitCode = ExitCode.failure;
    });

  return destination;
}

function describeDestination(d: DestinationView): string {
  const settings = Object.entries(d.config)
    .filter(([key]) => key !== 'path')
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  return fields([
    ['Destination', d.name],
    ['Id', d.id],
    ['Kind', { local: 'local directory', s3: 'S3 bucket', sftp: 'SFTP server', rclone: 'rclone remote' }[d.kind]],
    ['Where', d.location],
    ['Settings', settings || undefined],
    ['Credentials', d.kind !== 'local' ? (d.hasCredentials ? 'stored (never shown)' : 'none') : undefined],
    ['Default', d.isDefault ? 'yes' : 'no'],
    ['Created', `${d.createdAt} (${humanAge(d.createdAt)})`],
  ]);
}
