// The age command (age-encryption.org), when installed: it encrypts and decrypts in its own process,
// as zstd compresses in its own, so that the bytes need not pass through Node.
import { existsSync } from 'node:fs';

export const AGE_TOOL = ['/usr/bin/age', '/usr/local/bin/age'].find((path) => existsSync(path)) ?? null;
