// One error handler: every failure becomes {"error":{"code","message"}} with the right status. A
// bug becomes a 500 with a request id to look up in the logs, never a stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, PermanentError } from '@coffre/shared';

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `No route ${req.method} ${req.path}.` } });
};

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const { status, code, message, details } = describe(error);
  if (status >= 500) req.log?.error({ err: error }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}), ...(status >= 500 ? { requestId: req.id } : {}) } });
};

function describe(error: unknown): { status: number; code: string; message: string; details?: unknown } {
  if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message, details: error.details };
  if (error instanceof PermanentError) return { status: 400, code: error.code, message: error.message };
  const e = error as { type?: string; status?: number; statusCode?: number; message?: string; code?: string };
  // body-parser's errors carry a type and a 4xx status.
  switch (e.type) {
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
    case 'entity.parse.failed':
      return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_encoding', message: 'The request body encoding is not supported.' };
  }
  const status = e.status ?? e.statusCode;
  if (status && status >= 400 && status < 500) return { status, code: 'bad_request', message: e.message ?? 'Bad request.' };
  if (databaseUnavailable(error)) {
    return { status: 503, code: 'database_unavailable', message: "coffre's database (DATABASE_URL) cannot be reached right now, so nothing was done: check that its PostgreSQL is running, then try again." };
  }
  if (e.code === 'P2025') return { status: 404, code: 'not_found', message: 'The resource was not found.' };
  if (e.code === 'P2002') return { status: 409, code: 'conflict', message: 'A resource with the same unique value already exists.' };
  return { status: 500, code: 'internal', message: 'An internal error occurred; the request id is in the logs.' };
}

/** coffre's own PostgreSQL is down, restarting or refusing connections: a 503, not a bug. */
function databaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } } };
  const cause = e.meta?.driverAdapterError?.cause;
  if (['P1001', 'P1002', 'P1017', 'P2024'].includes(e.code ?? '')) return true;
  if (['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'].includes(cause?.kind ?? '')) return true;
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down)
  return cause?.kind === 'postgres' && ['57P01', '57P02', '57P03'].includes(cause.code ?? '');
}
