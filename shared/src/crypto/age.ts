// The age v1 file format (https://age-encryption.org/v1) for X25519 recipients, on node:crypto.
//
// coffre writes what the `age` tool reads and reads what it writes. The reference JavaScript
// library (age-encryption) runs its ciphers in pure JavaScript; node:crypto's ChaCha20-Poly1305
// and X25519 are OpenSSL's and run at about 1 GB/s here, so the backup pipeline stays
// bound by pg_dump rather than by encryption.
import { createCipheriv, createHmac, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AgeError, CHUNK, FILE_KEY_BYTES, INTRO, TAG, X25519_LABEL, b64, chunkNonce, hkdf, importPublicKey, rawPublicKey, seal, wrapBody } from './age-format.js';
import { parseRecipient } from './age-keys.js';

/** A Transform that encrypts its input to the given recipients (age1…). */
export function createEncryptStream(recipients: string[]): Transform {
  if (recipients.length === 0) throw new AgeError('bad-header', 'encryption needs at least one recipient');
  const fileKey = randomBytes(FILE_KEY_BYTES);
  const header = buildHeader(fileKey, recipients.map(parseRecipient));
  const nonce = randomBytes(16);
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  return new EncryptTransform(Buffer.concat([header, nonce]), payloadKey);
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

export { AgeError, type AgeErrorReason, type AgeIdentity } from './age-format.js';
export { generateIdentity, parseIdentity, parseIdentityFile, parseRecipient, parseRecipientList } from './age-keys.js';
export { createDecryptStream } from './age-decrypt.js';
