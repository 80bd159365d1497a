// coffre user reset-2fa: an admin turns off a user's two-factor authentication (a lost authenticator);
// the user logs in with the password alone until enrolling again. Audited as user.totp.reset.
import { Command } from 'commander';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';

export function userCommand(): Command {
  const user = new Command('user').description('users of the web UI');
  user
    .command('reset-2fa')
    .description('turn off a user’s two-factor authentication (admin)')
    .argument('<user>', 'username or id')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {reset: id} as JSON')
    .action(async (nameOrId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const { items } = await api.call('users.list');
      const found = items.find((u) => u.id === nameOrId || u.username === nameOrId);
      if (!found) throw new CliError(`No user is named "${nameOrId}".`, ExitCode.notFound);
      await confirmAction(`Turn off two-factor authentication of "${found.username}"?`, { yes: options.yes, refusal: `The two-factor authentication of "${found.username}" was left as it is.` });
      await api.call('users.totp.reset', { params: { id: found.id } });
      if (options.json) return printJson({ reset: found.id });
      printLine(`Two-factor authentication of "${found.username}" is off: the password alone opens the account until it is turned on again.`);
    });
  return user;
}
