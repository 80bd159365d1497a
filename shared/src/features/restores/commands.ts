// Restores: the operator types the backup's name to confirm; a worker takes a safety backup of the
// target when it holds anything, then restores in one checked read of the artifact: a database in
// one transaction that commits only once every byte matched, files and bucket objects staged and
// published only then.
import type { RestoreListQuery, RestoreRequest, RestoreView } from '@coffre/contract';
import type { Backup, Restore } from '../../infra/db.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, errorMessage } from '../../infra/errors.js';
import { withPgClient, type PgConnection } from '../../engine/postgres.js';
import { recordAudit } from '../audit/audit.js';
import { recordRefusal } from '../audit/refusals.js';
import { checkRequestedRestoreTarget } from './targets.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { getBackup } from '../backups/commands.js';
import { failRun } from '../../runs/transitions.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { assertFilesPath } from '../../infra/files-roots.js';
import { describeRestoreTarget } from './describe.js';
import { uuidParam } from '../../infra/validation.js';
import { enqueue } from '../catalog.js';
import { expectedOfRestore } from '../backups/expected.js';

export function restoreToApi(row: Restore & { backup?: Backup; targetSource?: { name: string } | null }, options: { withLog?: boolean } = {}): RestoreView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    backupId: row.backupId,
    ...(row.backup ? { backupName: row.backup.name } : {}),
    status: row.status,
    targetKind: row.targetKind,
    targetSourceId: row.targetSourceId,
    targetDatabase: row.targetDatabase,
    targetPath: row.targetPath,
    target: describeRestoreTarget(row),
    createDatabase: row.createDatabase,
    ...(row.targetTime ? { targetTime: row.targetTime.toISOString(), sourceDatabase: row.sourceDatabase } : {}),
    safetyBackupId: row.safetyBackupId,
    progressBytes: Number(row.progressBytes),
    loadedRows: row.loadedRows === null ? null : Number(row.loadedRows),
    durationMs: row.durationMs,
    errorMessage: row.errorMessage,
    requestedBy: row.requestedBy,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
    method: row.method as RestoreView['method'],
    keptDatabase: row.keptDatabase,
    swapMs: row.swapMs,
    undoable: isUndoable(row),
    undoneAt: iso(row.undoneAt),
    undoneBy: row.undoneBy,
    undoneDatabase: row.undoneDatabase,
    ...(options.withLog ? { log: row.log } : {}),
    phase: row.status === 'running' ? row.phase : null,
  };
}

/** Whether `coffre restore undo` can still swap the replaced database back. */
export function isUndoable(row: Pick<Restore, 'status' | 'method' | 'keptDatabase' | 'undoneAt' | 'keptDroppedAt'>): boolean {
  return row.status === 'completed' && row.method === 'swap' && Boolean(row.keptDatabase) && !row.undoneAt && !row.keptDroppedAt;
}

/** Validates the request and the confirmation, creates a pending Restore and queues it. */
export async function requestRestore(ctx: AppContext, backupId: string, request: RestoreRequest, actor: Actor): Promise<Restore> {
  const backup = await getBackup(ctx, backupId);
  if (request.confirm !== backup.name) {
    await recordRefusal(ctx.db, actor, { action: 'backup.restore', targetType: 'backup', targetId: backup.id, reason: 'wrong-confirmation', summary: { backup: backup.name } });
    throw new ValidationError(`confirm must be the backup's name, exactly: type "${backup.name}" to restore it.`);
  }
  if (request.allowSystemDatabase && actor.role !== 'admin') throw new ForbiddenError('allowSystemDatabase: only an admin may restore into a system database.');
  if (backup.status !== 'completed') throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: only a completed backup can be restored.`);
  if (backup.deletedAt) throw new ConflictError(`Backup "${backup.name}" was deleted: its artifacts are gone.`, 'backup_deleted');
  if (backup.type === 'physical') {
    throw new ConflictError(`Backup "${backup.name}" is a base backup of the whole cluster: restore it to a moment (POST /api/sources/{id}/pitr/restore, or coffre pitr restore).`, 'physical_backup');
  }
  if (backup.artifacts?.some((a) => a.kind === 'globals')) return requestServerRestore(ctx, backup, request, actor);
  if (request.database || request.allDatabases) throw new ValidationError(`database and allDatabases are for backups of a whole server; "${backup.name}" is a backup of one database.`);
  const kind = request.artifact ?? (backup.artifacts?.some((a) => a.kind === 'bucket') ? 'bucket' : 'database');
  if (!backup.artifacts?.some((a) => a.kind === kind && !a.deletedAt)) {
    throw new ConflictError(`Backup "${backup.name}" holds no ${kind} artifact to restore.`);
  }
  if (kind === 'files') return requestFilesRestore(ctx, backup, request, actor);
  if (kind === 'bucket') return requestBucketRestore(ctx, backup, request, actor);
  return requestDatabaseRestore(ctx, backup, request, actor, null);
}

/** One database: of a database backup, or (`sourceDatabase`) one database of a server backup. */
async function requestDatabaseRestore(ctx: AppContext, backup: Backup, request: RestoreRequest, actor: Actor, sourceDatabase: string | null): Promise<Restore> {
  const targetSource = await postgresTarget(ctx, backup, request);
  const targetSourceId = targetSource.id;
  const connection = sourceConnection(ctx, targetSource);
  const targetDatabase = request.targetDatabase ?? sourceDatabase ?? connection.database;
  const allowSystemDatabase = request.allowSystemDatabase ?? false;
  await checkRequestedRestoreTarget(ctx, actor, backup.id, { ...connection, database: targetDatabase }, { allowSystemDatabase });

  // One restore per target database at a time; the second is refused rather than queued behind.
  const active = await ctx.db.restore.findMany({
    where: { status: { in: ['pending', 'running'] }, targetDatabase },
    include: { targetSource: true },
  });
  for (const other of active) {
    const otherConnection = other.targetSource ? sourceConnection(ctx, other.targetSource) : null;
    if (otherConnection && sameServer(otherConnection, connection)) {
      throw new ConflictError(`A restore into database "${targetDatabase}" is already ${other.status} (restore ${other.id}): wait for it to finish.`, 'restore_running');
    }
  }
  // Decided again by the worker; here it only tells the operator what to expect.
  const exists = await databaseExists(connection, targetDatabase).catch(() => true);
  const restore = await ctx.db.restore.create({
    data: {
      backupId: backup.id,
      status: 'pending',
      targetKind: 'database',
      targetSourceId,
      targetDatabase,
      sourceDatabase,
      createDatabase: !exists,
      allowSystemDatabase,
      requestedBy: actor.name,
    },
  });
  return queueRestore(ctx, restore, backup, actor, { targetSource: targetSource.name, targetDatabase, createDatabase: !exists, ...(sourceDatabase ? { database: sourceDatabase } : {}) });
}

async function postgresTarget(ctx: AppContext, backup: Backup, request: RestoreRequest) {
  const targetSourceId = request.targetSourceId ?? backup.sourceId;
  if (!targetSourceId) throw new ValidationError(`targetSourceId is required: the backup's source "${backup.sourceName}" no longer exists.`);
  const targetSource = await ctx.db.source.findUnique({ where: { id: targetSourceId } });
  if (!targetSource) throw new NotFoundError(`Source ${targetSourceId}`);
  if (targetSource.kind !== 'postgres') throw new ValidationError('targetSourceId must name a PostgreSQL source.');
  return targetSource;
}

/**
 * A backup of a whole server: one of its databases (`database`), or all of them plus the globals
 * (`allDatabases`) into the target source's server, where none of them may exist yet.
 */
async function requestServerRestore(ctx: AppContext, backup: Backup & { artifacts?: { kind: string; deletedAt: Date | null }[] }, request: RestoreRequest, actor: Actor): Promise<Restore> {
  const databases = (backup.artifacts ?? []).filter((a) => a.kind.startsWith('database:') && !a.deletedAt).map((a) => a.kind.slice('database:'.length));
  const unique = [...new Set(databases)];
  if (request.allDatabases) {
    if (request.database || request.targetDatabase) throw new ValidationError('allDatabases restores every database under its own name: leave database and targetDatabase out.');
    const targetSource = await postgresTarget(ctx, backup, request);
    const connection = sourceConnection(ctx, targetSource);
    for (const database of unique) await checkRequestedRestoreTarget(ctx, actor, backup.id, { ...connection, database }, { allowSystemDatabase: false });
    const active = await ctx.db.restore.findFirst({ where: { status: { in: ['pending', 'running'] }, targetKind: 'server', targetSourceId: targetSource.id } });
    if (active) throw new ConflictError(`A server restore into source "${targetSource.name}" is already ${active.status} (restore ${active.id}): wait for it to finish.`, 'restore_running');
    const restore = await ctx.db.restore.create({
      data: { backupId: backup.id, status: 'pending', targetKind: 'server', targetSourceId: targetSource.id, createDatabase: true, requestedBy: actor.name },
    });
    return queueRestore(ctx, restore, backup, actor, { targetSource: targetSource.name, databases: unique });
  }
  if (!request.database) {
    throw new ValidationError(`"${backup.name}" is a backup of a whole server: say which database to restore (database: one of ${unique.map((d) => `"${d}"`).join(', ')}), or allDatabases: true.`);
  }
  if (!unique.includes(request.database)) throw new ValidationError(`database: "${backup.name}" holds no database "${request.database}" (it holds ${unique.map((d) => `"${d}"`).join(', ')}).`);
  return requestDatabaseRestore(ctx, backup, request, actor, request.database);
}

async function requestFilesRestore(ctx: AppContext, backup: Backup, request: RestoreRequest, actor: Actor): Promise<Restore> {
  if (!request.targetPath) throw new ValidationError('targetPath is required to restore files: the absolute directory to recreate them in.');
  // Stored as it really leads, so that the worker writes where this check looked.
  const targetPath = await assertFilesPath(ctx.config, request.targetPath, 'targetPath');
  const active = await ctx.db.restore.findFirst({ where: { status: { in: ['pending', 'running'] }, targetKind: 'files', targetPath } });
  if (active) throw new ConflictError(`A restore into ${targetPath} is already ${active.status}: wait for it to finish.`, 'restore_running');
  const restore = await ctx.db.restore.create({
    data: { backupId: backup.id, status: 'pending', targetKind: 'files', targetPath, requestedBy: actor.name },
  });
  return queueRestore(ctx, restore, backup, actor, { targetPath });
}

async function requestBucketRestore(ctx: AppContext, backup: Backup, request: RestoreRequest, actor: Actor): Promise<Restore> {
  const targetSourceId = request.targetSourceId ?? backup.sourceId;
  if (!targetSourceId) throw new ValidationError(`targetSourceId is required: the backup's source "${backup.sourceName}" no longer exists.`);
  const targetSource = await ctx.db.source.findUnique({ where: { id: targetSourceId } });
  if (!targetSource) throw new NotFoundError(`Source ${targetSourceId}`);
  if (targetSource.kind !== 's3') throw new ValidationError('targetSourceId must name a bucket source to restore a bucket backup.');
  const targetPrefix = request.targetPrefix ?? sourceBucket(ctx, targetSource).prefix ?? '';
  const active = await ctx.db.restore.findFirst({ where: { status: { in: ['pending', 'running'] }, targetKind: 'bucket', targetSourceId, targetPath: targetPrefix } });
  if (active) throw new ConflictError(`A restore into that bucket prefix is already ${active.status}: wait for it to finish.`, 'restore_running');
  const restore = await ctx.db.restore.create({
    data: { backupId: backup.id, status: 'pending', targetKind: 'bucket', targetSourceId, targetPath: targetPrefix, requestedBy: actor.name },
  });
  return queueRestore(ctx, restore, backup, actor, { targetSource: targetSource.name, targetPrefix });
}

async function queueRestore(ctx: AppContext, restore: Restore, backup: Backup, actor: Actor, summary: Record<string, unknown>): Promise<Restore> {
  try {
    await enqueue(ctx, 'restore.run', { restoreId: restore.id });
  } catch (error) {
    await failRun(ctx, 'restore', restore.id, `The restore could not be queued: ${errorMessage(error)}`);
    throw error;
  }
  await recordAudit(ctx.db, actor, {
    action: 'backup.restore',
    targetType: 'backup',
    targetId: backup.id,
    summary: { after: { restoreId: restore.id, backup: backup.name, kind: restore.targetKind, ...summary } },
  });
  return restore;
}

export async function getRestore(ctx: AppContext, id: string) {
  if (!uuidParam.safeParse(id).success) throw new NotFoundError(`Restore ${id.slice(0, 60)}`);
  const restore = await ctx.db.restore.findUnique({ where: { id }, include: { backup: true, targetSource: { select: { name: true } } } });
  if (!restore) throw new NotFoundError(`Restore ${id}`);
  return restore;
}

export async function listRestores(ctx: AppContext, f: RestoreListQuery) {
  const where = { ...(f.status ? { status: { in: f.status } } : {}), ...(f.backupId ? { backupId: f.backupId } : {}) };
  const [rows, total] = await Promise.all([
    ctx.db.restore.findMany({ where, include: { backup: true, targetSource: { select: { name: true } } }, orderBy: { createdAt: 'desc' }, skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    ctx.db.restore.count({ where }),
  ]);
  const items = await Promise.all(rows.map(async (r) => ({ ...restoreToApi(r), ...(r.status === 'pending' || r.status === 'running' ? { expected: await expectedOfRestore(ctx, r) } : {}) })));
  return { items, total, page: f.page, pageSize: f.pageSize };
}

export async function databaseExists(connection: PgConnection, database: string): Promise<boolean> {
  return withPgClient(
    connection,
    async (client) => ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0,
    'postgres',
  );
}

function sameServer(a: PgConnection, b: PgConnection): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
}
