// The recovery window of a source: from when to when a restore to a moment is possible. The stored
// WAL is read as runs of contiguous files (each file starting where the one before ended); a run
// broken by a missing or damaged file ends there. A moment is reachable when a completed base backup
// lies inside a run (its WAL start to end stored) and the moment is between that backup's end and the
// last WAL of the run.
import type { Backup, WalFile } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { parseLsn } from '../../engine/wal.js';
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

export interface RecoveryWindow {
  earliest: Date | null;
  latest: Date | null;
  spans: WindowSpan[];
  gaps: WalGap[];
  walFiles: number;
  walBytes: number;
}

/**
 * The window of a source. With `checkStorage`, each WAL object is looked up in its first destination
 * (present, same size): a deleted or truncated one breaks its run like a missing one.
 */
export async function recoveryWindow(ctx: AppContext, sourceId: string, options: { checkStorage?: boolean } = {}): Promise<RecoveryWindow> {
  const files = await ctx.db.walFile.findMany({ where: { sourceId, deletedAt: null, kind: { in: ['segment', 'partial'] } } });
  files.sort((a, b) => a.timeline - b.timeline || cmp(parseLsn(a.startLsn), parseLsn(b.startLsn)));
  const damaged = options.checkStorage ? await findDamaged(ctx, files) : new Set<string>();
  const { runs, gaps } = walRuns(files, damaged);
  const backups = await ctx.db.backup.findMany({
    where: { sourceId, type: 'physical', status: 'completed', deletedAt: null },
    orderBy: { completedAt: 'asc' },
  });
  const spans: WindowSpan[] = [];
  for (const run of runs) {
    const inside = backups.filter((b) => b.timeline === run.timeline && b.walStartLsn && b.walEndLsn && parseLsn(b.walStartLsn) >= parseLsn(run.startLsn) && parseLsn(b.walEndLsn) <= parseLsn(run.endLsn));
    if (!inside.length) continue;
    const from = inside[0]!.completedAt!;
    if (run.lastReceivedAt >= from) spans.push({ from, to: run.lastReceivedAt, baseBackups: inside });
  }
  for (const gap of gaps) {
    const before = spans.filter((s) => s.baseBackups.some((b) => b.timeline === gap.timeline && parseLsn(b.walEndLsn!) <= parseLsn(gap.fromLsn)));
    gap.lastReachable = before.length ? before.at(-1)!.to : null;
  }
  return {
    earliest: spans[0]?.from ?? null,
    latest: spans.at(-1)?.to ?? null,
    spans,
    gaps,
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
