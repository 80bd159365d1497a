// coffre login: checks a URL and token against the API and saves them for the next commands
// (mode 0600). coffre whoami: who the saved or given token is.
import { Command } from 'commander';
import { ApiClient } from '../api.js';
import { connect, isInteractive } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { normalizeUrl, saveSettings, settingsFilePath } from '../settings.js';

export function loginCommand(): Command {
  return new Command('login')
    .description(`check a URL and API token and save them in ${settingsFilePath().replace(process.env.HOME ?? '\0', '~')} (mode 0600)`)
    .option('--json', 'print {url, name, role, settingsFile} as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<{ url?: string; token?: string }>();
      const url = normalizeUrl(globals.url ?? process.env.COFFRE_URL ?? '');
      let token = globals.token ?? process.env.COFFRE_TOKEN;
      if (!token) {
        if (!isInteractive()) throw new CliError('Give the token with --token (or COFFRE_TOKEN).', ExitCode.usage);
        const { password } = await import('@inquirer/prompts');
        token = await password({ message: 'API token:', mask: '*' });
      }
      const settings = { url, token: token.trim() };
      const me = await new ApiClient(settings).call('auth.me');
      const file = await saveSettings(settings);
      if (options.json) return printJson({ url, name: me.name, role: me.role, settingsFile: file });
      printLine(`Logged in to ${url} as ${me.name} (${me.role}); settings saved in ${file} (readable by you only).`);
    });
}

export function whoamiCommand(): Command {
  return new Command('whoami')
    .description('who the API token is, and its role')
    .option('--json', 'print {url, name, role, type} as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const me = await api.call('auth.me');
      if (options.json) return printJson({ url: api.baseUrl, ...me });
      printLine(`${me.name} (${me.role}) at ${api.baseUrl}`);
    });
}
