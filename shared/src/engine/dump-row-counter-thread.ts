// Counting a dump's rows (dump-row-counter.ts) on a thread of its own, so that the thread moving the
// dump's bytes from pg_dump to the compressor only copies each piece and hands it over. Pieces in
// flight are bounded: past BACKLOG bytes not counted yet, `feed` returns a promise that resolves
// once the thread has caught up, and the stream waits for it.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { CustomArchiveRowCounter } from './dump-row-counter.js';

const BACKLOG = 8 * 1024 * 1024;
/** The thread says how far it got every this many bytes (one message per piece would cost more than the piece). */
const ACK_EVERY = 1024 * 1024;

type FromThread = { counted: number } | { rows: [string, number][] } | { failure: string };

export class ThreadedRowCounter {
  private readonly thread: Worker;
  private inFlight = 0;
  private resume: (() => void) | null = null;
  private readonly result: Promise<Map<string, number>>;

  constructor() {
    this.thread = new Worker(new URL(import.meta.url));
    this.result = new Promise((resolve, reject) => {
      this.thread.on('message', (message: FromThread) => {
        if ('counted' in message) {
          this.inFlight -= message.counted;
          if (this.resume && this.inFlight <= BACKLOG / 2) {
            this.resume();
            this.resume = null;
          }
        } else if ('rows' in message) resolve(new Map(message.rows));
        else reject(new Error(message.failure));
      });
      this.thread.once('error', reject);
      this.thread.once('exit', () => reject(new Error('The counting thread stopped before it answered.')));
    });
    this.result.catch(() => {});
  }

  /** Hands a copy of `chunk` to the thread; a promise when the thread is too far behind. */
  feed(chunk: Buffer): Promise<void> | undefined {
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    this.thread.postMessage(copy, [copy.buffer]);
    this.inFlight += chunk.length;
    if (this.inFlight <= BACKLOG) return undefined;
    return new Promise((resolve) => (this.resume = resolve));
  }

  /** The rows per schema.table, once every byte was fed; rejects when they cannot be trusted. */
  async finish(): Promise<Map<string, number>> {
    this.thread.postMessage('end');
    try {
      return await this.result;
    } finally {
      void this.thread.terminate();
    }
  }

  /** Stops the thread without an answer (the dump failed). */
  stop(): void {
    void this.thread.terminate();
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const counter = new CustomArchiveRowCounter();
  let counted = 0;
  port.on('message', (message: Uint8Array | 'end') => {
    if (message === 'end') {
      if (counted > 0) port.postMessage({ counted });
      try {
        port.postMessage({ rows: [...counter.finish().rows] });
      } catch (error) {
        port.postMessage({ failure: (error as Error).message });
      }
      return;
    }
    counter.feed(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    counted += message.byteLength;
    if (counted >= ACK_EVERY) {
      port.postMessage({ counted });
      counted = 0;
    }
  });
}
