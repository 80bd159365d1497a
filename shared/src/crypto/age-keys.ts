// age X25519 identities (AGE-SECRET-KEY-1…) and recipients (age1…): generated, parsed, listed.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { bech32 } from '@scure/base';
import { AgeError, type AgeIdentity, rawPrivateKey, rawPublicKey } from './age-format.js';

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
