// The flags of SFTP and rclone destinations, and the API body they make. Secrets never go on the
// command line: a private key and an rclone configuration are read from files, a password or
// passphrase from standard input ("-").
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, ExitCode } from './exit-codes.js';
import { secretValue } from './secret-input.js';

export interface RemoteFlags {
  sftp?: string;
  remotePath?: string;
  password?: string;
  privateKeyFile?: string;
  passphrase?: string;
  hostKey?: string;
  rcloneRemote?: string;
  rcloneConfigFile?: string;
}

export function addRemoteOptions(command: Command): Command {
  return command
    .option('--sftp <user@host[:port]>', 'an SFTP server (port 22 unless given)')
    .option('--remote-path <folder>', 'the folder on the SFTP server or rclone remote (absolute, or relative to the login)')
    .option('--password <password>', 'SFTP password: "-" reads it from standard input (arguments show in ps)')
    .option('--private-key-file <file>', 'SFTP private key (OpenSSH or PEM), read from this file')
    .option('--passphrase <passphrase>', 'passphrase of the private key: "-" reads it from standard input')
    .option('--host-key <fingerprint>', 'SHA256:… fingerprint of the server key to expect (otherwise pinned on first connection); "none" forgets the pinned one')
    .option('--rclone-remote <name>', 'an rclone remote: the name of a [section] of --rclone-config-file')
    .option('--rclone-config-file <file>', 'an rclone.conf holding the remote (stored encrypted; "-" reads it from standard input)');
}

export function remoteKind(flags: RemoteFlags): 'sftp' | 'rclone' | null {
  if (flags.sftp || flags.password || flags.privateKeyFile || flags.hostKey) return 'sftp';
  if (flags.rcloneRemote || flags.rcloneConfigFile) return 'rclone';
  return null;
}

/** The SFTP or rclone fields given, as the API names them; fields not given are left out. */
export async function remoteBody(flags: RemoteFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { remotePath: flags.remotePath };
  if (flags.sftp) {
    const match = /^([^@\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:\s]+)(?::(\d+))?$/.exec(flags.sftp);
    if (!match) throw new CliError(`--sftp ${flags.sftp}: give user@host or user@host:port.`, ExitCode.usage);
    Object.assign(body, { username: match[1], host: match[2]!.replace(/^\[|\]$/g, ''), port: match[3] ? Number(match[3]) : 22 });
  }
  body.password = await secretValue(flags.password, '--password');
  if (flags.privateKeyFile) body.privateKey = await readText(flags.privateKeyFile, '--private-key-file');
  body.passphrase = await secretValue(flags.passphrase, '--passphrase');
  if (flags.hostKey) body.hostKeySha256 = flags.hostKey === 'none' ? null : flags.hostKey;
  body.remote = flags.rcloneRemote;
  if (flags.rcloneConfigFile) body.rcloneConfig = flags.rcloneConfigFile === '-' ? await secretValue('-', '--rclone-config-file') : await readText(flags.rcloneConfigFile, '--rclone-config-file');
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, ExitCode.usage);
  }
}
