// Write-ahead log arithmetic: LSNs ("16/B374D848") as numbers, and the names of WAL files
// (a segment 000000010000000000000003 is timeline 1, segment number 3 of wal_segment_size bytes).
export const DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024;

const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;
const HISTORY = /^([0-9A-F]{8})\.history$/;

export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not an LSN (expected hex/hex, e.g. 0/3000060).`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The name of the segment holding `lsn` on `timeline`. */
export function segmentName(timeline: number, lsn: bigint, segmentSize = DEFAULT_SEGMENT_SIZE): string {
  const segmentsPerId = 0x100000000n / BigInt(segmentSize);
  const number = lsn / BigInt(segmentSize);
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(number / segmentsPerId)}${hex(number % segmentsPerId)}`;
}

export type WalFileName = { kind: 'segment'; timeline: number; start: bigint; end: bigint } | { kind: 'history'; timeline: number };

/** What a file name of pg_wal is, or null for anything else. */
export function parseWalFileName(name: string, segmentSize = DEFAULT_SEGMENT_SIZE): WalFileName | null {
  const history = HISTORY.exec(name);
  if (history) return { kind: 'history', timeline: parseInt(history[1]!, 16) };
  const segment = SEGMENT.exec(name);
  if (!segment) return null;
  const segmentsPerId = 0x100000000n / BigInt(segmentSize);
  const number = BigInt(`0x${segment[2]}`) * segmentsPerId + BigInt(`0x${segment[3]}`);
  const start = number * BigInt(segmentSize);
  return { kind: 'segment', timeline: parseInt(segment[1]!, 16), start, end: start + BigInt(segmentSize) };
}

/**
 * What a timeline history file says of the timeline it names: the timeline it branched from and the
 * LSN where it did (its last line, "<parent>\t<switch LSN>\t<reason>"), or null when it has no such line.
 */
export function parseTimelineHistory(text: string): { parentTimeline: number; switchLsn: bigint } | null {
  const last = timelineSwitches(text).at(-1);
  return last ? { parentTimeline: last.timeline, switchLsn: last.switchLsn } : null;
}

/** Every timeline a history file's timeline descends from, oldest first, with the LSN where it was left. */
export function timelineSwitches(text: string): { timeline: number; switchLsn: bigint }[] {
  return text
    .split('\n')
    .map((line) => /^\s*(\d+)\s+([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ timeline: Number(match[1]), switchLsn: parseLsn(match[2]!) }));
}
