// The age v1 file format (https://age-encryption.org/v1) for X25519 recipients, on node:crypto.
//
// coffre writes what the `age` tool reads and reads what it writes. The reference JavaScript
// library (age-encryption) runs its ciphers in pure JavaScript; node:crypto's ChaCha20-Poly1305
// and X25519 are OpenSSL's and run at about 1 GB/s here, so the backup pipeline stays
// bound by pg_dump rather than by encryption.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { bech32 } from '@scure/base';

const INTRO = 'age-encryption.org/v1\n';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const FILE_KEY_BYTES = 16;
const MAX_HEADER = 64 * 1024;

export type AgeErrorReason =
  | 'not-age'
  | 'bad-header'
  | 'no-identity'
  | 'header-mac'
  | 'chunk-auth'
  | 'chunk-order'
  | 'truncated'
  | 'trailing-data';

/** A failure to read an age file; `reason` tells operators what happened to it. */
export class AgeError extends Error {
  constructor(
    readonly reason: AgeErrorReason,
    message: string,
    readonly chunk?: number,
  ) {
    super(message);
    this.name = 'AgeError';
  }
}

export interface AgeIdentity {
  /** AGE-SECRET-KEY-1… */
  secret: string;
  /** age1… */
  recipient: string;
  privateKey: KeyObject;
  publicKeyBytes: Buffer;
}

/** Generates an X25519 identity, as `age-keygen` does. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey } = generateKeyPairSync('x25519');
  const raw = rawPrivateKey(privateKey);
  const identity = bech32.encode('AGE-SECRET-KEY-', bech32.toWords(raw), false).toUpperCase();
  return { identity, recipient: parseIdentity(identity).recipient };
}

export function parseIdentity(text: string): AgeIdentity {
  const secret = text.trim();
  let decoded;
  try {
    decoded = bech32.decode(secret.toLowerCase() as `${string}1${string}`, false);
  } catch {
    throw new AgeError('no-identity', 'not an age identity: expected AGE-SECRET-KEY-1…');
  }
  if (decoded.prefix !== 'age-secret-key-') throw new AgeError('no-identity', 'not an age X25519 identity');
  const raw = Buffer.from(bech32.fromWords(decoded.words));
  if (raw.length !== 32) throw new AgeError('no-identity', 'an age identity holds 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKeyBytes = rawPublicKey(createPublicKey(privateKey));
  return { secret, recipient: encodeRecipient(publicKeyBytes), privateKey, publicKeyBytes };
}

/** Reads every identity of an identity file (comments and blank lines allowed). */
export function parseIdentityFile(text: string): AgeIdentity[] {
  const identities = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map(parseIdentity);
  if (identities.length === 0) throw new AgeError('no-identity', 'the identity file holds no AGE-SECRET-KEY-1… line');
  return identities;
}

export function parseRecipient(text: string): Buffer {
  const value = text.trim();
  let decoded;
  try {
    decoded = bech32.decode(value as `${string}1${string}`, false);
  } catch {
    throw new AgeError('bad-header', `not an age recipient: ${value.slice(0, 12)}…`);
  }
  if (decoded.prefix !== 'age') throw new AgeError('bad-header', 'an age X25519 recipient starts with age1');
  const raw = Buffer.from(bech32.fromWords(decoded.words));
  if (raw.length !== 32) throw new AgeError('bad-header', 'an age recipient holds 32 bytes');
  return raw;
}

/** Splits a list of recipients given as one string (commas, spaces or new lines). */
export function parseRecipientList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((r) => r.trim())
    .filter(Boolean);
}

function encodeRecipient(publicKey: Buffer): string {
  return bech32.encode('age', bech32.toWords(publicKey), false);
}

/** A Transform that encrypts its input to the given recipients (age1…). */
export function createEncryptStream(recipients: string[]): Transform {
  if (recipients.length === 0) throw new AgeError('bad-header', 'encryption needs at least one recipient');
  const fileKey = randomBytes(FILE_KEY_BYTES);
  const header = buildHeader(fileKey, recipients.map(parseRecipient));
  const nonce = randomBytes(16);
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  return new EncryptTransform(Buffer.concat([header, nonce]), payloadKey);
}

/** A Transform that decrypts an age file with any of the given identities and authenticates every chunk. */
export function createDecryptStream(identities: AgeIdentity[]): Transform {
  return new DecryptTransform(identities);
}

function buildHeader(fileKey: Buffer, recipientKeys: Buffer[]): Buffer {
  let text = INTRO;
  for (const recipientKey of recipientKeys) {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const ephemeralShare = rawPublicKey(publicKey);
    const shared = diffieHellman({ privateKey, publicKey: importPublicKey(recipientKey) });
    const wrapKey = hkdf(shared, Buffer.concat([ephemeralShare, recipientKey]), X25519_LABEL);
    const body = seal(wrapKey, Buffer.alloc(12), fileKey);
    text += `-> X25519 ${b64(ephemeralShare)}\n${wrapBody(b64(body))}\n`;
  }
  text += '---';
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(text).digest();
  return Buffer.from(`${text} ${b64(mac)}\n`, 'latin1');
}

class EncryptTransform extends Transform {
  /** The plaintext of the chunk being filled, as slices of the input (not copied). */
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  private counter = 0n;
  private headerSent = false;
  /** What one input chunk produced: pushed as one buffer, since every push costs each stage downstream. */
  private output: Buffer[] = [];
  private outputBytes = 0;

  constructor(
    private readonly prefix: Buffer,
    private readonly key: Buffer,
  ) {
    super({ highWaterMark: CHUNK * 4 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.headerSent) {
      this.collect(this.prefix);
      this.headerSent = true;
    }
    let rest = chunk;
    while (rest.length > 0) {
      // A full chunk is sealed only once a byte follows it: only the last chunk carries the final flag.
      if (this.pendingBytes === CHUNK) this.sealPending(false);
      const take = Math.min(CHUNK - this.pendingBytes, rest.length);
      this.pieces.push(rest.subarray(0, take));
      this.pendingBytes += take;
      rest = rest.subarray(take);
    }
    this.pushOutput();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.headerSent) this.collect(this.prefix);
    this.sealPending(true);
    this.pushOutput();
    callback();
  }

  private sealPending(last: boolean): void {
    const cipher = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter, last), { authTagLength: TAG });
    for (const piece of this.pieces) this.collect(cipher.update(piece));
    cipher.final();
    this.collect(cipher.getAuthTag());
    this.counter += 1n;
    this.pieces = [];
    this.pendingBytes = 0;
  }

  private collect(bytes: Buffer): void {
    this.output.push(bytes);
    this.outputBytes += bytes.length;
  }

  private pushOutput(): void {
    if (this.outputBytes === 0) return;
    this.push(this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output, this.outputBytes));
    this.output = [];
    this.outputBytes = 0;
  }
}

/** How many chunks past a missing one are read to tell a reordered artifact from one with a dropped chunk. */
const REORDER_LOOKAHEAD = 64;

class DecryptTransform extends Transform {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private key: Buffer | null = null;
  private counter = 0n;
  private finished = false;
  /** Set once a chunk turned up ahead of its place: nothing more is released, what follows is only searched. */
  private outOfSequence: { expected: bigint; found: bigint; searched: number } | null = null;

  constructor(private readonly identities: AgeIdentity[]) {
    super({ highWaterMark: CHUNK * 4 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      this.drain(false);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.drain(true);
      if (this.outOfSequence) throw this.droppedChunk();
      if (!this.finished) {
        throw new AgeError(
          'truncated',
          `the encrypted artifact ends after chunk ${this.counter} without its final chunk: it is truncated`,
          Number(this.counter),
        );
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private drain(atEnd: boolean): void {
    if (!this.key) {
      const data = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedBytes);
      const parsed = this.readHeader(data, atEnd);
      const rest = parsed ? data.subarray(parsed) : data;
      this.buffered = rest.length ? [rest] : [];
      this.bufferedBytes = rest.length;
      if (!parsed) return;
    }
    const sealedChunk = CHUNK + TAG;
    while (!this.finished) {
      const available = this.bufferedBytes;
      // A full chunk followed by more data cannot be the last one; at the end, what is left is.
      if (available > sealedChunk || (atEnd && available > 0)) {
        const size = Math.min(available, sealedChunk);
        const sealed = this.takeBytes(size);
        if (this.outOfSequence) this.searchMissingChunk(sealed);
        else this.openChunk(sealed, atEnd && size === available);
      } else break;
    }
    if (this.finished && this.bufferedBytes > 0) {
      throw new AgeError(
        'trailing-data',
        `${this.bufferedBytes} unexpected bytes follow the encrypted artifact's final chunk: bytes were appended to it`,
      );
    }
  }

  /** The next `size` buffered bytes: a slice when one input chunk holds them, a copy only when they straddle two. */
  private takeBytes(size: number): Buffer {
    const first = this.buffered[0]!;
    let out: Buffer;
    if (first.length >= size) {
      out = first.subarray(0, size);
      if (first.length === size) this.buffered.shift();
      else this.buffered[0] = first.subarray(size);
    } else {
      out = Buffer.allocUnsafe(size);
      for (let filled = 0; filled < size; ) {
        const piece = this.buffered[0]!;
        const n = Math.min(piece.length, size - filled);
        piece.copy(out, filled, 0, n);
        filled += n;
        if (n === piece.length) this.buffered.shift();
        else this.buffered[0] = piece.subarray(n);
      }
    }
    this.bufferedBytes -= size;
    return out;
  }

  private openChunk(sealed: Buffer, lastInStream: boolean): void {
    const index = this.counter;
    const nonFinal = open(this.key!, chunkNonce(index, false), sealed);
    if (nonFinal) {
      if (lastInStream) {
        throw new AgeError(
          'truncated',
          `the encrypted artifact ends after chunk ${index} without its final chunk: it is truncated`,
          Number(index),
        );
      }
      this.push(nonFinal);
      this.counter += 1n;
      return;
    }
    const final = open(this.key!, chunkNonce(index, true), sealed);
    if (final) {
      if (final.length === 0 && index > 0n) throw new AgeError('chunk-auth', 'an empty final chunk is not allowed');
      this.push(final);
      this.counter += 1n;
      this.finished = true;
      return;
    }
    const found = this.placeOf(sealed, index);
    if (found === null) {
      // The last chunk's own length is unknown: cut, lengthened and altered look the same to its tag.
      throw new AgeError(
        'chunk-auth',
        lastInStream
          ? `encrypted chunk ${index}, the last one, fails authentication: the artifact was truncated inside it, bytes were appended to it, or its bytes were altered`
          : `encrypted chunk ${index} fails authentication: the artifact's bytes were altered`,
        Number(index),
      );
    }
    if (found < index) {
      throw new AgeError(
        'chunk-order',
        `encrypted chunk ${index} is out of sequence (it is chunk ${found}): the chunks were reordered, or one was repeated`,
        Number(index),
      );
    }
    // Chunk `index` is not here: it was dropped, or it comes later. Reading on tells which.
    this.outOfSequence = { expected: index, found, searched: 0 };
    if (lastInStream) throw this.droppedChunk();
  }

  private searchMissingChunk(sealed: Buffer): void {
    const state = this.outOfSequence!;
    if (open(this.key!, chunkNonce(state.expected, false), sealed) || open(this.key!, chunkNonce(state.expected, true), sealed)) {
      throw new AgeError(
        'chunk-order',
        `encrypted chunk ${state.expected} is out of sequence (it is chunk ${state.found}): the chunks were reordered`,
        Number(state.expected),
      );
    }
    state.searched += 1;
    if (state.searched >= REORDER_LOOKAHEAD) throw this.droppedChunk();
  }

  private droppedChunk(): AgeError {
    const { expected, found } = this.outOfSequence!;
    return new AgeError(
      'chunk-order',
      `encrypted chunk ${expected} is out of sequence (it is chunk ${found}): chunks are missing before it: a chunk was dropped`,
      Number(expected),
    );
  }

  /** The place a chunk that fails at `index` was sealed for, when it is near: null when its bytes changed. */
  private placeOf(sealed: Buffer, index: bigint): bigint | null {
    for (let delta = -64n; delta <= 64n; delta += 1n) {
      const candidate = index + delta;
      if (delta === 0n || candidate < 0n) continue;
      if (open(this.key!, chunkNonce(candidate, false), sealed) || open(this.key!, chunkNonce(candidate, true), sealed)) {
        return candidate;
      }
    }
    return null;
  }

  /** Returns the header length once the whole header is buffered, or null to wait for more. */
  private readHeader(data: Buffer, atEnd: boolean): number | null {
    if (data.length < INTRO.length) {
      if (atEnd) throw new AgeError('not-age', 'the artifact is not an age-encrypted file (it is too short)');
      return null;
    }
    if (data.subarray(0, INTRO.length).toString('latin1') !== INTRO) {
      throw new AgeError('not-age', 'the artifact is not an age-encrypted file (no age header)');
    }
    const macLine = data.indexOf('\n--- ', 0, 'latin1');
    const end = macLine < 0 ? -1 : data.indexOf('\n', macLine + 1);
    if (end < 0) {
      if (atEnd || data.length > MAX_HEADER) throw new AgeError('bad-header', 'the age header is incomplete or malformed');
      return null;
    }
    // The payload nonce (16 bytes) follows the header.
    if (data.length < end + 1 + 16) {
      if (atEnd) throw new AgeError('truncated', 'the encrypted artifact ends inside its header: it is truncated');
      return null;
    }
    const headerText = data.subarray(0, macLine + 4).toString('latin1');
    const mac = fromB64(data.subarray(macLine + 5, end).toString('latin1'));
    const fileKey = this.unwrapFileKey(headerText);
    const expected = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerText).digest();
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new AgeError('header-mac', "the age header's MAC does not match: the header was altered");
    }
    const nonce = data.subarray(end + 1, end + 17);
    this.key = hkdf(fileKey, nonce, 'payload');
    return end + 17;
  }

  private unwrapFileKey(headerText: string): Buffer {
    const lines = headerText.split('\n').slice(1, -1);
    let sawX25519 = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith('-> ')) continue;
      const args = line.slice(3).split(' ');
      let body = '';
      for (i += 1; i < lines.length; i++) {
        body += lines[i];
        if (lines[i]!.length < 64) break;
      }
      if (args[0] !== 'X25519' || args.length !== 2) continue;
      sawX25519 = true;
      const share = fromB64(args[1]!);
      const wrapped = fromB64(body);
      if (share.length !== 32 || wrapped.length !== FILE_KEY_BYTES + TAG) {
        throw new AgeError('bad-header', 'a malformed X25519 stanza in the age header');
      }
      for (const identity of this.identities) {
        const shared = diffieHellman({ privateKey: identity.privateKey, publicKey: importPublicKey(share) });
        const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKeyBytes]), X25519_LABEL);
        const fileKey = open(wrapKey, Buffer.alloc(12), wrapped);
        if (fileKey) return fileKey;
      }
    }
    throw new AgeError(
      'no-identity',
      sawX25519
        ? 'none of the configured age identities can decrypt this artifact: it was encrypted to other recipients (check AGE_IDENTITY_FILE)'
        : 'the artifact has no X25519 recipient that coffre can decrypt',
    );
  }
}

function seal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  const out = cipher.update(plain);
  cipher.final();
  return Buffer.concat([out, cipher.getAuthTag()]);
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG) return null;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG));
  try {
    decipher.final();
    return plain;
  } catch {
    return null;
  }
}

function chunkNonce(counter: bigint, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 3);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function importPublicKey(raw: Buffer): KeyObject {
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-32);
}

function rawPrivateKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
}

/** age uses standard base64 without padding. */
function b64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

function fromB64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) throw new AgeError('bad-header', 'invalid base64 in the age header');
  return Buffer.from(text, 'base64');
}

function wrapBody(text: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) lines.push(text.slice(i, i + 64));
  // A body whose length is a multiple of 64 columns ends with an empty line.
  if (text.length % 64 === 0) lines.push('');
  return lines.join('\n');
}
