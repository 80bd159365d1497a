// What a configuration's job scheduler fires: a backup with trigger `schedule`. The backup's id is
// derived from the scheduler's job id, so that a retried or duplicated firing creates one backup.
import { createHash } from 'node:crypto';
import type { Backup } from '../db.js';
import { systemActor, type AppContext } from './context.js';
import { requestBackup } from './backups.js';

/** A UUID (version 8, name-based) that is always the same for the same text. */
export function stableUuid(text: string): string {
  const bytes = createHash('sha256').update(text).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function runScheduledConfiguration(ctx: AppContext, configurationId: string, firingId: string): Promise<Backup | null> {
  const configuration = await ctx.db.backupConfiguration.findUnique({ where: { id: configurationId } });
  if (!configuration || !configuration.active) {
    ctx.logger.info({ configurationId }, 'a scheduler fired for a configuration that is gone or inactive: nothing to do');
    return null;
  }
  return requestBackup(ctx, { configurationId }, { ...systemActor, name: 'scheduler' }, { trigger: 'schedule', id: stableUuid(`schedule:${firingId}`) });
}
