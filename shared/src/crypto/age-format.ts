// The age v1 format's constants, errors and the primitives both directions share (ChaCha20-Poly1305
// seal/open, HKDF, X25519 key encodings, base64 without padding).
import { createCipheriv, createDecipheriv, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';

export const INTRO = 'age-encryption.org/v1\n';
export const X25519_LABEL = 'age-encryption.org/v1/X25519';
export const CHUNK = 64 * 1024;
export const TAG = 16;
export const FILE_KEY_BYTES = 16;
export const MAX_HEADER = 64 * 1024;

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

export function seal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  const out = cipher.update(plain);
  cipher.final();
  return Buffer.concat([out, cipher.getAuthTag()]);
}

export function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | null {
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

export function chunkNonce(counter: bigint, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 3);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

export function importPublicKey(raw: Buffer): KeyObject {
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-32);
}

export function rawPrivateKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
}

/** age uses standard base64 without padding. */
export function b64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

export function fromB64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) throw new AgeError('bad-header', 'invalid base64 in the age header');
  return Buffer.from(text, 'base64');
}

export function wrapBody(text: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) lines.push(text.slice(i, i + 64));
  // A body whose length is a multiple of 64 columns ends with an empty line.
  if (text.length % 64 === 0) lines.push('');
  return lines.join('\n');
}
