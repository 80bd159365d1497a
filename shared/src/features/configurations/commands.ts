// Backup configurations: what to back up, when, how, where, and for how long. Each change keeps the
// configuration's job schedulers in step (schedulers.ts).
import type { BackupConfiguration, Prisma } from '../../infra/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { requestBackup } from '../backups/commands.js';
import {
  configurationToApi,
  configurationToColumns,
  configurationUpdateToColumns,
  parseConfigurationCreate,
} from './input.js';
import type { ConfigurationCreateRequest, ConfigurationDetails, ConfigurationUpdateInput } from '@coffre/contract';
import { overdueAt, scheduleFromColumns } from '../../rules/schedule.js';
import { removeConfigurationSchedulers, syncConfigurationSchedulers } from './schedulers.js';
import { assertFilesPath } from '../../infra/files-roots.js';
import { requireUuid } from '../../infra/validation.js';

type ConfigurationRow = BackupConfiguration & { destinations: { destinationId: string }[] };



const include = { destinations: { select: { destinationId: true } }, source: { select: { name: true } } } as const;

export async function listConfigurations(ctx: AppContext, now = new Date()): Promise<ConfigurationDetails[]> {
  const rows = await ctx.db.backupConfiguration.findMany({ include, orderBy: { name: 'asc' } });
  const lasts = await lastBackups(ctx, rows.map((r) => r.id));
  return rows.map((row) => details(row, row.source.name, lasts.get(row.id), now, ctx.recipients.length > 0));
}

export async function getConfiguration(ctx: AppContext, id: string, now = new Date()): Promise<ConfigurationDetails> {
  const row = await loadConfiguration(ctx, id);
  const lasts = await lastBackups(ctx, [row.id]);
  return details(row, row.source.name, lasts.get(row.id), now, ctx.recipients.length > 0);
}

async function loadConfiguration(ctx: AppContext, id: string) {
  const row = await ctx.db.backupConfiguration.findUnique({ where: { id: requireUuid(id, 'Configuration') }, include });
  if (!row) throw new NotFoundError(`Configuration ${id}`);
  return row;
}

/**
 * Creates a configuration from a request as written (the API's parsed body, or a partial one from the
 * scheduler's tests and tools): parsing it fills in the contract's defaults.
 */
export async function createConfiguration(ctx: AppContext, request: ConfigurationCreateRequest, actor: Actor): Promise<ConfigurationDetails> {
  const input = parseConfigurationCreate(request);
  await checkReferences(ctx, { sourceId: input.sourceId, destinationIds: input.destinationIds, encrypt: input.encrypt, name: input.name, includePaths: input.includePaths });
  const row = await ctx.db.backupConfiguration.create({
    data: {
      ...configurationToColumns(input),
      destinations: { create: input.destinationIds.map((destinationId) => ({ destinationId })) },
    },
    include,
  });
  await syncConfigurationSchedulers(ctx, row);
  await recordAudit(ctx.db, actor, { action: 'configuration.create', targetType: 'configuration', targetId: row.id, summary: { after: configurationToApi(row) } });
  return getConfiguration(ctx, row.id);
}

export async function updateConfiguration(ctx: AppContext, id: string, input: ConfigurationUpdateInput, actor: Actor): Promise<ConfigurationDetails> {
  const before = await loadConfiguration(ctx, id);
  const columns = configurationUpdateToColumns(input, before);
  await checkReferences(ctx, {
    sourceId: input.sourceId,
    destinationIds: input.destinationIds,
    encrypt: input.encrypt !== undefined ? input.encrypt : before.encrypt,
    name: input.name && input.name !== before.name ? input.name : undefined,
    includePaths: input.includePaths,
  });
  const row = await ctx.db.$transaction(async (tx) => {
    if (input.destinationIds) {
      await tx.configurationDestination.deleteMany({ where: { configurationId: id } });
      await tx.configurationDestination.createMany({ data: input.destinationIds.map((destinationId) => ({ configurationId: id, destinationId })) });
    }
    const updated = await tx.backupConfiguration.update({ where: { id }, data: columns as Prisma.BackupConfigurationUncheckedUpdateInput, include });
    return startsAnew(before, updated) ? tx.backupConfiguration.update({ where: { id }, data: { activatedAt: new Date() }, include }) : updated;
  });
  await syncConfigurationSchedulers(ctx, row);
  await recordAudit(ctx.db, actor, {
    action: 'configuration.update',
    targetType: 'configuration',
    targetId: id,
    summary: { before: configurationToApi(before), after: configurationToApi(row) },
  });
  return getConfiguration(ctx, id);
}

export async function setConfigurationActive(ctx: AppContext, id: string, active: boolean, actor: Actor): Promise<ConfigurationDetails> {
  const before = await loadConfiguration(ctx, id);
  const row = await ctx.db.backupConfiguration.update({ where: { id }, data: { active, ...(active && !before.active ? { activatedAt: new Date() } : {}) }, include });
  await syncConfigurationSchedulers(ctx, row);
  await recordAudit(ctx.db, actor, {
    action: active ? 'configuration.activate' : 'configuration.deactivate',
    targetType: 'configuration',
    targetId: id,
    summary: { before: { active: before.active }, after: { active } },
  });
  return getConfiguration(ctx, id);
}

export async function deleteConfiguration(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const before = await loadConfiguration(ctx, id);
  const running = await ctx.db.backup.count({ where: { configurationId: id, status: { in: ['pending', 'running'] } } });
  if (running > 0) throw new ConflictError(`Configuration "${before.name}" has backups pending or running: delete it once they have finished.`);
  await removeConfigurationSchedulers(ctx, id);
  await ctx.db.backupConfiguration.delete({ where: { id } });
  await recordAudit(ctx.db, actor, { action: 'configuration.delete', targetType: 'configuration', targetId: id, summary: { before: configurationToApi(before) } });
}

/** A copy that starts inactive, named "<name> (copy)", "<name> (copy 2)", … */
export async function duplicateConfiguration(ctx: AppContext, id: string, actor: Actor): Promise<ConfigurationDetails> {
  const source = await loadConfiguration(ctx, id);
  let name = `${source.name} (copy)`;
  for (let n = 2; await ctx.db.backupConfiguration.findUnique({ where: { name } }); n += 1) name = `${source.name} (copy ${n})`;
  const { id: _id, createdAt: _c, updatedAt: _u, lastRunAt: _l, activatedAt: _a, destinations, source: _s, ...columns } = source;
  const row = await ctx.db.backupConfiguration.create({
    data: { ...columns, name: name.slice(0, 100), active: false, destinations: { create: destinations.map((d) => ({ destinationId: d.destinationId })) } },
    include,
  });
  await recordAudit(ctx.db, actor, { action: 'configuration.duplicate', targetType: 'configuration', targetId: row.id, summary: { after: { name: row.name, copiedFrom: source.name } } });
  return getConfiguration(ctx, row.id);
}

/** Run now: a backup of the configuration, trigger manual. */
export async function runConfigurationNow(ctx: AppContext, id: string, actor: Actor) {
  const row = await loadConfiguration(ctx, id);
  return requestBackup(ctx, { configurationId: row.id }, actor);
}

async function checkReferences(
  ctx: AppContext,
  refs: { sourceId?: string; destinationIds?: string[]; encrypt: boolean | null; name?: string; includePaths?: string[] },
): Promise<void> {
  for (const [index, path] of (refs.includePaths ?? []).entries()) await assertFilesPath(ctx.config, path, `includePaths[${index}]`);
  if (refs.sourceId && !(await ctx.db.source.findUnique({ where: { id: refs.sourceId } }))) {
    throw new ValidationError(`sourceId: there is no source ${refs.sourceId} (list them with GET /api/sources).`);
  }
  if (refs.destinationIds?.length) {
    const found = await ctx.db.destination.count({ where: { id: { in: refs.destinationIds } } });
    if (found !== refs.destinationIds.length) throw new ValidationError('destinationIds: some of these destinations do not exist (list them with GET /api/destinations).');
  }
  if (refs.encrypt === true && ctx.recipients.length === 0) {
    throw new ValidationError('encrypt: encryption needs AGE_RECIPIENTS, the age public keys to encrypt to, and it is not set.');
  }
  if (refs.encrypt === false && ctx.config.REQUIRE_ENCRYPTION) {
    throw new ValidationError('encrypt: this installation requires encryption (REQUIRE_ENCRYPTION=true): a configuration may not opt out of it.');
  }
  if (refs.name && (await ctx.db.backupConfiguration.findUnique({ where: { name: refs.name } }))) {
    throw new ConflictError(`A configuration named "${refs.name}" already exists.`);
  }
}

/**
 * Whether an update starts the configuration's schedule anew (activated, or another schedule): from
 * then on, overdue counts from now rather than from a backup taken under the old schedule.
 */
function startsAnew(before: BackupConfiguration, after: BackupConfiguration): boolean {
  if (!after.active) return false;
  return !before.active || JSON.stringify(scheduleFromColumns(before)) !== JSON.stringify(scheduleFromColumns(after));
}

/** Per configuration: its newest completed backup whose artifacts are kept (a deleted one protects nothing), and its newest run's status. */
async function lastBackups(ctx: AppContext, ids: string[]) {
  const map = new Map<string, { lastCompletedAt: Date | null; lastStatus: string | null }>();
  if (ids.length === 0) return map;
  const completed = await ctx.db.backup.groupBy({ by: ['configurationId'], where: { configurationId: { in: ids }, status: 'completed', deletedAt: null }, _max: { completedAt: true } });
  const latest = await ctx.db.backup.findMany({ where: { configurationId: { in: ids } }, distinct: ['configurationId'], orderBy: [{ configurationId: 'asc' }, { createdAt: 'desc' }], select: { configurationId: true, status: true } });
  for (const id of ids) map.set(id, { lastCompletedAt: null, lastStatus: null });
  for (const c of completed) if (c.configurationId) map.get(c.configurationId)!.lastCompletedAt = c._max.completedAt;
  for (const l of latest) if (l.configurationId) map.get(l.configurationId)!.lastStatus = l.status;
  return map;
}

function details(
  row: ConfigurationRow,
  sourceName: string,
  last: { lastCompletedAt: Date | null; lastStatus: string | null } | undefined,
  now: Date,
  installationEncrypts: boolean,
): ConfigurationDetails {
  const lastCompletedAt = last?.lastCompletedAt ?? null;
  const due = overdueAt(scheduleFromColumns(row), row.active, lastCompletedAt, row.activatedAt ?? row.createdAt);
  return {
    ...configurationToApi(row, now),
    encrypted: row.encrypt ?? installationEncrypts,
    sourceName,
    overdue: due !== null && now.getTime() > due.getTime(),
    overdueAt: due?.toISOString() ?? null,
    lastCompletedAt: lastCompletedAt?.toISOString() ?? null,
    lastStatus: last?.lastStatus ?? null,
  };
}
