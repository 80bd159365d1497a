// Recovering a source's cluster to a moment in a private instance of this worker: the newest base
// backup before the moment, unpacked; the WAL from its start to just past the moment, fetched from
// storage (every file decrypted and checked); a private postgres replaying it to exactly that moment.
// Restores to a moment (restore.ts) dump one database from it; `--to-directory` keeps the directory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backup, Destination, WalFile } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { PermanentError } from '../../infra/errors.js';
import type { RunLog } from '../../runs/run-log.js';
import { parseLsn } from '../../engine/wal.js';
import {
  fetchWalFile,
  recoveryPaths,
  startRecoveryInstance,
  TargetNotReachedError,
  unpackBaseBackup,
  type CheckedObject,
  type RecoveryInstance,
} from '../../engine/recovery.js';
import { destinationDriver } from '../destinations/destinations.js';
import { backupInRun, recoveryWindow, walChains, walRuns } from './window.js';

export interface RecoveryTimings {
  /** Reading from storage into the work directory, every object decrypted and checked: the base backup (unpacked) and the WAL. */
  fetchMs: number;
  /** The part of fetchMs spent on the base backup. */
  baseBackupMs: number;
  /** The private instance replaying; WAL fetched while it waited is counted in fetchMs only. */
  replayMs: number;
  walFiles: number;
}

export interface Recovered {
  instance: RecoveryInstance;
  timings: RecoveryTimings;
}

/** The base backup a restore to `moment` starts from, or a sentence saying why there is none. */
export async function planRecovery(ctx: AppContext, sourceId: string, moment: Date): Promise<Backup> {
  const window = await recoveryWindow(ctx, sourceId, { checkStorage: true });
  const span = window.spans.find((s) => s.from <= moment && moment <= s.to);
  if (span) return span.baseBackups.filter((b) => b.completedAt! <= moment).at(-1)!;
  // Not inside a span: past a break, the sentence names the last moment reachable before it.
  const gap = window.gaps.filter((g) => g.lastReachable && g.lastReachable < moment).sort((a, b) => a.lastReachable!.getTime() - b.lastReachable!.getTime()).at(-1);
  if (gap) {
    throw new PermanentError(
      `${moment.toISOString()} is past a break in the stored WAL (segment ${gap.file} ${gap.reason} at ${gap.fromLsn}): the last reachable moment is ${gap.lastReachable!.toISOString()}.`,
      'wal_gap',
    );
  }
  if (!window.earliest) throw new PermanentError('There is no restorable moment yet: a completed base backup (type physical) and the WAL after it are needed.', 'no_window');
  throw new PermanentError(`${moment.toISOString()} is outside the recovery window: restores are possible from ${window.earliest.toISOString()} to ${window.latest!.toISOString()}.`, 'outside_window');
}

/** Unpacks `base`, fetches the WAL up to just past `moment`, and replays it in a private instance. */
export async function recoverToMoment(
  ctx: AppContext,
  base: Backup,
  moment: Date,
  options: { workDir: string; users: string[]; action: 'promote' | 'shutdown'; log: RunLog; signal?: AbortSignal },
): Promise<Recovered> {
  const paths = recoveryPaths(options.workDir);
  const { log } = options;
  const started = Date.now();
  const baseArtifact = await ctx.db.backupArtifact.findFirst({ where: { backupId: base.id, kind: 'database', deletedAt: null }, include: { destination: true } });
  if (!baseArtifact) throw new PermanentError(`Base backup "${base.name}" has no stored artifact left.`);
  const identities = base.encrypted ? await ctx.identities() : [];
  const driver = destinationDriver(ctx, baseArtifact.destination);
  log.info(`unpacking base backup "${base.name}" (${baseArtifact.sizeBytes} bytes) from ${baseArtifact.destination.name}`);
  await unpackBaseBackup(
    { artifact: { open: () => driver.get(baseArtifact.key), sizeBytes: Number(baseArtifact.sizeBytes), checksumSha256: baseArtifact.checksumSha256, encrypted: base.encrypted }, compression: base.compression, identities },
    paths.data,
    options.signal,
  );
  const baseBackupMs = Date.now() - started;
  const { needed, after, timeline } = await walNeeded(ctx, base, moment);
  await mkdir(paths.wal, { recursive: true });
  const fetchWal = walFetcher(ctx, paths.wal, options.signal);
  await fetchWal(needed);
  const fetchMs = Date.now() - started;
  let walFiles = needed.length;
  log.info(`fetched ${needed.length} WAL file(s) in ${fetchMs} ms; replaying up to ${moment.toISOString()}`);
  const major = Number((base.serverVersion ?? '').split('.')[0]);
  if (!major) throw new PermanentError(`Base backup "${base.name}" does not record its server version.`);
  const replayStarted = Date.now();
  const common = { major, workDir: options.workDir, action: options.action, timeoutMs: 6 * 3600_000, users: options.users, timeline };
  const replay = () => startRecoveryInstance({ ...common, targetTime: moment }).catch(notReached);
  let instance = await replay();
  // When a WAL file was stored only bounds when its WAL was written from above (storage down for an
  // hour stores that hour's WAL at its end; a stream resumed late receives old WAL): while the replay
  // ends before the moment, the next stored files come, 1, 1, 2, 4… at a time, until a commit after
  // the moment stops it.
  let next = 0;
  let refetchMs = 0;
  let broken: Error | null = null;
  while (!instance && !broken && next < after.length) {
    const batch = after.slice(next, next + Math.max(1, next));
    log.info(`the WAL fetched ends before ${moment.toISOString()}: fetching ${batch.length} more stored WAL file(s)`);
    const more = Date.now();
    const fetched = await fetchWal(batch, { stopAtUnreadable: true });
    refetchMs += Date.now() - more;
    walFiles += fetched.count;
    next += fetched.count;
    broken = fetched.unreadable;
    if (fetched.count > 0) instance = await replay();
  }
  if (!instance && broken) throw broken;
  if (!instance) {
    // No commit after the moment in the whole stored WAL: the end of the stored WAL is the state at that moment.
    log.info('no commit after the moment in the stored WAL: replaying to its end, which is the state at that moment');
    instance = await startRecoveryInstance({ ...common, targetTime: null });
  }
  const replayMs = Date.now() - replayStarted - refetchMs;
  log.info(`replayed in ${replayMs} ms`);
  return { instance, timings: { fetchMs: fetchMs + refetchMs, baseBackupMs, replayMs, walFiles } };
}

function notReached(error: unknown): null {
  if (error instanceof TargetNotReachedError) return null;
  throw error;
}

/**
 * Fetches WAL files from storage into the directory the private instance's restore_command reads, each
 * decrypted and checked. An unreadable file throws, or with `stopAtUnreadable` ends the fetch and is returned.
 */
function walFetcher(ctx: AppContext, walDir: string, signal: AbortSignal | undefined) {
  let destinations: Map<string, Destination> | null = null;
  let identities: Awaited<ReturnType<AppContext['identities']>> | null = null;
  return async (files: WalFile[], options: { stopAtUnreadable?: boolean } = {}): Promise<{ count: number; unreadable: Error | null }> => {
    const known = (destinations ??= new Map((await ctx.db.destination.findMany()).map((d) => [d.id, d])));
    if (!identities && files.some((f) => f.encrypted)) identities = await ctx.identities();
    let count = 0;
    for (const file of files) {
      const failed = await fetchOne(file, known);
      const error = failed && (await fetchReplaced(file, known, failed));
      if (error && options.stopAtUnreadable) return { count, unreadable: error };
      if (error) throw error;
      count += 1;
    }
    return { count, unreadable: null };
  };

  /**
   * While the source streams, its newest partial segment is stored again every WAL_FLUSH_SECONDS under a
   * new key, and then replaced by the finished segment (same row, another key), the previous object
   * deleted once the row points to the next: a row read a moment ago may name an object that is gone.
   * Its row again, a second apart, up to three times, before the file counts as unreadable.
   */
  async function fetchReplaced(file: WalFile, destinations: Map<string, Destination>, failed: PermanentError): Promise<PermanentError | null> {
    let error = failed;
    for (let attempt = 0; attempt < 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const fresh = await ctx.db.walFile.findUnique({ where: { id: file.id } });
      if (!fresh || fresh.deletedAt) return error;
      const again = await fetchOne(fresh, destinations);
      if (!again) return null;
      error = again;
    }
    return error;
  }

  async function fetchOne(file: WalFile, destinations: Map<string, Destination>): Promise<PermanentError | null> {
    const destination = destinations.get(file.destinationIds[0] ?? '');
    if (!destination) return new PermanentError(`WAL file ${file.name} has no destination left.`, 'wal_gap');
    const store = destinationDriver(ctx, destination);
    const object: CheckedObject = {
      artifact: { open: () => store.get(file.key), sizeBytes: Number(file.sizeBytes), checksumSha256: file.checksumSha256, encrypted: file.encrypted },
      compression: file.compression,
      identities: identities ?? [],
    };
    try {
      await fetchWalFile(object, join(walDir, file.name), signal);
      return null;
    } catch (error) {
      signal?.throwIfAborted();
      return new PermanentError(`WAL file ${file.name} could not be read back (${(error as Error).message}): the stored WAL breaks at ${file.startLsn}; restore to a moment before ${file.receivedAt.toISOString()}.`, 'wal_gap');
    }
  }
}

/**
 * The WAL files from the base backup's start up to the first one received after the moment (its
 * commits should stop the replay), across the timelines that continue its run, with their history
 * files; `after`: the rest, fetched only while the replay ends before the moment; `timeline`: the
 * newest timeline of that chain, which the replay follows.
 */
async function walNeeded(ctx: AppContext, base: Backup, moment: Date): Promise<{ needed: WalFile[]; after: WalFile[]; timeline: number }> {
  const all = await ctx.db.walFile.findMany({ where: { sourceId: base.sourceId!, deletedAt: null } });
  const histories = all.filter((f) => f.kind === 'history');
  const wal = all.filter((f) => f.kind !== 'history').sort((a, b) => a.timeline - b.timeline || (parseLsn(a.startLsn) < parseLsn(b.startLsn) ? -1 : 1));
  const chains = walChains(walRuns(wal).runs, histories).chains.filter((c) => c.some((run) => backupInRun(base, run)));
  // Several chains share the base backup's run only when its timeline was left twice: the one whose WAL reaches the moment.
  const chain = chains.find((c) => c.at(-1)!.lastReceivedAt >= moment) ?? chains.at(-1);
  if (!chain) throw new PermanentError(`The WAL base backup "${base.name}" needs (${base.walStartLsn} to ${base.walEndLsn}) is not all stored.`, 'wal_gap');
  const runs = chain.slice(chain.findIndex((run) => backupInRun(base, run)));
  const files = runs.flatMap((run) => run.files).filter((file) => parseLsn(file.endLsn) > parseLsn(base.walStartLsn!));
  const last = files.findIndex((file) => file.receivedAt > moment && parseLsn(file.endLsn) >= parseLsn(base.walEndLsn!));
  const cut = last === -1 ? files.length : last + 1;
  const timelines = new Set(runs.map((run) => run.timeline));
  const history = histories.filter((h) => timelines.has(h.timeline));
  return { needed: [...history, ...files.slice(0, cut)], after: files.slice(cut), timeline: runs.at(-1)!.timeline };
}
