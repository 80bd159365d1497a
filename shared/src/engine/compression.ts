// Compression runs in its own process (zstd, gzip): Node 20 has no zstd, and a separate process
// compresses on another core while pg_dump produces, joined by an OS pipe.

export type CompressionKind = 'zstd' | 'gzip' | 'none';

export interface ToolCommand {
  path: string;
  args: string[];
}

/**
 * zstd 1 rather than zstd's own 3: measured on a 1 GB database on the 2-core reference machine
 * (scripts/measure-engine.ts), level 3 makes artifacts 5% smaller for 60% more compressor CPU,
 * about 11% more CPU for the whole backup, where pg_dump, its server process and zstd share two cores.
 * A configuration that prefers smaller artifacts sets its own level.
 */
export const defaultCompressionLevel: Record<Exclude<CompressionKind, 'none'>, number> = { zstd: 1, gzip: 6 };

const levelRange: Record<Exclude<CompressionKind, 'none'>, [number, number]> = { zstd: [1, 19], gzip: [1, 9] };

export function compressor(kind: CompressionKind, level?: number): ToolCommand | null {
  if (kind === 'none') return null;
  const [min, max] = levelRange[kind];
  const chosen = Math.min(max, Math.max(min, level ?? defaultCompressionLevel[kind]));
  return kind === 'zstd'
    ? { path: 'zstd', args: ['-q', `-${chosen}`, '-c'] }
    : { path: 'gzip', args: ['-c', `-${chosen}`, '-n'] };
}

export function decompressor(kind: CompressionKind): ToolCommand | null {
  if (kind === 'none') return null;
  return kind === 'zstd' ? { path: 'zstd', args: ['-d', '-q', '-c'] } : { path: 'gzip', args: ['-d', '-c'] };
}

/** The file name ending of a database artifact: .dump, .dump.zst, .dump.gz, plus .age when encrypted. */
export function artifactSuffix(kind: CompressionKind, encrypted: boolean): string {
  const compression = kind === 'zstd' ? '.zst' : kind === 'gzip' ? '.gz' : '';
  return `${compression}${encrypted ? '.age' : ''}`;
}
