// What every part of the contract shares: the words of the enums, ids in paths, pages of a list,
// the error answer, and the rule every name people give obeys.
import { z } from 'zod';
import { nameRules } from './names.js';
import { printable } from './sentences.js';

export const roles = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof roles)[number];

export const backupTypes = ['full', 'schema', 'data', 'physical'] as const;
export type BackupType = (typeof backupTypes)[number];

export const runStatuses = ['pending', 'running', 'completed', 'failed'] as const;
export type RunStatus = (typeof runStatuses)[number];

export const backupTriggers = ['manual', 'schedule', 'pre-restore', 'cli', 'import'] as const;
export type BackupTrigger = (typeof backupTriggers)[number];

export const dumpFormats = ['custom', 'directory', 'tar', 'plain'] as const;
export type DumpFormatName = (typeof dumpFormats)[number];

/** pg_dump --jobs: 1 is the custom format in one stream; more is the directory format, dumped by that many jobs. */
export const MAX_DUMP_JOBS = 32;
export const dumpJobsSchema = z
  .int({ error: (issue) => `must be a whole number of parallel pg_dump jobs, from 1 to ${MAX_DUMP_JOBS} (got ${JSON.stringify(issue.input)})` })
  .refine((value) => value >= 1 && value <= MAX_DUMP_JOBS, {
    error: (issue) => `must be between 1 and ${MAX_DUMP_JOBS} (got ${String(issue.input)})`,
  })
  .describe('pg_dump --jobs: 1 (the default) dumps in the custom format, in one stream; 2 to 32 dump in the directory format with that many parallel jobs, tarred into the artifact');

export const compressionNames = ['zstd', 'gzip', 'none'] as const;
export type CompressionName = (typeof compressionNames)[number];

export const artifactKinds = ['database', 'files', 'bucket', 'manifest', 'restore-notes'] as const;
export type ArtifactKind = (typeof artifactKinds)[number];

/**
 * What a pending or running run is expected to take, from the last comparable run that completed
 * (or, for a restore, the size of the artifact it reads): the web UI's percentage and ETA.
 */
export const runExpectedSchema = z
  .object({
    sizeBytes: z.number().nullable().describe('bytes the run should write (a backup) or read (a restore) in all'),
    durationMs: z.number().nullable().describe('how long the comparable run took'),
    rows: z.number().nullable().optional().describe("database restores: the rows the backup holds, which the restore's loadedRows counts towards"),
    basis: z.string().describe('where the figures come from, in words'),
  })
  .meta({ id: 'RunExpected' });
export type RunExpected = z.infer<typeof runExpectedSchema>;

/** Who may call a route: anyone, or a role and every role above it. */
export type Access = 'public' | 'viewer' | 'operator' | 'admin';

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorSchema>;

/**
 * The `:id` of a path: a UUID, in lower case however it was typed (what is recorded, the audit log
 * first, is one spelling of it). A malformed one names nothing, so the API answers 404 with the
 * message of this schema's issue ("Backup <id>" → "Backup <id> was not found.", control characters
 * shown escaped).
 */
export function idParams(resource: string) {
  return z.object({ id: z.string().uuid({ error: (issue) => `${resource} ${printable(String(issue.input).slice(0, 60))}` }).toLowerCase() });
}

/**
 * An id in a body or a query: a UUID, kept in lower case however it was typed (PostgreSQL compares
 * UUIDs as values, but what is recorded, compared or logged as text must be one spelling of it).
 */
export function uuidOf(message?: string) {
  return z.uuid(message).toLowerCase();
}

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), total: z.number(), page: z.number(), pageSize: z.number() }).meta({ id });
}

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) });
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** page (1-based) and pageSize of a paginated list. */
export function pagination(pageSize: number) {
  return {
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(pageSize),
  };
}

/**
 * A name people give a thing and others read: no control characters (C0, DEL, C1), line or
 * paragraph separators, zero-width or bidirectional control characters (names.ts).
 */
export function displayName(max: number, messages: { empty?: string; long?: string } = {}) {
  return readableText(z.string().trim().min(1, messages.empty).max(max, messages.long));
}

/** A string schema that also obeys every rule of a name (names.ts), each refused with its own sentence. */
export function readableText(schema: z.ZodString): z.ZodString {
  return nameRules.reduce((refined, [rule, message]) => refined.refine(rule, message), schema);
}

/** A name that is also part of a path or a CLI argument: letters, digits, ".", "_" and "-". */
export function plainName(pattern: string) {
  return z.string().trim().min(1, 'must not be empty').max(63, 'must be at most 63 characters').regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, pattern);
}

/** An S3 key prefix: no "." or ".." segment, so that nothing lands outside it. */
export const hasNoDotSegments = (prefix: string) => !prefix.split('/').some((segment) => segment === '..' || segment === '.');
export const dotSegmentsMessage = 'must not contain "." or ".." segments';
export const keyPrefix = z.string().trim().max(200).refine(hasNoDotSegments, dotSegmentsMessage);

/** An absolute directory path (files restores, local destinations). */
export const isAbsoluteDirectory = (path: string) => path.startsWith('/') && !path.includes('\0');
export const absoluteDirectoryMessage = 'must be an absolute directory path';

export const userInfoMessage = 'must not hold a user name or password';
export const queryOrFragmentMessage = 'must not have a query string or a fragment';

/**
 * An http:// or https:// URL of a server coffre connects to. With `credentialsGoIn`, a URL holding a
 * user name or password is refused, the sentence saying where they go instead: such a URL is a
 * setting, stored as it is and shown to every viewer. With `bare`, a query string or fragment too
 * (a signed query would be a credential as well).
 */
export function httpUrlOf(message: string, options: { credentialsGoIn?: string; bare?: boolean } = {}) {
  let schema = z
    .string()
    .trim()
    .url(message)
    .refine((v) => /^https?:\/\//.test(v), 'must be an http:// or https:// URL');
  if (options.credentialsGoIn) schema = schema.refine(hasNoUserInfo, `${userInfoMessage}: ${options.credentialsGoIn}`);
  if (options.bare) schema = schema.refine(hasNoQueryOrFragment, queryOrFragmentMessage);
  return schema;
}

/** No "user:password@" (nor a bare "user@" or ":password@") before the host of a URL. */
export function hasNoUserInfo(url: string): boolean {
  const authority = url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '').split(/[/\\?#]/)[0] ?? '';
  if (authority.includes('@')) return false;
  try {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  } catch {
    return true; // not a URL: the URL rule says so
  }
}

/** No "?" (a query string, even empty) nor "#" (a fragment) in a URL. */
export function hasNoQueryOrFragment(url: string): boolean {
  return !/[?#]/.test(url);
}
