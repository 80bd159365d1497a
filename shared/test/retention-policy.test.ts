import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ValidationError,
  hasRetentionRule,
  retentionReasons,
  selectBeyondMaxBackups,
  selectExpiredBackups,
  type RetentionBackup,
  type RetentionPolicy,
  type RetentionRule,
} from '@coffre/shared';

const DAY = 24 * 60 * 60 * 1000;
const RUNS = 1000;

// --- generators: histories over up to several years, every status, ties, deleted rows ---

const BASE = Date.UTC(2019, 0, 1);
const statusArb = fc.oneof(
  { arbitrary: fc.constant('completed' as const), weight: 6 },
  { arbitrary: fc.constantFrom('pending' as const, 'running' as const, 'failed' as const), weight: 2 },
);

// Minute-granular times over a short or a long span, so that days hold several backups, some
// share a timestamp, and long histories cross many weeks, months and years.
const historyArb = fc.constantFrom(3 * DAY, 60 * DAY, 2 * 365 * DAY, 7 * 365 * DAY).chain((span) =>
  fc
    .array(
      fc.record({
        minute: fc.integer({ min: 0, max: span / 60_000 }),
        status: statusArb,
        deleted: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
        missingCompletedAt: fc.integer({ min: 0, max: 30 }).map((n) => n === 0),
        runMinutes: fc.integer({ min: 0, max: 180 }),
      }),
      { maxLength: 60 },
    )
    .map((rows) =>
      rows.map((row, index): RetentionBackup => {
        const time = BASE + row.minute * 60_000;
        return {
          id: `b${String(index).padStart(3, '0')}`,
          status: row.status,
          createdAt: new Date(time - row.runMinutes * 60_000),
          completedAt: row.status === 'completed' && !row.missingCompletedAt ? new Date(time) : row.status === 'failed' ? new Date(time) : null,
          deletedAt: row.deleted ? new Date(time + DAY) : null,
        };
      }),
    )
    .map((backups) => ({ backups, span })),
);

const count = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: undefined });
const policyArb: fc.Arbitrary<RetentionPolicy> = fc.record(
  {
    keepLast: count(8),
    maxAgeDays: fc.option(fc.integer({ min: 1, max: 365 }), { nil: undefined }),
    daily: count(10),
    weekly: count(6),
    monthly: count(13),
    yearly: count(4),
  },
  { requiredKeys: [] },
);

const scenarioArb = fc
  .record({
    history: historyArb,
    policy: policyArb,
    nowOffset: fc.integer({ min: -30 * DAY, max: 400 * DAY }),
    timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'Etc/GMT-14', 'Etc/GMT+12'),
  })
  .map(({ history, policy, nowOffset, timezone }) => ({
    backups: history.backups,
    policy,
    now: new Date(BASE + history.span + nowOffset),
    timezone,
  }));

// --- a straightforward reference, written independently of the implementation ---

const timeOf = (b: RetentionBackup) => (b.completedAt ?? b.createdAt).getTime();

function candidatesNewestFirst(backups: readonly RetentionBackup[]): RetentionBackup[] {
  return backups
    .filter((b) => b.status === 'completed' && !b.deletedAt)
    .sort((a, b) => timeOf(b) - timeOf(a) || b.id.localeCompare(a.id));
}

// Fixed-offset zones only ("Etc/GMT-5" is UTC+5): shifting by the offset and reading UTC fields
// gives the local calendar without any time zone library.
const fixedZones = { UTC: 0, 'Etc/GMT-5': 5, 'Etc/GMT+8': -8, 'Etc/GMT-14': 14 } as const;
type FixedZone = keyof typeof fixedZones;

function referencePeriod(rule: 'daily' | 'weekly' | 'monthly' | 'yearly', time: number, zone: FixedZone): string {
  const local = new Date(time + fixedZones[zone] * 3_600_000);
  if (rule === 'daily') return local.toISOString().slice(0, 10);
  if (rule === 'monthly') return local.toISOString().slice(0, 7);
  if (rule === 'yearly') return local.toISOString().slice(0, 4);
  // Two dates share an ISO week exactly when they share the Monday that starts it.
  const daysSinceMonday = (local.getUTCDay() + 6) % 7;
  return new Date(local.getTime() - daysSinceMonday * DAY).toISOString().slice(0, 10);
}

/** What one rule alone keeps (the newest completed backup aside). */
function referenceKept(backups: readonly RetentionBackup[], rule: RetentionRule, n: number, now: Date, zone: FixedZone): Set<string> {
  const candidates = candidatesNewestFirst(backups);
  if (rule === 'keepLast') return new Set(candidates.slice(0, n).map((b) => b.id));
  if (rule === 'maxAgeDays') return new Set(candidates.filter((b) => now.getTime() - timeOf(b) < n * DAY).map((b) => b.id));
  // Walk newest to oldest; the first backup met in each new period is that period's newest.
  const kept = new Set<string>();
  let lastPeriod: string | null = null;
  for (const backup of candidates) {
    if (kept.size === n) break;
    const period = referencePeriod(rule, timeOf(backup), zone);
    if (period !== lastPeriod) kept.add(backup.id);
    lastPeriod = period;
  }
  return kept;
}

function keptIds(backups: readonly RetentionBackup[], policy: RetentionPolicy, now: Date, timezone = 'UTC'): Set<string> {
  const selected = new Set(selectExpiredBackups(backups, policy, now, timezone).map((b) => b.id));
  return new Set(candidatesNewestFirst(backups).filter((b) => !selected.has(b.id)).map((b) => b.id));
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

// --- properties ---

describe('selectExpiredBackups, over random histories', () => {
  it(`never selects the newest completed backup, an unfinished, failed or deleted one, nor one without a newer completed backup (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArb, ({ backups, policy, now, timezone }) => {
        const selected = selectExpiredBackups(backups, policy, now, timezone);
        const candidates = candidatesNewestFirst(backups);
        for (const backup of selected) {
          expect(backup.status).toBe('completed');
          expect(backup.deletedAt).toBeNull();
          expect(backup.id).not.toBe(candidates[0]!.id);
          const newer = candidates.some((other) => timeOf(other) > timeOf(backup) || (timeOf(other) === timeOf(backup) && other.id > backup.id));
          expect(newer).toBe(true);
        }
        expect(new Set(selected.map((b) => b.id)).size).toBe(selected.length);
        const times = selected.map(timeOf);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }),
      { numRuns: RUNS },
    );
  });

  it(`deletes nothing when the policy has no rule on (${RUNS} runs)`, () => {
    const noRuleArb = fc.record(
      { keepLast: fc.constantFrom(0, null, undefined), daily: fc.constantFrom(0, null, undefined), yearly: fc.constantFrom(0, null, undefined) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(historyArb, noRuleArb, ({ backups }, policy) => {
        expect(hasRetentionRule(policy)).toBe(false);
        expect(selectExpiredBackups(backups, policy, new Date(BASE + 10 * 365 * DAY))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  for (const rule of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
    it(`${rule} N keeps exactly the newest backup of each of the N most recent periods that have one, as the reference does (${RUNS} runs)`, () => {
      fc.assert(
        fc.property(
          historyArb,
          fc.integer({ min: 1, max: 12 }),
          fc.constantFrom(...(Object.keys(fixedZones) as FixedZone[])),
          ({ backups }, n, zone) => {
            const now = new Date(BASE + 8 * 365 * DAY);
            const expected = referenceKept(backups, rule, n, now, zone);
            const newest = candidatesNewestFirst(backups)[0];
            if (newest) expected.add(newest.id);
            expect(sorted(keptIds(backups, { [rule]: n }, now, zone))).toEqual(sorted(expected));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it(`keepLast N keeps the N newest completed backups, and maxAgeDays N those younger than N days, as the reference does (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 365 }), ({ backups, now }, last, days) => {
        const newest = candidatesNewestFirst(backups)[0];
        for (const [rule, n] of [['keepLast', last], ['maxAgeDays', days]] as const) {
          const expected = referenceKept(backups, rule, n, now, 'UTC');
          if (newest) expected.add(newest.id);
          expect(sorted(keptIds(backups, { [rule]: n }, now))).toEqual(sorted(expected));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`keeps, under a combined policy, exactly the union of what each of its rules keeps alone (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArb, ({ backups, policy, now, timezone }) => {
        fc.pre(hasRetentionRule(policy));
        const union = new Set<string>();
        for (const [rule, value] of Object.entries(policy)) {
          if (!value) continue;
          for (const id of keptIds(backups, { [rule]: value }, now, timezone)) union.add(id);
        }
        expect(sorted(keptIds(backups, policy, now, timezone))).toEqual(sorted(union));
      }),
      { numRuns: RUNS },
    );
  });

  it(`selects nothing more when applied again to the history it pruned (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArb, ({ backups, policy, now, timezone }) => {
        const selected = new Set(selectExpiredBackups(backups, policy, now, timezone).map((b) => b.id));
        const pruned = backups.map((b) => (selected.has(b.id) ? { ...b, deletedAt: now } : b));
        expect(selectExpiredBackups(pruned, policy, now, timezone)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it(`explains every kept backup with at least one reason and every selected one with none (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArb, ({ backups, policy, now, timezone }) => {
        fc.pre(hasRetentionRule(policy));
        const reasons = retentionReasons(backups, policy, now, timezone);
        const selected = new Set(selectExpiredBackups(backups, policy, now, timezone).map((b) => b.id));
        expect(sorted(reasons.keys())).toEqual(sorted(candidatesNewestFirst(backups).map((b) => b.id)));
        for (const [id, why] of reasons) expect(why.length === 0).toBe(selected.has(id));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('selectBeyondMaxBackups, over random histories', () => {
  it(`keeps exactly the max newest completed backups and selects the rest, oldest first (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(historyArb, fc.integer({ min: 1, max: 40 }), ({ backups }, max) => {
        const candidates = candidatesNewestFirst(backups);
        const selected = selectBeyondMaxBackups(backups, max);
        expect(selected.map((b) => b.id)).toEqual(candidates.slice(max).reverse().map((b) => b.id));
      }),
      { numRuns: RUNS },
    );
  });
});

// --- examples that pin the documented choices ---

const at = (iso: string) => new Date(iso);
let nextId = 0;
function completed(iso: string): RetentionBackup {
  nextId += 1;
  return { id: `e${String(nextId).padStart(3, '0')}`, status: 'completed', createdAt: at(iso), completedAt: at(iso), deletedAt: null };
}
const ids = (backups: readonly RetentionBackup[]) => backups.map((b) => b.id);

describe('selectExpiredBackups, documented choices', () => {
  it('counts daily N over the N most recent days that have a backup, not the N calendar days before now', () => {
    // Two weeks of outage before now: daily 3 still keeps three backups, one per day that has one.
    const history = ['2025-03-01T02:00:00Z', '2025-03-02T02:00:00Z', '2025-03-02T14:00:00Z', '2025-03-03T02:00:00Z', '2025-03-04T02:00:00Z'].map(completed);
    const expired = selectExpiredBackups(history, { daily: 3 }, at('2025-03-18T12:00:00Z'));
    expect(ids(expired)).toEqual(ids([history[0]!, history[1]!]));
  });

  it('reads calendar days in the given time zone (Europe/Paris), not in UTC', () => {
    // 23:30 UTC on 29 March is already 30 March in Paris (UTC+1 that night).
    const lateUtc = completed('2025-03-29T23:30:00Z');
    const morning = completed('2025-03-30T08:00:00Z');
    const history = [lateUtc, morning];
    const now = at('2025-03-31T00:00:00Z');
    expect(ids(selectExpiredBackups(history, { daily: 2 }, now, 'UTC'))).toEqual([]);
    expect(ids(selectExpiredBackups(history, { daily: 2 }, now, 'Europe/Paris'))).toEqual([lateUtc.id]);
  });

  it('groups weekly by ISO week: Monday 30 December 2024 belongs with 1 January 2025, Sunday 29 December does not', () => {
    const sunday = completed('2024-12-29T10:00:00Z');
    const monday = completed('2024-12-30T10:00:00Z');
    const newYear = completed('2025-01-01T10:00:00Z');
    expect(ids(selectExpiredBackups([sunday, monday, newYear], { weekly: 2 }, at('2025-01-02T00:00:00Z')))).toEqual([monday.id]);
  });

  it('keeps under maxAgeDays a backup younger than N × 24 hours and selects one exactly N days old', () => {
    const now = at('2025-06-10T12:00:00Z');
    const exactlySeven = completed('2025-06-03T12:00:00Z');
    const justYounger = completed('2025-06-03T12:00:01Z');
    const newest = completed('2025-06-10T02:00:00Z');
    expect(ids(selectExpiredBackups([exactlySeven, justYounger, newest], { maxAgeDays: 7 }, now))).toEqual([exactlySeven.id]);
  });

  it('never selects failed, pending or running backups, however old', () => {
    const old = (status: RetentionBackup['status']): RetentionBackup => ({ ...completed('2020-01-01T00:00:00Z'), status, completedAt: null });
    const history = [old('failed'), old('pending'), old('running'), completed('2020-01-02T00:00:00Z'), completed('2025-01-01T00:00:00Z')];
    expect(ids(selectExpiredBackups(history, { keepLast: 1 }, at('2025-06-01T00:00:00Z')))).toEqual([history[3]!.id]);
  });

  it('ignores deleted backups: they fill no keepLast slot and are not selected again', () => {
    const deleted = { ...completed('2025-01-03T00:00:00Z'), deletedAt: at('2025-01-04T00:00:00Z') };
    const older = completed('2025-01-02T00:00:00Z');
    const oldest = completed('2025-01-01T00:00:00Z');
    const newest = completed('2025-01-05T00:00:00Z');
    expect(ids(selectExpiredBackups([oldest, older, deleted, newest], { keepLast: 2 }, at('2025-02-01T00:00:00Z')))).toEqual([oldest.id]);
  });

  it('keeps the newest completed backup even when every rule would let it go', () => {
    const lonely = completed('2020-01-01T00:00:00Z');
    expect(selectExpiredBackups([lonely], { maxAgeDays: 1 }, at('2025-01-01T00:00:00Z'))).toEqual([]);
  });

  it('refuses a corrupt policy instead of guessing: a negative count or maxAgeDays above 365', () => {
    expect(() => selectExpiredBackups([], { daily: -1 }, new Date())).toThrow(ValidationError);
    expect(() => selectExpiredBackups([], { maxAgeDays: 366 }, new Date())).toThrow('retention.maxAgeDays must be between 1 and 365 (got 366).');
  });

  it('refuses an unknown time zone with a sentence naming it', () => {
    expect(() => selectExpiredBackups([completed('2025-01-01T00:00:00Z')], { daily: 1 }, new Date(), 'Mars/Olympus')).toThrow(/'Mars\/Olympus' is not a known IANA time zone/);
  });
});

describe('selectBeyondMaxBackups, documented choices', () => {
  it('refuses a maximum below 1, which would leave no backup at all', () => {
    expect(() => selectBeyondMaxBackups([], 0)).toThrow(ValidationError);
  });
});

// --- the size cap (maxTotalBytes) and the floor (minKeep) ---

const countRuleNames: readonly RetentionRule[] = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly', 'yearly'];
const sizeOf = (b: RetentionBackup) => Number(b.sizeBytes ?? 0);

/** Histories whose backups have sizes (some unknown; round, so that totals often meet the cap exactly), policies with a floor and a cap, fixed-offset zones. */
const limitsScenarioArb = historyArb
  .chain((history) =>
    fc
      .array(fc.option(fc.integer({ min: 0, max: 50 }).map((n) => n * 100), { nil: null, freq: 10 }), { minLength: history.backups.length, maxLength: history.backups.length })
      .map((sizes) => ({ ...history, backups: history.backups.map((b, i) => ({ ...b, sizeBytes: sizes[i] })) })),
  )
  .chain((history) =>
    fc.record({
      history: fc.constant(history),
      policy: fc.tuple(policyArb, fc.record({ minKeep: count(6), maxTotalBytes: fc.option(fc.integer({ min: 0, max: 300 }).map((n) => n * 100), { nil: undefined }) }, { requiredKeys: [] })).map(([rules, limits]) => ({ ...rules, ...limits })),
      nowOffset: fc.integer({ min: -30 * DAY, max: 400 * DAY }),
      zone: fc.constantFrom(...(Object.keys(fixedZones) as FixedZone[])),
    }),
  )
  .map(({ history, policy, nowOffset, zone }) => ({ backups: history.backups, policy, now: new Date(BASE + history.span + nowOffset), zone }));

/**
 * The reference: the union of what each count rule keeps (every candidate when none is on), plus
 * the floor (the newest, and the minKeep newest); then, newest first, backups are kept while their
 * running total stays under the cap, or while they are floor.
 */
function referenceKeptUnderLimits(backups: readonly RetentionBackup[], policy: RetentionPolicy, now: Date, zone: FixedZone): Set<string> {
  const candidates = candidatesNewestFirst(backups);
  const rules = countRuleNames.filter((rule) => (policy[rule] ?? 0) > 0);
  if (rules.length === 0 && !policy.maxTotalBytes) return new Set(candidates.map((b) => b.id));
  const floor = Math.max(1, policy.minKeep ?? 0);
  const union = new Set<string>();
  for (const rule of rules) for (const id of referenceKept(backups, rule, policy[rule]!, now, zone)) union.add(id);
  const byRules = candidates.filter((b, index) => rules.length === 0 || union.has(b.id) || index < floor);
  if (!policy.maxTotalBytes) return new Set(byRules.map((b) => b.id));
  const kept = new Set<string>();
  let total = 0;
  for (const [index, backup] of byRules.entries()) {
    total += sizeOf(backup);
    if (index >= floor && total > policy.maxTotalBytes) break;
    kept.add(backup.id);
  }
  return kept;
}

describe('the size cap and the floor, over random histories', () => {
  it(`keep exactly what the reference keeps, under any policy with a floor, a cap or both (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(limitsScenarioArb, ({ backups, policy, now, zone }) => {
        expect(sorted(keptIds(backups, policy, now, zone))).toEqual(sorted(referenceKeptUnderLimits(backups, policy, now, zone)));
      }),
      { numRuns: RUNS },
    );
  });

  it(`never select any of the minKeep newest completed backups, whatever else the policy says (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(limitsScenarioArb, ({ backups, policy, now, zone }) => {
        const floor = new Set(candidatesNewestFirst(backups).slice(0, Math.max(1, policy.minKeep ?? 0)).map((b) => b.id));
        for (const backup of selectExpiredBackups(backups, policy, now, zone)) expect(floor.has(backup.id)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it(`leave at most maxTotalBytes kept unless only the floor is left, and remove the oldest first (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(limitsScenarioArb, ({ backups, policy, now, zone }) => {
        fc.pre(Boolean(policy.maxTotalBytes));
        const cap = policy.maxTotalBytes!;
        const onlyCap = { maxTotalBytes: cap, minKeep: policy.minKeep };
        const kept = candidatesNewestFirst(backups).filter((b) => keptIds(backups, onlyCap, now, zone).has(b.id));
        const total = kept.reduce((sum, b) => sum + sizeOf(b), 0);
        const floor = Math.max(1, policy.minKeep ?? 0);
        if (total > cap) expect(kept.length).toBeLessThanOrEqual(floor);
        // The cap alone keeps a run of the newest: nothing older than a selected backup is kept.
        const candidates = candidatesNewestFirst(backups);
        expect(kept.map((b) => b.id)).toEqual(candidates.slice(0, kept.length).map((b) => b.id));
      }),
      { numRuns: RUNS },
    );
  });

  it(`explain every kept backup with a reason and every selected one with none (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(limitsScenarioArb, ({ backups, policy, now, zone }) => {
        fc.pre(hasRetentionRule(policy));
        const reasons = retentionReasons(backups, policy, now, zone);
        const selected = new Set(selectExpiredBackups(backups, policy, now, zone).map((b) => b.id));
        for (const [id, why] of reasons) expect(why.length === 0).toBe(selected.has(id));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the size cap and the floor, documented choices', () => {
  const sized = (iso: string, sizeBytes: number) => ({ ...completed(iso), sizeBytes });

  it('minKeep keeps the newest good backups when every run since has failed, where maxAgeDays alone keeps one', () => {
    const good = ['2025-01-01T02:00:00Z', '2025-01-02T02:00:00Z', '2025-01-03T02:00:00Z', '2025-01-04T02:00:00Z'].map(completed);
    const failedSince: RetentionBackup[] = Array.from({ length: 30 }, (_, day) => ({
      id: `f${String(day).padStart(3, '0')}`,
      status: 'failed',
      createdAt: new Date(Date.UTC(2025, 0, 5 + day, 2)),
      completedAt: new Date(Date.UTC(2025, 0, 5 + day, 2, 1)),
      deletedAt: null,
    }));
    const now = at('2025-02-05T00:00:00Z');
    expect(ids(selectExpiredBackups([...good, ...failedSince], { maxAgeDays: 7 }, now))).toEqual(ids(good.slice(0, 3)));
    expect(ids(selectExpiredBackups([...good, ...failedSince], { maxAgeDays: 7, minKeep: 3 }, now))).toEqual(ids(good.slice(0, 1)));
  });

  it('maxTotalBytes removes the oldest first until the rest fits, and keeps the newest even when it alone is too big', () => {
    const history = [sized('2025-01-01T00:00:00Z', 400), sized('2025-01-02T00:00:00Z', 300), sized('2025-01-03T00:00:00Z', 300), sized('2025-01-04T00:00:00Z', 300)];
    const now = at('2025-01-05T00:00:00Z');
    expect(ids(selectExpiredBackups(history, { maxTotalBytes: 1000 }, now))).toEqual(ids(history.slice(0, 1)));
    expect(ids(selectExpiredBackups(history, { maxTotalBytes: 900 }, now))).toEqual(ids(history.slice(0, 1)));
    expect(ids(selectExpiredBackups(history, { maxTotalBytes: 100 }, now))).toEqual(ids(history.slice(0, 3)));
    expect(ids(selectExpiredBackups(history, { maxTotalBytes: 100, minKeep: 2 }, now))).toEqual(ids(history.slice(0, 2)));
    expect(ids(selectExpiredBackups(history, { keepLast: 3, maxTotalBytes: 650 }, now))).toEqual(ids(history.slice(0, 2)));
  });

  it('minKeep alone deletes nothing', () => {
    const history = ['2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z', '2022-01-01T00:00:00Z'].map(completed);
    expect(hasRetentionRule({ minKeep: 1 })).toBe(false);
    expect(selectExpiredBackups(history, { minKeep: 1 }, at('2025-01-01T00:00:00Z'))).toEqual([]);
  });

  it('refuses a negative floor or cap', () => {
    expect(() => selectExpiredBackups([], { minKeep: -1 }, new Date())).toThrow('retention.minKeep must be a whole number of at least 0 (got -1).');
    expect(() => selectExpiredBackups([], { maxTotalBytes: -5 }, new Date())).toThrow(ValidationError);
  });
});
