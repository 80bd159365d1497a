// A worker as a real process for the fault tests: started from the built dist/, watched until it
// takes jobs, its failpoint announcements (shared/src/infra/failpoints.ts) delivered as events, its
// children (pg_dump, zstd) found in /proc, and killed like a crash.
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestStack } from './stack.js';

export interface FailpointEvent {
  failpoint: string;
  detail: string | null;
  pauseMs: number;
  pid: number;
  at: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote, stdout and stderr. */
  output(): string;
  /** Resolves with the n-th (1-based) failpoint the process reached, as soon as it announces it. */
  failpoint(n: number, timeoutMs?: number): Promise<FailpointEvent>;
  failpoints: FailpointEvent[];
  /** Kills it with SIGKILL (no cleanup of any kind) and waits for it to be gone. */
  crash(): Promise<void>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export async function startWorkerProcess(stack: TestStack, env: Record<string, string> = {}, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
  const child = stack.spawnWorker(env);
  let output = '';
  const failpoints: FailpointEvent[] = [];
  const waiters: { n: number; resolve: (e: FailpointEvent) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => (output += String(d)));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output += `${line}\n`;
    if (!line.startsWith('{"failpoint"')) return;
    failpoints.push(JSON.parse(line) as FailpointEvent);
    for (const waiter of waiters.filter((w) => w.n <= failpoints.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(failpoints[waiter.n - 1]!);
    }
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker was not ready after ${readyTimeoutMs} ms: ${output.slice(-2000)}`)), readyTimeoutMs);
    const onData = () => {
      if (output.includes('worker ready')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code ?? signal}) before it was ready: ${output.slice(-2000)}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => output,
    failpoints,
    failpoint(n, timeoutMs = 60_000) {
      if (failpoints.length >= n) return Promise.resolve(failpoints[n - 1]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`failpoint #${n} not reached after ${timeoutMs} ms: ${output.slice(-2000)}`)), timeoutMs);
        waiters.push({
          n,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    async crash() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
}

/** Every process of the machine (those that exit while being read are skipped). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [stat, cmdline] = await Promise.all([
      readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null),
      readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => null),
    ]);
    if (stat === null || cmdline === null) continue;
    // comm is in parentheses and may itself hold spaces or parentheses: the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    out.push({ pid: Number(entry), ppid, comm, cmdline: cmdline.split('\0').filter(Boolean) });
  }
  return out;
}

/** The children of a process whose command name is `comm`. */
export async function childrenNamed(pid: number, comm: string): Promise<ProcessInfo[]> {
  return (await listProcesses()).filter((p) => p.ppid === pid && p.comm === comm);
}

/** Polls quickly (every 10 ms) until `check` holds; for windows too short for eventually()'s 100 ms. */
export async function quickly<T>(check: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as T;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
