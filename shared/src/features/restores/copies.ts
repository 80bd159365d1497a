// Reading a backup's artifacts for a restore: the first destination holding a good copy, and a
// database artifact (a database backup's, a server backup's globals or one of its databases)
// restored from it. Restores, server restores and verifications all read through here.
import type { Backup } from '../../infra/db.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import type { PgConnection } from '../../engine/postgres.js';
import { runDatabaseRestore } from '../../engine/restore-pipeline.js';
import type { TableCount } from '../../engine/counts.js';
import type { BackupType as DumpType } from '../../engine/backup-pipeline.js';
import type { AppContext } from '../../infra/context.js';
import { destinationDriver } from '../destinations/destinations.js';
import type { ArtifactSource } from '../../engine/verify-artifact.js';
import type { RunLog } from '../../runs/run-log.js';
import type { RunHooks } from '../../runs/life-cycle.js';

/** What a restore reads: a database, files or bucket artifact, a server backup's globals or one of its databases. */
export type ArtifactKindName = 'database' | 'files' | 'bucket' | 'globals' | `database:${string}`;

/** Verifies and restores a backup's database artifact into a target (used by restores and verifications). */
export async function restoreBackupInto(
  ctx: AppContext,
  backup: Backup,
  target: PgConnection,
  createDatabase: boolean,
  hooks: RunHooks,
  log: RunLog,
  onProgress?: (bytes: number) => void,
  part: { kind?: ArtifactKindName; serverPart?: 'globals' | 'create' } = {},
): Promise<void> {
  const identities = backup.encrypted ? await ctx.identities() : [];
  // The artifact is checked (header, size) before its bytes flow; they are checked as they load.
  log.phase('checking the artifact');
  let loading = false;
  await withEachCopy(ctx, backup, part.kind ?? 'database', log, (artifact) =>
    runDatabaseRestore({
      serverPart: part.serverPart,
      artifact,
      compression: backup.compression,
      identities,
      target,
      createDatabase,
      type: backup.type as DumpType,
      dumpFormat: backup.dumpFormat as 'custom' | 'directory' | 'tar' | 'plain',
      jobs: ctx.config.RESTORE_JOBS,
      tables: (backup.tableCounts as unknown as TableCount[] | null) ?? [],
      tmpDir: ctx.config.TMP_DIR,
      signal: hooks.signal,
      onProgress: (bytes) => {
        if (!loading && bytes > 0) {
          loading = true;
          log.phase('loading');
        }
        onProgress?.(bytes);
      },
      logger: hooks.logger,
    }),
  );
}

/**
 * Runs `restore` on the first destination holding a good copy of an artifact: a copy that is missing
 * or damaged (a PermanentError, such as an integrity failure) is reported and the next one is tried.
 */
export async function withEachCopy<T>(
  ctx: AppContext,
  backup: Backup,
  kind: ArtifactKindName,
  log: RunLog,
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
        ...(driver.openStoredFile ? { openStoredFile: () => driver.openStoredFile!(artifact.key) } : {}),
      });
    } catch (error) {
      lastError = error;
      log.warn(`restore from ${artifact.destination.name} failed: ${errorMessage(error)}`);
      if (!(error instanceof PermanentError) || artifacts.length === 1) throw error;
    }
  }
  throw lastError instanceof Error ? lastError : new PermanentError('No destination holds a usable copy of the artifact.');
}
