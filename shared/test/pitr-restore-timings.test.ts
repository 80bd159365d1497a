// The timings line of a restore to a moment's log, as the job writes it and the bench reads it back
// through the API: the last such line of a log (a run tried again keeps its earlier lines above).
import { describe, expect, it } from 'vitest';
import { formatRestoreTimings, parseRestoreTimings, type RestoreTimings } from '@coffre/shared';

const timings: RestoreTimings = { totalMs: 91_234, fetchMs: 20_001, baseBackupMs: 8_000, walFiles: 64, replayMs: 40_002, dumpMs: 10_003, loadMs: 15_004 };

describe('the timings of a restore to a moment', () => {
  it('are read back from a run log as they were written', () => {
    const log = [
      '2026-11-30T10:00:00.000Z info unpacking base backup "b" (1000 bytes) from local',
      `2026-11-30T10:00:01.000Z info ${formatRestoreTimings({ ...timings, walFiles: 1, totalMs: 5 })}`,
      '2026-11-30T10:01:00.000Z info restored database "shop" as of 2026-11-30T09:59:00.000Z into shop_at_t',
      `2026-11-30T10:01:31.000Z info ${formatRestoreTimings(timings)}`,
    ].join('\n');
    expect(parseRestoreTimings(log)).toEqual(timings);
    expect(parseRestoreTimings(formatRestoreTimings({ ...timings, walFiles: 1 }))).toEqual({ ...timings, walFiles: 1 });
  });

  it('are null in a log without them', () => {
    expect(parseRestoreTimings(null)).toBeNull();
    expect(parseRestoreTimings('2026-11-30T10:00:00.000Z info restored database "shop" in 5 ms (fetch 1 ms, replay 1 ms, dump 1 ms, load 1 ms)')).toBeNull();
  });
});
