// Waiting for a backup, restore or verification: the API is polled and the run's progress shown as a
// live line on a terminal (bytes, rate, elapsed), or as plain lines when output goes to a file or a
// pipe. Interrupting the wait does not stop the run: the workers carry on.
import cliProgress from 'cli-progress';
import { clock, humanBytes, note } from './output.js';

export interface RunState {
  status: 'pending' | 'running' | 'completed' | 'failed';
  progressBytes?: number;
  /** A database restore while it loads: the rows in the new database so far, of the rows the backup holds. */
  loadedRows?: number | null;
  expected?: { rows?: number | null } | null;
  errorMessage: string | null;
}

export interface WatchOptions<T extends RunState> {
  /** What is running, for people: `backup "nightly-…"`. */
  label: string;
  poll: () => Promise<T>;
  /** The expected size, when known (a restore reads a backup of known size). */
  totalBytes?: number | null;
  /** Said when the operator interrupts the wait: how to follow the run later. */
  followUp: string;
  /** Live display on a terminal; plain lines otherwise. */
  live?: boolean;
}

const PLAIN_LINE_EVERY_MS = 5_000;

export function pollIntervalMs(): number {
  const value = Number(process.env.COFFRE_POLL_MS);
  return Number.isFinite(value) && value >= 50 ? value : 1_000;
}

export async function watchRun<T extends RunState>(options: WatchOptions<T>): Promise<T> {
  const live = options.live ?? Boolean(process.stderr.isTTY);
  const display = live ? liveDisplay(options) : plainDisplay(options);
  const started = Date.now();
  const meter = rateMeter();
  const onInterrupt = () => {
    display.stop();
    note(`\nStopped waiting; the ${options.label} goes on. ${options.followUp}`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      const state = await options.poll();
      const bytes = state.progressBytes ?? 0;
      const rate = meter.observe(state.status, bytes, Date.now());
      const loaded = state.status === 'running' && state.loadedRows ? { rows: state.loadedRows, total: state.expected?.rows ?? null } : null;
      display.update({ status: state.status, bytes, rate, loaded, elapsedMs: Date.now() - started });
      if (state.status === 'completed' || state.status === 'failed') {
        display.stop();
        return state;
      }
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs()));
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    display.stop();
  }
}

/**
 * Bytes per second of a running run, once it has been watched running for a second (null before).
 * The rate is counted from the last time the run was seen waiting, with nothing written yet, or else
 * from the first time it was seen running: a dump that wrote everything between two polls still
 * shows how fast it went, not 0 B/s.
 */
export function rateMeter(): { observe(status: RunState['status'], bytes: number, now: number): number | null } {
  let lastPendingAt: number | null = null;
  let since: { at: number; bytes: number } | null = null;
  return {
    observe(status, bytes, now) {
      if (status === 'pending') lastPendingAt = now;
      if (status !== 'running') return null;
      since ??= lastPendingAt === null ? { at: now, bytes } : { at: lastPendingAt, bytes: 0 };
      const seconds = (now - since.at) / 1000;
      return seconds >= 1 ? (bytes - since.bytes) / seconds : null;
    },
  };
}

export interface Frame {
  status: RunState['status'];
  bytes: number;
  rate: number | null;
  /** Rows loaded (a database restore, after its artifact was read): shown instead of the bytes. */
  loaded: { rows: number; total: number | null } | null;
  elapsedMs: number;
}

interface Display {
  update(frame: Frame): void;
  stop(): void;
}

/** "3,100,000 of 8,300,330 rows": the rows a restore loaded, of those its backup holds when known. */
export function describeRows(rows: number, total: number | null | undefined): string {
  return `${rows.toLocaleString('en-US')}${total ? ` of ${total.toLocaleString('en-US')}` : ''} rows`;
}

/** What the live line and the plain lines say of a frame: the rows loaded, or the bytes and their rate. */
export function describeFrame(frame: Frame, total?: number | null): string {
  if (frame.status === 'running' && frame.loaded) return `loading, ${describeRows(frame.loaded.rows, frame.loaded.total)}`;
  const written = total ? `${humanBytes(frame.bytes)} of ${humanBytes(total)}` : humanBytes(frame.bytes);
  const rate = frame.rate === null ? '' : `, ${humanBytes(Math.round(frame.rate))}/s`;
  return frame.status === 'running' ? `${written}${rate}` : frame.status;
}

function liveDisplay<T extends RunState>(options: WatchOptions<T>): Display {
  const total = options.totalBytes ?? 0;
  const bar = new cliProgress.SingleBar(
    {
      format: total ? `${options.label} {status} [{bar}] {percentage}% {detail} {elapsed}` : `${options.label} {status} {detail} {elapsed}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(frame) {
      const payload = { status: frame.status, detail: frame.status === 'running' ? describeFrame(frame, total) : '', elapsed: clock(frame.elapsedMs) };
      // Loading, the bar counts rows of the rows the backup holds; before, bytes of the artifact.
      const [value, of] = frame.loaded?.total ? [Math.min(frame.loaded.rows, frame.loaded.total), frame.loaded.total] : [total ? Math.min(frame.bytes, total) : 0, total || 1];
      if (!started) {
        bar.start(of, value, payload);
        started = true;
      } else {
        if (of !== bar.getTotal()) bar.setTotal(of);
        bar.update(value, payload);
      }
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

function plainDisplay<T extends RunState>(options: WatchOptions<T>): Display {
  let lastStatus = '';
  let lastLineAt = 0;
  return {
    update(frame) {
      const now = Date.now();
      if (frame.status === lastStatus && now - lastLineAt < PLAIN_LINE_EVERY_MS) return;
      if (frame.status === 'completed' || frame.status === 'failed') return; // the caller reports the outcome
      lastStatus = frame.status;
      lastLineAt = now;
      note(`${options.label}: ${frame.status === 'running' ? `running, ${describeFrame(frame, options.totalBytes)}` : frame.status} (${clock(frame.elapsedMs)})`);
    },
    stop() {},
  };
}
