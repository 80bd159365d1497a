// coffre's age implementation against the real `age` tool, both ways, and the refusals of a damaged
// stream. An artifact that only coffre could read would not be a backup an operator can trust.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AgeError,
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  parseIdentity,
  parseIdentityFile,
  type AgeIdentity,
} from '@coffre/shared';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 1_000_003];
/** Pieces the input is cut into, in turn: none of them lines up with age's 64 KiB chunks. */
const ODD_PIECES = [1, 7, 4093, 65537, 13, 100_003, 65535, 3];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-age-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('coffre encrypts, age decrypts', () => {
  it.each(SIZES)('%i bytes fed in odd pieces', async (size) => {
    const { identity, recipient } = generateIdentity();
    const identityFile = await writeIdentityFile(`# made by coffre\n${identity}\n`);
    const plain = randomBytes(size);
    const encrypted = await through(createEncryptStream([recipient]), plain);
    expect(digest(age(['-d', '-i', identityFile], encrypted))).toBe(digest(plain));
  });
});

describe('age encrypts, coffre decrypts', () => {
  let keygen: { file: string; text: string; recipient: string };

  beforeAll(async () => {
    keygen = await ageKeygen();
  });

  it.each(SIZES)('%i bytes encrypted with age -r, read back in odd pieces', async (size) => {
    const plain = randomBytes(size);
    const encrypted = age(['-r', keygen.recipient], plain);
    expect(digest(await through(createDecryptStream(parseIdentityFile(keygen.text)), encrypted))).toBe(digest(plain));
  });

  it.each(SIZES)('%i bytes encrypted with age -R (a recipients file with comments)', async (size) => {
    const recipientsFile = join(dir, `recipients-${randomBytes(4).toString('hex')}.txt`);
    await writeFile(recipientsFile, `# the backup key\n\n${keygen.recipient}\n`);
    const plain = randomBytes(size);
    const encrypted = age(['-R', recipientsFile], plain);
    expect(digest(await through(createDecryptStream(parseIdentityFile(keygen.text)), encrypted))).toBe(digest(plain));
  });
});

describe('several recipients', () => {
  it('coffre encrypts to three recipients; each identity alone decrypts, with coffre and with age', async () => {
    const ours = [generateIdentity(), generateIdentity()];
    const theirs = await ageKeygen();
    const plain = randomBytes(3 * CHUNK + 5);
    const encrypted = await through(createEncryptStream([ours[0]!.recipient, theirs.recipient, ours[1]!.recipient]), plain);

    for (const identityText of [ours[0]!.identity, theirs.text, ours[1]!.identity]) {
      expect(digest(await through(createDecryptStream(parseIdentityFile(identityText)), encrypted))).toBe(digest(plain));
      expect(digest(age(['-d', '-i', await writeIdentityFile(identityText)], encrypted))).toBe(digest(plain));
    }
  });

  it('age encrypts to two recipients; coffre decrypts with either identity', async () => {
    const first = await ageKeygen();
    const second = generateIdentity();
    const plain = randomBytes(CHUNK * 2);
    const encrypted = age(['-r', first.recipient, '-r', second.recipient], plain);
    expect(digest(await through(createDecryptStream(parseIdentityFile(first.text)), encrypted))).toBe(digest(plain));
    expect(digest(await through(createDecryptStream([parseIdentity(second.identity)]), encrypted))).toBe(digest(plain));
  });

  it('an identity file with several keys decrypts with the one that matches, whatever its place', async () => {
    const unrelated = generateIdentity();
    const matching = await ageKeygen();
    const text = `# old key, kept for old backups\r\n${unrelated.identity}\r\n\r\n${matching.text}`;
    const plain = randomBytes(1000);
    const encrypted = age(['-r', matching.recipient], plain);
    const identities = parseIdentityFile(text);
    expect(identities.map((i) => i.recipient)).toEqual([unrelated.recipient, matching.recipient]);
    expect(digest(await through(createDecryptStream(identities), encrypted))).toBe(digest(plain));
  });
});

describe('identities and keys', () => {
  it('age-keygen -y prints the recipient coffre derives from its own generated identity', async () => {
    const { identity, recipient } = generateIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    const file = await writeIdentityFile(`${identity}\n`);
    const printed = spawnSync('age-keygen', ['-y', file], { encoding: 'utf8' });
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout.trim()).toBe(recipient);
  });

  it('age encrypts to a coffre recipient and decrypts with a coffre identity', async () => {
    const { identity, recipient } = generateIdentity();
    const plain = randomBytes(70_000);
    expect(digest(age(['-d', '-i', await writeIdentityFile(identity)], age(['-r', recipient], plain)))).toBe(digest(plain));
  });

  it('reads an age-keygen identity file (comments included) to the recipient it prints', async () => {
    const keygen = await ageKeygen();
    expect(keygen.text).toMatch(/^# created: /m);
    const [identity] = parseIdentityFile(keygen.text);
    expect(identity!.recipient).toBe(keygen.recipient);
  });

  it('refuses an identity file holding no key, with a sentence', () => {
    expect(() => parseIdentityFile('# only a comment\n\n')).toThrow(/holds no AGE-SECRET-KEY-1/);
    expect(() => parseIdentityFile('age1notasecretkey\n')).toThrow(AgeError);
  });
});

describe('a damaged stream is refused, and nothing after the damage is released', () => {
  let identity: AgeIdentity;
  let plain: Buffer;
  let encrypted: Buffer;
  let payloadStart: number;

  beforeAll(async () => {
    const generated = generateIdentity();
    identity = parseIdentity(generated.identity);
    plain = randomBytes(6 * CHUNK + 1234);
    encrypted = await through(createEncryptStream([generated.recipient]), plain);
    payloadStart = encrypted.indexOf('\n', encrypted.indexOf('\n--- ') + 1) + 1 + 16;
    expect(encrypted.length).toBe(payloadStart + 6 * SEALED + 1234 + 16);
  });

  const chunkAt = (bytes: Buffer, i: number) => bytes.subarray(payloadStart + i * SEALED, payloadStart + (i + 1) * SEALED);

  async function refusal(bytes: Buffer, identities = [identity], expected = plain): Promise<{ error: AgeError; released: number }> {
    let released = 0;
    const error = await pipeline(
      Readable.from(pieces(bytes, ODD_PIECES)),
      createDecryptStream(identities),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          // Whatever was released must be the authentic plaintext, in order.
          expect(chunk.equals(expected.subarray(released, released + chunk.length))).toBe(true);
          released += chunk.length;
          callback();
        },
      }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgeError);
    return { error: error as AgeError, released };
  }

  it('a flipped byte in a chunk: chunk-auth, naming the chunk', async () => {
    const bytes = Buffer.from(encrypted);
    bytes[payloadStart + 2 * SEALED + 500]! ^= 0x04;
    const { error, released } = await refusal(bytes);
    expect(error.reason).toBe('chunk-auth');
    expect(error.chunk).toBe(2);
    expect(error.message).toBe("encrypted chunk 2 fails authentication: the artifact's bytes were altered");
    expect(released).toBe(2 * CHUNK);
  });

  it('truncated at a chunk boundary: truncated', async () => {
    const { error, released } = await refusal(encrypted.subarray(0, payloadStart + 4 * SEALED));
    expect(error.reason).toBe('truncated');
    expect(error.message).toMatch(/ends after chunk \d+ without its final chunk: it is truncated/);
    expect(released).toBeLessThanOrEqual(4 * CHUNK);
  });

  it('truncated inside a chunk: refused, saying it may be truncated', async () => {
    const { error, released } = await refusal(encrypted.subarray(0, payloadStart + 3 * SEALED + 999));
    expect(error.reason).toBe('chunk-auth');
    expect(error.chunk).toBe(3);
    expect(error.message).toMatch(/truncated/);
    expect(released).toBe(3 * CHUNK);
  });

  it('truncated inside the header: truncated or bad-header', async () => {
    const { error, released } = await refusal(encrypted.subarray(0, payloadStart - 20));
    expect(['truncated', 'bad-header']).toContain(error.reason);
    expect(released).toBe(0);
  });

  it('bytes appended after a full final chunk: trailing-data', async () => {
    const generated = generateIdentity();
    const whole = randomBytes(3 * CHUNK);
    const sealed = await through(createEncryptStream([generated.recipient]), whole);
    const { error } = await refusal(Buffer.concat([sealed, Buffer.from('more')]), [parseIdentity(generated.identity)], whole);
    expect(error.reason).toBe('trailing-data');
    expect(error.message).toBe("4 unexpected bytes follow the encrypted artifact's final chunk: bytes were appended to it");
  });

  it('bytes appended after a short final chunk: the last chunk is refused, naming appended bytes as a cause', async () => {
    const { error, released } = await refusal(Buffer.concat([encrypted, Buffer.from('more')]));
    expect(error.reason).toBe('chunk-auth');
    expect(error.chunk).toBe(6);
    expect(error.message).toMatch(/bytes were appended to it/);
    expect(released).toBe(6 * CHUNK);
  });

  it('a dropped chunk: chunk-order, saying a chunk was dropped', async () => {
    const bytes = Buffer.concat([encrypted.subarray(0, payloadStart + 2 * SEALED), encrypted.subarray(payloadStart + 3 * SEALED)]);
    const { error, released } = await refusal(bytes);
    expect(error.reason).toBe('chunk-order');
    expect(error.message).toBe('encrypted chunk 2 is out of sequence (it is chunk 3): chunks are missing before it: a chunk was dropped');
    expect(released).toBe(2 * CHUNK);
  });

  it('two chunks swapped: chunk-order, saying the chunks were reordered', async () => {
    const bytes = Buffer.concat([
      encrypted.subarray(0, payloadStart + SEALED),
      chunkAt(encrypted, 2),
      chunkAt(encrypted, 1),
      encrypted.subarray(payloadStart + 3 * SEALED),
    ]);
    const { error, released } = await refusal(bytes);
    expect(error.reason).toBe('chunk-order');
    expect(error.message).toMatch(/^encrypted chunk 1 is out of sequence \(it is chunk 2\): the chunks were reordered/);
    expect(released).toBe(CHUNK);
  });

  it('a chunk moved back before its place: chunk-order, reordered', async () => {
    const bytes = Buffer.concat([
      encrypted.subarray(0, payloadStart + SEALED),
      chunkAt(encrypted, 3),
      chunkAt(encrypted, 1),
      chunkAt(encrypted, 2),
      encrypted.subarray(payloadStart + 4 * SEALED),
    ]);
    const { error } = await refusal(bytes);
    expect(error.reason).toBe('chunk-order');
    expect(error.message).toMatch(/the chunks were reordered/);
  });

  it('a wrong identity: no-identity, before any byte is released', async () => {
    const { error, released } = await refusal(encrypted, [parseIdentity(generateIdentity().identity)]);
    expect(error.reason).toBe('no-identity');
    expect(error.message).toMatch(/none of the configured age identities can decrypt this artifact/);
    expect(released).toBe(0);
  });

  it("a changed header MAC: header-mac", async () => {
    const bytes = Buffer.from(encrypted);
    const macAt = bytes.indexOf('\n--- ') + 5;
    bytes[macAt] = bytes[macAt] === 0x41 ? 0x42 : 0x41;
    const { error, released } = await refusal(bytes);
    expect(error.reason).toBe('header-mac');
    expect(released).toBe(0);
  });

  it('a changed recipient stanza: refused before any byte is released', async () => {
    const bytes = Buffer.from(encrypted);
    // The first character of the ephemeral share: the header MAC or the unwrapping must fail.
    const at = bytes.indexOf('-> X25519 ') + 10;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    const { error, released } = await refusal(bytes);
    expect(['header-mac', 'no-identity']).toContain(error.reason);
    expect(released).toBe(0);
  });

  it('a payload nonce changed: chunk 0 fails authentication', async () => {
    const bytes = Buffer.from(encrypted);
    bytes[payloadStart - 1]! ^= 0x80;
    const { error, released } = await refusal(bytes);
    expect(error.reason).toBe('chunk-auth');
    expect(error.chunk).toBe(0);
    expect(released).toBe(0);
  });

  it('input that is not age at all: not-age', async () => {
    expect((await refusal(Buffer.from('PGDMP\x01\x0f\x00 a plain pg_dump archive'.repeat(100)))).error.reason).toBe('not-age');
    expect((await refusal(Buffer.alloc(0))).error.reason).toBe('not-age');
    expect((await refusal(randomBytes(200_000))).error.reason).toBe('not-age');
  });

  it('the untouched artifact decrypts (the refusals above are about the damage)', async () => {
    expect(digest(await through(createDecryptStream([identity]), encrypted))).toBe(digest(plain));
  });
});

/** Runs input through a transform, delivered in odd-sized pieces. */
async function through(transform: Transform, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces(input, ODD_PIECES)),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

function* pieces(data: Buffer, sizes: number[]): Generator<Buffer> {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

function age(args: string[], input: Buffer): Buffer {
  const run = spawnSync('age', args, { input, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`age ${args.join(' ')} failed: ${run.stderr.toString()}`);
  return run.stdout;
}

async function ageKeygen(): Promise<{ file: string; text: string; recipient: string }> {
  const file = join(dir, `keygen-${randomBytes(4).toString('hex')}.txt`);
  const run = spawnSync('age-keygen', ['-o', file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`age-keygen failed: ${run.stderr}`);
  const text = await readFile(file, 'utf8');
  const recipient = /^# public key: (age1\S+)$/m.exec(text)?.[1];
  if (!recipient) throw new Error(`age-keygen wrote no public key comment:\n${text}`);
  return { file, text, recipient };
}

async function writeIdentityFile(text: string): Promise<string> {
  const file = join(dir, `identity-${randomBytes(4).toString('hex')}.txt`);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

function digest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
