// The WAL stream of a source, in a worker: take the source's stream lock, make sure coffre's slot
// exists, resume pg_receivewal where the stored WAL ends, and ship what it writes through the
// artifact chain (zstd, age, SHA-256, destinations): each finished segment and history file as soon
// as it is complete, the segment being written every WAL_FLUSH_SECONDS. The slot is advanced only to
// what is stored, so that a worker that dies, or storage that fails, loses nothing: the server keeps
// the WAL until it is stored, and the slot's size is watched. Why the stream last failed is written on
// the source (a sentence, its URL's secrets cut out) for the API, the web UI and the CLI to show, and
// cleared once the server streams to it again.
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { Destination, Source } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { errorMessage } from '../../infra/errors.js';
import { tryLockDatabase } from '../../infra/locks.js';
import type { RunHooks, RunOutcome } from '../../runs/life-cycle.js';
import { artifactSuffix } from '../../engine/compression.js';
import { detectServerVersion, withoutUrlSecrets, withPgClient } from '../../engine/postgres.js';
import { advanceSlot, ensureSlot, identifySystem, slotRetainedBytes, timelineHistory, type SystemIdentity } from '../../engine/replication.js';
import { startWalReceiver, type WalReceiver } from '../../engine/wal-receiver.js';
import { formatLsn, parseLsn, parseTimelineHistory, parseWalFileName, timelineSwitches } from '../../engine/wal.js';
import { writeArtifact } from '../../engine/write-artifact.js';
import { destinationDriver, destinationsForBackup } from '../destinations/destinations.js';
import { sourceConnection } from '../sources/sources.js';
import { alertSlotGrowing } from './alerts.js';

export async function runWalStream(ctx: AppContext, sourceId: string, hooks: RunHooks): Promise<RunOutcome> {
  const source = await ctx.db.source.findUnique({ where: { id: sourceId } });
  if (!source?.pitrEnabled || !source.pitrSlot) {
    hooks.logger.info({ sourceId }, 'point-in-time recovery is off for this source: no stream');
    return 'skipped';
  }
  const lock = await tryLockDatabase(ctx.queues.redis, `${ctx.queues.prefix}:lock:wal-stream:${sourceId}`, ctx.config.STALL_SECONDS * 1000);
  if (!lock) return 'busy';
  try {
    await streamWal(ctx, source, source.pitrSlot, hooks, () => lock.lost);
  } catch (error) {
    // A worker stopping hands the stream to another, and one that lost its lock has: no failure of the
    // stream's (written now, it would stay while the other streams). Nor is a source moved to another
    // server: its stream restarts there at once.
    if (!hooks.isShuttingDown?.() && !lock.lost && !(error instanceof SourceMoved)) {
      await recordStreamFailure(ctx, source, error).catch((failure: unknown) => hooks.logger.warn({ err: errorMessage(failure) }, 'could not write why the stream failed on its source'));
    }
    throw error;
  } finally {
    await lock.release();
  }
  // Reached only when the source's PITR was turned off while it streamed.
  return 'completed';
}

/**
 * Writes why the stream failed, and when, on its source: one update per failed attempt, none once
 * PITR is off (turning it off clears it). The URL's secrets are cut out, whatever echoed them.
 */
async function recordStreamFailure(ctx: AppContext, source: Source, error: unknown): Promise<void> {
  const message = withoutUrlSecrets(errorMessage(error), ctx.secrets.open(source.urlEncrypted));
  await ctx.db.source.updateMany({ where: { id: source.id, pitrEnabled: true }, data: { pitrStreamError: message, pitrStreamErrorAt: new Date() } });
}

interface Shipping {
  ctx: AppContext;
  source: Source;
  slot: string;
  spool: string;
  segmentSize: number;
  applicationName: string;
  destinations: Destination[];
  client: pg.Client;
  logger: RunHooks['logger'];
  signal: AbortSignal | undefined;
  /**
   * Where the WAL stored without a break ends. Nothing after a break is stored: a partial segment is
   * stored only once the segment before it is, so that a worker dying in between leaves no hole
   * behind the point its successor resumes from.
   */
  storedEnd: bigint;
  /**
   * Timelines the server switched away from while this stream ran, with the LSN where it did (from
   * the history file of the next timeline): pg_receivewal leaves the segment of that timeline it was
   * writing as a `.partial`, which holds the old timeline's WAL up to that LSN and no further.
   */
  switchedFrom: Map<number, bigint>;
  /** The source shows a failure of the stream: cleared once the server streams to this stream's pg_receivewal. */
  failureShown: boolean;
  /** The role cannot see its WAL sender's flush position (said once in the log). */
  progressHidden?: boolean;
}

async function streamWal(ctx: AppContext, source: Source, slot: string, hooks: RunHooks, lockLost: () => boolean): Promise<void> {
  const connection = sourceConnection(ctx, source);
  // Before the slot: a server refused here is given no slot to hold WAL for.
  const identity = await refuseOtherHistory(ctx, source, connection);
  await ensureSlot(connection, slot);
  await mkdir(ctx.config.TMP_DIR, { recursive: true });
  const spool = await mkdtemp(join(ctx.config.TMP_DIR, `wal-${source.id}-`));
  let receiver: WalReceiver | null = null;
  try {
    await withPgClient(connection, async (client) => {
      const server = await detectServerVersion(client);
      const segmentSize = Number((await client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")).rows[0]!.setting);
      let resume = await resumePoint(ctx, source, slot, client, connection, identity, hooks.logger);
      const applicationName = `coffre_wal_${source.id.replace(/-/g, '').slice(0, 12)}`;
      await refuseSecondStream(client, applicationName);
      const destinations = await destinationsForBackup(ctx, null);
      let failureShown = source.pitrStreamError !== null;
      for (;;) {
        receiver = await startWalReceiver({ connection, major: server.major, spoolDir: spool, timeline: resume.timeline, resumeLsn: resume.lsn, segmentSize, applicationName });
        hooks.logger.info({ source: source.name, resume: formatLsn(resume.lsn), timeline: resume.timeline }, 'streaming the WAL');
        const shipping: Shipping = { ctx, source, slot, spool, segmentSize, applicationName, destinations, client, logger: hooks.logger, signal: hooks.signal, storedEnd: resume.lsn, switchedFrom: new Map(), failureShown };
        try {
          await shipUntilStopped(shipping, receiver, lockLost);
          return;
        } catch (error) {
          failureShown = shipping.failureShown;
          const fromSlot = error instanceof WalRemovedError ? await slotStart(client, slot, connection) : null;
          if (!fromSlot || fromSlot.lsn <= resume.lsn) throw error;
          // The server no longer has the WAL where the stored WAL ends (a server the source was moved to
          // after a failover, whose new slot holds only what came after): nothing can bring that WAL
          // back, so the stream goes on from where the slot starts, and the window shows the break.
          hooks.logger.warn({ source: source.name, storedEnd: formatLsn(resume.lsn), slotStart: formatLsn(fromSlot.lsn), timeline: fromSlot.timeline }, 'the server no longer has the WAL after the stored WAL: streaming from where its slot starts, the WAL between is missing');
          await receiver.stop();
          receiver = null;
          await rm(spool, { recursive: true, force: true });
          await mkdir(spool);
          resume = fromSlot;
        }
      }
    });
  } finally {
    await (receiver as WalReceiver | null)?.stop();
    await rm(spool, { recursive: true, force: true });
  }
}

async function shipUntilStopped(shipping: Shipping, receiver: WalReceiver, lockLost: () => boolean): Promise<void> {
  const { ctx, logger } = shipping;
  let exited = false;
  void receiver.tool.exited.then(() => (exited = true));
  let lastPartial = Date.now();
  let lastWatch = 0;
  for (;;) {
    await shipFinished(shipping, receiver.seed).catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'a WAL file could not be stored: the slot keeps it, trying again'));
    if (exited) {
      const exit = await receiver.tool.exited;
      if (/has already been removed/.test(exit.stderr)) throw new WalRemovedError(exit.stderr.trim().split('\n').slice(-1)[0]!);
      throw new Error(`pg_receivewal stopped (${exit.signal ?? `exit ${exit.code}`}): ${exit.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    if (shipping.signal?.aborted) throw new Error('The worker is stopping: the stream goes back to the queue and resumes from the slot.');
    if (lockLost()) throw new Error('The stream lock was lost (the worker stalled): another worker takes the stream over.');
    if (shipping.failureShown) await clearFailureOnceStreaming(shipping).catch((error: unknown) => logger.warn({ err: errorMessage(error) }, "could not clear the stream's last failure on its source"));
    const now = Date.now();
    if (now - lastPartial >= ctx.config.WAL_FLUSH_SECONDS * 1000) {
      lastPartial = now;
      await shipPartial(shipping).catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'the partial WAL segment could not be stored: trying again'));
    }
    if (now - lastWatch >= 10_000) {
      lastWatch = now;
      await watchSlot(shipping).catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'could not measure the slot'));
      const fresh = await ctx.db.source.findUnique({ where: { id: shipping.source.id }, select: { pitrEnabled: true, urlEncrypted: true } });
      if (!fresh?.pitrEnabled) return;
      if (fresh.urlEncrypted !== shipping.source.urlEncrypted) throw new SourceMoved("The source's connection changed (a failover?): the stream restarts on the server it names now.");
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Where to resume: where the stored WAL of the newest timeline ends, else where the slot starts. When
 * the server left that timeline before the stored WAL ends (a split brain: the server streamed from
 * before kept taking writes after this one was promoted), at the fork: what is stored past it is
 * history this server never had, and the stream follows the server's own from there.
 */
async function resumePoint(
  ctx: AppContext,
  source: Source,
  slot: string,
  client: pg.Client,
  connection: ReturnType<typeof sourceConnection>,
  identity: SystemIdentity,
  logger: RunHooks['logger'],
): Promise<{ timeline: number; lsn: bigint }> {
  const stored = await ctx.db.walFile.findMany({ where: { sourceId: source.id, deletedAt: null, kind: { in: ['segment', 'partial'] } }, select: { timeline: true, endLsn: true } });
  if (stored.length) {
    const newest = stored.reduce((a, b) => (b.timeline > a.timeline || (b.timeline === a.timeline && parseLsn(b.endLsn) > parseLsn(a.endLsn)) ? b : a));
    const end = parseLsn(newest.endLsn);
    const fork = await whereServerLeft(connection, identity, newest.timeline);
    if (fork !== null && fork < end) {
      logger.warn(
        { source: source.name, timeline: newest.timeline, fork: formatLsn(fork), storedEnd: formatLsn(end) },
        `the stored WAL of timeline ${newest.timeline} runs past where this server left it: the server streamed from before kept writing after the fork (a split brain); that WAL is never replayed, and the stream resumes at the fork on this server's timeline`,
      );
      return { timeline: newest.timeline, lsn: fork };
    }
    return { timeline: newest.timeline, lsn: end };
  }
  const start = await slotStart(client, slot, connection, identity);
  if (!start) throw new Error(`The replication slot ${slot} has no WAL reserved on the server.`);
  return start;
}

/**
 * Refuses a server whose WAL is not the history the stored WAL follows, before any slot is made on it:
 * a server of another database cluster (another system identifier: the source was pointed at a
 * different cluster), or one on an earlier timeline than the stored WAL's newest (the old primary of
 * a split brain the source was moved back to, or a copy of the cluster from before a promotion).
 * Streaming either would mix two histories under one recovery window. The cluster's identifier is
 * recorded while the source has no stored WAL.
 */
async function refuseOtherHistory(ctx: AppContext, source: Source, connection: ReturnType<typeof sourceConnection>): Promise<SystemIdentity> {
  const identity = await identifySystem(connection);
  const newest = await ctx.db.walFile.findFirst({ where: { sourceId: source.id, deletedAt: null }, orderBy: { timeline: 'desc' }, select: { timeline: true } });
  if (newest && source.pitrSystemId && source.pitrSystemId !== identity.systemId) {
    throw new Error(
      `Source "${source.name}" names a server of database cluster ${identity.systemId}, but its stored WAL is of cluster ${source.pitrSystemId}: ` +
        `a different cluster, not a standby or a promoted copy of that one, so its WAL cannot continue that history. ` +
        `Nothing is streamed from it: point the source back at a server of cluster ${source.pitrSystemId}, or make a new source for this server.`,
    );
  }
  if (newest && identity.timeline < newest.timeline) {
    throw new Error(
      `Source "${source.name}" names a server on timeline ${identity.timeline}, but its stored WAL already follows timeline ${newest.timeline}: ` +
        `this server is the old side of a failover (or a copy of the cluster from before a promotion), and its WAL is not the history the stored WAL follows. ` +
        `Nothing is streamed from it: point the source at the server on timeline ${newest.timeline} or later.`,
    );
  }
  if (source.pitrSystemId !== identity.systemId && (!newest || !source.pitrSystemId)) {
    await ctx.db.source.update({ where: { id: source.id }, data: { pitrSystemId: identity.systemId } });
  }
  return identity;
}

/** Where the server's history (as `identity`, its IDENTIFY_SYSTEM, gives it) left `timeline` (null: the server is still on it, or it is not in its history). */
async function whereServerLeft(connection: ReturnType<typeof sourceConnection>, identity: SystemIdentity, timeline: number): Promise<bigint | null> {
  if (identity.timeline <= timeline) return null;
  const left = timelineSwitches(await timelineHistory(connection, identity.timeline)).find((s) => s.timeline === timeline);
  return left?.switchLsn ?? null;
}

/** Where the slot starts, on the server's timeline (`identity`: the server's IDENTIFY_SYSTEM, when just read). */
async function slotStart(client: pg.Client, slot: string, connection: ReturnType<typeof sourceConnection>, identity?: SystemIdentity): Promise<{ timeline: number; lsn: bigint } | null> {
  const { rows } = await client.query<{ restart_lsn: string | null }>('SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (!rows[0]?.restart_lsn) return null;
  const timeline = (identity ?? (await identifySystem(connection))).timeline;
  return { timeline, lsn: parseLsn(rows[0].restart_lsn) };
}

/** pg_receivewal was refused the WAL it asked for: the server has removed it. */
class WalRemovedError extends Error {}

/** The source names another server now: the stream restarts on it (no failure to show). */
class SourceMoved extends Error {}

/**
 * Clears the failure the source shows once the server's WAL sender of this stream runs
 * START_REPLICATION: the connection, the slot and pg_receivewal's start all went through.
 * pg_stat_activity, not pg_stat_replication: a role with REPLICATION alone (no pg_read_all_stats)
 * sees its own sessions' command there, but no state in pg_stat_replication.
 */
async function clearFailureOnceStreaming(shipping: Shipping): Promise<void> {
  const { rows } = await shipping.client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'walsender' AND application_name = $1 AND query LIKE 'START_REPLICATION%'",
    [shipping.applicationName],
  );
  if (!rows[0]!.n) return;
  await shipping.ctx.db.source.update({ where: { id: shipping.source.id }, data: { pitrStreamError: null, pitrStreamErrorAt: null } });
  shipping.failureShown = false;
  shipping.logger.info({ source: shipping.source.name }, 'the WAL stream streams again: its last failure is cleared');
}

/** A stream of this source still connected (a worker that is not quite dead): wait for it to go. */
async function refuseSecondStream(client: pg.Client, applicationName: string): Promise<void> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = $1', [applicationName]);
  if (rows[0]!.n > 0) throw new Error('Another stream of this source is still connected to the server: taking over once it is gone.');
}

/**
 * Stores every finished segment and history file of the spool, oldest first, then removes it; and the
 * last segment of a timeline the server switched away from, up to the switch.
 */
async function shipFinished(shipping: Shipping, seed: string): Promise<void> {
  const names = (await readdir(shipping.spool)).filter((n) => n !== seed && parseWalFileName(n, shipping.segmentSize)).sort();
  for (const name of names) {
    const parsed = parseWalFileName(name, shipping.segmentSize)!;
    const path = join(shipping.spool, name);
    if (parsed.kind === 'segment' && (await stat(path)).size !== shipping.segmentSize) continue;
    if (parsed.kind === 'history') {
      const bytes = await readFile(path);
      const branch = parseTimelineHistory(bytes.toString('utf8'));
      if (!branch) throw new Error(`The timeline history file ${name} names no parent timeline.`);
      await storeWalFile(shipping, { name, kind: 'history', timeline: parsed.timeline, start: branch.switchLsn, end: branch.switchLsn, parentTimeline: branch.parentTimeline, content: bytes });
      shipping.switchedFrom.set(branch.parentTimeline, branch.switchLsn);
      shipping.logger.info({ timeline: parsed.timeline, from: branch.parentTimeline, at: formatLsn(branch.switchLsn) }, 'timeline history file stored');
      await rm(path);
      continue;
    }
    await withSpooled(path, (content) => storeWalFile(shipping, { name, kind: parsed.kind, timeline: parsed.timeline, start: parsed.start, end: parsed.end, content }));
    await rm(path);
    if (parsed.end > shipping.storedEnd) shipping.storedEnd = parsed.end;
    await advanceSlot(shipping.client, shipping.slot, formatLsn(parsed.end));
  }
  await shipSwitchedAway(shipping);
}

/** The `.partial` segment of a timeline the server left: stored as the end of that timeline (up to the switch). */
async function shipSwitchedAway(shipping: Shipping): Promise<void> {
  for (const partial of (await readdir(shipping.spool)).filter((n) => n.endsWith('.partial')).sort()) {
    const name = partial.slice(0, -'.partial'.length);
    const parsed = parseWalFileName(name, shipping.segmentSize);
    const switchLsn = parsed?.kind === 'segment' ? shipping.switchedFrom.get(parsed.timeline) : undefined;
    if (parsed?.kind !== 'segment' || switchLsn === undefined) continue;
    if (switchLsn < parsed.start || switchLsn > parsed.end) continue;
    // The segment before it is not stored yet: it goes first.
    if (parsed.start > shipping.storedEnd) continue;
    if (!(await storedUpTo(shipping, name, switchLsn))) {
      await withSpooled(join(shipping.spool, partial), (content) => storeWalFile(shipping, { name, kind: 'partial', timeline: parsed.timeline, start: parsed.start, end: switchLsn, content }));
    }
    await rm(join(shipping.spool, partial));
    if (switchLsn > shipping.storedEnd) shipping.storedEnd = switchLsn;
  }
}

/** Whether the file `name` is stored up to `lsn` already (a partial stored before the switch ended there). */
async function storedUpTo(shipping: Shipping, name: string, lsn: bigint): Promise<boolean> {
  const row = await shipping.ctx.db.walFile.findUnique({ where: { sourceId_name: { sourceId: shipping.source.id, name } }, select: { endLsn: true, deletedAt: true } });
  return !!row && !row.deletedAt && parseLsn(row.endLsn) >= lsn;
}

/** Stores the segment being written, up to what the server knows pg_receivewal has flushed. */
async function shipPartial(shipping: Shipping): Promise<void> {
  const { rows } = await shipping.client.query<{ flush: string | null; state: string | null }>(
    'SELECT flush_lsn::text AS flush, state FROM pg_stat_replication WHERE application_name = $1',
    [shipping.applicationName],
  );
  // A role outside pg_read_all_stats sees its WAL sender's row with every column but a few empty
  // (a state is never empty otherwise): the segment being written then waits until it is full.
  if (rows[0] && rows[0].state === null && !shipping.progressHidden) {
    shipping.progressHidden = true;
    shipping.logger.warn(
      { source: shipping.source.name },
      `the source's role cannot see its WAL stream's progress in pg_stat_replication: the segment being written is stored only once full, not every WAL_FLUSH_SECONDS; run GRANT pg_monitor TO the role as a superuser`,
    );
  }
  if (!rows[0]?.flush) return;
  const flushed = parseLsn(rows[0].flush);
  if (flushed <= shipping.storedEnd) return;
  const spooled = await readdir(shipping.spool);
  // A history file not stored yet: the server switched timeline, and the flush position may be on
  // the new one while the newest partial is still the old timeline's. shipFinished goes first.
  if (spooled.some((n) => n.endsWith('.history'))) return;
  const partial = spooled.filter((n) => n.endsWith('.partial')).sort().at(-1);
  if (!partial) return;
  const name = partial.slice(0, -'.partial'.length);
  const parsed = parseWalFileName(name, shipping.segmentSize);
  if (parsed?.kind === 'segment' && shipping.switchedFrom.has(parsed.timeline)) return;
  // The segment before it is not stored yet (it was finished since the last look): it goes first.
  if (parsed?.kind !== 'segment' || flushed < parsed.start || parsed.start > shipping.storedEnd) return;
  const end = flushed < parsed.end ? flushed : parsed.end;
  // Read after the flush position: the file holds at least that much. Gone since (finished and
  // renamed): shipFinished stores it.
  const stored = await withSpooled(join(shipping.spool, partial), (content) => storeWalFile(shipping, { name, kind: 'partial', timeline: parsed.timeline, start: parsed.start, end, content }));
  if (stored === null) return;
  shipping.storedEnd = end;
  await advanceSlot(shipping.client, shipping.slot, formatLsn(end));
}

interface WalFileToStore {
  name: string;
  kind: 'segment' | 'partial' | 'history';
  timeline: number;
  start: bigint;
  end: bigint;
  parentTimeline?: number;
  /** A history file's bytes, or a segment's open file: read a block at a time, never whole in memory. */
  content: Buffer | FileHandle;
}

/** The worker reads a spooled segment in blocks of this size (a whole 16 MB segment in memory each time cost the streaming worker its RSS target). */
const SPOOL_READ_BLOCK = 256 * 1024;

/**
 * Runs `use` with the spooled file open (a rename after the open changes nothing), and closes it;
 * null, without calling `use`, when the file is gone.
 */
async function withSpooled<T>(path: string, use: (content: FileHandle) => Promise<T>): Promise<T | null> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!handle) return null;
  try {
    return await use(handle);
  } finally {
    await handle.close().catch(() => {});
  }
}

async function storeWalFile(shipping: Shipping, file: WalFileToStore): Promise<void> {
  const { ctx, source } = shipping;
  const encrypted = ctx.recipients.length > 0;
  // Each shipment of a partial segment is an object of its own, named by where it ends: an object is
  // never rewritten under a key a reader may be reading with the row it read before.
  const key = walKey(source.id, file.name, file.kind === 'partial' ? file.end : null, encrypted);
  const targets = shipping.destinations.map((d) => ({ driver: destinationDriver(ctx, d), key }));
  const written = await writeArtifact(
    { compression: 'zstd', recipients: ctx.recipients, targets, signal: shipping.signal },
    {
      kind: 'archive',
      stream: Buffer.isBuffer(file.content) ? Readable.from([file.content]) : file.content.createReadStream({ highWaterMark: SPOOL_READ_BLOCK, autoClose: false }),
      produced: Promise.resolve(),
    },
  );
  const before = await ctx.db.walFile.findUnique({ where: { sourceId_name: { sourceId: source.id, name: file.name } } });
  if (before?.kind === 'segment' && file.kind === 'partial') return;
  const columns = {
    kind: file.kind,
    timeline: file.timeline,
    startLsn: formatLsn(file.start),
    endLsn: formatLsn(file.end),
    parentTimeline: file.parentTimeline ?? null,
    receivedAt: new Date(),
    sizeBytes: BigInt(written.sizeBytes),
    checksumSha256: written.checksumSha256,
    compression: 'zstd' as const,
    encrypted,
    key,
    destinationIds: shipping.destinations.map((d) => d.id),
    deletedAt: null,
  };
  await ctx.db.walFile.upsert({ where: { sourceId_name: { sourceId: source.id, name: file.name } }, create: { sourceId: source.id, name: file.name, ...columns }, update: columns });
  // The finished segment, or the longer partial, replaces the partial before it: that one's object goes.
  if (before && before.key !== key) {
    for (const destination of shipping.destinations) await destinationDriver(ctx, destination).delete(before.key).catch(() => {});
  }
}

/** `wal/<source id>/<timeline>/<file name>[.partial-<end LSN, 16 hex digits>].zst[.age]`. */
export function walKey(sourceId: string, name: string, partialEnd: bigint | null, encrypted: boolean): string {
  const partial = partialEnd === null ? '' : `.partial-${partialEnd.toString(16).toUpperCase().padStart(16, '0')}`;
  return `wal/${sourceId}/${name.slice(0, 8)}/${name}${partial}${artifactSuffix('zstd', encrypted)}`;
}

async function watchSlot(shipping: Shipping): Promise<void> {
  const bytes = await slotRetainedBytes(shipping.client, shipping.slot);
  if (bytes !== null && bytes > shipping.ctx.config.PITR_SLOT_ALERT_BYTES) await alertSlotGrowing(shipping.ctx, shipping.source, bytes);
}

