// What no route can take: the NUL character. PostgreSQL stores no NUL in text, so a query string or
// body carrying one would reach a query that fails (a 500, found by test/security/fuzz-bodies.test.ts
// with GET /api/audit?action=%00): it is refused first, with a sentence.
import type { RequestHandler } from 'express';
import { ValidationError } from '@coffre/shared';

export const refuseNulCharacters: RequestHandler = (req, _res, next) => {
  const where = holdsNul(req.query) ? 'query string' : holdsNul(req.body) ? 'request body' : null;
  next(where ? new ValidationError(`The ${where} contains a NUL character (\\u0000), which coffre cannot store: remove it.`) : undefined);
};

/** Whether a parsed value holds NUL in any string or key, at any depth. */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || holdsNul(inner, depth + 1));
}
