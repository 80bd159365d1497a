// The cron pattern a schedule fires on (what the worker gives BullMQ's job scheduler), and the next
// runs it gives, so that the configuration form can preview them as they are typed.
import { CronExpressionParser } from 'cron-parser';
import { normalizeSchedule, parseTimeOfDay, scheduleProblems, type Schedule } from './schedule.js';

/** The pattern and zone of a valid schedule; null for a manual (or invalid) one. */
export function schedulePattern(schedule: Schedule): { pattern: string; tz: string } | null {
  if (scheduleProblems(schedule).length > 0) return null;
  const s = normalizeSchedule(schedule);
  const tz = s.timezone ?? 'UTC';
  switch (s.kind) {
    case 'manual':
      return null;
    case 'hourly':
      return { pattern: `${Number(s.time)} * * * *`, tz };
    case 'cron':
      return { pattern: s.cron!, tz };
  }
  const { hour, minute } = parseTimeOfDay(s.time!)!;
  const day = s.kind === 'monthly' ? String(s.dayOfMonth) : '*';
  const weekday = s.kind === 'weekly' ? String(s.weekday) : '*';
  return { pattern: `${minute} ${hour} ${day} * ${weekday}`, tz };
}

/** The next `count` runs strictly after `from` (cron-parser, as BullMQ evaluates them); [] when manual or invalid. */
export function nextRuns(schedule: Schedule, from: Date, count = 5): Date[] {
  const repeat = schedulePattern(schedule);
  if (!repeat) return [];
  const expression = CronExpressionParser.parse(repeat.pattern, { tz: repeat.tz, currentDate: from });
  return Array.from({ length: count }, () => expression.next().toDate());
}
