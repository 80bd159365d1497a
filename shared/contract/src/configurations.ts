// Backup configurations: what the API accepts (objects are strict: a misspelt field such as
// "retention.maxAge" is a 400, not a setting silently ignored), and a configuration as shown.
import { z } from 'zod';
import { backupSchema } from './backups.js';
import { backupTypes, compressionNames, displayName, dumpJobsSchema, idParams, listOf, uuidOf, type CompressionName } from './common.js';
import { defineRoutes } from './route.js';
import { normalizeSchedule, scheduleKinds, scheduleProblems, type Schedule } from './schedule.js';

const configurationTypes = backupTypes;
export const verifyScheduleKinds = ['none', 'daily', 'weekly', 'monthly'] as const;

/** Levels each compressor accepts (zstd without --ultra; gzip -1 … -9), as the engine applies them. */
export const compressionLevelRange: Record<Exclude<CompressionName, 'none'>, readonly [number, number]> = {
  zstd: [1, 19],
  gzip: [1, 9],
};

const MAX_RULE_COUNT = 1000;

// Messages written here start with a lower-case predicate ("must …") or a quoted value, so that
// formatZodError can tell them from zod's defaults (which start with a capital) and use them as is.

const wholeNumberBetween = (min: number, max: number) =>
  z.int().refine((value) => value >= min && value <= max, {
    error: (issue) => `must be between ${min} and ${max} (got ${String(issue.input)})`,
  });

const retentionCount = wholeNumberBetween(0, MAX_RULE_COUNT).nullish();

/** Byte counts up to 2^53 − 1 (8 PiB), where JSON numbers stay exact. */
const byteCount = z.int().refine((value) => value >= 1 && value <= Number.MAX_SAFE_INTEGER, {
  error: (issue) => `must be a number of bytes of at least 1 (got ${String(issue.input)})`,
});

/** A week at most: a run longer than that is hung, not slow. */
export const MAX_TIME_LIMIT_SECONDS = 7 * 24 * 60 * 60;

/**
 * Retention rules; leaving a rule out (or null) turns it off, and so does a count of 0 for the
 * calendar rules. keepLast 0 reads as "keep none" but would keep every backup: it is refused.
 */
export const retentionInputSchema = z
  .strictObject({
    keepLast: z
      .int()
      .refine((value) => value >= 1 && value <= MAX_RULE_COUNT, {
        error: (issue) =>
          issue.input === 0
            ? 'must be at least 1 (got 0); leave it out to keep every backup'
            : `must be between 1 and ${MAX_RULE_COUNT} (got ${String(issue.input)})`,
      })
      .nullish(),
    maxAgeDays: wholeNumberBetween(1, 365).nullish(),
    daily: retentionCount,
    weekly: retentionCount,
    monthly: retentionCount,
    yearly: retentionCount,
    minKeep: retentionCount.describe('the floor: the newest N completed backups are kept whatever the other rules (and the cap) say'),
    maxTotalBytes: byteCount.nullish().describe('the cap on the total size of the kept backups: the oldest go first'),
  })
  .meta({ id: 'RetentionInput' });

/** A schedule: preset kind with its time, or cron + timezone. Stored normalized (see normalizeSchedule). */
export const scheduleInputSchema = z
  .strictObject({
    kind: z.enum(scheduleKinds),
    time: z
      .union([z.string().max(10), z.int()], { error: 'must be "HH:MM", or the minute "MM" for an hourly schedule' })
      .nullish(),
    weekday: z.int().nullish(),
    dayOfMonth: z.int().nullish(),
    cron: z.string().max(200, 'must be at most 200 characters long').nullish(),
    timezone: z.string().max(100, 'must be at most 100 characters long').nullish(),
  })
  .transform((raw, context) => {
    const schedule: Schedule = { ...raw, time: raw.time === undefined || raw.time === null ? raw.time : String(raw.time) };
    const problems = scheduleProblems(schedule);
    for (const problem of problems) {
      context.addIssue({ code: 'custom', path: [problem.field], message: problem.message, input: raw[problem.field] });
    }
    return problems.length > 0 ? z.NEVER : normalizeSchedule(schedule);
  })
  .meta({ id: 'ScheduleInput' });

const absolutePath = z
  .string()
  .max(4096, 'must be at most 4096 characters long')
  .refine((path) => !path.includes('\0'), 'must not contain a NUL character')
  .refine((path) => path.startsWith('/'), { error: (issue) => `must be an absolute path, starting with / (got '${String(issue.input)}')` });

const globPattern = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters long')
  .refine((pattern) => !pattern.includes('\0'), 'must not contain a NUL character');

const fields = {
  name: displayName(100, { empty: 'must not be empty', long: 'must be at most 100 characters long' }),
  sourceId: uuidOf('must be a UUID'),
  type: z.enum(configurationTypes),
  schedule: scheduleInputSchema,
  active: z.boolean(),
  includePaths: z.array(absolutePath).max(50, 'must list at most 50 paths'),
  excludePatterns: z.array(globPattern).max(100, 'must list at most 100 patterns'),
  compression: z.enum(compressionNames),
  compressionLevel: z.int().nullish(),
  dumpJobs: dumpJobsSchema,
  /** null: as the installation (encrypted when AGE_RECIPIENTS is set). */
  encrypt: z.boolean().nullable(),
  retention: retentionInputSchema,
  destinationIds: z
    .array(uuidOf('must be a UUID'))
    .max(20, 'must list at most 20 destinations')
    .refine((ids) => new Set(ids).size === ids.length, 'must not list a destination twice'),
  verifySchedule: z.enum(verifyScheduleKinds),
  maxBackupBytes: byteCount.nullable().describe('a run whose artifacts grow past this many bytes stops and fails; null: no maximum'),
  timeLimitSeconds: wholeNumberBetween(1, MAX_TIME_LIMIT_SECONDS)
    .nullable()
    .describe('the time limit of its runs (backups, and restores and verifications of its backups); null: RUN_TIME_LIMIT_SECONDS'),
};

/** POST /api/configurations. Everything but name and sourceId has a default. */
export const configurationCreateSchema = z
  .strictObject({
    name: fields.name,
    sourceId: fields.sourceId,
    type: fields.type.default('full'),
    schedule: fields.schedule.default({ kind: 'manual', timezone: 'UTC' }),
    active: fields.active.default(true),
    includePaths: fields.includePaths.default([]),
    excludePatterns: fields.excludePatterns.default([]),
    compression: fields.compression.default('zstd'),
    compressionLevel: fields.compressionLevel,
    dumpJobs: fields.dumpJobs.default(1),
    encrypt: fields.encrypt.default(null),
    retention: fields.retention.default({}),
    destinationIds: fields.destinationIds.default([]),
    verifySchedule: fields.verifySchedule.default('none'),
    maxBackupBytes: fields.maxBackupBytes.default(null),
    timeLimitSeconds: fields.timeLimitSeconds.default(null),
  })
  .superRefine((input, context) => {
    const problem = compressionLevelProblem(input.compression, input.compressionLevel);
    if (problem) context.addIssue({ code: 'custom', path: ['compressionLevel'], message: problem, input: input.compressionLevel });
  })
  .meta({ id: 'ConfigurationInput' });

/**
 * PUT /api/configurations/:id: any subset of the fields. schedule and retention, when given,
 * replace the whole object. A level given without a compression is checked against the stored
 * compression by configurationUpdateToColumns.
 */
export const configurationUpdateSchema = z
  .strictObject({
    name: fields.name.optional(),
    sourceId: fields.sourceId.optional(),
    type: fields.type.optional(),
    schedule: fields.schedule.optional(),
    active: fields.active.optional(),
    includePaths: fields.includePaths.optional(),
    excludePatterns: fields.excludePatterns.optional(),
    compression: fields.compression.optional(),
    compressionLevel: fields.compressionLevel,
    dumpJobs: fields.dumpJobs.optional(),
    encrypt: fields.encrypt.optional(),
    retention: fields.retention.optional(),
    destinationIds: fields.destinationIds.optional(),
    verifySchedule: fields.verifySchedule.optional(),
    maxBackupBytes: fields.maxBackupBytes.optional(),
    timeLimitSeconds: fields.timeLimitSeconds.optional(),
  })
  .superRefine((input, context) => {
    if (input.compression === undefined) return;
    const problem = compressionLevelProblem(input.compression, input.compressionLevel);
    if (problem) context.addIssue({ code: 'custom', path: ['compressionLevel'], message: problem, input: input.compressionLevel });
  })
  .meta({ id: 'ConfigurationUpdate' });

/** A create request as written: what is left out takes the defaults. */
export type ConfigurationCreateRequest = z.input<typeof configurationCreateSchema>;
export type ConfigurationCreateInput = z.output<typeof configurationCreateSchema>;
export type ConfigurationUpdateInput = z.output<typeof configurationUpdateSchema>;

/** Why `level` does not suit `compression` (a predicate after the field name), or null. */
export function compressionLevelProblem(compression: CompressionName, level: number | null | undefined): string | null {
  if (level === undefined || level === null) return null;
  if (compression === 'none') return `must be left out when compression is none (got ${level})`;
  const [min, max] = compressionLevelRange[compression];
  return level < min || level > max ? `must be between ${min} and ${max} for ${compression} (got ${level})` : null;
}

export const configurationViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sourceId: z.uuid(),
    type: z.enum(configurationTypes),
    schedule: z.object({
      kind: z.enum(scheduleKinds),
      time: z.string().optional(),
      weekday: z.int().optional(),
      dayOfMonth: z.int().optional(),
      cron: z.string().optional(),
      timezone: z.string(),
    }),
    scheduleDescription: z.string().describe('the schedule in words, e.g. "Every day at 02:30 (Europe/Paris)"'),
    nextRunAt: z.string().nullable().describe('when the scheduler fires next; null when manual or inactive'),
    active: z.boolean(),
    includePaths: z.array(z.string()),
    excludePatterns: z.array(z.string()),
    compression: z.enum(compressionNames),
    compressionLevel: z.int().nullable(),
    dumpJobs: z.int().describe('pg_dump --jobs: 1 is the custom format; more is the directory format with that many jobs'),
    encrypt: z.boolean().nullable().describe('the configuration\'s own choice; null: as the installation (encrypted when AGE_RECIPIENTS is set)'),
    retention: z
      .object({
        keepLast: z.int().optional(),
        maxAgeDays: z.int().optional(),
        daily: z.int().optional(),
        weekly: z.int().optional(),
        monthly: z.int().optional(),
        yearly: z.int().optional(),
        minKeep: z.int().optional(),
        maxTotalBytes: z.int().optional(),
      })
      .describe('the rules that are on; {} keeps every backup'),
    destinationIds: z.array(z.uuid()),
    verifySchedule: z.enum(verifyScheduleKinds),
    maxBackupBytes: z.int().nullable(),
    timeLimitSeconds: z.int().nullable().describe('its own time limit; null: RUN_TIME_LIMIT_SECONDS'),
    lastRunAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Configuration' });

export type ConfigurationView = z.infer<typeof configurationViewSchema>;

export const configurationDetailsSchema = configurationViewSchema
  .extend({
    encrypted: z.boolean().describe('whether its backups are encrypted now: its own choice, or else the installation\'s'),
    sourceName: z.string(),
    overdue: z.boolean().describe('no backup completed within one interval of the schedule plus a grace (10 %, at least 5 min)'),
    overdueAt: z.string().nullable().describe('when it is, or became, overdue unless a backup completes before'),
    lastCompletedAt: z.string().nullable().describe('its newest completed backup whose artifacts are kept'),
    lastStatus: z.string().nullable(),
  })
  .meta({ id: 'ConfigurationDetails' });
export type ConfigurationDetails = z.infer<typeof configurationDetailsSchema>;

const configurationId = idParams('Configuration');
const details = (description: string) => ({ description, schema: configurationDetailsSchema });

export const configurationRoutes = defineRoutes({
  'configurations.list': {
    method: 'get',
    path: '/api/configurations',
    summary: 'Backup configurations, with their schedule in words, next run and overdue state',
    tag: 'configurations',
    access: 'viewer',
    responses: { 200: { description: 'Every configuration.', schema: listOf(configurationDetailsSchema) } },
  },
  'configurations.create': {
    method: 'post',
    path: '/api/configurations',
    summary: 'Create a configuration (its scheduler starts when it is active and scheduled)',
    tag: 'configurations',
    access: 'admin',
    location: '/api/configurations/:id',
    body: configurationCreateSchema,
    responses: { 201: details('The configuration.'), 409: { description: 'The name is taken.' } },
  },
  'configurations.get': {
    method: 'get',
    path: '/api/configurations/:id',
    summary: 'One configuration',
    tag: 'configurations',
    access: 'viewer',
    params: configurationId,
    responses: { 200: details('The configuration.'), 404: { description: 'No such configuration.' } },
  },
  'configurations.update': {
    method: 'put',
    path: '/api/configurations/:id',
    summary: 'Change a configuration (any subset of its fields)',
    tag: 'configurations',
    access: 'admin',
    params: configurationId,
    body: configurationUpdateSchema,
    responses: { 200: details('The configuration.'), 404: { description: 'No such configuration.' } },
  },
  'configurations.delete': {
    method: 'delete',
    path: '/api/configurations/:id',
    summary: 'Delete a configuration and its schedulers (its backups stay)',
    tag: 'configurations',
    access: 'admin',
    params: configurationId,
    responses: { 204: { description: 'Deleted.' }, 409: { description: 'Backups of it are running.' } },
  },
  'configurations.activate': {
    method: 'post',
    path: '/api/configurations/:id/activate',
    summary: 'Activate: its scheduler starts',
    tag: 'configurations',
    access: 'operator',
    params: configurationId,
    responses: { 200: details('The configuration.') },
  },
  'configurations.deactivate': {
    method: 'post',
    path: '/api/configurations/:id/deactivate',
    summary: 'Deactivate: its scheduler stops',
    tag: 'configurations',
    access: 'operator',
    params: configurationId,
    responses: { 200: details('The configuration.') },
  },
  'configurations.run': {
    method: 'post',
    path: '/api/configurations/:id/run',
    summary: 'Run now: a backup of this configuration',
    tag: 'configurations',
    access: 'operator',
    location: '/api/backups/:id',
    params: configurationId,
    responses: { 202: { description: 'The backup, pending.', schema: backupSchema } },
  },
  'configurations.duplicate': {
    method: 'post',
    path: '/api/configurations/:id/duplicate',
    summary: 'Copy a configuration (the copy starts inactive)',
    tag: 'configurations',
    access: 'admin',
    location: '/api/configurations/:id',
    params: configurationId,
    responses: { 201: details('The copy.') },
  },
});
