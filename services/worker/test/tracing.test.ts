// OpenTelemetry traces of a run, through a real API process and a real worker process (their dist/):
// with an OTLP endpoint set, a backup asked of the API is one trace at a local OTLP/HTTP receiver, the
// request's span its root and the job, pg_dump and the storage write its descendants; without one, no
// OpenTelemetry SDK code is in either process's heap (read from a heap snapshot each process writes on
// a signal; the same reading finds the SDK in the traced processes, so it is able to fail).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/receivers.js';
import { freePort } from '../../../test/support/redis-server.js';
import { withClient } from '../../../test/support/pg.js';

let stack: TestStack;
let collector: HttpReceiver;
const started: ChildProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack();
  await withClient(stack.config.SOURCE_DATABASE_URL!, (client) => client.query('CREATE TABLE traced (id int); INSERT INTO traced SELECT generate_series(1, 1000)'));
  collector = await startHttpReceiver();
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await stack?.close();
  await collector?.stop();
});

interface Service {
  child: ChildProcess;
  url: string;
  diagnostics: string;
}

/** Starts the API or a worker from dist/ with the stack's environment, writing a heap snapshot on SIGUSR2. */
async function startService(service: 'api' | 'worker', env: Record<string, string>): Promise<Service> {
  const diagnostics = await mkdtemp(join(tmpdir(), `coffre-otel-${service}-`));
  const port = service === 'api' ? await freePort() : 0;
  const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${diagnostics}`, resolve(`services/${service}/dist/main.js`)], {
    env: { PATH: process.env.PATH, ...stack.env, ...(service === 'api' ? { PORT: String(port), HOST: '127.0.0.1' } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => stack.logs.push(String(d)));
  child.stderr?.on('data', (d) => stack.logs.push(String(d)));
  started.push(child);
  const url = `http://127.0.0.1:${port}`;
  if (service === 'api') await eventually(async () => (await fetch(`${url}/api/health`).catch(() => null)) !== null, 60_000, 'the API to listen');
  else await eventually(async () => stack.logs.some((line) => line.includes('worker ready') && line.includes(String(child.pid))), 60_000, 'the worker to be ready');
  return { child, url, diagnostics };
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGTERM');
    await eventually(async () => service.child.exitCode !== null || service.child.signalCode !== null, 30_000, 'the process to stop');
  }
  await rm(service.diagnostics, { recursive: true, force: true });
}

/** A backup asked of the API over HTTP, waited for until its row is completed. */
async function backupThroughApi(api: Service): Promise<string> {
  const res = await fetch(`${api.url}/api/backups`, { method: 'POST', headers: { Authorization: `Bearer ${stack.adminToken}`, 'Content-Type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const row = await eventually(async () => {
    const backup = await stack.ctx.db.backup.findUnique({ where: { id } });
    return backup && ['completed', 'failed'].includes(backup.status) ? backup : null;
  }, 120_000, `backup ${id} to finish`);
  expect(row.status).toBe('completed');
  return id;
}

/** The text of the heap snapshot the process writes when signalled (every string on its heap, module sources among them). */
async function heapText(service: Service): Promise<Buffer> {
  service.child.kill('SIGUSR2');
  const file = await eventually(async () => {
    const name = (await readdir(service.diagnostics)).find((f) => f.endsWith('.heapsnapshot'));
    if (!name) return null;
    const path = join(service.diagnostics, name);
    const size = (await stat(path)).size;
    // A snapshot is one JSON document: complete once it ends with its closing brackets.
    const tail = size > 16 ? (await readFile(path)).subarray(-16).toString('utf8') : '';
    return /\]\s*\}\s*$/.test(tail) ? path : null;
  }, 120_000, 'the heap snapshot');
  const text = await readFile(file);
  await rm(file);
  return text;
}

/** Code of the tracing SDK and its exporter (class names that only they define), and of the API package every process loads. */
const SDK_NAMES = ['BatchSpanProcessor', 'OTLPTraceExporter', 'JsonTraceSerializer'];
const API_NAME = 'ProxyTracerProvider';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
  service: string;
}

/** Every span the collector received, with the service name of the process that sent it. */
function receivedSpans(): ExportedSpan[] {
  type Body = { resourceSpans?: { resource?: { attributes?: ExportedSpan['attributes'] }; scopeSpans?: { spans?: Omit<ExportedSpan, 'service'>[] }[] }[] };
  return collector.requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) =>
      ((r.json as Body).resourceSpans ?? []).flatMap((rs) => {
        const service = String(Object.values(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {})[0] ?? '');
        return (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((span) => ({ ...span, service })));
      }),
    );
}

const attribute = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

/** Whether `span` descends from `ancestor` through the parents the trace holds. */
function descendsFrom(span: ExportedSpan, ancestor: ExportedSpan, spans: ExportedSpan[]): boolean {
  let parent = span.parentSpanId;
  for (let hops = 0; parent && hops < 20; hops++) {
    if (parent === ancestor.spanId) return true;
    parent = spans.find((s) => s.spanId === parent)?.parentSpanId;
  }
  return false;
}

describe('OpenTelemetry traces', () => {
  it('a backup asked of the API is one trace: the request at its root, the job, pg_dump and the storage write below it', async () => {
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(''), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    const api = await startService('api', otel);
    const worker = await startService('worker', otel);
    const id = await backupThroughApi(api);

    const { request, spans } = await eventually(async () => {
      const all = receivedSpans();
      const root = all.find((s) => s.name === 'POST /api/backups' && !s.parentSpanId);
      if (!root) return null;
      const trace = all.filter((s) => s.traceId === root.traceId);
      const ready = ['job backup.run', 'tool pg_dump', 'storage put'].every((name) => trace.some((s) => s.name === name));
      return ready ? { request: root, spans: trace } : null;
    }, 60_000, 'the backup’s trace at the collector');

    expect(request.service).toBe('coffre-api');
    expect({ route: attribute(request, 'http.route'), status: Number(attribute(request, 'http.response.status_code')) }).toEqual({ route: '/api/backups', status: 202 });
    const job = spans.find((s) => s.name === 'job backup.run')!;
    expect(job.parentSpanId).toBe(request.spanId);
    expect({ service: job.service, queue: attribute(job, 'messaging.destination.name'), backup: attribute(job, 'coffre.backup.id') }).toEqual({ service: 'coffre-worker', queue: 'backup', backup: id });
    const pgDump = spans.find((s) => s.name === 'tool pg_dump')!;
    // The artifact's write among the puts (the manifest and RESTORE.md are puts too), in whatever order they ended.
    const puts = spans.filter((s) => s.name === 'storage put');
    expect(descendsFrom(pgDump, job, spans)).toBe(true);
    for (const put of puts) expect(descendsFrom(put, job, spans)).toBe(true);
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id } });
    const written = puts.map((put) => ({ kind: attribute(put, 'coffre.destination.kind'), bytes: Number(attribute(put, 'coffre.storage.bytes')) }));
    expect(written).toContainEqual({ kind: 'local', bytes: Number(row.sizeBytes) });
    // A tool's span names the tool, never its arguments (which name the database and could carry more).
    expect(pgDump.attributes.map((a) => a.key).sort()).toEqual(['process.executable.name', 'process.exit.code']);
    const sent = collector.requests.map((r) => r.raw).join('\n');
    for (const secret of [stack.adminToken, stack.env.SECRET_KEY!, stack.config.SOURCE_DATABASE_URL!]) expect(sent).not.toContain(secret);

    // The measurement of the next test, on these traced processes: it finds the SDK.
    for (const service of [api, worker]) {
      const heap = await heapText(service);
      expect(SDK_NAMES.filter((name) => heap.includes(name))).toEqual(SDK_NAMES);
    }
    await stopService(api);
    await stopService(worker);
  });

  it('without an OTLP endpoint, neither process loads any OpenTelemetry SDK code, and a backup still runs', async () => {
    const api = await startService('api', {});
    const worker = await startService('worker', {});
    const before = collector.requests.length;
    await backupThroughApi(api);
    for (const service of [api, worker]) {
      const heap = await heapText(service);
      // The API package is there (a no-op until an SDK registers), so the snapshot does hold module code.
      expect(heap.includes(API_NAME)).toBe(true);
      expect(SDK_NAMES.filter((name) => heap.includes(name))).toEqual([]);
    }
    expect(collector.requests.length).toBe(before);
    await stopService(api);
    await stopService(worker);
  });
});
