// Decrypting an age file as a stream: the header is read and its MAC checked with one of the
// identities, then every 64 KiB chunk is authenticated before any of its bytes go on; each kind of
// damage (a chunk altered, dropped, reordered, the end cut off, bytes appended) gets its own reason.
import { createHmac, diffieHellman, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AgeError, type AgeIdentity, CHUNK, FILE_KEY_BYTES, INTRO, MAX_HEADER, TAG, X25519_LABEL, chunkNonce, fromB64, hkdf, importPublicKey, open } from './age-format.js';

/** A Transform that decrypts an age file with any of the given identities and authenticates every chunk. */
export function createDecryptStream(identities: AgeIdentity[]): Transform {
  return new DecryptTransform(identities);
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
