// A verification in a worker: a database backup is restored into a scratch database on its source's
// server, its tables and rows counted and compared with what the dump's own snapshot counted; a bucket
// backup is restored into a scratch folder of its bucket, read back and compared key by key. The
// scratch database or folder is removed whatever happens.
import type { Backup, Source } from '../../infra/db.js';
import { PermanentError } from '../../infra/errors.js';
import { countRowsInSnapshot, listDumpedTables, tableKey, type TableCount } from '../../engine/counts.js';
import { withPgClient } from '../../engine/postgres.js';
import { dropDatabase } from '../../engine/restore-pipeline.js';
import type { AppContext } from '../../infra/context.js';
import { claimRun, completeRun } from '../../runs/transitions.js';
import { sourceBucket, sourceConnection } from '../sources/sources.js';
import { s3KeyPrefix } from '../../storage/s3-location.js';
import type { RunLog } from '../../runs/run-log.js';
import { createLiveRunLog, recordFailure, type RunHooks, type RunOutcome } from '../../runs/life-cycle.js';
import { restoreBackupInto } from '../restores/job.js';
import { withEachCopy } from '../restores/copies.js';
import type { JobHandlers } from '../catalog.js';
import { runTimeLimitSeconds } from '../configurations/limits.js';
import { startRunLimit } from '../../runs/limits.js';
import { provePointInTime } from '../pitr/proof.js';

export async function runVerificationJob(ctx: AppContext, verificationId: string, hooks: RunHooks): Promise<RunOutcome> {
  const verification = await ctx.db.verification.findUnique({ where: { id: verificationId }, include: { backup: { include: { source: true } } } });
  if (!verification || verification.status === 'completed' || verification.status === 'failed') return 'skipped';
  const seconds = await runTimeLimitSeconds(ctx, verification.backup.configurationId);
  if (!(await claimRun(ctx, 'verification', verificationId, hooks.workerId))) return 'skipped';
  const { backup } = verification;
  const log = createLiveRunLog(ctx, 'verification', verificationId, hooks.logger.child({ verificationId }));
  const started = Date.now();
  const limit = startRunLimit(hooks, seconds);
  const claimed = hooks;
  hooks = limit.hooks;
  try {
    // Everything after the claim ends the row one way or the other: a verification never stays running.
    if (!backup.source) throw new PermanentError(`The source "${backup.sourceName}" was deleted: there is no server to verify on.`);
    const outcome =
      backup.source.kind === 's3'
        ? await verifyBucketBackup(ctx, verificationId, backup, backup.source, hooks, log)
        : backup.type === 'physical'
          ? await verifyBaseBackup(ctx, backup, backup.source, hooks, log)
          : await verifyDatabaseBackup(ctx, verificationId, backup, backup.source, hooks, log);
    const result = outcome.differences.length === 0 ? 'passed' : 'failed';
    log.info(`verification ${result}: ${outcome.summary}`);
    await completeRun(ctx, 'verification', verificationId, {
      result,
      tablesExpected: outcome.tablesExpected,
      tablesFound: outcome.tablesFound,
      recordsExpected: BigInt(outcome.recordsExpected),
      recordsFound: BigInt(outcome.recordsFound),
      differences: outcome.differences,
      ...(outcome.tableCounts ? { tableCounts: outcome.tableCounts as unknown as object[] } : {}),
      durationMs: Date.now() - started,
      log: log.text(),
      ...(result === 'failed' ? { errorMessage: `${outcome.differences.length} ${outcome.unit}(s) differ from what the backup recorded.` } : {}),
    });
    return 'completed';
  } catch (caught) {
    const error = limit.explain(caught);
    await recordFailure(ctx, 'verification', verificationId, error, claimed, log, { result: 'failed', durationMs: Date.now() - started });
    throw error;
  } finally {
    limit.stop();
  }
}

interface VerificationOutcome {
  tablesExpected: number | null;
  tablesFound: number | null;
  recordsExpected: number;
  recordsFound: number;
  differences: Difference[];
  /** A database backup's tables as found in the scratch database. */
  tableCounts?: TableCount[];
  /** What a difference is about: a table, or an object. */
  unit: 'table' | 'object';
  summary: string;
}

type Difference = { table: string; expected: number | null; found: number | null; detail?: string };

/** Restores into a scratch database on the source's server, counts, compares, drops it. */
async function verifyDatabaseBackup(ctx: AppContext, verificationId: string, backup: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<VerificationOutcome> {
  const scratch = `coffre_verify_${verificationId.replace(/-/g, '').slice(-12)}_${hooks.attempt}`;
  const server = sourceConnection(ctx, source);
  const target = { ...server, database: scratch };
  await ctx.db.verification.update({ where: { id: verificationId }, data: { scratchDatabase: scratch } });
  // An earlier attempt whose worker died left its scratch database behind.
  for (let earlier = 1; earlier < hooks.attempt; earlier++) {
    await dropDatabase(server, scratch.replace(/_\d+$/, `_${earlier}`)).catch(() => {});
  }
  try {
    log.info(`restoring "${backup.name}" into scratch database ${scratch}`);
    await restoreBackupInto(ctx, backup, target, true, hooks, log);
    const expected = (backup.tableCounts as unknown as TableCount[] | null) ?? [];
    log.phase('counting rows');
    const found = await withPgClient(target, async (client) => {
      const tables = await listDumpedTables(client);
      return backup.type === 'schema' ? tables.map((t) => ({ ...t, rows: 0 })) : countRowsInSnapshot(client, tables);
    });
    const recordsExpected = expected.reduce((s, t) => s + Math.max(0, t.rows), 0);
    const recordsFound = found.reduce((s, t) => s + t.rows, 0);
    if (backup.tableCounts === null && backup.trigger === 'import') {
      // A dump made elsewhere carries no counts: it verifies by restoring whole, and what it held is recorded.
      return {
        tablesExpected: null,
        tablesFound: found.length,
        recordsExpected: recordsFound,
        recordsFound,
        differences: [],
        unit: 'table',
        summary: `restored whole: ${found.length} tables and ${recordsFound} rows found (an imported dump records no counts to compare with)`,
      };
    }
    return {
      tablesExpected: expected.length,
      tablesFound: found.length,
      recordsExpected,
      recordsFound,
      differences: compareCounts(expected, found, backup.type === 'schema'),
      tableCounts: found,
      unit: 'table',
      summary: `${found.length} tables and ${recordsFound} rows found, ${expected.length} and ${recordsExpected} recorded`,
    };
  } finally {
    // Dropped before the row says completed: a verification that reads as done has left nothing behind.
    log.phase('dropping the scratch database');
    await dropDatabase(server, scratch).catch((error: Error) => log.warn(`could not drop scratch database ${scratch}: ${error.message}`));
  }
}

/**
 * A base backup is proven by recovering it, with the WAL stored after it, to the latest restorable
 * moment in a private instance (pitr/proof.ts): the RTO and the moment reached go to the log and the
 * summary, the rows of every table to the counts. A base backup records no counts to compare with.
 */
async function verifyBaseBackup(ctx: AppContext, backup: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<VerificationOutcome> {
  const proof = await provePointInTime(ctx, backup, source, hooks, log);
  const records = proof.tables.reduce((sum, t) => sum + Math.max(0, t.rows), 0);
  return {
    tablesExpected: null,
    tablesFound: proof.tables.length,
    recordsExpected: records,
    recordsFound: records,
    differences: [],
    tableCounts: proof.tables,
    unit: 'table',
    summary:
      `recovered to ${proof.target.toISOString()} (recovery point reached ${proof.reached ? proof.reached.toISOString() : 'the end of the base backup'}) ` +
      `with an RTO of ${(proof.rtoMs / 1000).toFixed(1)} s; ${proof.tables.length} tables and ${records} rows found`,
  };
}

/**
 * Restores a bucket backup into a scratch folder of the source bucket, then compares what landed
 * there, read back, with what the archive holds: every key, its size and its SHA-256. The scratch
 * folder is removed whatever happens.
 */
async function verifyBucketBackup(ctx: AppContext, verificationId: string, backup: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<VerificationOutcome> {
  const { runBucketRestore } = await import('../../engine/bucket-archive.js');
  const { listObjects, objectChecksum, removePrefix, scratchPrefix } = await import('../../engine/bucket-staging.js');
  const { createS3Bucket } = await import('../../storage/s3.js');
  const options = { ...sourceBucket(ctx, source), logger: ctx.logger };
  const scratch = scratchPrefix(s3KeyPrefix(options.prefix), verificationId);
  const bucket = createS3Bucket(options);
  await ctx.db.verification.update({ where: { id: verificationId }, data: { scratchDatabase: `${options.bucket}/${scratch}` } });
  const identities = backup.encrypted ? await ctx.identities() : [];
  try {
    log.info(`restoring "${backup.name}" into the scratch folder ${options.bucket}/${scratch}`);
    const restored = await withEachCopy(ctx, backup, 'bucket', log, (artifact) =>
      runBucketRestore({ artifact, compression: backup.compression, identities, target: { ...options, prefix: scratch }, collect: true, signal: hooks.signal, logger: hooks.logger }),
    );
    const stored = new Map<string, number>();
    for await (const object of listObjects(bucket, scratch, hooks.signal)) stored.set(object.key.slice(scratch.length), object.size);
    const differences: Difference[] = [];
    for (const object of restored.objects ?? []) {
      const size = stored.get(object.key);
      stored.delete(object.key);
      if (size === undefined) differences.push({ table: object.key, expected: object.size, found: null, detail: 'missing after the restore' });
      else if (size !== object.size) differences.push({ table: object.key, expected: object.size, found: size, detail: 'size differs' });
      else if ((await objectChecksum(bucket, `${scratch}${object.key}`, hooks.signal)) !== object.sha256) {
        differences.push({ table: object.key, expected: object.size, found: size, detail: 'SHA-256 differs from the archived bytes' });
      }
    }
    for (const [key, size] of stored) differences.push({ table: key, expected: null, found: size, detail: 'not in the archive' });
    const recorded = backup.objectsCount ?? restored.objectsCount;
    if (recorded !== restored.objectsCount) {
      differences.push({ table: '(objects)', expected: recorded, found: restored.objectsCount, detail: 'the archive holds another number of objects than the backup recorded' });
    }
    return {
      tablesExpected: null,
      tablesFound: null,
      recordsExpected: recorded,
      recordsFound: restored.objectsCount,
      differences,
      unit: 'object',
      summary: `${restored.objectsCount} objects (${restored.objectsBytes} bytes) restored and read back, ${recorded} recorded`,
    };
  } finally {
    await removePrefix(bucket, scratch).catch((error: Error) => log.warn(`could not remove the scratch folder ${scratch}: ${error.message}`));
  }
}

/** Tables whose row counts (or presence) differ. For schema-only backups only presence counts. */
export function compareCounts(expected: TableCount[], found: TableCount[], schemaOnly: boolean) {
  const differences: { table: string; expected: number | null; found: number | null }[] = [];
  const foundByKey = new Map(found.map((t) => [tableKey(t), t.rows]));
  for (const table of expected) {
    const key = tableKey(table);
    const rows = foundByKey.get(key);
    if (rows === undefined) differences.push({ table: key, expected: table.rows, found: null });
    else if (!schemaOnly && table.rows >= 0 && rows !== table.rows) differences.push({ table: key, expected: table.rows, found: rows });
    foundByKey.delete(key);
  }
  for (const [key, rows] of foundByKey) differences.push({ table: key, expected: null, found: rows });
  return differences;
}

/** The handler of the verifications feature's job (jobs.ts). */
export const verificationHandlers = {
  'verification.run': (ctx, payload, hooks) => runVerificationJob(ctx, payload.verificationId, hooks),
} satisfies Pick<JobHandlers, 'verification.run'>;
