// coffre channel list|create|test|delete: where coffre tells people about failures (webhook, Slack,
// Discord, Telegram, Teams, Mattermost, ntfy, Gotify, email). Secrets (webhook URLs, tokens, topics)
// are better given as "-", read from standard input, or in a --file: arguments show in ps.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { channelKinds, notificationEvents, type ChannelInput, type ChannelView } from '@coffre/contract';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine, table } from '../output.js';
import { secretValue } from '../secret-input.js';

interface CreateFlags {
  file?: string;
  kind?: string;
  events?: string;
  endpoint?: string;
  signingSecret?: string;
  botToken?: string;
  chatId?: string;
  apiUrl?: string;
  channel?: string;
  username?: string;
  topic?: string;
  accessToken?: string;
  appToken?: string;
  json?: boolean;
}

type Api = Awaited<ReturnType<typeof connect>>;

export function channelCommand(): Command {
  const channel = new Command('channel').description('notification channels: who hears about failed backups, restores and overdue configurations');

  channel
    .command('list')
    .description('every channel, its kind and events (secrets masked)')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const { items } = await api.call('channels.list');
      if (options.json) return printJson(items);
      printLine(table(['NAME', 'KIND', 'EVENTS', 'ENABLED', 'ID'], items.map((c) => [c.name, c.kind, c.events.join(','), c.enabled ? 'yes' : 'no', c.id])));
    });

  channel
    .command('create')
    .description('add a channel from flags, or from a JSON body as POST /api/notification-channels takes it (--file, "-" for standard input)')
    .argument('<name>', 'its name')
    .option('-f, --file <file>', 'a JSON body (flags given on top override it)')
    .addOption(new Option('--kind <kind>', 'what it sends to').choices([...channelKinds]))
    .option('--events <list>', `comma-separated events (default: every failure and warning): ${notificationEvents.join(', ')}`)
    .option('--endpoint <url>', 'webhook URL (webhook, slack, discord, teams, mattermost) or server URL (ntfy, gotify); "-" reads it from standard input')
    .option('--signing-secret <secret>', 'webhook: sign each body with HMAC-SHA256; "-" reads it from standard input')
    .option('--bot-token <token>', 'telegram: the bot token from @BotFather; "-" reads it from standard input')
    .option('--chat-id <id>', 'telegram: the chat id, or a public channel\'s @username')
    .option('--api-url <url>', 'telegram: a self-hosted Bot API server (default https://api.telegram.org)')
    .option('--channel <name>', 'mattermost: post in this channel instead of the webhook\'s')
    .option('--username <name>', 'mattermost: the sender name')
    .option('--topic <topic>', 'ntfy: the topic; "-" reads it from standard input')
    .option('--access-token <token>', 'ntfy: an access token for a protected topic; "-" reads it from standard input')
    .option('--app-token <token>', 'gotify: the application token; "-" reads it from standard input')
    .option('--json', 'print the channel as JSON')
    .action(async (name: string, options: CreateFlags, command: Command) => {
      const api = await connect(command);
      const body: Record<string, unknown> = options.file ? await readJsonBody(options.file) : {};
      body.name = name;
      const set = (key: string, value: unknown) => {
        if (value !== undefined) body[key] = value;
      };
      set('kind', options.kind);
      set('events', options.events?.split(',').map((event) => event.trim()).filter(Boolean));
      // --url is coffre's own API address (a global option): the channel's URL is its --endpoint.
      set('url', await secretValue(options.endpoint, '--endpoint'));
      set('signingSecret', await secretValue(options.signingSecret, '--signing-secret'));
      set('botToken', await secretValue(options.botToken, '--bot-token'));
      set('chatId', options.chatId);
      set('apiUrl', options.apiUrl);
      set('channel', options.channel);
      set('username', options.username);
      set('topic', await secretValue(options.topic, '--topic'));
      set('accessToken', await secretValue(options.accessToken, '--access-token'));
      set('appToken', await secretValue(options.appToken, '--app-token'));
      if (!body.kind) throw new CliError(`Say what the channel sends to: --kind ${channelKinds.join('|')} (or "kind" in --file).`, ExitCode.usage);
      const created = await api.call('channels.create', { body: body as ChannelInput });
      if (options.json) return printJson(created);
      printLine(`Created ${created.kind} channel "${created.name}". Try it with: coffre channel test ${created.name}`);
    });

  channel
    .command('test')
    .description('send a test notification now and say whether it was delivered')
    .argument('<channel>', 'name or id')
    .option('--json', 'print the delivery as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const c = await resolveChannel(api, nameOrId);
      const delivery = await api.call('channels.test', { params: { id: c.id } });
      if (options.json) printJson(delivery);
      else printLine(delivery.status === 'delivered' ? `Delivered to "${c.name}".` : `Not delivered to "${c.name}": ${delivery.lastError ?? delivery.status}`);
      if (delivery.status !== 'delivered') process.exitCode = ExitCode.failure;
    });

  channel
    .command('delete')
    .description('remove a channel (its delivery history goes with it)')
    .argument('<channel>', 'name or id')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (nameOrId: string, options: { yes?: boolean }, command: Command) => {
      const api = await connect(command);
      const c = await resolveChannel(api, nameOrId);
      await confirmAction(`Delete channel "${c.name}"?`, { yes: options.yes, refusal: `Channel "${c.name}" was not deleted.` });
      await api.call('channels.delete', { params: { id: c.id } });
      printLine(`Deleted channel "${c.name}".`);
    });

  return channel;
}

async function resolveChannel(api: Api, nameOrId: string): Promise<ChannelView> {
  const { items } = await api.call('channels.list');
  const found = items.find((c) => c.id === nameOrId) ?? items.find((c) => c.name === nameOrId);
  if (!found) throw new CliError(`There is no notification channel "${nameOrId}" (list them with coffre channel list).`, ExitCode.notFound);
  return found;
}

async function readJsonBody(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = path === '-' ? ((await secretValue('-', '--file')) ?? '') : await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, ExitCode.usage);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {}
  throw new CliError(`${path} must hold one JSON object, as POST /api/notification-channels takes it.`, ExitCode.usage);
}
