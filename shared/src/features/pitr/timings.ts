// The parts of a restore to a moment's time, written as one line of its run log (the `log` of
// GET /api/restores/:id) and read back from it by `pnpm bench --only pitr` and the tests.
export interface RestoreTimings {
  /** Claimed to completed, as durationMs on the row. */
  totalMs: number;
  /** From storage into the work directory, every object decrypted and checked: the base backup (unpacked) and the WAL. */
  fetchMs: number;
  /** The part of fetchMs spent on the base backup. */
  baseBackupMs: number;
  walFiles: number;
  /** The private instance replaying to the moment (WAL fetched while it waited is in fetchMs). */
  replayMs: number;
  /** pg_dump of the database from the private instance, and the instance's stop. */
  dumpMs: number;
  /** pg_restore of that dump into the target. */
  loadMs: number;
}

const LINE = /timings: total (\d+) ms; fetch (\d+) ms \(base backup (\d+) ms, (\d+) WAL files?\); replay (\d+) ms; dump (\d+) ms; load (\d+) ms/;

export function formatRestoreTimings(t: RestoreTimings): string {
  return `timings: total ${t.totalMs} ms; fetch ${t.fetchMs} ms (base backup ${t.baseBackupMs} ms, ${t.walFiles} WAL ${t.walFiles === 1 ? 'file' : 'files'}); replay ${t.replayMs} ms; dump ${t.dumpMs} ms; load ${t.loadMs} ms`;
}

/** The timings line of a restore to a moment's log (the last one, for a run tried again), or null. */
export function parseRestoreTimings(log: string | null | undefined): RestoreTimings | null {
  const line = (log ?? '').split('\n').filter((l) => LINE.test(l)).at(-1);
  const m = line && LINE.exec(line);
  if (!m) return null;
  const [totalMs, fetchMs, baseBackupMs, walFiles, replayMs, dumpMs, loadMs] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return { totalMs, fetchMs, baseBackupMs, walFiles, replayMs, dumpMs, loadMs };
}
