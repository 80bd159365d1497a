// A real terminal for the interactive commands: the built CLI runs in a tmux pane (a private tmux
// server, so nothing touches the machine's own sessions); tests read the screen and type keys.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../../test/support/stack.js';
import { CLI } from './cli.js';

export interface Terminal {
  /** What the pane shows now. */
  screen(): string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  type(text: string): void;
  press(...keys: string[]): void;
  /** The CLI's exit code, once it has exited. */
  exitCode(timeoutMs?: number): Promise<number>;
}

const socket = `coffre-cli-test-${process.pid}`;
let sessions = 0;
const dirs: string[] = [];

export function openTerminal(args: string[], env: Record<string, string>): Terminal {
  const dir = mkdtempSync(join(tmpdir(), 'coffre-tty-'));
  dirs.push(dir);
  const exitFile = join(dir, 'exit-code');
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const script = [
    '#!/bin/sh',
    ...Object.entries({ PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }).map(([k, v]) => `export ${k}=${quote(v)}`),
    `${quote(process.execPath)} ${quote(CLI)} ${args.map(quote).join(' ')}`,
    `echo $? > ${quote(exitFile)}`,
    // The pane stays, so that the last screen can still be read.
    'sleep 600',
  ].join('\n');
  writeFileSync(join(dir, 'run.sh'), script, { mode: 0o700 });
  const session = `s${(sessions += 1)}`;
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '50', `sh ${quote(join(dir, 'run.sh'))}`);
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  return {
    screen,
    waitFor: (text, timeoutMs = 30_000) =>
      eventually(async () => {
        const shown = screen();
        return (typeof text === 'string' ? shown.includes(text) : text.test(shown)) ? shown : undefined;
      }, timeoutMs, `the terminal to show ${String(text)}`).catch((error: Error) => {
        throw new Error(`${error.message}\n--- screen ---\n${screen()}`);
      }),
    type(text) {
      tmux('send-keys', '-t', session, '-l', text);
    },
    press(...keys) {
      tmux('send-keys', '-t', session, ...keys);
    },
    exitCode: (timeoutMs = 120_000) =>
      eventually(async () => {
        try {
          return Number(readFileSync(exitFile, 'utf8').trim());
        } catch {
          return undefined;
        }
      }, timeoutMs, 'the CLI to exit').catch((error: Error) => {
        throw new Error(`${error.message}\n--- screen ---\n${screen()}`);
      }),
  };
}

/** Stops this test file's tmux server (and only it), and removes the sessions' scripts. */
export function closeTerminals(): void {
  try {
    tmux('kill-server');
  } catch {}
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: { ...process.env, TMUX: '' } });
}
