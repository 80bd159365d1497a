// Running coffre: health, the workers alive, Prometheus metrics and this API's own documentation.
import { z } from 'zod';
import { listOf } from './common.js';
import { defineRoutes } from './route.js';

const check = z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number().optional() });

export const workerSchema = z.object({
  workerId: z.string(),
  process: z.string(),
  host: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  queues: z.array(z.string()),
  beatAt: z.string(),
});
export type WorkerView = z.infer<typeof workerSchema>;

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string().optional().describe('with a token only'),
    checkedAt: z.string().optional().describe('with a token only: when the checks ran (they are reused for 30 s)'),
    checks: z.record(z.string(), check).optional().describe('with a token only'),
    workers: z.object({ alive: z.number(), items: z.array(workerSchema) }).optional().describe('with a token only: workers whose heartbeat is current'),
  })
  .meta({ id: 'Health' });
export type HealthView = z.infer<typeof healthSchema>;

const text = (description: string, contentType: string) => ({ description, schema: z.string(), contentType });

export const operationRoutes = defineRoutes({
  'health.live': {
    method: 'get',
    path: '/api/health/live',
    summary: 'Liveness: the process answers',
    tag: 'health',
    access: 'public',
    responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
  },
  'health.get': {
    method: 'get',
    path: '/api/health',
    summary: 'Readiness (503 when degraded). Anonymous: a cached status only; with a token: the checks and the workers alive',
    tag: 'health',
    access: 'public',
    responses: { 200: { description: 'Ready.', schema: healthSchema }, 503: { description: 'Degraded.', schema: healthSchema } },
  },
  'workers.list': {
    method: 'get',
    path: '/api/workers',
    summary: 'The workers alive: those whose heartbeat is current',
    tag: 'health',
    access: 'viewer',
    responses: { 200: { description: 'The workers, oldest first.', schema: listOf(workerSchema).meta({ id: 'Workers' }) } },
  },
  'metrics.get': {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: backups, restores, verifications, queues, storage (computed at scrape time)',
    tag: 'metrics',
    access: 'viewer',
    responses: { 200: text('Prometheus text format 0.0.4.', 'text/plain') },
  },
  'docs.openapi': {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: { description: 'OpenAPI 3.1.', schema: z.object({}).passthrough() } },
  },
  'docs.page': {
    method: 'get',
    path: '/api/docs',
    summary: 'The API documentation page',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: text('HTML.', 'text/html') },
  },
  'docs.script': {
    method: 'get',
    path: '/api/docs/init.js',
    summary: 'Script of the documentation page',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: text('JavaScript.', 'text/javascript') },
  },
});
