// Input validation for every entry point: a zod schema, and on failure one sentence naming the
// field(s), as a 400 (the contract's sentences.ts writes the sentence).
import { z } from 'zod';
import { NotFoundError, ValidationError } from './errors.js';
import { formatPath, formatZodError } from '@coffre/contract';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return parseWithSentence(schema, value);
}

/** A path or query id: a UUID, or a 404 (a malformed id names nothing). */
export const uuidParam = z.string().uuid();

/** An id from a path: a UUID, or the thing it names does not exist (404). */
export function requireUuid(id: string, what: string): string {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`${what} ${id.slice(0, 60)}`);
  return id;
}

/** Text for Prisma's `contains` (ILIKE underneath): %, _ and backslash escaped, so that they match themselves. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Parses a request's input, or throws a 400 whose sentence names the field. */
export function parseWithSentence<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  throw new ValidationError(formatZodError(parsed.error), details);
}

