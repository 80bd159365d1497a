// coffre keygen and coffre decrypt: age keys for encrypted backups, and decryption of a downloaded
// artifact without coffre running (the same format the `age` tool reads and writes).
import { createReadStream, createWriteStream } from 'node:fs';
import { access, chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import { note, printJson, printLine } from '../output.js';

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('create an age identity (private key, written to a file readable by you only) and print its recipient')
    .option('-o, --output <file>', 'where to write the identity', 'coffre-age-identity.txt')
    .option('--json', 'print {identityFile, recipient} as JSON')
    .addHelpText(
      'after',
      '\nPut the recipient (age1…) in AGE_RECIPIENTS so that backups are encrypted to it, and the identity file\nin AGE_IDENTITY_FILE where restores run. Keep a copy of the identity elsewhere: without it, encrypted\nbackups cannot be read.',
    )
    .action(async (options: { output: string; json?: boolean }) => {
      const { generateIdentity } = await import('@coffre/shared');
      const file = resolve(options.output);
      const { identity, recipient } = generateIdentity();
      const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
      try {
        await writeFile(file, text, { flag: 'wx', mode: 0o600 });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new CliError(`${file} exists: coffre keygen never overwrites an identity. Choose another file with -o.`, ExitCode.refused);
        throw new CliError(`${file} cannot be written (${code ?? (error as Error).message}).`);
      }
      await chmod(file, 0o600); // the umask may have narrowed it further, never widened
      if (options.json) return printJson({ identityFile: file, recipient });
      note(`Wrote the identity to ${file} (mode 0600). Its recipient, for AGE_RECIPIENTS:`);
      printLine(recipient);
    });
}

export function decryptCommand(): Command {
  return new Command('decrypt')
    .description('decrypt an age-encrypted artifact with an identity file (no coffre server needed)')
    .argument('<file>', 'the encrypted file (for example database.dump.zst.age)')
    .requiredOption('-i, --identity <file>', 'the identity file (AGE-SECRET-KEY-1… lines, as coffre keygen or age-keygen write)')
    .option('-o, --output <file>', 'where to write the plaintext (default: the file without .age; "-" for standard output)')
    .option('-f, --force', 'replace the output file if it exists')
    .addHelpText('after', '\nExample, restoring by hand:\n  coffre decrypt database.dump.zst.age -i key.txt -o - | zstd -dc | pg_restore -d mydb')
    .action(async (input: string, options: { identity: string; output?: string; force?: boolean }) => {
      const { createDecryptStream, parseIdentityFile, AgeError } = await import('@coffre/shared');
      const text = await readText(options.identity, 'identity file');
      let identities: ReturnType<typeof parseIdentityFile>;
      try {
        identities = parseIdentityFile(text);
      } catch (error) {
        // The message names the problem, never the key.
        throw new CliError(`${options.identity} is not an age identity file: ${(error as Error).message}.`, ExitCode.usage);
      }
      const output = outputOf(input, options.output);
      const source = createReadStream(input);
      await new Promise<void>((ok, fail) => {
        source.once('open', () => ok());
        source.once('error', (error: NodeJS.ErrnoException) => fail(new CliError(`${input} cannot be read (${error.code ?? error.message}).`, error.code === 'ENOENT' ? ExitCode.notFound : ExitCode.failure)));
      });
      const explain = (error: unknown) => {
        // The library's sentence speaks of coffre's AGE_IDENTITY_FILE; here the identity is the -i file.
        if (error instanceof AgeError && error.reason === 'no-identity') {
          return new CliError(`${input} cannot be decrypted with ${options.identity}: it was encrypted to other recipients, and none of the identities in that file is one of them.`);
        }
        return error instanceof AgeError ? new CliError(`${input} cannot be decrypted: ${error.message}.`) : new CliError(`Decryption failed: ${(error as Error).message}.`);
      };
      if (output === '-') {
        await pipeline(source, createDecryptStream(identities), process.stdout).catch((error: unknown) => {
          throw explain(error);
        });
        return;
      }
      const file = resolve(output);
      if (!options.force && (await access(file).then(() => true, () => false))) {
        source.destroy();
        throw new CliError(`${file} exists: choose another name with -o, or pass --force to replace it.`, ExitCode.refused);
      }
      // Written beside the output and renamed once every chunk is authenticated: a damaged or
      // truncated file never leaves a plausible-looking plaintext behind.
      const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.part`);
      try {
        await pipeline(source, createDecryptStream(identities), createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw explain(error);
      }
      note(`Decrypted ${input} to ${file}.`);
    });
}

function outputOf(input: string, output: string | undefined): string {
  if (output) return output;
  if (input.endsWith('.age')) return input.slice(0, -'.age'.length);
  if (!process.stdout.isTTY) return '-';
  throw new CliError(`${input} does not end in .age: say where to write the plaintext with -o FILE (or -o - for standard output).`, ExitCode.usage);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`The ${what} ${path} cannot be read (${code ?? 'error'}).`, code === 'ENOENT' ? ExitCode.notFound : ExitCode.failure);
  }
}
