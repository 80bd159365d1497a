// The whole cluster of a source recovered to a moment into a directory, for disaster recovery: the
// base backup unpacked there, the WAL replayed to the moment by a private socket-only instance which
// is then promoted and stopped cleanly, and coffre's own helpers removed: `pg_ctl -D <dir> start`
// starts it as it was at that moment, with the source's own settings.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../infra/context.js';
import { ValidationError } from '../../infra/errors.js';
import { recoveryPaths } from '../../engine/recovery.js';
import { createRunLog } from '../../runs/run-log.js';
import { sourceConnection } from '../sources/sources.js';
import { planRecovery, recoverToMoment } from './recover.js';

export interface DirectoryRecovery {
  dataDir: string;
  baseBackup: string;
  fetchMs: number;
  replayMs: number;
  walFiles: number;
}

export async function recoverToDirectory(ctx: AppContext, sourceId: string, moment: Date, directory: string): Promise<DirectoryRecovery> {
  const entries = await readdir(directory).catch(() => null);
  if (entries && entries.length > 0) throw new ValidationError(`${directory} is not empty: recover into a new or empty directory.`);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const source = await ctx.db.source.findUniqueOrThrow({ where: { id: sourceId } });
  const base = await planRecovery(ctx, sourceId, moment);
  const log = createRunLog(ctx.logger.child({ sourceId, directory }));
  const recovered = await recoverToMoment(ctx, base, moment, { workDir: directory, users: ['postgres', sourceConnection(ctx, source).user], action: 'promote', log });
  await recovered.instance.stop();
  const paths = recoveryPaths(directory);
  // What only the private instance needed; the data directory stays.
  for (const helper of [paths.wal, paths.socket, join(directory, 'conf'), paths.log]) await rm(helper, { recursive: true, force: true });
  return { dataDir: paths.data, baseBackup: base.name, ...recovered.timings };
}
