// The OpenTelemetry SDK, loaded by tracing.ts only when an OTLP endpoint is set: a tracer provider
// whose spans are batched and sent as OTLP/HTTP JSON, async-local-storage context (a span started in
// an awaited call is a child of the caller's), and W3C trace context to carry a trace into a job.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface TracingOptions {
  /** Where spans are posted (…/v1/traces). */
  url: string;
  serviceName: string;
  onError(message: string): void;
}

/** Registers the SDK for this process; the answer flushes what is buffered and stops it. */
export function registerTracing(options: TracingOptions): () => Promise<void> {
  const exporter = new OTLPTraceExporter({ url: options.url });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    // A run's spans reach the collector within a second of their end, whatever the batch holds.
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return async () => {
    await provider.shutdown().catch((error: unknown) => options.onError((error as Error).message));
    trace.disable();
    propagation.disable();
    context.disable();
  };
}
