// A large import keeps the API's memory flat: 2 GB of plain SQL, generated on the fly by this test,
// streamed to a real API process (services/api/dist/main.js) while its resident memory is read from
// /proc every 100 ms. The bytes go through the check and the compressor to the destination as they
// arrive: nothing holds the upload.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { freePort } from '../../../test/support/redis-server.js';

const TOTAL = 2 * 1024 ** 3;

let stack: TestStack;
let api: ChildProcess;
let port: number;

beforeAll(async () => {
  stack = await createTestStack();
  port = await freePort();
  api = spawn(process.execPath, [resolve('services/api/dist/main.js')], {
    env: { PATH: process.env.PATH, ...stack.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  api.stdout?.on('data', (d) => stack.logs.push(String(d)));
  api.stderr?.on('data', (d) => stack.logs.push(String(d)));
  await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => null);
    return res !== null;
  }, 60_000, 'the API to listen');
});

afterAll(async () => {
  if (api && api.exitCode === null) api.kill('SIGKILL');
  await stack?.close();
});

/** A plain pg_dump script of `total` bytes: its banner, one table, COPY rows until the size, its closing lines. */
function generatedDump(total: number): Readable {
  const head = Buffer.from(
    '--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.20\n-- Dumped by pg_dump version 15.20\n\n' +
      'SET statement_timeout = 0;\nCREATE TABLE public.big (id bigint, payload text);\nCOPY public.big (id, payload) FROM stdin;\n',
  );
  const tail = Buffer.from('\\.\n\n\n--\n-- PostgreSQL database dump complete\n--\n\n');
  const rows: string[] = [];
  for (let i = 0; i < 16_384; i++) rows.push(`${i}\t${'row payload '.repeat(4)}${(i * 2654435761) % 1000003}\n`);
  const block = Buffer.from(rows.join(''));
  let sent = 0;
  const body = total - head.length - tail.length;
  return new Readable({
    read() {
      if (sent === 0) this.push(head);
      if (sent >= body) {
        this.push(tail);
        this.push(null);
        return;
      }
      const piece = block.subarray(0, Math.min(block.length, body - sent));
      sent += piece.length;
      this.push(piece);
    },
  });
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** POSTs a stream without a Content-Length (chunked), as a client streaming a file would. */
function post(path: string, body: Readable, onSent?: (bytes: number) => void): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolvePost, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { Authorization: `Bearer ${stack.adminToken}`, 'Content-Type': 'application/octet-stream' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePost({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    body.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      onSent?.(sent);
    });
    body.pipe(req);
  });
}

describe('a 2 GB import', () => {
  it("keeps the API's resident memory flat while the upload streams through", async () => {
    const samples: { sent: number; rss: number }[] = [];
    let sent = 0;
    const sampler = setInterval(() => {
      void rssBytes(api.pid!).then((rss) => samples.push({ sent, rss }), () => {});
    }, 100);
    const started = Date.now();
    const res = await post('/api/imports?filename=big.sql', generatedDump(TOTAL), (bytes) => (sent = bytes)).finally(() => clearInterval(sampler));
    const seconds = (Date.now() - started) / 1000;
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 201, error: undefined });
    expect(res.body).toMatchObject({ trigger: 'import', dumpFormat: 'plain', status: 'completed' });

    // The baseline is taken once the pipeline runs (past the first 64 MB); the peak is the highest sample after it.
    const running = samples.filter((s) => s.sent > 64 * 1024 ** 2);
    expect(running.length).toBeGreaterThan(10);
    const baseline = running[0]!.rss;
    const peak = Math.max(...running.map((s) => s.rss));
    const mb = (n: number) => Math.round(n / 1024 ** 2);
    console.info(`import of ${mb(TOTAL)} MB in ${seconds.toFixed(1)} s (${mb(TOTAL / seconds)} MB/s): API RSS ${mb(baseline)} MB once running, peak ${mb(peak)} MB, ${samples.length} samples`);
    expect(peak - baseline).toBeLessThan(64 * 1024 ** 2);

    const backup = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: res.body.id as string } });
    expect(backup.log).toContain(`a plain-format dump of ${TOTAL} bytes`);
  });
});
