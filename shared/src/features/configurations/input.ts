// A backup configuration as stored and as shown. What the API accepts is the contract's
// (configurationCreateSchema, configurationUpdateSchema in @coffre/contract); every 400 is one
// sentence naming the field(s), built by formatZodError.
import {
  compressionLevelProblem,
  configurationCreateSchema,
  configurationUpdateSchema,
  describeSchedule,
  joinFieldAndMessage,
  normalizeSchedule,
  scheduleProblems,
  type CompressionName,
  type ConfigurationCreateInput,
  type ConfigurationUpdateInput,
  type ConfigurationView,
  type verifyScheduleKinds,
} from '@coffre/contract';
import type { BackupConfiguration } from '../../infra/db.js';
import { ValidationError } from '../../infra/errors.js';
import { parseWithSentence } from '../../infra/validation.js';
import type { RetentionPolicy } from '../../rules/retention-policy.js';
import { nextRunAt, scheduleFromColumns, scheduleToColumns, type ScheduleColumns } from '../../rules/schedule.js';

/** Validates a create body; a ValidationError (400) with one sentence otherwise. */
export function parseConfigurationCreate(body: unknown): ConfigurationCreateInput {
  return parseWithSentence(configurationCreateSchema, body);
}

/** Validates an update body; a ValidationError (400) with one sentence otherwise. */
export function parseConfigurationUpdate(body: unknown): ConfigurationUpdateInput {
  return parseWithSentence(configurationUpdateSchema, body);
}

// --- storage ---

/** The scalar columns of a BackupConfiguration row (destinations live in ConfigurationDestination). */
export interface ConfigurationColumns extends ScheduleColumns {
  name: string;
  sourceId: string;
  type: ConfigurationCreateInput['type'];
  active: boolean;
  includePaths: string[];
  excludePatterns: string[];
  compression: CompressionName;
  compressionLevel: number | null;
  /** pg_dump --jobs: more than 1 dumps in the directory format. */
  dumpJobs: number;
  /** null: as the installation. */
  encrypt: boolean | null;
  retentionKeepLast: number | null;
  retentionMaxAgeDays: number | null;
  retentionDaily: number | null;
  retentionWeekly: number | null;
  retentionMonthly: number | null;
  retentionYearly: number | null;
  retentionMinKeep: number | null;
  retentionMaxTotalBytes: bigint | null;
  maxBackupBytes: bigint | null;
  timeLimitSeconds: number | null;
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
    dumpJobs: input.dumpJobs,
    encrypt: input.encrypt,
    ...retentionToColumns(input.retention),
    verifySchedule: input.verifySchedule,
    maxBackupBytes: bigintOrNull(input.maxBackupBytes),
    timeLimitSeconds: input.timeLimitSeconds,
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
  if (input.dumpJobs !== undefined) columns.dumpJobs = input.dumpJobs;
  if (input.encrypt !== undefined) columns.encrypt = input.encrypt;
  if (input.retention !== undefined) Object.assign(columns, retentionToColumns(input.retention));
  if (input.verifySchedule !== undefined) columns.verifySchedule = input.verifySchedule;
  if (input.maxBackupBytes !== undefined) columns.maxBackupBytes = bigintOrNull(input.maxBackupBytes);
  if (input.timeLimitSeconds !== undefined) columns.timeLimitSeconds = input.timeLimitSeconds;
  return columns;
}

export type RetentionColumns = Pick<
  ConfigurationColumns,
  | 'retentionKeepLast'
  | 'retentionMaxAgeDays'
  | 'retentionDaily'
  | 'retentionWeekly'
  | 'retentionMonthly'
  | 'retentionYearly'
  | 'retentionMinKeep'
  | 'retentionMaxTotalBytes'
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
    ['minKeep', row.retentionMinKeep],
    ['maxTotalBytes', row.retentionMaxTotalBytes === null ? null : Number(row.retentionMaxTotalBytes)],
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
    retentionMinKeep: stored(retention.minKeep),
    retentionMaxTotalBytes: bigintOrNull(retention.maxTotalBytes),
  };
}

function bigintOrNull(value: number | null | undefined): bigint | null {
  return value ? BigInt(value) : null;
}


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
    dumpJobs: row.dumpJobs,
    encrypt: row.encrypt,
    retention: retentionFromColumns(row) as ConfigurationView['retention'],
    destinationIds: (row.destinations ?? []).map((link) => link.destinationId),
    verifySchedule: row.verifySchedule as ConfigurationView['verifySchedule'],
    maxBackupBytes: row.maxBackupBytes === null ? null : Number(row.maxBackupBytes),
    timeLimitSeconds: row.timeLimitSeconds,
    lastRunAt: row.lastRunAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function withoutEmpty<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)) as Partial<T>;
}

