// What every command needs from the command line: the API client (from --url/--token, the
// environment or the saved settings), whether a person is at a terminal, and confirmations.
import type { Command } from 'commander';
import { ApiClient } from './api.js';
import { CliError, ExitCode } from './exit-codes.js';
import { resolveConnection } from './settings.js';

export async function connect(command: Command): Promise<ApiClient> {
  const { url, token } = command.optsWithGlobals<{ url?: string; token?: string }>();
  return new ApiClient(await resolveConnection({ url, token }));
}

/** A person can answer prompts: both ends of the terminal are a TTY. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/**
 * Asks before a destructive action. --yes answers for scripts; without a terminal and without --yes,
 * the action is refused rather than taken silently.
 */
export async function confirmAction(question: string, options: { yes?: boolean; refusal: string }): Promise<void> {
  if (options.yes) return;
  if (!isInteractive()) throw new CliError(`${options.refusal} Pass --yes to confirm without a terminal.`, ExitCode.refused);
  const { confirm } = await import('@inquirer/prompts');
  const answer = await confirm({ message: question, default: false });
  if (!answer) throw new CliError(`${options.refusal} Nothing was changed.`, ExitCode.refused);
}
