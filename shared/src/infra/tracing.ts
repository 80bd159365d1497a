// OpenTelemetry traces of a run: the API request, the job it queued, the tools the job ran and what
// it read from and wrote to storage. Spans are made through @opentelemetry/api, which is a no-op
// until a tracer provider is registered; the SDK and its exporter (tracing-sdk.ts) are imported only
// when an OTLP endpoint is set, so that a process without one loads none of them and pays nothing.
import { context, propagation, trace, INVALID_SPAN_CONTEXT, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const tracer = () => trace.getTracer('coffre');

let stopExport: (() => Promise<void>) | null = null;

/** Whether this process exports traces (an OTLP endpoint was set at its start). */
export function tracingEnabled(): boolean {
  return stopExport !== null;
}

/**
 * Starts exporting traces when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set; does
 * nothing otherwise. Called once by each service process before it takes requests or jobs.
 */
export async function startTracing(config: Config, service: string, logger: Logger): Promise<void> {
  const url = tracesUrl(config);
  if (!url || stopExport) return;
  const { registerTracing } = await import('./tracing-sdk.js');
  stopExport = registerTracing({ url, serviceName: config.OTEL_SERVICE_NAME ?? service, onError: (message) => logger.warn({ err: message }, 'could not export traces') });
  logger.info({ url: new URL(url).origin }, 'exporting OpenTelemetry traces');
}

/** Sends the spans still buffered and stops exporting (at a clean stop). */
export async function stopTracing(): Promise<void> {
  const stop = stopExport;
  stopExport = null;
  await stop?.();
}

function tracesUrl(config: Config): string | null {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Runs `work` inside a span that ends when it settles: an error marks the span failed (with its
 * message, which coffre's errors keep free of secrets) and is thrown on. `parent` is the context to
 * start from (the active one by default). Attributes may be given as a function, called only when tracing;
 * `isFailure` tells errors that are not failures (a job sent back to wait) from those that are.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes | (() => Attributes),
  work: (span: Span) => Promise<T>,
  parent: Context = context.active(),
  options: { isFailure?: (error: unknown) => boolean } = {},
): Promise<T> {
  if (!tracingEnabled()) return work(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const span = tracer().startSpan(name, { attributes: typeof attributes === 'function' ? attributes() : attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    if (options.isFailure?.(error) ?? true) failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span under the active context, for work whose end is known later (a process, a stream); null when not tracing. */
export function startSpan(name: string, attributes: Attributes): Span | null {
  return tracingEnabled() ? tracer().startSpan(name, { attributes }) : null;
}

export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message.slice(0, 500) });
}

/** The W3C traceparent of the active span, to carry into a job's data; undefined when not tracing. */
export function currentTraceparent(): string | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A job's traceparent field, when it holds one (anything else is ignored: job data comes from Redis). */
export function traceparentOf(data: unknown): string | undefined {
  const value = data && typeof data === 'object' ? (data as { traceparent?: unknown }).traceparent : undefined;
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
}

/** A job's data without its traceparent: what its payload schema checks. */
export function withoutTraceparent(data: unknown): unknown {
  if (!data || typeof data !== 'object' || !Object.hasOwn(data, 'traceparent')) return data;
  const { traceparent: _traceparent, ...payload } = data as Record<string, unknown>;
  return payload;
}

/** The context a traceparent (from a job or an HTTP header) continues; the root context without one. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent || !tracingEnabled()) return context.active();
  return propagation.extract(context.active(), { traceparent });
}
