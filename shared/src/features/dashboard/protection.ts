// The dashboard's summary: per source, its protection status (rules/protection.ts), its last kept
// backup, its next run and its last 30 runs; the failures nobody has fixed; what an empty
// installation lacks. A handful of indexed queries whatever the size of the history: the runs of
// each source are read through its (sourceId, createdAt) index, 30 at a time.
import type { ConfigurationDetails, ProtectionSummary, RecentFailure, RunDot, SourceProtection } from '@coffre/contract';
import type { AppContext } from '../../infra/context.js';
import { judgeProtection } from '../../rules/protection.js';
import { listConfigurations } from '../configurations/commands.js';
import { recoveryWindow } from '../pitr/window.js';
import { createTtlCache, type TtlCache } from '../../infra/ttl-cache.js';

const STRIP = 30;
const FAILURE_DAYS = 7;
/** Failed rows looked at: the newest ones; older failures of a long failing streak add nothing. */
const FAILURE_CANDIDATES = 100;

interface RunRow {
  sourceId: string;
  id: string;
  name: string;
  status: RunDot['status'];
  type: RunDot['type'];
  createdAt: Date;
  completedAt: Date | null;
  sizeBytes: bigint | null;
  durationMs: number | null;
  deletedAt: Date | null;
  errorMessage: string | null;
}

const inFlight = new WeakMap<AppContext, TtlCache<ProtectionSummary>>();

/**
 * The summary as the dashboard asks for it: callers that arrive while one is being computed share it
 * (nothing is kept once it is answered), so that many open dashboards cost one computation at a time.
 */
export function currentProtectionSummary(ctx: AppContext): Promise<ProtectionSummary> {
  if (!inFlight.has(ctx)) inFlight.set(ctx, createTtlCache<ProtectionSummary>(0));
  return inFlight.get(ctx)!.get('summary', () => protectionSummary(ctx));
}

export async function protectionSummary(ctx: AppContext, now = new Date()): Promise<ProtectionSummary> {
  const [sources, configurations, runs, lastKept, failures, destinations, backedUp] = await Promise.all([
    ctx.db.source.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true, kind: true, pitrEnabled: true } }),
    listConfigurations(ctx, now),
    lastRuns(ctx),
    lastKeptBackups(ctx),
    recentFailures(ctx, now),
    ctx.db.destination.count(),
    ctx.db.backup.findFirst({ where: { status: 'completed' }, select: { id: true } }),
  ]);
  const scheduled = (c: ConfigurationDetails) => c.active && c.schedule.kind !== 'manual';
  const windows = new Map<string, { from: string; to: string }>();
  for (const source of sources.filter((s) => s.pitrEnabled)) {
    const window = await recoveryWindow(ctx, source.id);
    if (window.earliest && window.latest) windows.set(source.id, { from: window.earliest.toISOString(), to: window.latest.toISOString() });
  }
  const items: SourceProtection[] = sources.map((source) => {
    const own = configurations.filter((c) => c.sourceId === source.id);
    const strip = runs.filter((r) => r.sourceId === source.id).reverse();
    const finished = strip.filter((r) => r.status === 'completed' || r.status === 'failed').at(-1);
    const kept = lastKept.get(source.id) ?? null;
    const protection = judgeProtection(
      {
        lastCompletedAt: kept?.completedAt ?? null,
        newestFinished: finished ? (finished.status as 'completed' | 'failed') : null,
        newestFailure: finished?.errorMessage,
        schedules: own.filter(scheduled).length,
        overdue: own.filter((c) => c.overdue).map((c) => c.name),
      },
      now,
    );
    const next = own
      .filter((c) => scheduled(c) && c.nextRunAt)
      .sort((a, b) => a.nextRunAt!.localeCompare(b.nextRunAt!))[0];
    return {
      sourceId: source.id,
      sourceName: source.name,
      kind: source.kind,
      ...protection,
      lastSuccess: kept ? { id: kept.id, name: kept.name, completedAt: kept.completedAt.toISOString(), sizeBytes: kept.sizeBytes === null ? null : Number(kept.sizeBytes) } : null,
      nextRun: next ? { at: next.nextRunAt!, configurationId: next.id, configurationName: next.name, timezone: next.schedule.timezone } : null,
      configurations: own.map((c) => ({ id: c.id, name: c.name, scheduleDescription: c.scheduleDescription, timezone: c.schedule.timezone, nextRunAt: c.nextRunAt, overdue: c.overdue, active: c.active })),
      runs: strip.map(toDot),
      recoveryWindow: windows.get(source.id) ?? null,
    };
  });
  return {
    sources: items,
    failures,
    setup: { sources: sources.length, destinations, schedules: configurations.filter(scheduled).length, backedUp: backedUp !== null },
    refreshAt: soonestChange(configurations, now),
    generatedAt: now.toISOString(),
  };
}

function toDot(row: RunRow): RunDot {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    type: row.type,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    durationMs: row.durationMs,
    deleted: row.deletedAt !== null,
  };
}

/** The newest 30 backups of every source, newest first. */
async function lastRuns(ctx: AppContext): Promise<RunRow[]> {
  return ctx.db.$queryRaw<RunRow[]>`
    SELECT s.id AS "sourceId", b.id, b.name, b.status::text AS status, b.type::text AS type, b."createdAt", b."completedAt",
           b."sizeBytes", b."durationMs", b."deletedAt", b."errorMessage"
      FROM "Source" s
     CROSS JOIN LATERAL (
       SELECT * FROM "Backup" x WHERE x."sourceId" = s.id ORDER BY x."createdAt" DESC LIMIT ${STRIP}
     ) b
     ORDER BY s.id, b."createdAt" DESC`;
}

/** Each source's newest completed backup whose artifacts are kept. */
async function lastKeptBackups(ctx: AppContext) {
  const rows = await ctx.db.$queryRaw<{ sourceId: string; id: string; name: string; completedAt: Date; sizeBytes: bigint | null }[]>`
    SELECT s.id AS "sourceId", b.id, b.name, b."completedAt", b."sizeBytes"
      FROM "Source" s
     CROSS JOIN LATERAL (
       SELECT x.id, x.name, x."completedAt", x."sizeBytes" FROM "Backup" x
        WHERE x."sourceId" = s.id AND x.status = 'completed' AND x."deletedAt" IS NULL
        ORDER BY x."createdAt" DESC LIMIT 1
     ) b`;
  return new Map(rows.map((row) => [row.sourceId, row]));
}

/**
 * Failed backups of the last days that nothing has fixed since: no later completed backup of the
 * same configuration (or, outside any configuration, of the same source).
 */
async function recentFailures(ctx: AppContext, now: Date): Promise<RecentFailure[]> {
  const since = new Date(now.getTime() - FAILURE_DAYS * 86_400_000);
  // The newest failed rows first (createdAt index), then one indexed probe each for a later success.
  const rows = await ctx.db.$queryRaw<
    { id: string; name: string; sourceId: string | null; sourceName: string; configurationId: string | null; configurationName: string | null; errorMessage: string | null; createdAt: Date }[]
  >`
    SELECT b.id, b.name, b."sourceId", b."sourceName", b."configurationId", c.name AS "configurationName", b."errorMessage", b."createdAt"
      FROM (SELECT * FROM "Backup" WHERE status = 'failed' AND "createdAt" >= ${since} ORDER BY "createdAt" DESC LIMIT ${FAILURE_CANDIDATES}) b
      LEFT JOIN "BackupConfiguration" c ON c.id = b."configurationId"
     WHERE NOT (
       (b."configurationId" IS NOT NULL AND EXISTS (
          SELECT 1 FROM "Backup" later
           WHERE later."configurationId" = b."configurationId" AND later."createdAt" > b."createdAt" AND later.status = 'completed'))
       OR (b."configurationId" IS NULL AND EXISTS (
          SELECT 1 FROM "Backup" later
           WHERE later."sourceId" = b."sourceId" AND later."createdAt" > b."createdAt" AND later.status = 'completed')))
     ORDER BY b."createdAt" DESC
     LIMIT 10`;
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}

/** The soonest time a status changes without anything being written: a schedule falls due or overdue. */
function soonestChange(configurations: ConfigurationDetails[], now: Date): string | null {
  const times = configurations
    .flatMap((c) => [c.overdue ? null : c.overdueAt, c.nextRunAt])
    .filter((t): t is string => t !== null && Date.parse(t) > now.getTime())
    .sort();
  return times[0] ?? null;
}
