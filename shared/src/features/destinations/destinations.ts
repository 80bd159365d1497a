// Destinations: where artifacts are written. The local directory of BACKUP_DIR is registered as the
// default destination named `local`; others (more directories, S3-compatible buckets, SFTP servers,
// rclone remotes) are added through the API. Credentials (S3 keys, SFTP passwords and keys, rclone configurations) are sealed at
// rest and never shown.
import { resolve } from 'node:path';
import type { DestinationInput, DestinationUpdate, DestinationView, SystemReport } from '@coffre/contract';
import type { Destination } from '../../infra/db.js';
import { ConflictError, isUniqueViolation } from '../../infra/errors.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { storedResource, type ResourceTable } from '../stored/resource.js';
import { destinationDriver, forgetDriver, locationOf, type LocalDestinationConfig } from './drivers.js';
import { applyChanges, splitSecret } from './settings.js';
import { assertLocalDestinationPath } from '../../infra/files-roots.js';

export { destinationDriver, lazyS3Driver, type LocalDestinationConfig, type S3DestinationConfig, type SftpDestinationConfig, type RcloneDestinationConfig } from './drivers.js';

export function destinationToApi(destination: Destination): DestinationView {
  return {
    id: destination.id,
    name: destination.name,
    kind: destination.kind,
    isDefault: destination.isDefault,
    location: locationOf(destination),
    config: shownConfig(destination.config as Record<string, unknown>),
    hasCredentials: destination.secretEncrypted !== null,
    createdAt: destination.createdAt.toISOString(),
    updatedAt: destination.updatedAt.toISOString(),
  };
}

/**
 * A destination's settings as viewers see them: an S3 endpoint saved with a user name, password or
 * query before those were refused is shown without them (they were credentials).
 */
function shownConfig(config: Record<string, unknown>): Record<string, unknown> {
  if (typeof config.endpoint !== 'string') return config;
  try {
    const url = new URL(config.endpoint);
    if (!url.username && !url.password && !url.search && !url.hash) return config;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return { ...config, endpoint: url.toString() };
  } catch {
    return config;
  }
}

/** Registers BACKUP_DIR as the default local destination, and keeps its path in step with the setting. */
export async function ensureDefaultDestination(ctx: AppContext): Promise<Destination> {
  const config = { path: ctx.config.BACKUP_DIR };
  const existing = await ctx.db.destination.findUnique({ where: { name: 'local' } });
  if (!existing) {
    try {
      return await ctx.db.destination.create({ data: { name: 'local', kind: 'local', config, isDefault: true } });
    } catch (error) {
      // The API and the workers start together on a new installation: one of them creates it.
      if (isUniqueViolation(error)) return ensureDefaultDestination(ctx);
      throw error;
    }
  }
  if (existing.kind === 'local' && (existing.config as unknown as LocalDestinationConfig).path !== config.path) {
    return ctx.db.destination.update({ where: { id: existing.id }, data: { config } });
  }
  return existing;
}

/** The destinations of a backup: its configuration's, or the default ones. */
/** The folders of the local destinations, by name; BACKUP_DIR as `local` while none is registered (the API and workers register it at start). */
export async function localDestinationFolders(ctx: AppContext): Promise<{ name: string; path: string }[]> {
  const rows = await ctx.db.destination.findMany({ where: { kind: 'local' }, orderBy: { name: 'asc' } });
  const folders = rows.map((d) => ({ name: d.name, path: resolve((d.config as unknown as LocalDestinationConfig).path) }));
  return folders.length > 0 ? folders : [{ name: 'local', path: resolve(ctx.config.BACKUP_DIR) }];
}

export async function destinationsForBackup(ctx: AppContext, configurationId: string | null): Promise<Destination[]> {
  if (configurationId) {
    const links = await ctx.db.configurationDestination.findMany({
      where: { configurationId },
      include: { destination: true },
      orderBy: { destinationId: 'asc' },
    });
    if (links.length > 0) return links.map((l) => l.destination);
  }
  const defaults = await ctx.db.destination.findMany({ where: { isDefault: true }, orderBy: { createdAt: 'asc' } });
  return defaults.length > 0 ? defaults : [await ensureDefaultDestination(ctx)];
}

const destinations = storedResource<Destination>({
  noun: 'destination',
  table: (ctx) => ctx.db.destination as unknown as ResourceTable<Destination>,
  toApi: destinationToApi,
});

export const listDestinations = destinations.list;
export const getDestination = destinations.get;

export async function createDestination(ctx: AppContext, input: DestinationInput, actor: Actor): Promise<Destination> {
  if (input.kind === 'local') await assertLocalDestinationPath(ctx.config, input.path, 'path');
  const { config, secret } = splitSecret(input);
  return destinations.create(ctx, actor, {
    name: input.name,
    kind: input.kind,
    config: config as object,
    secretEncrypted: secret ? ctx.secrets.seal(JSON.stringify(secret)) : null,
    isDefault: input.isDefault ?? false,
  });
}

export async function updateDestination(ctx: AppContext, id: string, changes: DestinationUpdate, actor: Actor): Promise<Destination> {
  const before = await getDestination(ctx, id);
  if (before.kind === 'local' && changes.path !== undefined) await assertLocalDestinationPath(ctx.config, changes.path, 'path');
  const { config, secretEncrypted, credentialsChanged } = applyChanges(ctx, before, changes);
  await destinations.refuseTakenName(ctx, changes.name, before);
  const { name: newName, isDefault } = changes;
  const data = { ...(newName ? { name: newName } : {}), ...(isDefault !== undefined ? { isDefault } : {}), config, secretEncrypted };
  return destinations.update(ctx, actor, before, data, { credentialsChanged });
}

export async function deleteDestination(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const destination = await getDestination(ctx, id);
  const stored = await ctx.db.backupArtifact.count({ where: { destinationId: id, deletedAt: null } });
  if (stored > 0) throw new ConflictError(`Destination "${destination.name}" still holds ${stored} artifact(s): delete those backups first.`);
  const used = await ctx.db.configurationDestination.count({ where: { destinationId: id } });
  if (used > 0) throw new ConflictError(`Destination "${destination.name}" is used by ${used} configuration(s): remove it from them first.`);
  await ctx.db.backupArtifact.deleteMany({ where: { destinationId: id } });
  await destinations.remove(ctx, actor, destination);
  forgetDriver(id);
}

export async function testDestination(ctx: AppContext, id: string): Promise<{ ok: boolean; message: string }> {
  const destination = await getDestination(ctx, id);
  try {
    await destinationDriver(ctx, destination).checkWritable();
    return { ok: true, message: `${locationOf(destination)} is writable.` };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/** Disk usage of local destinations (warning above 80 %), and bytes stored per destination. */
export async function systemReport(ctx: AppContext): Promise<SystemReport> {
  const destinations = await listDestinations(ctx);
  const stored = await ctx.db.backupArtifact.groupBy({ by: ['destinationId'], where: { deletedAt: null }, _sum: { sizeBytes: true }, _count: true });
  const byDestination = new Map(stored.map((s) => [s.destinationId, s]));
  const report: SystemReport = { backupDir: ctx.config.BACKUP_DIR, warning: false, destinations: [] };
  for (const destination of destinations) {
    const sums = byDestination.get(destination.id);
    const entry: SystemReport['destinations'][number] = {
      id: destination.id,
      name: destination.name,
      kind: destination.kind,
      location: locationOf(destination),
      bytesStored: Number(sums?._sum.sizeBytes ?? 0),
      artifacts: sums?._count ?? 0,
      usage: null,
    };
    if (destination.kind === 'local') {
      try {
        const usage = await destinationDriver(ctx, destination).usage!();
        entry.usage = { ...usage, warning: usage.usedPercent > 80 };
        report.warning ||= entry.usage.warning;
      } catch (error) {
        entry.error = (error as Error).message;
      }
    }
    report.destinations.push(entry);
  }
  return report;
}
