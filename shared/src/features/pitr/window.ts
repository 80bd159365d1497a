// The recovery window of a source: from when to when a restore to a moment is possible. The stored
// WAL is read as runs of contiguous files (each file starting where the one before ended); a run
// broken by a missing or damaged file ends there. A moment is reachable when a completed base backup
// lies inside a run (its WAL start to end stored) and the moment is between that backup's end and the
// last WAL of the run. A run on a newer timeline continues the run it branched from (the timeline's
// history file says from which timeline and at which LSN) when that run reaches the switch and the new
// one starts at or before it: a span follows the WAL across a promotion. A new timeline whose WAL
// starts past the switch (a stream resumed on a promoted server that no longer had it) is a break.
// WAL of the older timeline stored past the switch (a split brain: the old primary kept taking writes
// after the promotion, and the stream followed it until the source was moved) is history the new
// timeline never had: a span that goes on to the new timeline leaves it out, and the window names it.
import type { Backup, WalFile } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { formatLsn, parseLsn } from '../../engine/wal.js';
import { destinationDriver } from '../destinations/destinations.js';

export interface WalRun {
  timeline: number;
  startLsn: string;
  endLsn: string;
  /** When its last file was received: every commit before then is in it. */
  lastReceivedAt: Date;
  files: WalFile[];
}

export interface WindowSpan {
  from: Date;
  to: Date;
  /** The base backups a restore in this span starts from, oldest first. */
  baseBackups: Backup[];
}

export interface WalGap {
  timeline: number;
  /** Where the stored WAL breaks, and where it goes on (null: it does not). */
  fromLsn: string;
  toLsn: string | null;
  /** The file missing or damaged there. */
  file: string;
  reason: 'missing' | 'damaged';
  /** The last moment reachable before the break. */
  lastReachable: Date | null;
}

/** Stored WAL of `timeline` past where `newTimeline` branched off from it: no restore replays it. */
export interface DivergentWal {
  timeline: number;
  /** Where the newer timeline branched off, and where the stored WAL of this one ends. */
  fromLsn: string;
  toLsn: string;
  newTimeline: number;
}

export interface RecoveryWindow {
  earliest: Date | null;
  latest: Date | null;
  spans: WindowSpan[];
  gaps: WalGap[];
  divergent: DivergentWal[];
  walFiles: number;
  walBytes: number;
}

/**
 * The window of a source. With `checkStorage`, each WAL object is looked up in its first destination
 * (present, same size): a deleted or truncated one breaks its run like a missing one.
 */
export async function recoveryWindow(ctx: AppContext, sourceId: string, options: { checkStorage?: boolean } = {}): Promise<RecoveryWindow> {
  const stored = await ctx.db.walFile.findMany({ where: { sourceId, deletedAt: null } });
  const files = stored.filter((f) => f.kind !== 'history');
  files.sort((a, b) => a.timeline - b.timeline || cmp(parseLsn(a.startLsn), parseLsn(b.startLsn)));
  const damaged = options.checkStorage ? await findDamaged(ctx, files) : new Set<string>();
  const { runs, gaps } = walRuns(files, damaged);
  const { chains, breaks, divergent } = walChains(runs, stored.filter((f) => f.kind === 'history'));
  gaps.push(...breaks);
  const backups = await ctx.db.backup.findMany({
    where: { sourceId, type: 'physical', status: 'completed', deletedAt: null },
    orderBy: { completedAt: 'asc' },
  });
  const spans: WindowSpan[] = [];
  for (const chain of chains) {
    const inside = backups.filter((b) => chain.some((run) => backupInRun(b, run)));
    if (!inside.length) continue;
    const from = inside[0]!.completedAt!;
    const to = chain.at(-1)!.lastReceivedAt;
    if (to >= from) spans.push({ from, to, baseBackups: inside });
  }
  spans.sort((a, b) => a.from.getTime() - b.from.getTime());
  for (const gap of gaps) {
    const before = spans.filter((s) => s.baseBackups.some((b) => b.timeline! <= gap.timeline && parseLsn(b.walEndLsn!) <= parseLsn(gap.fromLsn)));
    gap.lastReachable = before.length ? before.at(-1)!.to : null;
  }
  return {
    earliest: spans[0]?.from ?? null,
    latest: spans.length ? new Date(Math.max(...spans.map((s) => s.to.getTime()))) : null,
    spans,
    gaps,
    divergent,
    walFiles: files.length,
    walBytes: files.reduce((sum, f) => sum + Number(f.sizeBytes), 0),
  };
}

/** Contiguous runs of WAL per timeline, and the breaks between them. */
export function walRuns(files: WalFile[], damaged: Set<string> = new Set()): { runs: WalRun[]; gaps: WalGap[] } {
  const runs: WalRun[] = [];
  const gaps: WalGap[] = [];
  let current: WalRun | null = null;
  for (const file of files) {
    if (damaged.has(file.id)) {
      if (current) {
        gaps.push({ timeline: file.timeline, fromLsn: file.startLsn, toLsn: null, file: file.name, reason: 'damaged', lastReachable: null });
        runs.push(current);
        current = null;
      }
      continue;
    }
    if (current && (current.timeline !== file.timeline || parseLsn(file.startLsn) !== parseLsn(current.endLsn))) {
      const lastGap = gaps.at(-1);
      if (lastGap && lastGap.toLsn === null && lastGap.timeline === file.timeline) lastGap.toLsn = file.startLsn;
      else if (current.timeline === file.timeline) gaps.push({ timeline: file.timeline, fromLsn: current.endLsn, toLsn: file.startLsn, file: nameAt(current), reason: 'missing', lastReachable: null });
      runs.push(current);
      current = null;
    }
    if (!current) {
      const lastGap = gaps.at(-1);
      if (lastGap && lastGap.toLsn === null && lastGap.timeline === file.timeline) lastGap.toLsn = file.startLsn;
      current = { timeline: file.timeline, startLsn: file.startLsn, endLsn: file.endLsn, lastReceivedAt: file.receivedAt, files: [file] };
    } else {
      current.endLsn = file.endLsn;
      if (file.receivedAt > current.lastReceivedAt) current.lastReceivedAt = file.receivedAt;
      current.files.push(file);
    }
  }
  if (current) runs.push(current);
  return { runs, gaps };
}

/** Whether the WAL a base backup needs lies inside a run. */
export function backupInRun(backup: Backup, run: WalRun): boolean {
  if (backup.timeline !== run.timeline || !backup.walStartLsn || !backup.walEndLsn) return false;
  return parseLsn(backup.walStartLsn) >= parseLsn(run.startLsn) && parseLsn(backup.walEndLsn) <= parseLsn(run.endLsn);
}

/**
 * The runs as chains across timelines, each from a run on its own to the newest run that continues
 * it: a run of timeline N continues a run of its parent timeline (from N's history file) that reaches
 * where N's run starts, when that is at or before the switch LSN (a new timeline's first segment is
 * the one holding the switch, from its start). A run of a newer timeline that continues nothing is a
 * break, unless no WAL of its parent is stored (a stream started on that timeline). In a chain, a
 * parent's run ends at the switch and keeps only its files before where the new run starts (that
 * run's first segment holds the parent's WAL up to the switch): what it has past the switch is divergent.
 */
export function walChains(runs: WalRun[], histories: WalFile[]): { chains: WalRun[][]; breaks: WalGap[]; divergent: DivergentWal[] } {
  const parentOf = new Map<WalRun, { run: WalRun; switchLsn: bigint }>();
  const breaks: WalGap[] = [];
  const divergent: DivergentWal[] = [];
  for (const run of runs) {
    const history = histories.find((h) => h.timeline === run.timeline && h.parentTimeline !== null);
    if (!history) continue;
    const switchLsn = parseLsn(history.startLsn);
    const start = parseLsn(run.startLsn);
    const parents = runs.filter((r) => r.timeline === history.parentTimeline && parseLsn(r.startLsn) <= switchLsn);
    // The new timeline's first segment holds the parent's WAL before the switch as well: it may start
    // anywhere from that segment's start to the switch, as long as the parent's run reaches it.
    const parent = start <= switchLsn ? parents.find((r) => parseLsn(r.startLsn) <= start && start <= parseLsn(r.endLsn)) : undefined;
    if (parent) {
      parentOf.set(run, { run: parent, switchLsn });
      if (parseLsn(parent.endLsn) > switchLsn) divergent.push({ timeline: parent.timeline, fromLsn: history.startLsn, toLsn: parent.endLsn, newTimeline: run.timeline });
    } else if (parents.length) {
      // The older timeline's stored WAL ends before the new one's starts: what lies between is missing.
      const last = parents.at(-1)!;
      breaks.push({ timeline: last.timeline, fromLsn: last.endLsn, toLsn: run.startLsn, file: nameAt(last), reason: 'missing', lastReachable: null });
    }
  }
  const continued = new Set([...parentOf.values()].map((link) => link.run));
  const chains: WalRun[][] = [];
  for (const leaf of runs.filter((r) => !continued.has(r))) {
    const chain = [leaf];
    for (let child = leaf, link = parentOf.get(leaf); link; child = link.run, link = parentOf.get(link.run)) chain.unshift(upToSwitch(link.run, link.switchLsn, child));
    chains.push(chain);
  }
  return { chains, breaks, divergent };
}

/** A parent's run as a chain uses it: ending at the switch, its files those before where the child's run starts. */
function upToSwitch(run: WalRun, switchLsn: bigint, child: WalRun): WalRun {
  const childStart = parseLsn(child.startLsn);
  const files = run.files.filter((f) => parseLsn(f.startLsn) < childStart);
  const endLsn = parseLsn(run.endLsn) > switchLsn ? formatLsn(switchLsn) : run.endLsn;
  return { ...run, endLsn, files, lastReceivedAt: files.reduce((at, f) => (f.receivedAt > at ? f.receivedAt : at), files[0]?.receivedAt ?? run.lastReceivedAt) };
}

/** The name of the segment that should follow a run (the missing one). */
function nameAt(run: WalRun): string {
  const last = run.files.at(-1)!;
  const next = (parseInt(last.name.slice(16), 16) + 1).toString(16).toUpperCase().padStart(8, '0');
  return `${last.name.slice(0, 16)}${next}`;
}

async function findDamaged(ctx: AppContext, files: WalFile[]): Promise<Set<string>> {
  const damaged = new Set<string>();
  const destinations = new Map((await ctx.db.destination.findMany()).map((d) => [d.id, d]));
  for (const file of files) {
    const destination = destinations.get(file.destinationIds[0] ?? '');
    if (!destination) {
      damaged.add(file.id);
      continue;
    }
    const stored = await destinationDriver(ctx, destination).stat(file.key).catch(() => null);
    if (!stored || stored.sizeBytes !== Number(file.sizeBytes)) damaged.add(file.id);
  }
  return damaged;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
