// A local artifact read in place for a parallel restore (stored-file-read.ts): read once with one
// buffer into age and the decompressor, the output is the original bytes for every compression, with
// and without encryption; damage is told as the stream read tells it (its size, its SHA-256, the age
// chunk that was reordered, the wrong key), never as the decompressor's failure on damaged input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createEncryptStream, generateIdentity, parseIdentity, type AgeIdentity } from '@coffre/shared';
import { IntegrityError } from '../src/infra/errors.js';
import { canReadStoredFile, decompressStoredFile } from '../src/engine/stored-file-read.js';
import type { ArtifactReadOptions, ArtifactSource } from '../src/engine/verify-artifact.js';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

let dir: string;
let identity: AgeIdentity;
let recipient: string;
/** Compressible and not: 3 MiB of text-like rows, then 2 MiB of noise (more than one 1 MiB piece). */
const plain = Buffer.concat([Buffer.from('row\tvalue\n'.repeat(300_000)), randomBytes(2 * 1024 * 1024)]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-stored-file-'));
  const generated = generateIdentity();
  identity = parseIdentity(generated.identity);
  recipient = generated.recipient;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function compress(kind: 'none' | 'zstd' | 'gzip', bytes: Buffer): Buffer {
  if (kind === 'none') return bytes;
  const run = spawnSync(kind, kind === 'zstd' ? ['-q', '-1', '-c'] : ['-1', '-c'], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  expect(run.status).toBe(0);
  return run.stdout;
}

async function encrypt(bytes: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = Readable.from([bytes]).pipe(createEncryptStream([recipient]));
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Stored {
  artifact: ArtifactSource;
  opens: { file: number; stream: number };
}

/** `bytes` stored in a file, recorded with `recorded` (the intact artifact's size and SHA-256). */
async function stored(bytes: Buffer, recorded: Buffer, encrypted: boolean): Promise<Stored> {
  const path = join(dir, `artifact-${randomBytes(4).toString('hex')}`);
  await writeFile(path, bytes);
  const opens = { file: 0, stream: 0 };
  const artifact: ArtifactSource = {
    sizeBytes: recorded.length,
    checksumSha256: sha256(recorded),
    encrypted,
    async open() {
      opens.stream += 1;
      return Readable.from([await readFile(path)]);
    },
    async openStoredFile() {
      opens.file += 1;
      const handle = await open(path, 'r');
      return { handle, close: () => handle.close() };
    },
  };
  return { artifact, opens };
}

/** Runs the read into a new file; its content, or the error. */
async function readInto(input: ArtifactReadOptions): Promise<Buffer | Error> {
  const path = join(dir, `output-${randomBytes(4).toString('hex')}`);
  const output = await open(path, 'wx', 0o600);
  try {
    await decompressStoredFile(input, output, 'database restore');
  } catch (error) {
    return error as Error;
  } finally {
    await output.close();
  }
  return readFile(path);
}

describe('a local artifact read in place into the decompressor', () => {
  it.each(['none', 'zstd', 'gzip'] as const)('%s, not encrypted: the original bytes, from one opening of the file', async (compression) => {
    const bytes = compress(compression, plain);
    const { artifact, opens } = await stored(bytes, bytes, false);
    const input = { artifact, compression, identities: [] };
    expect(canReadStoredFile(input)).toBe(true);
    const output = await readInto(input);
    expect(output).toBeInstanceOf(Buffer);
    expect(sha256(output as Buffer)).toBe(sha256(plain));
    expect(opens).toEqual({ file: 1, stream: 0 });
  });

  it('zstd and age: decrypted by the age command with the identity, the original bytes', async () => {
    const bytes = await encrypt(compress('zstd', plain));
    const { artifact, opens } = await stored(bytes, bytes, true);
    const output = await readInto({ artifact, compression: 'zstd', identities: [identity] });
    expect(output).toBeInstanceOf(Buffer);
    expect(sha256(output as Buffer)).toBe(sha256(plain));
    expect(opens).toEqual({ file: 1, stream: 0 });
  });

  it('a byte altered inside the zstd frames: told by its SHA-256, not by the decompressor that failed on it', async () => {
    const intact = compress('zstd', plain);
    const damaged = Buffer.from(intact);
    // Early in the first frame: zstd fails on it long before the read ends.
    damaged[200]! ^= 0x20;
    const { artifact } = await stored(damaged, intact, false);
    const error = await readInto({ artifact, compression: 'zstd', identities: [] });
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).reason).toBe('altered');
    expect((error as Error).message).toMatch(/^The artifact was altered: its SHA-256 is [0-9a-f]{64}, the backup recorded [0-9a-f]{64}\. Nothing was restored\.$/);
  });

  it('bytes appended (the storage could not tell the size): refused as appended', async () => {
    const intact = compress('zstd', plain);
    const { artifact } = await stored(Buffer.concat([intact, Buffer.from('more')]), intact, false);
    const error = await readInto({ artifact, compression: 'zstd', identities: [] });
    expect((error as IntegrityError).reason).toBe('appended');
  });

  it('two age chunks swapped: told as reordered, as the stream read tells it', async () => {
    const intact = await encrypt(compress('none', plain));
    const payloadStart = intact.indexOf('\n', intact.indexOf('\n--- ') + 1) + 1 + 16;
    const swapped = Buffer.from(intact);
    intact.copy(swapped, payloadStart + SEALED, payloadStart + 2 * SEALED, payloadStart + 3 * SEALED);
    intact.copy(swapped, payloadStart + 2 * SEALED, payloadStart + SEALED, payloadStart + 2 * SEALED);
    const { artifact, opens } = await stored(swapped, intact, true);
    const error = await readInto({ artifact, compression: 'none', identities: [identity] });
    expect((error as IntegrityError).reason).toBe('reordered');
    expect((error as Error).message).toMatch(/out of sequence .* the chunks were reordered/);
    // Read in place first, then once more the stream way to name the damage.
    expect(opens).toEqual({ file: 1, stream: 1 });
  });

  it('the wrong key: refused as such, whatever the age command said', async () => {
    const bytes = await encrypt(compress('zstd', plain));
    const { artifact } = await stored(bytes, bytes, true);
    const other = parseIdentity(generateIdentity().identity);
    const error = await readInto({ artifact, compression: 'zstd', identities: [other] });
    expect((error as IntegrityError).reason).toBe('wrong-key');
  });
});
