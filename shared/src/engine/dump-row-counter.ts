// Counting each table's rows in pg_dump's own output as it passes, instead of scanning every table a
// second time. It reads the custom archive format (pg_dump -Fc, written to a pipe) incrementally:
//
//   header   "PGDMP", version (3 bytes), int size, offset size, format, compression, time, names
//   TOC      entry count, then per entry: dump id, had-dumper, oids, tag, desc, section, SQL texts,
//            schema, tablespace, table AM, [relkind], owner, "false", dependencies, data offset
//   data     per table: block type 1, dump id, then chunks (length, bytes) ending with a 0 length;
//            large objects: block type 3, dump id, then (oid, chunks) pairs ending with oid 0
//
// An int is a sign byte then `intSize` bytes, least significant first; a string is an int length
// (-1 for none) then its bytes. A table's data is its COPY text: one line per row (a newline inside
// a value is written as \n, so a raw newline only ends a row), then the end marker "\.\n\n\n".
// Only an uncompressed archive (-Z0) can be read this way; anything unexpected stops the counting,
// never the dump, and the caller counts another way.

/** Where a table's data sits in the archive. */
export interface ArchivedTable {
  dumpId: number;
  schema: string;
  table: string;
}

export interface ArchiveRowCounts {
  /** Rows per TABLE DATA entry, keyed schema.table. */
  rows: Map<string, number>;
  /** The TABLE DATA entries of the TOC. */
  tables: ArchivedTable[];
}

const MAGIC = 'PGDMP';
export const FORMAT_CUSTOM = 1;
export const BLOCK_DATA = 1;
export const BLOCK_BLOBS = 3;
const NEWLINE = 10;
/** The COPY end marker pg_dump writes after a table's rows: "\.\n\n\n". */
const END_MARKER = [0x5c, 0x2e, 10, 10, 10];
/** The byte range above which counting calls Buffer.indexOf rather than looping in JavaScript. */
const SCAN_LOOP_LIMIT = 64;

/** Thrown by the TOC reader when the bytes it needs have not arrived yet. */
export class NeedMore extends Error {}

type State = 'head' | 'block' | 'chunk-length' | 'chunk' | 'blob-oid' | 'blob-chunk-length' | 'blob-chunk' | 'failed';

/**
 * Feed it every byte of a custom-format archive, in order (`feed`), then ask for the counts
 * (`finish`). It never throws from `feed`: a stream it cannot read leaves `failure` set.
 */
export class CustomArchiveRowCounter {
  failure: Error | null = null;
  private state: State = 'head';
  /** Bytes of the header and TOC not read yet (they are small; the data is never held). */
  private pendingHead: Buffer = Buffer.alloc(0);
  private headPosition = 0;
  /** The archive format's minor version, once the header was read (0 before). */
  private minor = 0;
  private intSize = 4;
  private offSize = 8;
  private tocRemaining = -1;
  private readonly entries = new Map<number, ArchivedTable>();
  private readonly rowsById = new Map<number, number>();
  /** An int being read across two chunks. */
  private readonly partial = new Uint8Array(16);
  private partialLength = 0;
  private pendingBlockType = 0;
  private remaining = 0;
  private currentId = 0;
  private newlines = 0;
  private blockBytes = 0;
  /**
   * The last bytes of the current table's data, to recognise its end marker: `tail` itself, or the
   * six bytes before `tailEnd` in `tailChunk` when that is set (kept by reference: no copy per row).
   */
  private readonly tail = new Uint8Array(6);
  private tailChunk: Buffer | null = null;
  private tailEnd = 0;

  /** True once the header and TOC were read and the data blocks began. */
  get readingData(): boolean {
    return this.state !== 'head' && this.state !== 'failed';
  }

  feed(chunk: Buffer): void {
    if (this.state === 'failed') return;
    try {
      let at = 0;
      if (this.state === 'head') {
        at = this.readHead(chunk);
        if (this.state === 'head') return;
      }
      this.readData(chunk, at);
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  /** The counts, once the whole archive went through `feed`; throws when they cannot be trusted. */
  finish(): ArchiveRowCounts {
    if (this.failure) throw this.failure;
    if (this.state !== 'block' || this.partialLength > 0) throw new Error(`The dump ended in the middle of its ${this.state === 'head' ? 'table of contents' : 'data'}.`);
    const rows = new Map<string, number>();
    for (const entry of this.entries.values()) {
      const count = this.rowsById.get(entry.dumpId);
      if (count === undefined) throw new Error(`The dump has no data for ${entry.schema}.${entry.table}.`);
      rows.set(`${entry.schema}.${entry.table}`, count);
    }
    return { rows, tables: [...this.entries.values()] };
  }

  private fail(reason: string): void {
    this.state = 'failed';
    this.failure = new Error(`The dump's rows could not be counted from its stream: ${reason}`);
    this.pendingHead = Buffer.alloc(0);
  }

  // ---- header and table of contents ----

  /** Reads header and TOC entries as far as the bytes go; returns where the data starts in `chunk`. */
  private readHead(chunk: Buffer): number {
    const before = this.pendingHead.length - this.headPosition;
    this.pendingHead = this.headPosition > 0 || before > 0 ? Buffer.concat([this.pendingHead.subarray(this.headPosition), chunk]) : chunk;
    this.headPosition = 0;
    try {
      if (this.minor === 0) this.headPosition = this.readHeader();
      while (this.tocRemaining !== 0) {
        const reader = new HeadReader(this.pendingHead, this.headPosition, this.intSize);
        if (this.tocRemaining < 0) {
          this.tocRemaining = reader.int();
          if (this.tocRemaining < 0) throw new Error('its table of contents has a negative size.');
        } else {
          this.readTocEntry(reader);
          this.tocRemaining--;
        }
        this.headPosition = reader.position;
      }
    } catch (error) {
      if (error instanceof NeedMore) {
        // Keep only what is not read yet.
        if (this.pendingHead === chunk) this.pendingHead = Buffer.from(chunk);
        return chunk.length;
      }
      throw error;
    }
    // The data starts here: it lies in `chunk`, after the bytes carried over from before.
    const start = this.headPosition - before;
    this.pendingHead = Buffer.alloc(0);
    this.headPosition = 0;
    this.state = 'block';
    if (start < 0) throw new Error('its table of contents could not be located.');
    return start;
  }

  private readHeader(): number {
    if (this.pendingHead.length < 11) throw new NeedMore();
    const { reader, minor, intSize, offSize } = readArchiveHead(this.pendingHead, FORMAT_CUSTOM);
    this.intSize = intSize;
    this.offSize = offSize;
    this.minor = minor;
    return reader.position;
  }

  private readTocEntry(reader: HeadReader): void {
    const entry = readTocEntryFields(reader, this.minor);
    reader.skip(1 + this.offSize); // the data's offset (unknown in a pipe)
    if (entry) this.entries.set(entry.dumpId, entry);
  }

  // ---- data blocks ----

  private readData(chunk: Buffer, start: number): void {
    let at = start;
    const end = chunk.length;
    while (at < end) {
      switch (this.state) {
        case 'block': {
          // A block type byte then the dump id: read together.
          const need = 2 + this.intSize;
          const header = this.take(chunk, at, need);
          if (header === null) return;
          at = header.next;
          const type = header.bytes[header.offset]!;
          const id = readInt(header.bytes, header.offset + 1, this.intSize);
          if (type === BLOCK_DATA) this.startTable(id);
          else if (type === BLOCK_BLOBS) this.state = 'blob-oid';
          else throw new Error(`it has a block of unknown type ${type}.`);
          break;
        }
        case 'chunk-length': {
          // The common case: pg_dump writes each row as a piece of its own (length, then the row's
          // line), and most lie whole in this chunk: read them in one loop.
          if (this.partialLength === 0) {
            at = this.readWholePieces(chunk, at);
            if (at >= end) break;
          }
          if (this.partialLength === 0 && at + 1 + this.intSize <= end) {
            const n = readInt(chunk, at, this.intSize);
            at += 1 + this.intSize;
            if (n > 0) {
              this.state = 'chunk';
              this.remaining = n;
            } else if (n === 0) this.endTable();
            else throw new Error('it has a negative length.');
            break;
          }
          const value = this.take(chunk, at, 1 + this.intSize);
          if (value === null) return;
          at = value.next;
          const n = readInt(value.bytes, value.offset, this.intSize);
          if (n < 0) throw new Error('it has a negative length.');
          this.afterInt(n);
          break;
        }
        case 'blob-chunk-length':
        case 'blob-oid': {
          const value = this.take(chunk, at, 1 + this.intSize);
          if (value === null) return;
          at = value.next;
          const n = readInt(value.bytes, value.offset, this.intSize);
          if (n < 0) throw new Error('it has a negative length.');
          this.afterInt(n);
          break;
        }
        case 'chunk': {
          const stop = Math.min(end, at + this.remaining);
          this.countRange(chunk, at, stop);
          this.remaining -= stop - at;
          at = stop;
          if (this.remaining === 0) this.state = 'chunk-length';
          break;
        }
        case 'blob-chunk': {
          const stop = Math.min(end, at + this.remaining);
          this.remaining -= stop - at;
          at = stop;
          if (this.remaining === 0) this.state = 'blob-chunk-length';
          break;
        }
        default:
          return;
      }
    }
  }

  /**
   * Reads the pieces that lie whole in `chunk` from `at` on, and returns where it stopped: at a piece
   * the chunk cuts, or at a length that is not positive (the table's end), left to the general reader.
   */
  private readWholePieces(chunk: Buffer, at: number): number {
    const intSize = this.intSize;
    const end = chunk.length;
    let newlines = 0;
    let bytes = 0;
    let lastEnd = -1;
    while (at + 1 + intSize <= end) {
      const n = readInt(chunk, at, intSize);
      const from = at + 1 + intSize;
      if (n <= 0 || from + n > end) break;
      const to = from + n;
      if (n < this.tail.length) {
        // A short piece (the end marker): its bytes join the tail after those before it.
        this.newlines += newlines;
        this.blockBytes += bytes;
        newlines = 0;
        bytes = 0;
        if (lastEnd >= 0) {
          this.tailChunk = chunk;
          this.tailEnd = lastEnd;
          lastEnd = -1;
        }
        this.countRange(chunk, from, to);
      } else {
        newlines += countNewlines(chunk, from, to);
        bytes += n;
        lastEnd = to;
      }
      at = to;
    }
    this.newlines += newlines;
    this.blockBytes += bytes;
    if (lastEnd >= 0) {
      this.tailChunk = chunk;
      this.tailEnd = lastEnd;
    }
    return at;
  }

  private afterInt(n: number): void {
    if (this.state === 'blob-oid') {
      this.state = n === 0 ? 'block' : 'blob-chunk-length';
    } else if (n === 0) {
      if (this.state === 'chunk-length') this.endTable();
      else this.state = 'blob-oid';
    } else {
      this.state = this.state === 'chunk-length' ? 'chunk' : 'blob-chunk';
      this.remaining = n;
    }
  }

  /**
   * `need` bytes at `at`, straight from the chunk when they are all there, otherwise gathered
   * across chunks; null when the chunk ended before them (the part read is kept).
   */
  private take(chunk: Buffer, at: number, need: number): { bytes: Uint8Array; offset: number; next: number } | null {
    if (this.partialLength === 0 && at + need <= chunk.length) return { bytes: chunk, offset: at, next: at + need };
    const copy = Math.min(need - this.partialLength, chunk.length - at);
    this.partial.set(chunk.subarray(at, at + copy), this.partialLength);
    this.partialLength += copy;
    if (this.partialLength < need) return null;
    this.partialLength = 0;
    return { bytes: this.partial, offset: 0, next: at + copy };
  }

  private startTable(id: number): void {
    this.currentId = id;
    this.newlines = 0;
    this.blockBytes = 0;
    this.tail.fill(0);
    this.tailChunk = null;
    this.state = 'chunk-length';
  }

  private endTable(): void {
    // Rows are the lines before the end marker, when the data ends with it ("\.\n\n\n" on a line of its own).
    this.materializeTail();
    const t = this.tail;
    const marker = END_MARKER.every((byte, i) => t[1 + i] === byte);
    const ownLine = this.blockBytes === END_MARKER.length || t[0] === NEWLINE;
    const rows = marker && ownLine ? this.newlines - 3 : this.newlines;
    this.rowsById.set(this.currentId, (this.rowsById.get(this.currentId) ?? 0) + rows);
    this.state = 'block';
  }

  private countRange(chunk: Buffer, from: number, to: number): void {
    const length = to - from;
    if (length <= 0) return;
    this.newlines += countNewlines(chunk, from, to);
    this.blockBytes += length;
    if (length >= this.tail.length) {
      this.tailChunk = chunk;
      this.tailEnd = to;
    } else {
      this.materializeTail();
      const t = this.tail;
      t.copyWithin(0, length);
      for (let i = 0; i < length; i++) t[t.length - length + i] = chunk[from + i]!;
    }
  }

  private materializeTail(): void {
    if (this.tailChunk === null) return;
    const t = this.tail;
    for (let i = 0; i < t.length; i++) t[i] = this.tailChunk[this.tailEnd - t.length + i]!;
    this.tailChunk = null;
  }
}

/**
 * One TOC entry up to its format's own trailer (custom: the data's offset; directory: its file
 * name): the table it fills when it is a TABLE DATA entry, null otherwise.
 */
function readTocEntryFields(reader: HeadReader, minor: number): ArchivedTable | null {
  return readTocEntry(reader, minor).table;
}

/** One TOC entry up to its format's own trailer: its dump id, and the table it fills when it is a TABLE DATA entry. */
export function readTocEntry(reader: HeadReader, minor: number): { dumpId: number; table: ArchivedTable | null } {
  const dumpId = reader.int();
  reader.int(); // had a data dumper
  reader.str(); // table oid
  reader.str(); // oid
  const tag = reader.str();
  const desc = reader.str();
  reader.int(); // section
  reader.str(); // definition
  reader.str(); // drop statement
  reader.str(); // copy statement
  const schema = reader.str();
  reader.str(); // tablespace
  reader.str(); // table access method
  if (minor >= 16) reader.int(); // relkind
  reader.str(); // owner
  reader.str(); // "false" (with oids)
  while (reader.str() !== null); // dependencies, ending with a null string
  if (desc !== 'TABLE DATA') return { dumpId, table: null };
  if (tag === null || schema === null) throw new Error(`its TABLE DATA entry ${dumpId} has no table name.`);
  return { dumpId, table: { dumpId, schema, table: tag } };
}

/**
 * The TABLE DATA entries of a directory-format dump's toc.dat (pg_dump -Fd -Z0), with the file each
 * table's rows are in. The header and TOC are those of the custom format, but for the format byte
 * and each entry's trailer, which names its data file instead of an offset.
 */
export function readDirectoryToc(bytes: Buffer): (ArchivedTable & { file: string })[] {
  try {
    const { reader, minor } = readArchiveHead(bytes);
    const tables: (ArchivedTable & { file: string })[] = [];
    for (let remaining = reader.int(); remaining > 0; remaining--) {
      const entry = readTocEntryFields(reader, minor);
      const file = reader.str();
      if (entry) {
        if (!file || !/^\d+\.dat$/.test(file)) throw new Error(`its TABLE DATA entry ${entry.dumpId} names no uncompressed data file.`);
        tables.push({ ...entry, file });
      }
    }
    return tables;
  } catch (error) {
    const reason = error instanceof NeedMore ? 'its table of contents ends early.' : (error as Error).message;
    throw new Error(`The dump's rows could not be counted from its files: ${reason}`, { cause: error });
  }
}

/**
 * Counts the rows of one table's COPY text as it passes: one line per row (a newline inside a value
 * is written as \n), then, in the dumps of PostgreSQL 17 and before, the end marker "\.\n\n\n".
 */
export class CopyTextRowCounter {
  private newlines = 0;
  private bytes = 0;
  private readonly tail = new Uint8Array(6);

  feed(chunk: Uint8Array): void {
    let n = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) n++;
    this.newlines += n;
    this.bytes += chunk.length;
    const t = this.tail;
    if (chunk.length >= t.length) t.set(chunk.subarray(chunk.length - t.length));
    else {
      t.copyWithin(0, chunk.length);
      t.set(chunk, t.length - chunk.length);
    }
  }

  get rows(): number {
    return rowsOfCopyText(this.newlines, this.bytes, this.tail);
  }
}

/**
 * The rows of a table's COPY text from its newlines, its length and its last six bytes (fewer when it
 * is shorter): the end marker "\.\n\n\n" on a line of its own holds three newlines that are no row.
 */
export function rowsOfCopyText(newlines: number, bytes: number, tail: Uint8Array): number {
  // The last six bytes, right-aligned: zeros before a shorter text.
  const t = new Uint8Array(6);
  const last = tail.subarray(Math.max(0, tail.length - 6));
  t.set(last, 6 - last.length);
  const marker = END_MARKER.every((byte, i) => t[1 + i] === byte);
  const ownLine = bytes === END_MARKER.length || t[0] === NEWLINE;
  return marker && ownLine ? newlines - 3 : newlines;
}

/**
 * The newlines in bytes [from, to). A row's line holds one, its last byte: a long range is searched
 * natively and the search stops there, not in the next row.
 */
function countNewlines(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  if (to - from <= SCAN_LOOP_LIMIT) {
    for (let i = from; i < to; i++) if (bytes[i] === NEWLINE) n++;
    return n;
  }
  for (let i = bytes.indexOf(NEWLINE, from); i !== -1 && i < to; i = i + 1 < to ? bytes.indexOf(NEWLINE, i + 1) : -1) n++;
  return n;
}

/**
 * The header of a pg_dump archive (custom or directory format, uncompressed), read from the start of
 * `bytes`: its format, version and int sizes, and a reader placed at its TOC's entry count. Given a
 * `format`, anything else is refused as not an archive of that format.
 */
export function readArchiveHead(bytes: Buffer, format?: number): { reader: HeadReader; minor: number; intSize: number; offSize: number; format: number } {
  const notOne = format === FORMAT_CUSTOM ? 'it is not a custom-format archive.' : 'it is not a pg_dump archive.';
  if (bytes.length < 11 || bytes.toString('latin1', 0, 5) !== MAGIC) throw new Error(notOne);
  const [major, minor, , intSize, offSize, found] = [bytes[5]!, bytes[6]!, bytes[7]!, bytes[8]!, bytes[9]!, bytes[10]!];
  if (major !== 1 || minor < 14 || minor > 16) throw new Error(`its format version ${major}.${minor} is not one this reader knows.`);
  if (format !== undefined && found !== format) throw new Error(notOne);
  if (intSize < 1 || intSize > 8 || offSize < 1 || offSize > 8) throw new Error('its integer sizes are not plausible.');
  const reader = new HeadReader(bytes, 11, intSize);
  // 1.15 (PostgreSQL 16) names the compression algorithm in a byte; before, a compression level.
  const compressed = minor >= 15 ? reader.byte() !== 0 : reader.int() !== 0;
  if (compressed) throw new Error('it is compressed by pg_dump itself.');
  for (let i = 0; i < 7; i++) reader.int(); // the dump's time
  for (let i = 0; i < 3; i++) reader.str(); // database name, server and pg_dump versions
  return { reader, minor, intSize, offSize, format: found };
}

/** Reads ints and strings from the header's bytes; NeedMore when they stop short. */
export class HeadReader {
  constructor(
    private readonly bytes: Buffer,
    public position: number,
    private readonly intSize: number,
  ) {}

  byte(): number {
    if (this.position >= this.bytes.length) throw new NeedMore();
    return this.bytes[this.position++]!;
  }

  int(): number {
    if (this.position + 1 + this.intSize > this.bytes.length) throw new NeedMore();
    const value = readInt(this.bytes, this.position, this.intSize);
    this.position += 1 + this.intSize;
    return value;
  }

  str(): string | null {
    const length = this.int();
    if (length < 0) return null;
    if (this.position + length > this.bytes.length) throw new NeedMore();
    const text = this.bytes.toString('utf8', this.position, this.position + length);
    this.position += length;
    return text;
  }

  skip(n: number): void {
    if (this.position + n > this.bytes.length) throw new NeedMore();
    this.position += n;
  }
}

/** pg_dump's int: a sign byte, then `size` bytes, least significant first. */
export function readInt(bytes: Uint8Array, at: number, size: number): number {
  if (size === 4) {
    const value = bytes[at + 1]! + bytes[at + 2]! * 0x100 + bytes[at + 3]! * 0x10000 + bytes[at + 4]! * 0x1000000;
    return bytes[at] ? -value : value;
  }
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[at + 1 + i]!;
  return bytes[at] ? -value : value;
}
