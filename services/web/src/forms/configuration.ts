// The configuration form: its fields as the operator types them, the request body they make, and
// its problems, found by the contract's configurationCreateSchema (the API's own) on that body. The
// API stays the judge of what only it can check (FILES_ROOTS, the source existing): its 400 shows too.
import { configurationCreateSchema, type BackupType, type ConfigurationDetails, type ScheduleKind } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface ConfigurationForm {
  name: string;
  sourceId: string;
  type: BackupType;
  scheduleKind: ScheduleKind;
  time: string;
  minute: string;
  weekday: string;
  dayOfMonth: string;
  cron: string;
  timezone: string;
  active: boolean;
  includePaths: string;
  excludePatterns: string;
  compression: 'zstd' | 'gzip' | 'none';
  compressionLevel: string;
  /** pg_dump --jobs: 1 is the custom format; 2 to 32 the directory format, dumped in parallel. */
  dumpJobs: string;
  /** installation: encrypted when the server has AGE_RECIPIENTS; on and off are the configuration's own choice. */
  encrypt: EncryptChoice;
  keepLast: string;
  maxAgeDays: string;
  daily: string;
  weekly: string;
  monthly: string;
  yearly: string;
  /** The floor: the newest N completed backups are always kept. */
  minKeep: string;
  /** Sizes in GB (10^9 bytes) and the time limit in minutes, as people think of them; the body says bytes and seconds. */
  maxTotalGb: string;
  maxBackupGb: string;
  timeLimitMinutes: string;
  destinationIds: string[];
  verifySchedule: 'none' | 'daily' | 'weekly' | 'monthly';
}

export type EncryptChoice = 'installation' | 'on' | 'off';

export type FormField = keyof ConfigurationForm;

export const retentionFields = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly', 'yearly', 'minKeep'] as const;

const GB = 1e9;

export function emptyForm(sourceId = ''): ConfigurationForm {
  return {
    name: '',
    sourceId,
    type: 'full',
    scheduleKind: 'daily',
    time: '02:00',
    minute: '00',
    weekday: '0',
    dayOfMonth: '1',
    cron: '',
    timezone: 'UTC',
    active: true,
    includePaths: '',
    excludePatterns: '',
    compression: 'zstd',
    compressionLevel: '',
    dumpJobs: '1',
    encrypt: 'installation',
    keepLast: '7',
    maxAgeDays: '',
    daily: '',
    weekly: '',
    monthly: '',
    yearly: '',
    minKeep: '',
    maxTotalGb: '',
    maxBackupGb: '',
    timeLimitMinutes: '',
    destinationIds: [],
    verifySchedule: 'none',
  };
}

export function formFromConfiguration(c: ConfigurationDetails): ConfigurationForm {
  const s = c.schedule;
  const text = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    name: c.name,
    sourceId: c.sourceId,
    type: c.type,
    scheduleKind: s.kind,
    time: s.kind === 'hourly' ? '02:00' : (s.time ?? '02:00'),
    minute: s.kind === 'hourly' ? (s.time ?? '00') : '00',
    weekday: text(s.weekday ?? 0),
    dayOfMonth: text(s.dayOfMonth ?? 1),
    cron: s.cron ?? '',
    timezone: s.timezone,
    active: c.active,
    includePaths: c.includePaths.join('\n'),
    excludePatterns: c.excludePatterns.join('\n'),
    compression: c.compression,
    compressionLevel: c.compressionLevel === null ? '' : String(c.compressionLevel),
    dumpJobs: String(c.dumpJobs),
    encrypt: c.encrypt === null ? 'installation' : c.encrypt ? 'on' : 'off',
    keepLast: text(c.retention.keepLast),
    maxAgeDays: text(c.retention.maxAgeDays),
    daily: text(c.retention.daily),
    weekly: text(c.retention.weekly),
    monthly: text(c.retention.monthly),
    yearly: text(c.retention.yearly),
    minKeep: text(c.retention.minKeep),
    maxTotalGb: c.retention.maxTotalBytes === undefined ? '' : String(c.retention.maxTotalBytes / GB),
    maxBackupGb: c.maxBackupBytes === null ? '' : String(c.maxBackupBytes / GB),
    timeLimitMinutes: c.timeLimitSeconds === null ? '' : String(c.timeLimitSeconds / 60),
    destinationIds: c.destinationIds,
    verifySchedule: c.verifySchedule,
  };
}

/** Every problem of the form, keyed by field; empty when the API should accept it. */
export function configurationProblems(form: ConfigurationForm): Problems<ConfigurationForm> {
  return problemsOf(configurationCreateSchema, configurationBody(form), (path) => fieldOfApiPath(path, form.scheduleKind), {
    sourceId: 'Pick the source to back up.',
    time: 'Time must be a time of day HH:MM, from 00:00 to 23:59.',
  });
}

/** The body of POST /api/configurations (and PUT: the whole object replaces the fields it names). */
export function configurationBody(form: ConfigurationForm) {
  const kind = form.scheduleKind;
  const schedule: Record<string, unknown> = { kind, timezone: form.timezone.trim() || 'UTC' };
  if (kind === 'hourly') schedule.time = form.minute.trim().padStart(2, '0');
  if (kind === 'daily' || kind === 'weekly' || kind === 'monthly') schedule.time = form.time.trim();
  if (kind === 'weekly') schedule.weekday = Number(form.weekday);
  if (kind === 'monthly') schedule.dayOfMonth = Number(form.dayOfMonth);
  if (kind === 'cron') schedule.cron = form.cron.trim();
  const retention: Record<string, number> = {};
  for (const field of retentionFields) {
    const value = form[field].trim();
    if (value) retention[field] = Number(value);
  }
  const scaled = (text: string, unit: number) => (text.trim() ? Math.round(Number(text.trim()) * unit) : null);
  const maxTotalBytes = scaled(form.maxTotalGb, GB);
  if (maxTotalBytes !== null) retention.maxTotalBytes = maxTotalBytes;
  const level = form.compressionLevel.trim();
  return {
    name: form.name.trim(),
    sourceId: form.sourceId,
    type: form.type,
    schedule,
    active: form.active,
    includePaths: lines(form.includePaths),
    excludePatterns: lines(form.excludePatterns),
    compression: form.compression,
    compressionLevel: level ? Number(level) : null,
    dumpJobs: form.dumpJobs.trim() ? Number(form.dumpJobs.trim()) : 1,
    encrypt: form.encrypt === 'installation' ? null : form.encrypt === 'on',
    retention,
    destinationIds: form.destinationIds,
    verifySchedule: form.verifySchedule,
    maxBackupBytes: scaled(form.maxBackupGb, GB),
    timeLimitSeconds: scaled(form.timeLimitMinutes, 60),
  };
}

/** The form fields of the body fields the form shows in other units. */
const scaledFields: Record<string, FormField> = { 'retention.maxTotalBytes': 'maxTotalGb', maxBackupBytes: 'maxBackupGb', timeLimitSeconds: 'timeLimitMinutes' };

/**
 * The form field an API detail path points at ("schedule.time" → time or minute, "retention.keepLast"
 * → keepLast), so that the API's sentence shows under the right input.
 */
export function fieldOfApiPath(path: string, kind: ScheduleKind): FormField | null {
  if (scaledFields[path]) return scaledFields[path];
  const [head, tail] = path.split('.');
  if (head === 'schedule') {
    if (tail === 'time') return kind === 'hourly' ? 'minute' : 'time';
    if (tail === 'kind') return 'scheduleKind';
    return tail === 'weekday' || tail === 'dayOfMonth' || tail === 'cron' || tail === 'timezone' ? tail : null;
  }
  if (head === 'retention') return (retentionFields as readonly string[]).includes(tail ?? '') ? (tail as FormField) : null;
  const base = (head ?? '').replace(/\[\d+\]$/, '');
  const direct: readonly string[] = ['name', 'sourceId', 'type', 'includePaths', 'excludePatterns', 'compression', 'compressionLevel', 'dumpJobs', 'encrypt', 'destinationIds', 'verifySchedule'];
  return direct.includes(base) ? (base as FormField) : null;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
