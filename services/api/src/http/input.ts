// What no route can take: the NUL character. PostgreSQL stores no NUL in text and no process takes
// one in an argument, so a query string or body carrying one would reach a query or a spawn that
// fails (a 500, found by test/security/fuzz-bodies.test.ts with GET /api/audit?action=%00): it is
// refused first, with a sentence naming the field.
import type { Request, RequestHandler } from 'express';
import { ValidationError } from '@coffre/shared';

export const refuseNulCharacters: RequestHandler = (req, _res, next) => {
  const where = nulPlace(req);
  next(where ? new ValidationError(`${where} contains a NUL character (\\u0000), which coffre cannot store: remove it.`) : undefined);
};

/** Where the request holds a NUL, for a sentence; null when it holds none. */
function nulPlace(req: Request): string | null {
  const query = findNul(req.query);
  if (query) return query.inKey ? 'A query parameter’s name' : `The query parameter ${quoted(query.path)}`;
  const body = findNul(req.body);
  if (!body) return null;
  if (body.inKey) return body.path.length > 0 ? `A key of ${quoted(body.path)}` : 'A key of the request body';
  return body.path.length > 0 ? `The field ${quoted(body.path)}` : 'The request body';
}

/** Where a parsed value holds NUL, in a string or a key, at any depth: the path to it. */
function findNul(value: unknown, path: string[] = []): { path: string[]; inKey: boolean } | null {
  if (typeof value === 'string') return value.includes('\u0000') ? { path, inKey: false } : null;
  if (value === null || typeof value !== 'object' || path.length > 32) return null;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) return { path, inKey: true };
    const found = findNul(inner, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** A field's path for a sentence: `"a.b"`, cut to 64 characters. */
function quoted(path: string[]): string {
  return `"${path.join('.').slice(0, 64)}"`;
}
