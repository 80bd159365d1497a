// Reads the tar stream pg_basebackup writes as it passes, without holding it: the headers are
// followed to find the few small members wanted (backup_manifest, whose WAL-Ranges say which WAL
// the base backup needs), whose contents are kept.
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

export interface TarSniffer extends Transform {
  /** The contents of the wanted members seen so far, by name. */
  readonly found: Map<string, Buffer>;
}

export function createTarSniffer(wanted: string[], maxBytes = 64 * 1024 * 1024): TarSniffer {
  const found = new Map<string, Buffer>();
  let header = Buffer.alloc(0);
  // Bytes left in the current member's content, and its padding to the next block.
  let remaining = 0;
  let padding = 0;
  let collecting: { name: string; parts: Buffer[] } | null = null;

  const consume = (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - offset);
        collecting?.parts.push(chunk.subarray(offset, offset + take));
        remaining -= take;
        offset += take;
        if (remaining === 0 && collecting) {
          found.set(collecting.name, Buffer.concat(collecting.parts));
          collecting = null;
        }
        continue;
      }
      if (padding > 0) {
        const skip = Math.min(padding, chunk.length - offset);
        padding -= skip;
        offset += skip;
        continue;
      }
      const take = Math.min(BLOCK - header.length, chunk.length - offset);
      header = Buffer.concat([header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (header.length < BLOCK) continue;
      const block = header;
      header = Buffer.alloc(0);
      if (block.every((b) => b === 0)) continue;
      const name = block.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const size = memberSize(block.subarray(124, 136));
      remaining = size;
      padding = (BLOCK - (size % BLOCK)) % BLOCK;
      collecting = wanted.includes(name) && size <= maxBytes ? { name, parts: [] } : null;
      if (size === 0 && collecting) {
        found.set(name, Buffer.alloc(0));
        collecting = null;
      }
    }
  };

  const sniffer = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      consume(chunk);
      callback(null, chunk);
    },
  }) as TarSniffer;
  Object.defineProperty(sniffer, 'found', { value: found });
  return sniffer;
}

/** A header's size field: octal text, or base-256 for members of 8 GiB and more. */
function memberSize(field: Buffer): number {
  if (field[0]! & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  return parseInt(field.toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
}
