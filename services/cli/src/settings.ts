// Where the CLI finds the API and its token: --url/--token, then COFFRE_URL/COFFRE_TOKEN, then the
// file `coffre login` writes (~/.config/coffre/config.json, mode 0600). The token is never printed.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.js';

export interface ConnectionSettings {
  url: string;
  token: string;
}

const savedSettingsSchema = z.object({ url: z.string().optional(), token: z.string().optional() });

/** The settings file: COFFRE_CONFIG, or $XDG_CONFIG_HOME/coffre/config.json, or ~/.config/coffre/config.json. */
export function settingsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.COFFRE_CONFIG) return env.COFFRE_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'coffre', 'config.json');
}

export async function readSavedSettings(path = settingsFilePath()): Promise<Partial<ConnectionSettings>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`The settings file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, ExitCode.usage);
  }
  try {
    return savedSettingsSchema.parse(JSON.parse(text));
  } catch {
    throw new CliError(`The settings file ${path} is not valid JSON of the form {"url": "...", "token": "..."}: fix it or run coffre login again.`, ExitCode.usage);
  }
}

/** Writes the settings readable by their owner only (the file holds a token). */
export async function saveSettings(settings: ConnectionSettings, path = settingsFilePath()): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

export async function resolveConnection(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionSettings> {
  const saved = flags.url && flags.token ? {} : await readSavedSettings(settingsFilePath(env));
  const url = flags.url || env.COFFRE_URL || saved.url;
  const token = flags.token || env.COFFRE_TOKEN || saved.token;
  if (!url) {
    throw new CliError('Which coffre? Set COFFRE_URL (for example http://127.0.0.1:3000), pass --url, or run coffre login --url URL (it asks for the token).', ExitCode.usage);
  }
  if (!token) {
    throw new CliError('No API token: set COFFRE_TOKEN, pass --token, or run coffre login --url URL (it asks for the token).', ExitCode.notAllowed);
  }
  return { url: normalizeUrl(url), token: token.trim() };
}

export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new CliError(`"${url}" is not a URL: give the API's address, for example http://127.0.0.1:3000.`, ExitCode.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`"${url}" is not an http:// or https:// URL.`, ExitCode.usage);
  }
  if (parsed.username || parsed.password) {
    throw new CliError('Put the token in --token or COFFRE_TOKEN, not in the URL.', ExitCode.usage);
  }
  return parsed.toString().replace(/\/+$/, '');
}
