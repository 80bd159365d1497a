// Ids derived from names, so that doing the same thing twice finds the row of the first time: a
// scheduler firing retried, a notification of the same event to the same channel.
import { createHash } from 'node:crypto';

/** A UUID (version 8, name-based: the first 16 bytes of the text's SHA-256) that is always the same for the same text. */
export function stableUuid(text: string): string {
  const bytes = createHash('sha256').update(text).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
