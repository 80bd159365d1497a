// Whether a source (or one configuration of it) is protected: the one rule behind the dashboard's
// badges and `coffre doctor`'s last-backup checks, so that they never disagree. In order:
// - failing: its newest finished run failed (whatever came before: a configuration that fails every
//   run is failing, never "on time");
// - unprotected: no completed backup whose artifacts are kept;
// - at risk: a kept backup, but a schedule is overdue, or nothing is scheduled to take the next one;
// - protected: a kept backup, the newest run succeeded, and every active schedule is on time.
import type { ProtectionStatus } from '@coffre/contract';

export interface ProtectionFacts {
  /** The newest completed backup whose artifacts are kept. */
  lastCompletedAt: Date | null;
  /** The status of the newest run that finished (completed or failed); null when none did. */
  newestFinished: 'completed' | 'failed' | null;
  /** When that run failed, its reason. */
  newestFailure?: string | null;
  /** Active schedules (not manual) that take its backups. */
  schedules: number;
  /** Names of those schedules that are overdue. */
  overdue: string[];
}

export interface Protection {
  status: ProtectionStatus;
  /** The rule that gave the status, as a sentence an operator reads in a tooltip. */
  rule: string;
}

export function judgeProtection(facts: ProtectionFacts, now = new Date()): Protection {
  const since = facts.lastCompletedAt ? `the last kept backup completed ${ago(facts.lastCompletedAt, now)}` : 'no backup has ever completed (or none is kept)';
  if (facts.newestFinished === 'failed') {
    return { status: 'failing', rule: `Failing: the newest run failed${facts.newestFailure ? ` (${firstSentence(facts.newestFailure)})` : ''}; ${since}.` };
  }
  if (!facts.lastCompletedAt) {
    return { status: 'unprotected', rule: `Unprotected: ${since}${facts.schedules ? '' : ', and no schedule takes one'}.` };
  }
  if (facts.overdue.length > 0) {
    return { status: 'at-risk', rule: `At risk: ${quoted(facts.overdue)} ${facts.overdue.length === 1 ? 'is' : 'are'} overdue (no backup completed when one was due); ${since}.` };
  }
  if (facts.schedules === 0) {
    return { status: 'at-risk', rule: `At risk: no active schedule takes its next backup; ${since}.` };
  }
  return { status: 'protected', rule: `Protected: ${since}, the newest run succeeded and every active schedule is on time.` };
}

function quoted(names: string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

function firstSentence(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line.replace(/\.$/, '');
}

/** "3 h ago", "2 d ago": the rule is read beside the absolute time, so a rough age is enough. */
function ago(at: Date, now: Date): string {
  const minutes = Math.max(0, Math.round((now.getTime() - at.getTime()) / 60_000));
  if (minutes < 1) return 'less than a minute ago';
  if (minutes < 90) return `${minutes} min ago`;
  if (minutes < 36 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} d ago`;
}
