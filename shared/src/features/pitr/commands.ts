// Point-in-time recovery, as the API and the CLI call it: turn it on or off for a source (each
// requirement checked and said), read a source's recovery window, and request a restore of one
// database as it was at a moment.
import type { PitrRestoreRequest } from '@coffre/contract';
import type { Restore, Source } from '../../infra/db.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { ConflictError, ValidationError } from '../../infra/errors.js';
import { checkPitrRequirements, dropSlot, ensureSlot, slotNameFor, slotRetainedBytes, type PitrCheck } from '../../engine/replication.js';
import { withPgClient } from '../../engine/postgres.js';
import { recordAudit } from '../audit/audit.js';
import { recordRefusal } from '../audit/refusals.js';
import { enqueue } from '../catalog.js';
import { getSource, sourceConnection } from '../sources/sources.js';
import { checkRequestedRestoreTarget } from '../restores/targets.js';
import { databaseExists } from '../restores/commands.js';
import { failRun } from '../../runs/transitions.js';
import { planRecovery } from './recover.js';
import { recoveryWindow, type RecoveryWindow } from './window.js';

export interface PitrState {
  sourceId: string;
  source: string;
  enabled: boolean;
  slot: string | null;
  lastWal: { name: string; kind: string; endLsn: string; receivedAt: Date } | null;
  /** Why the WAL stream last failed, and when (null: it streams, or never failed). */
  streamError: { message: string; at: Date } | null;
  window: RecoveryWindow;
}

export async function pitrState(ctx: AppContext, sourceId: string, options: { checkStorage?: boolean } = {}): Promise<PitrState> {
  const source = await postgresSource(ctx, sourceId);
  const last = await ctx.db.walFile.findFirst({ where: { sourceId, deletedAt: null, kind: { not: 'history' } }, orderBy: { receivedAt: 'desc' } });
  return {
    sourceId,
    source: source.name,
    enabled: source.pitrEnabled,
    slot: source.pitrSlot,
    lastWal: last ? { name: last.name, kind: last.kind, endLsn: last.endLsn, receivedAt: last.receivedAt } : null,
    streamError: source.pitrStreamError && source.pitrStreamErrorAt ? { message: source.pitrStreamError, at: source.pitrStreamErrorAt } : null,
    window: await recoveryWindow(ctx, sourceId, options),
  };
}

/** Every requirement of point-in-time recovery, checked against the source's server. */
export async function checkPitr(ctx: AppContext, sourceId: string): Promise<PitrCheck> {
  const source = await postgresSource(ctx, sourceId);
  return checkPitrRequirements(sourceConnection(ctx, source), source.pitrSlot ?? slotNameFor(source.id));
}

/** How much WAL the source's slot holds on its server (null: no slot there). */
export async function slotUsage(ctx: AppContext, sourceId: string): Promise<number | null> {
  const source = await postgresSource(ctx, sourceId);
  if (!source.pitrSlot) return null;
  return withPgClient(sourceConnection(ctx, source), (client) => slotRetainedBytes(client, source.pitrSlot!));
}

/** Turns point-in-time recovery on (every requirement met: slot created, stream queued) or off (stream stops, slot dropped). */
export async function setPitr(ctx: AppContext, sourceId: string, enabled: boolean, actor: Actor): Promise<PitrState> {
  const source = await postgresSource(ctx, sourceId);
  const connection = sourceConnection(ctx, source);
  const slot = source.pitrSlot ?? slotNameFor(source.id);
  if (enabled) {
    const check = await checkPitrRequirements(connection, slot);
    if (!check.ok) {
      const missing = check.requirements.filter((r) => !r.ok).map((r) => r.message);
      await recordRefusal(ctx.db, actor, { action: 'source.pitr', targetType: 'source', targetId: source.id, reason: 'requirements', summary: { missing } });
      throw new ValidationError(`Point-in-time recovery cannot be turned on for "${source.name}": ${missing.join(' ')}`);
    }
    await ensureSlot(connection, slot);
    await ctx.db.source.update({ where: { id: source.id }, data: { pitrEnabled: true, pitrSlot: slot } });
    await enqueue(ctx, 'pitr.stream', { sourceId: source.id });
  } else {
    // A stream stopped on purpose has no failure to show.
    await ctx.db.source.update({ where: { id: source.id }, data: { pitrEnabled: false, pitrStreamError: null, pitrStreamErrorAt: null } });
    // The stream notices within seconds and stops; the slot goes once no stream holds it.
    await dropSlot(connection, slot).catch(() => {});
  }
  await recordAudit(ctx.db, actor, { action: 'source.pitr', targetType: 'source', targetId: source.id, summary: { before: { enabled: source.pitrEnabled }, after: { enabled, slot } } });
  return pitrState(ctx, source.id);
}

/** Queues the WAL stream of every source with PITR on (a no-op for one already queued or running). */
export async function ensureWalStreams(ctx: AppContext): Promise<number> {
  const sources = await ctx.db.source.findMany({ where: { pitrEnabled: true }, select: { id: true } });
  for (const source of sources) await enqueue(ctx, 'pitr.stream', { sourceId: source.id });
  return sources.length;
}

/** Checks the moment against the window and the confirmation, then queues a restore to that moment. */
export async function requestPitrRestore(ctx: AppContext, sourceId: string, request: PitrRestoreRequest, actor: Actor): Promise<Restore> {
  const source = await postgresSource(ctx, sourceId);
  const moment = new Date(request.targetTime);
  if (Number.isNaN(moment.getTime())) throw new ValidationError('targetTime: expected a moment with its zone, e.g. 2026-01-31T17:00:00+01:00.');
  const targetDatabase = request.targetDatabase ?? request.database;
  if (request.confirm !== targetDatabase) {
    await recordRefusal(ctx.db, actor, { action: 'source.pitr.restore', targetType: 'source', targetId: source.id, reason: 'wrong-confirmation', summary: { targetDatabase } });
    throw new ValidationError(`confirm must be the target database's name, exactly: type "${targetDatabase}" to overwrite it with "${request.database}" as it was at ${moment.toISOString()}.`);
  }
  const base = await planRecovery(ctx, source.id, moment).catch((error: Error) => {
    throw new ConflictError(error.message, 'outside_window');
  });
  const targetSource = request.targetSourceId ? await getSource(ctx, request.targetSourceId) : source;
  if (targetSource.kind !== 'postgres') throw new ValidationError('targetSourceId must name a PostgreSQL source.');
  const connection = sourceConnection(ctx, targetSource);
  await checkRequestedRestoreTarget(ctx, actor, base.id, { ...connection, database: targetDatabase }, { allowSystemDatabase: false });
  const exists = await databaseExists(connection, targetDatabase).catch(() => true);
  const restore = await ctx.db.restore.create({
    data: {
      backupId: base.id,
      status: 'pending',
      targetKind: 'database',
      targetSourceId: targetSource.id,
      targetDatabase,
      targetTime: moment,
      sourceDatabase: request.database,
      createDatabase: !exists,
      requestedBy: actor.name,
    },
  });
  try {
    await enqueue(ctx, 'pitr.restore', { restoreId: restore.id });
  } catch (error) {
    await failRun(ctx, 'restore', restore.id, `The restore could not be queued: ${(error as Error).message}`);
    throw error;
  }
  await recordAudit(ctx.db, actor, {
    action: 'source.pitr.restore',
    targetType: 'source',
    targetId: source.id,
    summary: { after: { restoreId: restore.id, targetTime: moment.toISOString(), database: request.database, targetSource: targetSource.name, targetDatabase, baseBackup: base.name } },
  });
  return restore;
}

async function postgresSource(ctx: AppContext, sourceId: string): Promise<Source> {
  const source = await getSource(ctx, sourceId);
  if (source.kind !== 'postgres') throw new ValidationError(`Source "${source.name}" is a bucket: point-in-time recovery is for PostgreSQL sources.`);
  return source;
}
