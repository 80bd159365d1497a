// The dashboard's 30-day series come whole from GET /api/backups/daily (one entry per UTC day,
// oldest first, with the bytes stored at the end of each day): what is left here is how to draw
// them, bounds and labels.
import type { BackupDay, RunStatus } from '@coffre/contract';

/** Stacked bottom to top in this order. */
export const statusOrder: RunStatus[] = ['completed', 'failed', 'running', 'pending'];

/** Backups created that day, whatever their status. */
export function dayTotal(day: BackupDay): number {
  return statusOrder.reduce((sum, status) => sum + day[status], 0);
}

/** Indices of the days that get a date label: the last day, then every `every` days back. */
export function labelledDays(count: number, every: number): number[] {
  const indices: number[] = [];
  for (let i = count - 1; i >= 0; i -= every) indices.unshift(i);
  return indices;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** A round upper bound for a bytes axis: 1, 2 or 5 times a power of ten of a binary unit (KB, MB, …). */
export function niceByteCeiling(max: number): number {
  if (max <= 1024) return niceCeiling(max);
  const unit = 1024 ** Math.floor(Math.log(max) / Math.log(1024));
  return niceCeiling(max / unit) * unit;
}
