// Child processes of the engine (pg_dump, pg_restore, psql, zstd, gzip): never through a shell,
// never with a secret in argv, and always with what they printed last kept for the error message.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { waitAtMost } from '../infra/timeouts.js';
import { failSpan, startSpan } from '../infra/tracing.js';

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last few kilobytes the tool wrote to stderr. */
  stderr: string;
}

/** A tool of a chain that did not exit cleanly, with how it ended. */
export interface ToolFailure {
  name: string;
  exit: ToolExit;
}

export interface RunningTool {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited (it never rejects; look at code and signal). */
  exited: Promise<ToolExit>;
  kill(): void;
}

const STDERR_TAIL = 8 * 1024;

/**
 * The environment tools run with unless they are given one: enough to find programs and read text,
 * and none of the worker's own settings (DATABASE_URL, SECRET_KEY, S3 keys), which any process of
 * the same user could read in /proc/<pid>/environ.
 */
export function toolEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra };
}

export interface StartToolOptions {
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  cwd?: string;
}

/** Starts a tool with stderr captured. stdio[2] is always a pipe; the environment is toolEnvironment() unless given. */
export function startTool(name: string, path: string, args: string[], options: StartToolOptions = {}): RunningTool {
  const stdio = (options.stdio ?? ['ignore', 'pipe', 'pipe']) as unknown[];
  stdio[2] = 'pipe';
  const child = spawn(path, args, {
    env: options.env ?? toolEnvironment(),
    stdio: stdio as StdioOptions,
    cwd: options.cwd,
    shell: false,
    windowsHide: true,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  const stderrEnded = new Promise<void>((resolve) => {
    if (!child.stderr) return resolve();
    child.stderr.once('close', resolve);
    child.stderr.once('end', resolve);
  });
  const exited = new Promise<ToolExit>((resolve) => {
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      resolve({ code: 127, signal: null, stderr });
    });
    // 'exit' rather than 'close': a descendant holding stdout open must not keep coffre waiting.
    // stderr is read to its end (briefly) so that the error message is complete.
    child.once('exit', (code, signal) => {
      void waitAtMost(stderrEnded, 2000).then(() => resolve({ code, signal, stderr }));
    });
  });
  traceTool(name, exited);
  return {
    name,
    child,
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }, 5000).unref();
      }
    },
  };
}

/** A span for a tool's process, when tracing: its name only (never its arguments), and how it ended. */
function traceTool(name: string, exited: Promise<ToolExit>): void {
  const tool = basename(name);
  const span = startSpan(`tool ${tool}`, { 'process.executable.name': tool });
  if (!span) return;
  void exited.then((exit) => {
    span.setAttributes({ ...(exit.code !== null ? { 'process.exit.code': exit.code } : {}), ...(exit.signal ? { 'process.exit.signal': exit.signal } : {}) });
    if (exit.code !== 0) failSpan(span, describeExit(tool, exit));
    span.end();
  });
}

/**
 * A tool started through coreutils' stdbuf, with a 1 MiB stdout buffer, when it writes its output
 * with stdio (pg_dump, pg_basebackup): it then writes 1 MiB at a time rather than 4-8 KiB, and its
 * reader (zstd) takes the pipe in full pieces. Measured on 430 MB (bench/backup-cpu.ts, medians of 6):
 * pg_dump 0.61 CPU-s instead of 0.90 and zstd 1.00 instead of 1.29. Without stdbuf, the tool runs as it is.
 */
export function withLargeStdoutBuffer(path: string, args: string[]): { path: string; args: string[] } {
  return STDBUF ? { path: STDBUF, args: [`-o${STDOUT_BLOCK}`, path, ...args] } : { path, args };
}

const STDBUF = ['/usr/bin/stdbuf', '/bin/stdbuf'].find((candidate) => existsSync(candidate)) ?? null;
const STDOUT_BLOCK = 1024 * 1024;

/** Runs a tool to completion and returns its stdout; throws with its stderr when it fails. */
export async function runTool(path: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<string> {
  const tool = startTool(path, path, args, { env: options.env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  tool.child.stdout?.setEncoding('utf8');
  tool.child.stdout?.on('data', (text: string) => (stdout += text));
  if (options.input !== undefined) tool.child.stdin?.end(options.input);
  const exit = await tool.exited;
  if (exit.code !== 0) {
    throw new Error(`${path} ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}: ${lastLine(exit.stderr)}`);
  }
  return stdout;
}

/** The most telling line of a tool's stderr: its last error line, or its last line. */
export function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errorLine = [...lines].reverse().find((l) => /error|fatal|failed/i.test(l));
  return errorLine ?? lines.at(-1) ?? '';
}

export function describeExit(name: string, exit: ToolExit): string {
  if (exit.signal) return `${name} was killed by ${exit.signal}`;
  return `${name} exited with code ${exit.code}`;
}

/**
 * Tools run as one chain (pg_dump into zstd, zstd into pg_restore …): the first that fails on its own
 * stops the others, and so does the signal. `failures` keeps those own failures, in order, since they
 * explain the run better than the broken pipes they cause downstream.
 */
export interface ToolChain {
  readonly tools: RunningTool[];
  readonly failures: ToolFailure[];
  /** Adds a started tool to the chain, and returns it. */
  watch(tool: RunningTool): RunningTool;
  /** Signals every tool to stop (without waiting). */
  kill(): void;
  /** Stops every tool and waits until all have exited. */
  stop(): Promise<void>;
  /** Once every tool has exited: the first, in chain order, that did not exit 0. */
  failedExit(): Promise<ToolFailure | undefined>;
  /** The failure that explains the run: the first of the named tools, else the first at all. */
  firstFailure(...names: string[]): ToolFailure | undefined;
  /** Stops listening to the signal (the tools themselves are left alone). */
  release(): void;
}

export function toolChain(signal?: AbortSignal): ToolChain {
  const tools: RunningTool[] = [];
  const failures: ToolFailure[] = [];
  let stopping = false;
  const killAll = () => {
    stopping = true;
    tools.forEach((t) => t.kill());
  };
  signal?.addEventListener('abort', killAll, { once: true });
  return {
    tools,
    failures,
    watch(tool) {
      tools.push(tool);
      void tool.exited.then((exit) => {
        if (exit.code === 0 || stopping) return;
        failures.push({ name: tool.name, exit });
        killAll();
      });
      return tool;
    },
    kill: killAll,
    async stop() {
      killAll();
      await Promise.all(tools.map((t) => t.exited));
    },
    async failedExit() {
      const exits = await Promise.all(tools.map((t) => t.exited));
      const failed = exits.findIndex((e) => e.code !== 0);
      return failed >= 0 ? { name: tools[failed]!.name, exit: exits[failed]! } : undefined;
    },
    firstFailure(...names) {
      return failures.find((f) => names.includes(f.name)) ?? failures[0];
    },
    release() {
      signal?.removeEventListener('abort', killAll);
    },
  };
}
