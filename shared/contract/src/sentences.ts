// One sentence per 400: a zod error told as an operator reads it, naming the field, what was
// expected and what was given (control characters shown escaped, never printed).
import type { z } from 'zod';
import { UNPRINTABLE } from './names.js';

/**
 * One sentence naming the field path(s) of a zod error, e.g.
 * "retention.maxAgeDays must be between 1 and 365 (got 366)." Several problems are joined with
 * "; " (at most five, then "and N more"). Messages written for it (starting lower-case or with a
 * quoted value) are used as they are; zod's defaults are rephrased. The offending value is quoted
 * when the parse reported inputs ({ reportInput: true }), except for fields whose name suggests a
 * secret (SECRET_FIELD: url, password, token, key, secret, endpoint, topic…).
 */
export function formatZodError(error: z.ZodError): string {
  const clauses = error.issues.map((issue) => issueSentence(issue));
  const shown = clauses.slice(0, 5).join('; ');
  const more = clauses.length > 5 ? `; and ${clauses.length - 5} more problem${clauses.length - 5 === 1 ? '' : 's'}` : '';
  return `${shown}${more}.`;
}

type Issue = z.core.$ZodIssue;

/**
 * One problem as a clause (no final period): "retention.maxAgeDays must be between 1 and 365 (got
 * 366)". `field` names the field otherwise than by its path (a form says "Max age days").
 */
export function issueSentence(issue: Issue, field = formatPath(issue.path) || 'The request body'): string {
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((key) => formatPath([...issue.path, key]));
    return names.length === 1 ? `${names[0]} is not a known field` : `${listing(names)} are not known fields`;
  }
  if (/^[A-Z]/.test(issue.message)) return `${field} ${defaultPredicate(issue)}${gotSuffix(issue)}`;
  // A predicate of ours gets the value appended unless it already says it; a statement quotes it.
  const got = /^[a-z]/.test(issue.message) && !issue.message.includes('(got ') ? gotSuffix(issue) : '';
  return `${joinFieldAndMessage(field, issue.message)}${got}`;
}

function defaultPredicate(issue: Issue): string {
  if (isMissing(issue)) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${expectedType[issue.expected] ?? `of type ${issue.expected}`}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const comparison = issue.inclusive === false ? (small ? 'greater than' : 'less than') : small ? 'at least' : 'at most';
      if (issue.origin === 'string') return `must be ${comparison} ${bound} character${bound === 1 ? '' : 's'} long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${comparison} ${bound} item${bound === 1 ? '' : 's'}`;
      return `must be ${comparison} ${bound}`;
    }
    case 'invalid_format':
      return `must be ${formatNames[issue.format] ?? `a valid ${issue.format}`}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values[0])}` : `must be one of ${issue.values.map(quoted).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'does not match any accepted form';
    default:
      return `is invalid (${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)})`;
  }
}

const expectedType: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  date: 'a date',
  bigint: 'a whole number',
};

const formatNames: Record<string, string> = {
  uuid: 'a UUID',
  guid: 'a UUID',
  email: 'an email address',
  url: 'a URL',
  datetime: 'an ISO 8601 date and time',
  date: 'an ISO 8601 date',
  regex: 'in the expected format',
};

function isMissing(issue: Issue): boolean {
  if (issue.code !== 'invalid_type') return 'input' in issue && issue.input === undefined;
  return 'input' in issue ? issue.input === undefined : /received undefined/.test(issue.message);
}

/**
 * Fields whose values are never quoted back: URLs (a password, a webhook's path), passwords,
 * passphrases, secrets, tokens, keys, credentials, S3 endpoints (which may hold a user name and
 * password, or a signed query), ntfy topics (whoever knows one reads it), rclone configurations
 * (they hold the remote's keys), login challenges and second-factor codes.
 */
const SECRET_FIELD = /url|pass|secret|token|key|credential|endpoint|topic|rcloneConfig|challenge|code/i;

function gotSuffix(issue: Issue): string {
  if (isMissing(issue)) return '';
  const last = issue.path[issue.path.length - 1];
  if (typeof last === 'string' && SECRET_FIELD.test(last)) return '';
  if ('input' in issue) return ` (got ${describeValue(issue.input)})`;
  // Without reported inputs, zod's message still says which type it received.
  const received = /received (\w+)/.exec(issue.message);
  return received ? ` (got ${received[1]})` : '';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoted(printable(value.length > 60 ? `${value.slice(0, 57)}...` : value));
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, zero-width and bidirectional
 * control characters as \\uXXXX: a sentence must read as it is written.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function quoted(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** ['includePaths', 3] → "includePaths[3]"; ['retention', 'maxAgeDays'] → "retention.maxAgeDays". */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    const name = String(segment);
    return text ? `${text}.${name}` : name;
  }, '');
}

function listing(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "name must be …" when the message starts in lower case, "name: …" otherwise. */
export function joinFieldAndMessage(field: string, message: string): string {
  return /^[a-z]/.test(message) ? `${field} ${message}` : `${field}: ${message}`;
}
