// The stored WAL across timelines: a run of a newer timeline continues the run of its parent when the
// history file's switch LSN lies where the two meet; a new timeline whose WAL starts past what the parent
// has stored is a break; a stream that began on a later timeline is no break. And the history file's
// last line is what names the parent and the switch.
import { describe, expect, it } from 'vitest';
import { parseLsn, parseTimelineHistory, timelineSwitches, walChains, walRuns, type WalFile } from '@coffre/shared';

const MB16 = 0x1000000n;
const hex = (n: bigint) => `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;

function file(timeline: number, start: bigint, end: bigint, kind = 'segment'): WalFile {
  const segment = start / MB16;
  const name = `${timeline.toString(16).padStart(8, '0')}00000000${segment.toString(16).toUpperCase().padStart(8, '0')}`.toUpperCase();
  return { id: `${name}-${kind}`, sourceId: 's', name, kind, timeline, startLsn: hex(start), endLsn: hex(end), parentTimeline: null, receivedAt: new Date(Number(end / 1000n)) } as unknown as WalFile;
}

function history(timeline: number, parent: number, at: bigint): WalFile {
  return { ...file(timeline, at, at, 'history'), name: `${timeline.toString(16).padStart(8, '0')}.history`.toUpperCase(), parentTimeline: parent } as WalFile;
}

const chainsOf = (files: WalFile[], histories: WalFile[]) => walChains(walRuns(files).runs, histories);

describe('WAL chains across timelines', () => {
  const X = 5n * MB16 + 0x2a28n;
  const timeline1 = [file(1, 2n * MB16, 3n * MB16), file(1, 3n * MB16, 4n * MB16), file(1, 4n * MB16, 5n * MB16), file(1, 5n * MB16, X, 'partial')];

  it('continues timeline 1 into timeline 2 when timeline 2 starts at the segment holding the switch', () => {
    const { chains, breaks } = chainsOf([...timeline1, file(2, 5n * MB16, 6n * MB16), file(2, 6n * MB16, 6n * MB16 + 0x100n, 'partial')], [history(2, 1, X)]);
    expect(breaks).toEqual([]);
    expect(chains).toHaveLength(1);
    expect(chains[0]!.map((run) => run.timeline)).toEqual([1, 2]);
    expect(parseLsn(chains[0]!.at(-1)!.endLsn)).toBe(6n * MB16 + 0x100n);
  });

  it('continues even when timeline 1 was stored only up to a point before the switch inside that segment', () => {
    const shorter = [...timeline1.slice(0, 3), file(1, 5n * MB16, 5n * MB16 + 0x1000n, 'partial')];
    const { chains, breaks } = chainsOf([...shorter, file(2, 5n * MB16, 6n * MB16)], [history(2, 1, X)]);
    expect(breaks).toEqual([]);
    expect(chains.map((c) => c.map((run) => run.timeline))).toEqual([[1, 2]]);
  });

  it('is a break when timeline 2 starts past what timeline 1 has stored', () => {
    const { chains, breaks } = chainsOf([...timeline1, file(2, 8n * MB16, 9n * MB16)], [history(2, 1, X)]);
    expect(chains.map((c) => c.map((run) => run.timeline))).toEqual([[1], [2]]);
    expect(breaks).toEqual([expect.objectContaining({ timeline: 1, fromLsn: hex(X), toLsn: hex(8n * MB16), reason: 'missing' })]);
  });

  it('is no break when the stream began on timeline 2 (nothing of timeline 1 stored)', () => {
    const { chains, breaks } = chainsOf([file(2, 8n * MB16, 9n * MB16)], [history(2, 1, X)]);
    expect(breaks).toEqual([]);
    expect(chains).toHaveLength(1);
  });

  it("leaves timeline 1's WAL past the switch out of the chain and names it divergent (a split brain)", () => {
    const pastFork = [file(1, 5n * MB16, 6n * MB16), file(1, 6n * MB16, 7n * MB16), file(1, 7n * MB16, 7n * MB16 + 0x500n, 'partial')];
    const { chains, breaks, divergent } = chainsOf([...timeline1.slice(0, 3), ...pastFork, file(2, 5n * MB16, 6n * MB16)], [history(2, 1, X)]);
    expect(breaks).toEqual([]);
    expect(chains).toHaveLength(1);
    const [first, second] = chains[0]!;
    expect(first!.endLsn).toBe(hex(X));
    expect(first!.files.map((f) => f.name)).toEqual(timeline1.slice(0, 3).map((f) => f.name));
    expect(second!.timeline).toBe(2);
    expect(divergent).toEqual([{ timeline: 1, fromLsn: hex(X), toLsn: hex(7n * MB16 + 0x500n), newTimeline: 2 }]);
    expect(chainsOf([...timeline1, file(2, 5n * MB16, 6n * MB16)], [history(2, 1, X)]).divergent).toEqual([]);
  });

  it('reads the parent and the switch from the last line of a history file', () => {
    expect(parseTimelineHistory('1\t0/5002A28\tno recovery target specified\n\n2\t0/9000000\tno recovery target specified\n')).toEqual({ parentTimeline: 2, switchLsn: 0x9000000n });
    expect(parseTimelineHistory('')).toBeNull();
    expect(timelineSwitches('1\t0/5002A28\tno recovery target specified\n\n2\t0/9000000\tno recovery target specified\n')).toEqual([
      { timeline: 1, switchLsn: 0x5002a28n },
      { timeline: 2, switchLsn: 0x9000000n },
    ]);
  });
});
