// Which backups retention removes. Pure: the maintenance job reads the history, calls
// selectExpiredBackups, deletes the artifacts of what it returns and sets their deletedAt.
//
// The rules of a policy are combined as the UNION of what each keeps: a backup survives when any
// rule wants it. The semantics follow restic's `forget --keep-*` and borg's `prune`, which
// operators already know:
//
// - keepLast N: the N newest completed backups.
// - maxAgeDays N: completed backups younger than N × 24 hours at `now` (1–365).
// - daily/weekly/monthly/yearly N: the newest completed backup of each of the N most recent
//   calendar days / ISO weeks / months / years THAT HAVE ONE, in `timezone` (default UTC). They
//   are not the N calendar periods counting back from now: after a two-week outage, daily 7 still
//   keeps seven daily backups instead of none.
// - 0 (or absent) means the rule is off, as in restic. A policy with no rule on deletes nothing:
//   a configuration without retention keeps every backup.
// - maxTotalBytes N: a cap on what the rules above keep (every candidate when none of them is
//   on): while the kept backups add up to more than N bytes, the oldest of them goes. Each backup
//   counts once, its sizeBytes, however many destinations hold a copy.
// - minKeep N: a floor under every rule, the cap included: the N newest completed backups are
//   kept, however old they are and however many runs have failed since. It deletes nothing by
//   itself.
//
// Invariants, whatever the policy: only completed backups not already deleted are candidates
// (pending and running ones are in flight; failed ones published no artifact and their rows are
// history the success rate is computed from, so they are never selected); deleted ones neither
// count toward any rule nor get selected again; the newest completed backup is always kept, so a
// backup is selected only when a newer completed one exists.
import { ValidationError } from '../infra/errors.js';

export type BackupStatus = 'pending' | 'running' | 'completed' | 'failed';

/** The columns of a Backup row retention looks at. */
export interface RetentionBackup {
  id: string;
  status: BackupStatus;
  completedAt: Date | null;
  createdAt: Date;
  deletedAt: Date | null;
  /** What its artifacts take (once, whatever the number of destinations); only the size cap reads it. */
  sizeBytes?: bigint | number | null;
}

/** A configuration's retention. Counts are whole numbers ≥ 0 (0 or absent: rule off). */
export interface RetentionPolicy {
  keepLast?: number | null;
  maxAgeDays?: number | null;
  daily?: number | null;
  weekly?: number | null;
  monthly?: number | null;
  yearly?: number | null;
  /** The floor: the newest N completed backups are always kept. */
  minKeep?: number | null;
  /** The cap on the total size of the kept backups, in bytes. */
  maxTotalBytes?: number | null;
}

/** The rules that keep backups by count, age or calendar (the cap and the floor aside). */
export type RetentionRule = 'keepLast' | 'maxAgeDays' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/**
 * Why a backup is kept: a rule, being the newest completed backup, the floor (minKeep), or, for a
 * policy whose only deleting rule is the size cap, fitting under it (maxTotalBytes).
 */
export type RetentionReason = RetentionRule | 'newest' | 'minKeep' | 'maxTotalBytes';

export const retentionRules: readonly RetentionRule[] = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly', 'yearly'];

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The completed backups `policy` no longer keeps at `now`, oldest first. Calendar periods (days,
 * ISO weeks starting Monday, months, years) are those of `timezone`, an IANA name.
 */
export function selectExpiredBackups<T extends RetentionBackup>(
  backups: readonly T[],
  policy: RetentionPolicy,
  now: Date,
  timezone = 'UTC',
): T[] {
  checkPolicy(policy);
  if (!hasRetentionRule(policy)) return [];
  const reasons = retentionReasons(backups, policy, now, timezone);
  return candidatesNewestFirst(backups)
    .filter((backup) => reasons.get(backup.id)?.length === 0)
    .reverse();
}

/**
 * For backups outside any configuration (MAX_BACKUPS): the completed ones beyond the `max`
 * newest, oldest first. Same invariants as selectExpiredBackups.
 */
export function selectBeyondMaxBackups<T extends RetentionBackup>(backups: readonly T[], max: number): T[] {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new ValidationError(`The maximum number of backups to keep must be a whole number of at least 1 (got ${String(max)}).`);
  }
  return candidatesNewestFirst(backups).slice(max).reverse();
}

/** True when at least one rule of the policy deletes backups (a count or a size cap above 0; the floor deletes nothing). */
export function hasRetentionRule(policy: RetentionPolicy): boolean {
  return hasCountRule(policy) || (policy.maxTotalBytes ?? 0) > 0;
}

function hasCountRule(policy: RetentionPolicy): boolean {
  return retentionRules.some((rule) => (policy[rule] ?? 0) > 0);
}

/**
 * For every candidate (completed, not deleted) the reasons it is kept; an empty list means
 * retention selects it. Backups that are not candidates are absent from the map. For the UI
 * ("kept as the monthly backup of 2025-03") as much as for selectExpiredBackups.
 */
export function retentionReasons(
  backups: readonly RetentionBackup[],
  policy: RetentionPolicy,
  now: Date,
  timezone = 'UTC',
): Map<string, RetentionReason[]> {
  checkPolicy(policy);
  const candidates = candidatesNewestFirst(backups);
  const reasons = new Map<string, RetentionReason[]>(candidates.map((backup) => [backup.id, []]));
  const keep = (backup: RetentionBackup, reason: RetentionReason) => reasons.get(backup.id)!.push(reason);

  if (candidates[0]) keep(candidates[0], 'newest');
  for (const backup of candidates.slice(0, policy.minKeep ?? 0)) keep(backup, 'minKeep');
  for (const backup of candidates.slice(0, policy.keepLast ?? 0)) keep(backup, 'keepLast');
  if (policy.maxAgeDays) {
    const horizon = now.getTime() - policy.maxAgeDays * DAY_MS;
    for (const backup of candidates) if (backupTime(backup) > horizon) keep(backup, 'maxAgeDays');
  }
  const calendar = calendarOf(timezone);
  const periodRules = [
    ['daily', calendar.day],
    ['weekly', calendar.isoWeek],
    ['monthly', calendar.month],
    ['yearly', calendar.year],
  ] as const;
  for (const [rule, periodOf] of periodRules) {
    for (const backup of newestOfRecentPeriods(candidates, policy[rule] ?? 0, periodOf)) keep(backup, rule);
  }
  if (policy.maxTotalBytes) applySizeCap(candidates, reasons, policy.maxTotalBytes, hasCountRule(policy));
  return reasons;
}

/**
 * The size cap: of what the rules keep (every candidate when no count rule is on), the oldest go
 * while the rest adds up to more than `maxTotalBytes`, down to the floor (the newest, and minKeep).
 * What it removes loses its reasons; with no count rule on, what it keeps is kept for fitting.
 */
function applySizeCap(newestFirst: readonly RetentionBackup[], reasons: Map<string, RetentionReason[]>, maxTotalBytes: number, countRules: boolean): void {
  const kept = newestFirst.filter((backup) => !countRules || reasons.get(backup.id)!.length > 0);
  let total = kept.reduce((sum, backup) => sum + sizeOf(backup), 0);
  const removed = new Set<string>();
  for (const backup of [...kept].reverse()) {
    if (total <= maxTotalBytes) break;
    const why = reasons.get(backup.id)!;
    // The floor is the newest backups: once one is met, every newer one is floor too.
    if (why.includes('newest') || why.includes('minKeep')) break;
    removed.add(backup.id);
    total -= sizeOf(backup);
  }
  for (const backup of kept) {
    const why = reasons.get(backup.id)!;
    if (removed.has(backup.id)) why.length = 0;
    else if (!countRules) why.push('maxTotalBytes');
  }
}

function sizeOf(backup: RetentionBackup): number {
  return Number(backup.sizeBytes ?? 0);
}

/** The time a backup stands for: when it completed (its creation for a row missing that). */
export function backupTime(backup: RetentionBackup): number {
  return (backup.completedAt ?? backup.createdAt).getTime();
}

/** Completed, not deleted, newest first; equal times are ordered by id (uuid v7 ids grow with time). */
function candidatesNewestFirst<T extends RetentionBackup>(backups: readonly T[]): T[] {
  return backups
    .filter((backup) => backup.status === 'completed' && backup.deletedAt === null)
    .sort((a, b) => backupTime(b) - backupTime(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * The newest backup of each of the `count` most recent periods holding a backup. Periods are
 * grouped by key rather than by runs of equal keys: where a DST change happens at midnight, one
 * local day can be split in two runs of instants.
 */
function newestOfRecentPeriods<T extends RetentionBackup>(newestFirst: readonly T[], count: number, periodOf: (time: number) => string): T[] {
  if (count <= 0) return [];
  const newestByPeriod = new Map<string, T>();
  for (const backup of newestFirst) {
    const period = periodOf(backupTime(backup));
    if (!newestByPeriod.has(period)) newestByPeriod.set(period, backup);
    // Map keeps insertion order, which is newest first here.
    if (newestByPeriod.size > count) break;
  }
  return [...newestByPeriod.values()].slice(0, count);
}

interface Calendar {
  day(time: number): string;
  isoWeek(time: number): string;
  month(time: number): string;
  year(time: number): string;
}

function calendarOf(timezone: string): Calendar {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: 'numeric', day: 'numeric' });
  } catch {
    throw new ValidationError(`The retention time zone '${timezone}' is not a known IANA time zone (for example Europe/Paris or UTC).`);
  }
  const localDate = (time: number) => {
    const parts = format.formatToParts(time);
    const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
    return { year: part('year'), month: part('month'), day: part('day') };
  };
  return {
    day: (time) => {
      const d = localDate(time);
      return `${d.year}-${d.month}-${d.day}`;
    },
    isoWeek: (time) => {
      const d = localDate(time);
      return isoWeekOf(d.year, d.month, d.day);
    },
    month: (time) => {
      const d = localDate(time);
      return `${d.year}-${d.month}`;
    },
    year: (time) => String(localDate(time).year),
  };
}

/** "2025-W01": the ISO week-year and week of a calendar date (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeekOf(year: number, month: number, day: number): string {
  const date = Date.UTC(year, month - 1, day);
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = new Date(date + (3 - mondayBased) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

// Policies come from validated rows; a value outside its range here means a corrupt row, and
// guessing what it meant could delete backups, so refuse instead.
function checkPolicy(policy: RetentionPolicy): void {
  for (const rule of retentionRules) {
    const value = policy[rule];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ValidationError(`retention.${rule} must be a whole number of at least 0 (got ${String(value)}).`);
    }
  }
  for (const limit of ['minKeep', 'maxTotalBytes'] as const) {
    const value = policy[limit];
    if (value !== undefined && value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw new ValidationError(`retention.${limit} must be a whole number of at least 0 (got ${String(value)}).`);
    }
  }
  const maxAge = policy.maxAgeDays;
  if (maxAge !== undefined && maxAge !== null && maxAge !== 0 && maxAge > 365) {
    throw new ValidationError(`retention.maxAgeDays must be between 1 and 365 (got ${maxAge}).`);
  }
}
