// The structure of a tar archive read as a stream: every header's checksum, every member's data in
// full, and the end-of-archive block. pg_restore reading a tar-format dump from a pipe takes an
// archive cut off mid-member for a complete one, so an imported tar dump is checked here.

/** A check written in Node: fed chunk by chunk, `finish` gives its verdict. */
export interface StreamCheck {
  update(chunk: Buffer): void;
  /** A sentence saying what is wrong, or null when the whole input was right. */
  finish(): string | null;
}

const BLOCK = 512;

export function checkTarStructure(): StreamCheck {
  let pending = Buffer.alloc(0);
  /** Bytes of the current member's data (padded to whole blocks) still to come. */
  let skip = 0;
  let members = 0;
  let ended = false;
  let problem: string | null = null;

  const readHeader = (header: Buffer) => {
    if (header.every((b) => b === 0)) {
      ended = true;
      return;
    }
    if (!checksumMatches(header)) {
      problem = `The tar-format dump is damaged: the header of member ${members + 1} has a wrong checksum`;
      return;
    }
    const size = octal(header.subarray(124, 136));
    if (size === null) {
      problem = `The tar-format dump is damaged: member ${members + 1} has no readable size`;
      return;
    }
    members += 1;
    skip = Math.ceil(size / BLOCK) * BLOCK;
  };

  return {
    update(chunk) {
      if (problem || ended) return;
      let offset = 0;
      while (offset < chunk.length && !problem && !ended) {
        if (skip > 0) {
          const take = Math.min(skip, chunk.length - offset);
          skip -= take;
          offset += take;
          continue;
        }
        const need = BLOCK - pending.length;
        const piece = chunk.subarray(offset, offset + need);
        offset += piece.length;
        pending = pending.length ? Buffer.concat([pending, piece]) : Buffer.from(piece);
        if (pending.length === BLOCK) {
          const header = pending;
          pending = Buffer.alloc(0);
          readHeader(header);
        }
      }
    },
    finish() {
      if (problem) return problem;
      if (!ended) return `The tar-format dump is truncated: it stops ${skip > 0 ? `inside member ${members}` : `after member ${members}`}, before the end-of-archive block`;
      return members === 0 ? 'The tar-format dump holds no member' : null;
    },
  };
}

function octal(field: Buffer): number | null {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

/** The header's checksum: the sum of its bytes with the checksum field itself read as spaces. */
function checksumMatches(header: Buffer): boolean {
  const recorded = octal(header.subarray(148, 156));
  if (recorded === null) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === recorded;
}
