// Which stored copy of an artifact a restore reads: the first destination holding a good one.
import type { Backup } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import type { ArtifactSource } from '../../engine/verify-artifact.js';
import type { createRunLog } from '../../runs/run-log.js';
import { destinationDriver } from '../destinations/destinations.js';

/**
 * Runs `restore` on the first destination holding a good copy of an artifact: a copy that is missing
 * or damaged (a PermanentError, such as an integrity failure) is reported and the next one is tried.
 */
export async function withEachCopy<T>(
  ctx: AppContext,
  backup: Backup,
  kind: 'database' | 'files' | 'bucket',
  log: ReturnType<typeof createRunLog>,
  restore: (artifact: ArtifactSource) => Promise<T>,
): Promise<T> {
  const artifacts = await ctx.db.backupArtifact.findMany({
    where: { backupId: backup.id, kind, deletedAt: null },
    include: { destination: true },
    orderBy: { createdAt: 'asc' },
  });
  if (artifacts.length === 0) throw new PermanentError(`Backup "${backup.name}" has no stored ${kind} artifact left.`);
  let lastError: unknown = null;
  for (const artifact of artifacts) {
    const driver = destinationDriver(ctx, artifact.destination);
    const stored = await driver.stat(artifact.key).catch(() => null);
    if (!stored) {
      log.warn(`destination ${artifact.destination.name} does not hold ${artifact.key}`);
      lastError = new PermanentError(`The ${kind} artifact is missing from destination ${artifact.destination.name}.`);
      continue;
    }
    log.info(`verifying and restoring the ${kind} artifact from destination ${artifact.destination.name}`);
    try {
      return await restore({
        open: () => driver.get(artifact.key),
        storedSizeBytes: stored.sizeBytes,
        sizeBytes: Number(artifact.sizeBytes),
        checksumSha256: artifact.checksumSha256,
        encrypted: backup.encrypted,
      });
    } catch (error) {
      lastError = error;
      log.warn(`restore from ${artifact.destination.name} failed: ${errorMessage(error)}`);
      if (!(error instanceof PermanentError) || artifacts.length === 1) throw error;
    }
  }
  throw lastError instanceof Error ? lastError : new PermanentError('No destination holds a usable copy of the artifact.');
}
