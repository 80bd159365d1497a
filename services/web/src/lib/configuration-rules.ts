// The configuration form: its fields as the operator types them, the same rules the API applies
// (shared/src/app/configuration-input.ts and schedule.ts), field by field so that each input shows
// its own message as it is typed, and the request body the API takes. The API stays the judge: a
// 400 it answers is shown too.
import type { BackupType, Configuration, ScheduleKind } from '../api/types';

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
  /** installation: encrypted when the server has AGE_RECIPIENTS; on and off are the configuration's own choice. */
  encrypt: EncryptChoice;
  keepLast: string;
  maxAgeDays: string;
  daily: string;
  weekly: string;
  monthly: string;
  yearly: string;
  destinationIds: string[];
  verifySchedule: 'none' | 'daily' | 'weekly' | 'monthly';
}

export type EncryptChoice = 'installation' | 'on' | 'off';

export type FormField = keyof ConfigurationForm;
export type FormErrors = Partial<Record<FormField, string>>;

export const retentionFields = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly', 'yearly'] as const;

export const compressionLevels = { zstd: [1, 19], gzip: [1, 9] } as const;

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
    encrypt: 'installation',
    keepLast: '7',
    maxAgeDays: '',
    daily: '',
    weekly: '',
    monthly: '',
    yearly: '',
    destinationIds: [],
    verifySchedule: 'none',
  };
}

export function formFromConfiguration(c: Configuration): ConfigurationForm {
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
    encrypt: c.encrypt === null ? 'installation' : c.encrypt ? 'on' : 'off',
    keepLast: text(c.retention.keepLast),
    maxAgeDays: text(c.retention.maxAgeDays),
    daily: text(c.retention.daily),
    weekly: text(c.retention.weekly),
    monthly: text(c.retention.monthly),
    yearly: text(c.retention.yearly),
    destinationIds: c.destinationIds,
    verifySchedule: c.verifySchedule,
  };
}

/** Every problem of the form, keyed by field; empty when the API should accept it. */
export function validateConfiguration(form: ConfigurationForm, knownTimezone: (zone: string) => boolean = isKnownTimezone): FormErrors {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Name must not be empty.';
  else if (name.length > 100) errors.name = `Name must be at most 100 characters long (it has ${name.length}).`;
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(name)) errors.name = 'Name must not contain control characters.';
  else if (/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/.test(name)) errors.name = 'Name must not contain bidirectional control characters: they make it read as another name.';

  if (!form.sourceId) errors.sourceId = 'Pick the source to back up.';

  const kind = form.scheduleKind;
  if (kind === 'hourly' && !/^\d{1,2}$/.test(form.minute.trim())) errors.minute = 'Minute must be a number from 00 to 59.';
  else if (kind === 'hourly' && Number(form.minute) > 59) errors.minute = 'Minute must be from 00 to 59.';
  if (kind === 'daily' || kind === 'weekly' || kind === 'monthly') {
    const match = /^(\d{1,2}):(\d{2})$/.exec(form.time.trim());
    if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) errors.time = 'Time must be a time of day HH:MM, from 00:00 to 23:59.';
  }
  if (kind === 'weekly' && !isIntegerBetween(form.weekday, 0, 6)) errors.weekday = 'Pick a day of the week.';
  if (kind === 'monthly' && !isIntegerBetween(form.dayOfMonth, 1, 28)) {
    errors.dayOfMonth = 'Day of the month must be between 1 and 28, so that it occurs every month (for the last day use a cron schedule with L).';
  }
  if (kind === 'cron') {
    const problem = cronProblem(form.cron);
    if (problem) errors.cron = problem;
  }
  const zone = form.timezone.trim();
  if (!zone) errors.timezone = 'Time zone must not be empty (UTC, or an IANA name such as Europe/Paris).';
  else if (!knownTimezone(zone)) errors.timezone = `'${zone}' is not a known IANA time zone (for example Europe/Paris or UTC).`;

  const paths = lines(form.includePaths);
  const relative = paths.find((path) => !path.startsWith('/'));
  if (paths.length > 50) errors.includePaths = `List at most 50 paths (there are ${paths.length}).`;
  else if (relative !== undefined) errors.includePaths = `Each path must be absolute, starting with / (got '${relative}').`;
  else if (paths.some((path) => path.length > 4096)) errors.includePaths = 'Each path must be at most 4096 characters long.';

  const patterns = lines(form.excludePatterns);
  if (patterns.length > 100) errors.excludePatterns = `List at most 100 patterns (there are ${patterns.length}).`;
  else if (patterns.some((pattern) => pattern.length > 1024)) errors.excludePatterns = 'Each pattern must be at most 1024 characters long.';

  const level = form.compressionLevel.trim();
  if (level) {
    if (form.compression === 'none') errors.compressionLevel = 'Leave the level empty when compression is none.';
    else {
      const [min, max] = compressionLevels[form.compression];
      if (!isIntegerBetween(level, min, max)) errors.compressionLevel = `Level must be a whole number between ${min} and ${max} for ${form.compression}.`;
    }
  }

  for (const field of retentionFields) {
    const value = form[field].trim();
    if (!value) continue;
    // keepLast 0 would keep every backup: leaving it empty says that.
    const [min, max] = field === 'maxAgeDays' ? [1, 365] : field === 'keepLast' ? [1, 1000] : [0, 1000];
    if (!isIntegerBetween(value, min, max)) errors[field] = `Must be a whole number between ${min} and ${max}${field === 'keepLast' ? ' (empty keeps every backup)' : ''}.`;
  }
  if (form.destinationIds.length > 20) errors.destinationIds = 'Pick at most 20 destinations.';
  return errors;
}

/** The body of POST /api/configurations (and PUT: the whole object replaces the fields it names). */
export function configurationBody(form: ConfigurationForm): Record<string, unknown> {
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
    encrypt: form.encrypt === 'installation' ? null : form.encrypt === 'on',
    retention,
    destinationIds: form.destinationIds,
    verifySchedule: form.verifySchedule,
  };
}

/**
 * The form field an API detail path points at ("schedule.time" → time or minute, "retention.keepLast"
 * → keepLast), so that the API's sentence shows under the right input.
 */
export function fieldOfApiPath(path: string, kind: ScheduleKind): FormField | null {
  const [head, tail] = path.split('.');
  if (head === 'schedule') {
    if (tail === 'time') return kind === 'hourly' ? 'minute' : 'time';
    if (tail === 'kind') return 'scheduleKind';
    return tail === 'weekday' || tail === 'dayOfMonth' || tail === 'cron' || tail === 'timezone' ? tail : null;
  }
  if (head === 'retention') return (retentionFields as readonly string[]).includes(tail ?? '') ? (tail as FormField) : null;
  const base = (head ?? '').replace(/\[\d+\]$/, '');
  const direct: readonly string[] = ['name', 'sourceId', 'type', 'includePaths', 'excludePatterns', 'compression', 'compressionLevel', 'encrypt', 'destinationIds', 'verifySchedule'];
  return direct.includes(base) ? (base as FormField) : null;
}

const cronFields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** The checks a browser can make of a cron expression; cron-parser on the server has the last word. */
export function cronProblem(expression: string): string | null {
  const cron = expression.trim().replace(/\s+/g, ' ');
  if (!cron) return 'A cron expression is required for a cron schedule.';
  const parts = cron.split(' ');
  if (parts.length !== 5) return `A cron expression has 5 fields (minute hour day-of-month month day-of-week); this one has ${parts.length}.`;
  for (const [index, part] of parts.entries()) {
    const field = cronFields[index]!;
    if (!/^[\d*,/\-A-Za-z?LW#]+$/.test(part)) return `The ${field.name} field '${part}' holds characters cron does not use.`;
    for (const number of part.match(/\d+/g) ?? []) {
      const value = Number(number);
      const isStep = new RegExp(`/${number}(?!\\d)`).test(part);
      if (!isStep && (value < field.min || value > field.max)) return `The ${field.name} field must stay between ${field.min} and ${field.max} (got ${number}).`;
    }
  }
  return null;
}

export function isKnownTimezone(name: string): boolean {
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function isIntegerBetween(text: string, min: number, max: number): boolean {
  if (!/^-?\d+$/.test(text.trim())) return false;
  const value = Number(text);
  return value >= min && value <= max;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
