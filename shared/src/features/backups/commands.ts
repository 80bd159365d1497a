// Backups as the API, the CLI and the scheduler ask for them: request one (a pending row plus a
// queued job), list and filter the history, read stats, delete one (artifacts go, the row stays).
import type { ArtifactKind, BackupListQuery, BackupRequest, BackupStats, BackupView } from '@coffre/contract';
import type { Backup, BackupArtifact, Destination, Prisma, Verification } from '../../infra/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { destinationDriver } from '../destinations/destinations.js';
import { failRun } from '../../runs/transitions.js';
import { likeLiteral, uuidParam } from '../../infra/validation.js';
import { createTtlCache, type TtlCache } from '../../infra/ttl-cache.js';
import { enqueue } from '../catalog.js';
import { expectedOfBackup } from './expected.js';

type BackupWithRelations = Backup & {
  artifacts?: (BackupArtifact & { destination?: Destination })[];
  verifications?: Verification[];
};

/**
 * The columns a history page shows: not the run's log (up to many kilobytes a row, shown only in a
 * backup's details) nor the per-table counts, which made up most of what a page of 20 rows read
 * and decoded.
 */
const listedColumns = {
  id: true,
  name: true,
  type: true,
  status: true,
  trigger: true,
  sourceId: true,
  sourceName: true,
  configurationId: true,
  compression: true,
  encrypted: true,
  sizeBytes: true,
  checksumSha256: true,
  durationMs: true,
  progressBytes: true,
  tablesCount: true,
  recordsCount: true,
  filesCount: true,
  objectsCount: true,
  serverVersion: true,
  pgDumpVersion: true,
  dumpFormat: true,
  errorMessage: true,
  attempts: true,
  startedAt: true,
  completedAt: true,
  createdAt: true,
  deletedAt: true,
  phase: true,
} as const satisfies Prisma.BackupSelect;

type ListedBackup = Prisma.BackupGetPayload<{ select: typeof listedColumns }>;

export function backupToApi(row: ListedBackup & Partial<Pick<BackupWithRelations, 'log' | 'artifacts' | 'verifications'>>, options: { withLog?: boolean } = {}): BackupView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const num = (v: bigint | number | null) => (v === null ? null : Number(v));
  const view: BackupView = {
    id: row.id,
    name: row.name,
    type: row.type,
    status: row.status,
    trigger: row.trigger,
    sourceId: row.sourceId,
    sourceName: row.sourceName,
    configurationId: row.configurationId,
    compression: row.compression,
    encrypted: row.encrypted,
    sizeBytes: num(row.sizeBytes),
    checksumSha256: row.checksumSha256,
    durationMs: row.durationMs,
    progressBytes: Number(row.progressBytes),
    tablesCount: row.tablesCount,
    recordsCount: num(row.recordsCount),
    filesCount: row.filesCount,
    objectsCount: row.objectsCount,
    serverVersion: row.serverVersion,
    pgDumpVersion: row.pgDumpVersion,
    dumpFormat: row.dumpFormat as BackupView['dumpFormat'],
    errorMessage: row.errorMessage,
    attempts: row.attempts,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
    deletedAt: iso(row.deletedAt),
    phase: row.status === 'running' ? row.phase : null,
  };
  if (row.artifacts) {
    view.artifacts = row.artifacts
      .filter((a) => !a.deletedAt)
      .map((a) => ({
        kind: a.kind as ArtifactKind,
        destination: a.destination?.name ?? a.destinationId,
        key: a.key,
        sizeBytes: Number(a.sizeBytes),
        checksumSha256: a.checksumSha256,
      }));
  }
  if (row.verifications) {
    const last = row.verifications[0];
    view.lastVerification = last
      ? { id: last.id, status: last.status, result: last.result, completedAt: iso(last.completedAt) }
      : null;
  }
  if (options.withLog) view.log = row.log ?? null;
  return view;
}

export interface RequestBackupOptions {
  trigger?: 'manual' | 'schedule' | 'pre-restore' | 'cli';
  /** A fixed id makes the request idempotent (scheduled runs derive it from the scheduler's job). */
  id?: string;
}

/** Backups of one source asked for by people (or tokens) that may wait for a worker at once. */
export const MAX_WAITING_PER_SOURCE = 20;

/** Creates a pending Backup row and queues its job. Answers at once; a worker does the rest. */
export async function requestBackup(ctx: AppContext, request: BackupRequest, actor: Actor, options: RequestBackupOptions = {}): Promise<Backup> {
  const configuration = request.configurationId
    ? await ctx.db.backupConfiguration.findUnique({ where: { id: request.configurationId }, include: { source: true } })
    : null;
  if (request.configurationId && !configuration) throw new NotFoundError(`Configuration ${request.configurationId}`);
  if (configuration && request.sourceId && configuration.sourceId !== request.sourceId) {
    throw new ValidationError('sourceId differs from the configuration\'s source: give one or the other.');
  }
  const source = configuration?.source ?? (await pickSource(ctx, request.sourceId));
  if (source.kind !== 'postgres' && request.type && request.type !== 'full') {
    throw new ValidationError(`type: a bucket source has no schema or data-only backups.`);
  }
  const type = request.type ?? configuration?.type ?? 'full';
  const dumpJobs = request.dumpJobs ?? configuration?.dumpJobs ?? 1;
  if (request.dumpJobs !== undefined && request.dumpJobs > 1) {
    if (source.kind !== 'postgres') throw new ValidationError('dumpJobs: a bucket source has no pg_dump to run in parallel; leave dumpJobs out.');
    if (source.scope === 'server') throw new ValidationError('dumpJobs: a whole-server source is dumped database by database in the custom format; leave dumpJobs out.');
    if (type === 'physical') throw new ValidationError('dumpJobs: a physical backup copies the cluster with pg_basebackup, not pg_dump; leave dumpJobs out.');
  }
  // A configuration without its own choice follows the installation, as one-off backups do.
  const encrypt = configuration?.encrypt ?? ctx.recipients.length > 0;
  if (encrypt && ctx.recipients.length === 0) {
    throw new ValidationError('The configuration asks for encryption but AGE_RECIPIENTS is not set: set it to the age public keys to encrypt to.');
  }
  // A scheduled firing is recorded anyway and fails when it runs, so that the refusal shows in the history.
  if (!encrypt && ctx.config.REQUIRE_ENCRYPTION && options.trigger !== 'schedule') {
    throw new ValidationError(
      `Configuration "${configuration?.name}" opts out of encryption, and this installation requires it (REQUIRE_ENCRYPTION=true): set its encrypt to true or null.`,
    );
  }
  // A person (or a token) asking again and again does not fill the queue: schedules and coffre's own runs are not counted against.
  if (actor.type !== 'system' && ['manual', 'cli'].includes(options.trigger ?? 'manual')) {
    const waiting = await ctx.db.backup.count({ where: { sourceId: source.id, status: 'pending' } });
    if (waiting >= MAX_WAITING_PER_SOURCE) {
      throw new ConflictError(`Source "${source.name}" already has ${waiting} backups waiting for a worker (the most is ${MAX_WAITING_PER_SOURCE}): wait for them to run, or delete some, before asking for more.`);
    }
  }
  const now = new Date();
  const data: Prisma.BackupUncheckedCreateInput = {
    ...(options.id ? { id: options.id } : {}),
    name: request.name ?? defaultBackupName(configuration?.name ?? source.name, type, now),
    type,
    status: 'pending',
    trigger: options.trigger ?? 'manual',
    sourceId: source.id,
    sourceName: source.name,
    configurationId: configuration?.id ?? null,
    compression: configuration?.compression ?? 'zstd',
    dumpJobs,
    encrypted: encrypt,
    includePaths: configuration?.includePaths ?? [],
    excludePatterns: configuration?.excludePatterns ?? [],
    requestedBy: actor.name,
    createdAt: now,
  };
  const backup = options.id
    ? await ctx.db.backup.upsert({ where: { id: options.id }, create: data, update: {} })
    : await ctx.db.backup.create({ data });
  if (backup.status === 'pending') await enqueueOrFail(ctx, backup.id);
  await recordAudit(ctx.db, actor, {
    action: 'backup.create',
    targetType: 'backup',
    targetId: backup.id,
    summary: { after: { name: backup.name, type, source: source.name, configuration: configuration?.name ?? null, trigger: backup.trigger } },
  });
  return backup;
}

async function enqueueOrFail(ctx: AppContext, backupId: string): Promise<void> {
  try {
    await enqueue(ctx, 'backup.run', { backupId });
  } catch (error) {
    // No job means no worker will ever pick the row up: say so on the row rather than leave it pending.
    await failRun(ctx, 'backup', backupId, `The backup could not be queued: ${(error as Error).message}`);
    throw error;
  }
}

async function pickSource(ctx: AppContext, sourceId: string | undefined) {
  if (sourceId) {
    const source = await ctx.db.source.findUnique({ where: { id: sourceId } });
    if (!source) throw new NotFoundError(`Source ${sourceId}`);
    return source;
  }
  const sources = await ctx.db.source.findMany({ take: 2, orderBy: { name: 'asc' } });
  const byDefault = await ctx.db.source.findUnique({ where: { name: 'default' } });
  if (byDefault) return byDefault;
  if (sources.length === 1) return sources[0]!;
  throw new ValidationError(sources.length === 0 ? 'There is no source yet: create one first (POST /api/sources).' : 'sourceId is required: there are several sources.');
}

/** "<base>-<type>-20260101-020000Z": the time in UTC, said by its Z (the time rule: a time names its zone). */
export function defaultBackupName(base: string, type: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${base}-${type}-${stamp}Z`;
}

export async function getBackup(ctx: AppContext, id: string): Promise<BackupWithRelations> {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`Backup ${id.slice(0, 60)}`);
  const backup = await ctx.db.backup.findUnique({
    where: { id },
    include: {
      artifacts: { include: { destination: true }, orderBy: [{ kind: 'asc' }, { createdAt: 'asc' }] },
      verifications: { orderBy: { createdAt: 'desc' }, take: 1 },
    },
  });
  if (!backup) throw new NotFoundError(`Backup ${id}`);
  return backup;
}

// Totals of a filtered history are refreshed every two seconds, and while a refresh runs the previous
// total (at most five seconds old) is served: counting a large history on every request would cost
// more than the page itself. The rows of the page are always read fresh.
const totals = new WeakMap<AppContext, TtlCache<number>>();

export async function listBackups(ctx: AppContext, filters: BackupListQuery): Promise<{ items: BackupView[]; total: number; page: number; pageSize: number }> {
  const where = backupFilter(filters);
  if (!totals.has(ctx)) totals.set(ctx, createTtlCache<number>(2000, { staleMs: 3000 }));
  const [rows, total] = await Promise.all([
    ctx.db.backup.findMany({
      where,
      select: listedColumns,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      skip: (filters.page - 1) * filters.pageSize,
      take: filters.pageSize,
    }),
    totals.get(ctx)!.get(JSON.stringify(where), () => ctx.db.backup.count({ where })),
  ]);
  const items = await Promise.all(rows.map(async (r) => ({ ...backupToApi(r), ...(r.status === 'pending' || r.status === 'running' ? { expected: await expectedOfBackup(ctx, r) } : {}) })));
  return { items, total, page: filters.page, pageSize: filters.pageSize };
}

function backupFilter(f: BackupListQuery): Prisma.BackupWhereInput {
  const where: Prisma.BackupWhereInput = {};
  if (!f.includeDeleted) where.deletedAt = null;
  if (f.status) where.status = { in: f.status };
  if (f.type) where.type = { in: f.type };
  if (f.trigger) where.trigger = { in: f.trigger };
  if (f.sourceId) where.sourceId = f.sourceId;
  if (f.configurationId) where.configurationId = f.configurationId;
  if (f.from || f.to) where.createdAt = { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: endOfDayIfDate(f.to) } : {}) };
  if (f.q) {
    const text = likeLiteral(f.q);
    where.OR = [
      { name: { contains: text, mode: 'insensitive' } },
      { sourceName: { contains: text, mode: 'insensitive' } },
      ...(uuidParam.safeParse(f.q).success ? [{ id: f.q }] : []),
    ];
  }
  return where;
}

/** `to=2026-05-01` means up to the end of that day. */
function endOfDayIfDate(date: Date): Date {
  return date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0 && date.getUTCMilliseconds() === 0
    ? new Date(date.getTime() + 86_400_000 - 1)
    : date;
}

const statsCaches = new WeakMap<AppContext, TtlCache<BackupStats>>();

/** The statistics, refreshed every two seconds and at most five old (one query per period, however many dashboards poll). */
export async function backupStats(ctx: AppContext): Promise<BackupStats> {
  if (!statsCaches.has(ctx)) statsCaches.set(ctx, createTtlCache<BackupStats>(2000, { staleMs: 3000 }));
  return statsCaches.get(ctx)!.get('stats', () => computeBackupStats(ctx));
}

/** One pass over the history table, grouped (so that it stays fast over a large history). */
export async function computeBackupStats(ctx: AppContext, now = new Date()): Promise<BackupStats> {
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const twoWeeksAgo = new Date(now.getTime() - 14 * 86_400_000);
  const rows = await ctx.db.$queryRaw<
    { status: string; type: string; n: bigint; size: bigint | null; duration: number | null; recent: bigint; recent_ok: bigint; recent_failed: bigint; recent_size: bigint | null; prev: bigint; prev_ok: bigint; prev_failed: bigint; prev_size: bigint | null; last_completed: Date | null }[]
  >`
    SELECT status::text AS status, type::text AS type, count(*) AS n,
           sum("sizeBytes") FILTER (WHERE "deletedAt" IS NULL AND status = 'completed') AS size,
           avg("durationMs") FILTER (WHERE status = 'completed')::float8 AS duration,
           count(*) FILTER (WHERE "createdAt" >= ${weekAgo}) AS recent,
           count(*) FILTER (WHERE "createdAt" >= ${weekAgo} AND status = 'completed') AS recent_ok,
           count(*) FILTER (WHERE "createdAt" >= ${weekAgo} AND status = 'failed') AS recent_failed,
           sum("sizeBytes") FILTER (WHERE "createdAt" >= ${weekAgo} AND status = 'completed') AS recent_size,
           count(*) FILTER (WHERE "createdAt" >= ${twoWeeksAgo} AND "createdAt" < ${weekAgo}) AS prev,
           count(*) FILTER (WHERE "createdAt" >= ${twoWeeksAgo} AND "createdAt" < ${weekAgo} AND status = 'completed') AS prev_ok,
           count(*) FILTER (WHERE "createdAt" >= ${twoWeeksAgo} AND "createdAt" < ${weekAgo} AND status = 'failed') AS prev_failed,
           sum("sizeBytes") FILTER (WHERE "createdAt" >= ${twoWeeksAgo} AND "createdAt" < ${weekAgo} AND status = 'completed') AS prev_size,
           max("completedAt") FILTER (WHERE status = 'completed') AS last_completed
      FROM "Backup"
     GROUP BY status, type`;
  const verifications = await ctx.db.$queryRaw<{ passed: bigint; failed: bigint; last_at: Date | null }[]>`
    SELECT count(*) FILTER (WHERE result = 'passed') AS passed, count(*) FILTER (WHERE result = 'failed') AS failed,
           max("completedAt") AS last_at
      FROM "Verification" WHERE status IN ('completed', 'failed')`;
  const byStatus: Record<string, number> = { pending: 0, running: 0, completed: 0, failed: 0 };
  const byType: Record<string, number> = { full: 0, schema: 0, data: 0 };
  let total = 0;
  let size = 0;
  let durationSum = 0;
  let durationCount = 0;
  const recent = { total: 0, completed: 0, failed: 0, sizeBytes: 0 };
  const previous = { total: 0, completed: 0, failed: 0, sizeBytes: 0 };
  let lastCompleted: Date | null = null;
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + n;
    byType[r.type] = (byType[r.type] ?? 0) + n;
    size += Number(r.size ?? 0);
    if (r.duration !== null && r.status === 'completed') {
      durationSum += r.duration * n;
      durationCount += n;
    }
    recent.total += Number(r.recent);
    recent.completed += Number(r.recent_ok);
    recent.failed += Number(r.recent_failed);
    recent.sizeBytes += Number(r.recent_size ?? 0);
    previous.total += Number(r.prev);
    previous.completed += Number(r.prev_ok);
    previous.failed += Number(r.prev_failed);
    previous.sizeBytes += Number(r.prev_size ?? 0);
    if (r.last_completed && (!lastCompleted || r.last_completed > lastCompleted)) lastCompleted = r.last_completed;
  }
  const finished = byStatus.completed! + byStatus.failed!;
  const v = verifications[0];
  return {
    total,
    byStatus,
    byType,
    successRate: finished ? Math.round((byStatus.completed! / finished) * 10000) / 10000 : null,
    totalSizeBytes: size,
    averageDurationMs: durationCount ? Math.round(durationSum / durationCount) : null,
    last7Days: recent,
    previous7Days: previous,
    trendPercent: previous.total ? Math.round(((recent.total - previous.total) / previous.total) * 1000) / 10 : null,
    lastCompletedAt: lastCompleted?.toISOString() ?? null,
    lastVerification: { passed: Number(v?.passed ?? 0), failed: Number(v?.failed ?? 0), lastAt: v?.last_at?.toISOString() ?? null },
  };
}

/** Removes a backup's artifacts from every destination; the row stays, marked deleted. */
export async function deleteBackup(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const backup = await getBackup(ctx, id);
  if (backup.status === 'pending' || backup.status === 'running') {
    throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: it can be deleted once it has finished.`, 'backup_running');
  }
  if (backup.deletedAt) return;
  const inUse = await ctx.db.restore.count({ where: { backupId: id, status: { in: ['pending', 'running'] } } });
  if (inUse > 0) throw new ConflictError(`Backup "${backup.name}" is being restored: delete it once the restore has finished.`, 'backup_in_use');
  await removeBackupArtifacts(ctx, backup);
  await recordAudit(ctx.db, actor, {
    action: 'backup.delete',
    targetType: 'backup',
    targetId: id,
    summary: { before: { name: backup.name, status: backup.status, sizeBytes: Number(backup.sizeBytes ?? 0) } },
  });
}

/** Deletes the stored objects of a backup, then marks its artifacts and its row deleted. */
export async function removeBackupArtifacts(ctx: AppContext, backup: BackupWithRelations): Promise<void> {
  const artifacts = backup.artifacts ?? (await ctx.db.backupArtifact.findMany({ where: { backupId: backup.id }, include: { destination: true } }));
  for (const artifact of artifacts) {
    if (artifact.deletedAt) continue;
    const destination = artifact.destination ?? (await ctx.db.destination.findUniqueOrThrow({ where: { id: artifact.destinationId } }));
    await destinationDriver(ctx, destination).delete(artifact.key);
    await ctx.db.backupArtifact.update({ where: { id: artifact.id }, data: { deletedAt: new Date() } });
  }
  await ctx.db.backup.update({ where: { id: backup.id }, data: { deletedAt: new Date() } });
}

/** Backups per day by status, and the bytes stored at the end of each day, over the last `days` days. */
export async function backupsPerDay(ctx: AppContext, { days }: { days: number }, now = new Date()) {
  const rows = await ctx.db.$queryRaw<
    { day: Date; completed: bigint; failed: bigint; pending: bigint; running: bigint; stored: bigint | null }[]
  >`
    WITH days AS (
      SELECT generate_series(date_trunc('day', ${now}::timestamptz AT TIME ZONE 'UTC') - (${days - 1} * interval '1 day'),
                             date_trunc('day', ${now}::timestamptz AT TIME ZONE 'UTC'), interval '1 day') AS day
    )
    SELECT d.day,
           count(b.id) FILTER (WHERE b.status = 'completed') AS completed,
           count(b.id) FILTER (WHERE b.status = 'failed') AS failed,
           count(b.id) FILTER (WHERE b.status = 'pending') AS pending,
           count(b.id) FILTER (WHERE b.status = 'running') AS running,
           (SELECT sum(s."sizeBytes") FROM "Backup" s
             WHERE s.status = 'completed'
               AND s."completedAt" < (d.day + interval '1 day') AT TIME ZONE 'UTC'
               AND (s."deletedAt" IS NULL OR s."deletedAt" >= (d.day + interval '1 day') AT TIME ZONE 'UTC')) AS stored
      FROM days d
      LEFT JOIN "Backup" b ON b."createdAt" >= d.day AT TIME ZONE 'UTC' AND b."createdAt" < (d.day + interval '1 day') AT TIME ZONE 'UTC'
     GROUP BY d.day
     ORDER BY d.day`;
  return {
    items: rows.map((r) => ({
      date: r.day.toISOString().slice(0, 10),
      completed: Number(r.completed),
      failed: Number(r.failed),
      pending: Number(r.pending),
      running: Number(r.running),
      storedBytes: Number(r.stored ?? 0),
    })),
  };
}
