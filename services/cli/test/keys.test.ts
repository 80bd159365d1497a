// coffre keygen and coffre decrypt against the real `age` tool: keys coffre makes are keys age uses,
// and files age encrypts are files coffre decrypts, without any coffre server.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removePrivateHomes, runCli } from './support/cli.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-keys-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterAll(() => {
  removePrivateHomes();
});

describe('coffre keygen', () => {
  it('writes an identity readable by its owner only and prints the recipient age derives from it', async () => {
    const identity = join(dir, 'key.txt');
    const result = await runCli(['keygen', '-o', identity]);
    expect(result.code, result.stderr).toBe(0);
    const recipient = result.stdout.trim();
    expect(recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect((await stat(identity)).mode & 0o777).toBe(0o600);
    expect(execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim()).toBe(recipient);
    const secret = (await readFile(identity, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('never overwrites an existing identity (exit 5)', async () => {
    const identity = join(dir, 'key.txt');
    await writeFile(identity, 'precious');
    const result = await runCli(['keygen', '-o', identity]);
    expect(result.code).toBe(5);
    expect(await readFile(identity, 'utf8')).toBe('precious');
  });
});

describe('coffre decrypt', () => {
  it('round trip: age encrypts to the keygen recipient, coffre decrypts it to the same bytes', async () => {
    const identity = join(dir, 'key.txt');
    const recipient = (await runCli(['keygen', '-o', identity])).stdout.trim();
    const plain = randomBytes(300_000); // several 64 KiB chunks
    await writeFile(join(dir, 'dump'), plain);
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'dump.zst.age'), join(dir, 'dump')]);
    const result = await runCli(['decrypt', join(dir, 'dump.zst.age'), '-i', identity]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readFile(join(dir, 'dump.zst'))).equals(plain)).toBe(true);
    expect(await readdir(dir)).toEqual(['dump', 'dump.zst', 'dump.zst.age', 'key.txt'].sort());
  });

  it('streams to standard output with -o - (an identity from age-keygen works too)', async () => {
    const identity = join(dir, 'age-key.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'notes.age')], { input: 'restore me by hand\n' });
    const result = await runCli(['decrypt', join(dir, 'notes.age'), '-i', identity, '-o', '-']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('restore me by hand\n');
  });

  it('the wrong identity exits 1 with a sentence and leaves no output file', async () => {
    const right = join(dir, 'right.txt');
    const wrong = join(dir, 'wrong.txt');
    const recipient = (await runCli(['keygen', '-o', right])).stdout.trim();
    await runCli(['keygen', '-o', wrong]);
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'secret.age')], { input: 'x'.repeat(1000) });
    const result = await runCli(['decrypt', join(dir, 'secret.age'), '-i', wrong]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot be decrypted with ${wrong}: it was encrypted to other recipients`);
    // -i named the identity: coffre's own AGE_IDENTITY_FILE has nothing to do with it.
    expect(result.stderr).not.toMatch(/AGE_IDENTITY_FILE/);
    expect((await readdir(dir)).sort()).toEqual(['right.txt', 'secret.age', 'wrong.txt']);
  });

  it('a truncated file exits 1 and leaves no plaintext behind', async () => {
    const identity = join(dir, 'key.txt');
    const recipient = (await runCli(['keygen', '-o', identity])).stdout.trim();
    const encrypted = execFileSync('age', ['-r', recipient], { input: randomBytes(200_000) });
    await writeFile(join(dir, 'cut.age'), encrypted.subarray(0, encrypted.length - 1000));
    const result = await runCli(['decrypt', join(dir, 'cut.age'), '-i', identity, '-o', join(dir, 'cut.out')]);
    expect(result.code).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['cut.age', 'key.txt']);
  });
});
