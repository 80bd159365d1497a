// WAL retention: a source keeps every stored WAL file from the start of its oldest kept base backup
// onwards (each kept base backup can then reach the newest point), and deletes the WAL before it.
// Without a kept base backup nothing is deleted: the first one may be on its way.
import type { AppContext } from '../../infra/context.js';
import { errorMessage } from '../../infra/errors.js';
import { parseLsn } from '../../engine/wal.js';
import { destinationDriver } from '../destinations/destinations.js';

export interface WalPruneReport {
  deleted: number;
  bytes: number;
  failures: { key: string; reason: string }[];
}

export async function pruneWal(ctx: AppContext, sourceId?: string): Promise<WalPruneReport> {
  const report: WalPruneReport = { deleted: 0, bytes: 0, failures: [] };
  const sources = await ctx.db.source.findMany({ where: { kind: 'postgres', ...(sourceId ? { id: sourceId } : {}) }, select: { id: true } });
  const destinations = new Map((await ctx.db.destination.findMany()).map((d) => [d.id, d]));
  for (const source of sources) {
    const oldest = await ctx.db.backup.findFirst({
      where: { sourceId: source.id, type: 'physical', status: 'completed', deletedAt: null, walStartLsn: { not: null } },
      orderBy: { completedAt: 'asc' },
    });
    if (!oldest) continue;
    const keepFrom = parseLsn(oldest.walStartLsn!);
    const files = await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, kind: { not: 'history' }, timeline: { lte: oldest.timeline! } } });
    for (const file of files.filter((f) => parseLsn(f.endLsn) <= keepFrom)) {
      try {
        for (const id of file.destinationIds) {
          const destination = destinations.get(id);
          if (destination) await destinationDriver(ctx, destination).delete(file.key);
        }
        await ctx.db.walFile.update({ where: { id: file.id }, data: { deletedAt: new Date() } });
        report.deleted += 1;
        report.bytes += Number(file.sizeBytes);
      } catch (error) {
        report.failures.push({ key: file.key, reason: errorMessage(error) });
      }
    }
  }
  return report;
}
