// One span per API request when the process exports traces (an OTLP endpoint is set): named after
// the method and the matched route (never the raw URL, whose ids and query say nothing useful and
// may be long), with the status; a traceparent header from a caller is continued. Everything the
// request does (the job it queues among it) runs inside the span's context.
import type { RequestHandler } from 'express';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { contextFromTraceparent } from '@coffre/shared';

export function traceRequests(): RequestHandler {
  const tracer = trace.getTracer('coffre');
  return (req, res, next) => {
    const incoming = req.headers.traceparent;
    const parent = contextFromTraceparent(typeof incoming === 'string' ? incoming : undefined);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    res.once('close', () => {
      // The route as Express matched it (/api/backups/:id), known once the request went through the router.
      const route = req.route ? String((req.route as { path: unknown }).path) : undefined;
      if (route) span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.response.status_code': res.statusCode, ...(route ? { 'http.route': route } : {}) });
      if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, ...(res.writableFinished ? {} : { message: 'the connection closed before the answer was sent' }) });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
