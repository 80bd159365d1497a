// Runs the built `coffre` (services/cli/dist/main.js) as a child process, as operators do, against
// an API listening on a real port.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestStack } from '../../../../test/support/stack.js';

export const CLI = resolve('services/cli/dist/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** A HOME of its own, so that no test reads or writes the machine's ~/.config/coffre. */
export function privateHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'coffre-cli-home-'));
  homes.push(home);
  return home;
}

const homes: string[] = [];
let defaultHome: string | null = null;

/** Removes the HOMEs made by privateHome (call from afterAll). */
export function removePrivateHomes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  defaultHome = null;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', COFFRE_POLL_MS: '200' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  env.HOME ??= defaultHome ??= privateHome();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`coffre ${args.join(' ')} did not finish within ${options.timeoutMs ?? 120_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface ListeningApi {
  url: string;
  close(): Promise<void>;
}

export async function listen(stack: TestStack): Promise<ListeningApi> {
  const server: Server = await new Promise((ready) => {
    const s = stack.app.listen(0, '127.0.0.1', () => ready(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
