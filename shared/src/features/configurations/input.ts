// What the API accepts for a backup configuration, how it is stored, and how it is shown.
// Objects are strict: a misspelt field ("retention.maxAge") is a 400, not a setting silently
// ignored. Every 400 is one sentence naming the field(s), built by formatZodError.
import { z } from 'zod';
import type { BackupConfiguration } from '../../infra/db.js';
import { ValidationError } from '../../infra/errors.js';
import { parseWithSentence } from '../../infra/validation.js';
import { bidiControlsMessage, hasNoBidiControls } from '../../rules/names.js';
import type { RetentionPolicy } from '../../rules/retention-policy.js';
import {
  describeSchedule,
  joinFieldAndMessage,
  nextRunAt,
  normalizeSchedule,
  scheduleFromColumns,
  scheduleKinds,
  scheduleProblems,
  scheduleToColumns,
  type Schedule,
  type ScheduleColumns,
} from '../../rules/schedule.js';

const configurationTypes = ['full', 'schema', 'data'] as const;
export const compressionNames = ['zstd', 'gzip', 'none'] as const;
export const verifyScheduleKinds = ['none', 'daily', 'weekly', 'monthly'] as const;
export type CompressionName = (typeof compressionNames)[number];

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
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters long')
    // eslint-disable-next-line no-control-regex
    .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), 'must not contain control characters')
    .refine(hasNoBidiControls, bidiControlsMessage),
  sourceId: z.uuid('must be a UUID'),
  type: z.enum(configurationTypes),
  schedule: scheduleInputSchema,
  active: z.boolean(),
  includePaths: z.array(absolutePath).max(50, 'must list at most 50 paths'),
  excludePatterns: z.array(globPattern).max(100, 'must list at most 100 patterns'),
  compression: z.enum(compressionNames),
  compressionLevel: z.int().nullish(),
  /** null: as the installation (encrypted when AGE_RECIPIENTS is set). */
  encrypt: z.boolean().nullable(),
  retention: retentionInputSchema,
  destinationIds: z
    .array(z.uuid('must be a UUID'))
    .max(20, 'must list at most 20 destinations')
    .refine((ids) => new Set(ids).size === ids.length, 'must not list a destination twice'),
  verifySchedule: z.enum(verifyScheduleKinds),
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
    encrypt: fields.encrypt.default(null),
    retention: fields.retention.default({}),
    destinationIds: fields.destinationIds.default([]),
    verifySchedule: fields.verifySchedule.default('none'),
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
    encrypt: fields.encrypt.optional(),
    retention: fields.retention.optional(),
    destinationIds: fields.destinationIds.optional(),
    verifySchedule: fields.verifySchedule.optional(),
  })
  .superRefine((input, context) => {
    if (input.compression === undefined) return;
    const problem = compressionLevelProblem(input.compression, input.compressionLevel);
    if (problem) context.addIssue({ code: 'custom', path: ['compressionLevel'], message: problem, input: input.compressionLevel });
  })
  .meta({ id: 'ConfigurationUpdate' });

export type ConfigurationCreateInput = z.output<typeof configurationCreateSchema>;
export type ConfigurationUpdateInput = z.output<typeof configurationUpdateSchema>;

/** Validates a create body; a ValidationError (400) with one sentence otherwise. */
export function parseConfigurationCreate(body: unknown): ConfigurationCreateInput {
  return parseWithSentence(configurationCreateSchema, body);
}

/** Validates an update body; a ValidationError (400) with one sentence otherwise. */
export function parseConfigurationUpdate(body: unknown): ConfigurationUpdateInput {
  return parseWithSentence(configurationUpdateSchema, body);
}

/** Parses with any schema and throws a ValidationError whose message is formatZodError's sentence. */
// --- storage ---

/** The scalar columns of a BackupConfiguration row (destinations live in ConfigurationDestination). */
export interface ConfigurationColumns extends ScheduleColumns {
  name: string;
  sourceId: string;
  type: (typeof configurationTypes)[number];
  active: boolean;
  includePaths: string[];
  excludePatterns: string[];
  compression: CompressionName;
  compressionLevel: number | null;
  /** null: as the installation. */
  encrypt: boolean | null;
  retentionKeepLast: number | null;
  retentionMaxAgeDays: number | null;
  retentionDaily: number | null;
  retentionWeekly: number | null;
  retentionMonthly: number | null;
  retentionYearly: number | null;
  verifySchedule: (typeof verifyScheduleKinds)[number];
}

/** The row to create for a validated input; input.destinationIds go to ConfigurationDestination. */
export function configurationToColumns(input: ConfigurationCreateInput): ConfigurationColumns {
  return {
    name: input.name,
    sourceId: input.sourceId,
    type: input.type,
    ...scheduleToColumns(input.schedule),
    active: input.active,
    includePaths: input.includePaths,
    excludePatterns: input.excludePatterns,
    compression: input.compression,
    compressionLevel: input.compressionLevel ?? null,
    encrypt: input.encrypt,
    ...retentionToColumns(input.retention),
    verifySchedule: input.verifySchedule,
  };
}

/**
 * The columns to update for a validated update of `current`. Changing the compression without
 * giving a level resets the level to the compressor's default. Throws a ValidationError when the
 * level does not suit the compression the row will have.
 */
export function configurationUpdateToColumns(
  input: ConfigurationUpdateInput,
  current: Pick<BackupConfiguration, 'compression' | 'compressionLevel'>,
): Partial<ConfigurationColumns> {
  const compression = input.compression ?? current.compression;
  const compressionLevel =
    input.compressionLevel !== undefined ? input.compressionLevel : input.compression !== undefined ? null : current.compressionLevel;
  const problem = compressionLevelProblem(compression, compressionLevel);
  if (problem) throw new ValidationError(`${joinFieldAndMessage('compressionLevel', problem)}.`);

  const columns: Partial<ConfigurationColumns> = {};
  if (input.name !== undefined) columns.name = input.name;
  if (input.sourceId !== undefined) columns.sourceId = input.sourceId;
  if (input.type !== undefined) columns.type = input.type;
  if (input.schedule !== undefined) Object.assign(columns, scheduleToColumns(input.schedule));
  if (input.active !== undefined) columns.active = input.active;
  if (input.includePaths !== undefined) columns.includePaths = input.includePaths;
  if (input.excludePatterns !== undefined) columns.excludePatterns = input.excludePatterns;
  if (input.compression !== undefined || input.compressionLevel !== undefined) {
    columns.compression = compression;
    columns.compressionLevel = compressionLevel ?? null;
  }
  if (input.encrypt !== undefined) columns.encrypt = input.encrypt;
  if (input.retention !== undefined) Object.assign(columns, retentionToColumns(input.retention));
  if (input.verifySchedule !== undefined) columns.verifySchedule = input.verifySchedule;
  return columns;
}

export type RetentionColumns = Pick<
  ConfigurationColumns,
  'retentionKeepLast' | 'retentionMaxAgeDays' | 'retentionDaily' | 'retentionWeekly' | 'retentionMonthly' | 'retentionYearly'
>;

/** The retention policy of a row, in the shape selectExpiredBackups takes. */
export function retentionFromColumns(row: RetentionColumns): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const entries = [
    ['keepLast', row.retentionKeepLast],
    ['maxAgeDays', row.retentionMaxAgeDays],
    ['daily', row.retentionDaily],
    ['weekly', row.retentionWeekly],
    ['monthly', row.retentionMonthly],
    ['yearly', row.retentionYearly],
  ] as const;
  for (const [rule, value] of entries) if (value !== null && value > 0) policy[rule] = value;
  return policy;
}

// A count of 0 is stored as null: both mean "rule off", and one spelling keeps the API output plain.
function retentionToColumns(retention: RetentionPolicy): RetentionColumns {
  const stored = (value: number | null | undefined) => (value ? value : null);
  return {
    retentionKeepLast: stored(retention.keepLast),
    retentionMaxAgeDays: stored(retention.maxAgeDays),
    retentionDaily: stored(retention.daily),
    retentionWeekly: stored(retention.weekly),
    retentionMonthly: stored(retention.monthly),
    retentionYearly: stored(retention.yearly),
  };
}

function compressionLevelProblem(compression: CompressionName, level: number | null | undefined): string | null {
  if (level === undefined || level === null) return null;
  if (compression === 'none') return `must be left out when compression is none (got ${level})`;
  const [min, max] = compressionLevelRange[compression];
  return level < min || level > max ? `must be between ${min} and ${max} for ${compression} (got ${level})` : null;
}

// --- API representation ---

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
    encrypt: z.boolean().nullable().describe('the configuration\'s own choice; null: as the installation (encrypted when AGE_RECIPIENTS is set)'),
    retention: z
      .object({
        keepLast: z.int().optional(),
        maxAgeDays: z.int().optional(),
        daily: z.int().optional(),
        weekly: z.int().optional(),
        monthly: z.int().optional(),
        yearly: z.int().optional(),
      })
      .describe('the rules that are on; {} keeps every backup'),
    destinationIds: z.array(z.uuid()),
    verifySchedule: z.enum(verifyScheduleKinds),
    lastRunAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Configuration' });

export type ConfigurationView = z.infer<typeof configurationViewSchema>;

/**
 * A row as the API shows it: schedule and retention as nested objects (only the fields in use, so
 * that the object can be sent back as input), the schedule in words and its next run at `now`.
 */
export function configurationToApi(
  row: BackupConfiguration & { destinations?: readonly { destinationId: string }[] },
  now: Date = new Date(),
): ConfigurationView {
  const schedule = scheduleFromColumns(row);
  const valid = scheduleProblems(schedule).length === 0;
  const normalized = valid ? normalizeSchedule(schedule) : schedule;
  return {
    id: row.id,
    name: row.name,
    sourceId: row.sourceId,
    type: row.type,
    schedule: withoutEmpty({
      kind: normalized.kind,
      time: normalized.time,
      weekday: normalized.weekday,
      dayOfMonth: normalized.dayOfMonth,
      cron: normalized.cron,
      timezone: normalized.timezone ?? 'UTC',
    }) as ConfigurationView['schedule'],
    scheduleDescription: describeSchedule(schedule),
    nextRunAt: valid && row.active ? (nextRunAt(schedule, now)?.toISOString() ?? null) : null,
    active: row.active,
    includePaths: row.includePaths,
    excludePatterns: row.excludePatterns,
    compression: row.compression,
    compressionLevel: row.compressionLevel,
    encrypt: row.encrypt,
    retention: retentionFromColumns(row) as ConfigurationView['retention'],
    destinationIds: (row.destinations ?? []).map((link) => link.destinationId),
    verifySchedule: row.verifySchedule as ConfigurationView['verifySchedule'],
    lastRunAt: row.lastRunAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function withoutEmpty<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)) as Partial<T>;
}

