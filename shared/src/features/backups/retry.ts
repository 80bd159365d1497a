// Retry a failed backup: a new backup of the same source, configuration and type (the failed row
// stays in the history as it was), answered at once like any requested backup.
import type { Backup } from '../../infra/db.js';
import { ConflictError } from '../../infra/errors.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { getBackup, requestBackup } from './commands.js';

export async function retryBackup(ctx: AppContext, id: string, actor: Actor): Promise<Backup> {
  const failed = await getBackup(ctx, id);
  if (failed.status !== 'failed') {
    throw new ConflictError(`Backup "${failed.name}" is ${failed.status}: only a failed backup can be retried.`, 'backup_not_failed');
  }
  if (!failed.sourceId) {
    throw new ConflictError(`The source of backup "${failed.name}" (${failed.sourceName}) no longer exists: it cannot be retried.`, 'source_gone');
  }
  const configuration = failed.configurationId ? await ctx.db.backupConfiguration.findUnique({ where: { id: failed.configurationId }, select: { id: true } }) : null;
  return requestBackup(ctx, { sourceId: failed.sourceId, ...(configuration ? { configurationId: configuration.id } : {}), type: failed.type }, actor);
}
