// Values that hold a secret (a database URL with its password, an S3 secret key) are better not
// given as arguments, which every user of the machine sees in ps: "-" reads the value from standard
// input instead (typed without echo on a terminal, or piped from a file or a secret manager).
import { CliError, ExitCode } from './exit-codes.js';

let stdinTaken = false;

export async function secretValue(value: string | undefined, flag: string): Promise<string | undefined> {
  if (value !== '-') return value;
  if (stdinTaken) throw new CliError(`Only one value can be read from standard input: give ${flag} another way.`, ExitCode.usage);
  stdinTaken = true;
  if (process.stdin.isTTY) {
    const { password } = await import('@inquirer/prompts');
    return (await password({ message: `${flag}:`, mask: '*' })).trim();
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) throw new CliError(`${flag} -: nothing was read from standard input.`, ExitCode.usage);
  return text;
}
