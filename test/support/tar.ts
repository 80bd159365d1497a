// A tar archive written by hand (ustar headers), so that a test can plant entries no honest archiver
// would write: "../" names, absolute paths, links out of the target.
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  content?: string;
  linkname?: string;
}

export function tarArchive(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.type === 'file' || !entry.type ? (entry.content ?? 'planted') : '');
    blocks.push(header(entry, body.length));
    if (body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => {
    const bytes = Buffer.from(text);
    if (bytes.length > length) throw new Error(`"${text}" does not fit a tar header field of ${length} bytes`);
    bytes.copy(block, offset);
  };
  const octal = (value: number, offset: number, length: number) => put(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  put(entry.name, 0, 100);
  octal(entry.type === 'directory' ? 0o755 : 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(Math.floor(Date.now() / 1000), 136, 12);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  put({ file: '0', directory: '5', symlink: '2' }[entry.type ?? 'file'], 156, 1);
  put(entry.linkname ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}
