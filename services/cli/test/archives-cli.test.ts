// The built `coffre` with backups that are not only a database: files beside it, restored into a
// directory, and a bucket (against s3rver), downloaded and restored into a prefix; each described in
// the operator's words. Also `restore latest` and `backup download -o -`.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage } from '@coffre/shared/s3';
import { forgetDatabase } from '../../../test/support/pg.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../../../test/support/s3.js';
import { listen, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;
let s3: S3Server;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('media');
  const media = createS3Storage(s3.options('media'));
  for (const [key, body] of [['photos/a.jpg', 'first photo'], ['photos/b.jpg', 'second photo'], ['docs/readme.txt', 'hello']]) {
    await media.put(key!, Readable.from([Buffer.from(body!)]));
  }
  stack = await createTestStack();
  api = await listen(stack);
  env = { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken };
  stack.startWorkers();
  dir = await mkdtemp(join(tmpdir(), 'coffre-cli-archives-'));
});

afterAll(async () => {
  removePrivateHomes();
  await rm(dir, { recursive: true, force: true });
  await api?.close();
  await stack?.close();
  await s3?.stop();
});

const coffre = (args: string[], options: { input?: string; cwd?: string } = {}) => runCli(args, { env, input: options.input, cwd: options.cwd });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function restoreFinished(id: string) {
  return eventually(async () => {
    const r = await stack.ctx.db.restore.findUnique({ where: { id } });
    return r && ['completed', 'failed'].includes(r.status) ? r : undefined;
  }, 90_000, `restore ${id}`);
}

describe('files beside the database', () => {
  let backupName: string;

  it('a configuration with an include path runs, and says how many files it archived', async () => {
    const files = join(dir, 'app');
    await mkdir(join(files, 'uploads'), { recursive: true });
    await writeFile(join(files, 'uploads', 'one.txt'), 'one');
    await writeFile(join(files, 'uploads', 'two.txt'), 'two');
    expect((await coffre(['config', 'create', '--name', 'with-files', '--source', 'default', '--include', files])).code).toBe(0);
    const run = await coffre(['config', 'run', 'with-files', '--wait', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const backup = JSON.parse(run.stdout);
    backupName = backup.name;
    expect(backup.filesCount).toBe(2);
    expect((await coffre(['backup', 'show', backupName])).stdout).toMatch(/Files:\s+2/);
  });

  it('restore --artifact files --target-path recreates them and says "into directory"', async () => {
    const target = join(dir, 'restored-files');
    const result = await coffre(['restore', backupName, '--artifact', 'files', '--target-path', target, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Target:   directory ${target}`);
    expect(result.stdout).toMatch(new RegExp(`^Restored "${backupName}" into directory ${target} in `));
    expect(await readFile(join(target, 'app', 'uploads', 'two.txt'), 'utf8')).toBe('two');
    const restore = await stack.ctx.db.restore.findFirstOrThrow({ where: { targetKind: 'files' }, orderBy: { createdAt: 'desc' } });
    const status = await coffre(['restore', 'status', restore.id]);
    expect(status.stdout).toMatch(new RegExp(`into directory ${target}: completed`));
    expect(status.stdout).not.toMatch(/null/);
  });

  it('a files restore without --target-path exits 2 with a sentence', async () => {
    const result = await coffre(['restore', backupName, '--artifact', 'files', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/needs --target-path DIR/);
  });
});

describe('a bucket', () => {
  let backup: { id: string; name: string };

  it('is registered with its secret key read on standard input, backed up, and described by its objects', async () => {
    const created = await coffre(
      ['source', 'create', 'media', '--bucket', 'media', '--endpoint', s3.endpoint, '--access-key-id', S3_ACCESS_KEY_ID, '--secret-access-key', '-', '--path-style'],
      { input: `${S3_SECRET_ACCESS_KEY}\n` },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/Created source "media" \(s3\): s3:\/\/media\//);
    const result = await coffre(['backup', 'create', '--source', 'media', '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/completed: .+, 3 objects, sha256 [0-9a-f]{64}\.$/m);
    expect(result.stdout).not.toMatch(/tables|rows/);
    const row = await stack.ctx.db.backup.findFirstOrThrow({ where: { sourceName: 'media', status: 'completed' } });
    backup = { id: row.id, name: row.name };
    const shown = await coffre(['backup', 'show', backup.name]);
    expect(shown.stdout).toMatch(/Objects:\s+3/);
    expect(shown.stdout).not.toMatch(/Tables:/);
  });

  it('download --artifact bucket writes the archive whose checksum was recorded', async () => {
    const file = join(dir, 'media.tar.zst');
    const result = await coffre(['backup', 'download', backup.name, '--artifact', 'bucket', '-o', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'bucket' } });
    expect(sha256(await readFile(file))).toBe(artifact.checksumSha256);
    expect(JSON.parse(result.stdout)).toMatchObject({ destination: 'local' });
  });

  it('restore --artifact bucket --target-prefix puts the objects under the prefix and says "into bucket"', async () => {
    const result = await coffre(['restore', backup.name, '--artifact', 'bucket', '--target-prefix', 'restored/', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Restored "${backup.name}" into bucket media \\(prefix restored/\\) of source media in `));
    const restored = createS3Storage(s3.options('media', 'restored'));
    const chunks: Buffer[] = [];
    for await (const chunk of await restored.get('photos/b.jpg')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('second photo');
  });
});

describe('scripts', () => {
  it('backup download -o - writes the artifact to standard output, and no file named "-"', async () => {
    const taken = await coffre(['backup', 'create', '--name', 'to-stdout', '--wait', '--json']);
    const backup = JSON.parse(taken.stdout);
    const cwd = await mkdtemp(join(dir, 'cwd-'));
    // The API answers from this process: the CLI runs alongside, its bytes collected as they are.
    const output = await new Promise<{ status: number | null; stdout: Buffer; stderr: Buffer }>((done, fail) => {
      const child = spawn(process.execPath, [join(process.cwd(), 'services/cli/dist/main.js'), 'backup', 'download', 'to-stdout', '-o', '-'], {
        cwd,
        env: { PATH: process.env.PATH, HOME: cwd, ...env },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', fail);
      child.on('close', (status) => done({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    });
    expect(output.status, output.stderr.toString()).toBe(0);
    expect(sha256(output.stdout)).toBe(backup.checksumSha256);
    expect(output.stderr.toString()).toMatch(/to standard output \(sha256 [0-9a-f]{64} verified/);
    expect(await readdir(cwd)).toEqual([]);
    expect(existsSync(join(cwd, '-'))).toBe(false);
  });

  it('restore latest, and --latest --source S, take the newest completed backup of that source', async () => {
    const newest = await stack.ctx.db.backup.findFirstOrThrow({ where: { sourceName: 'default', status: 'completed' }, orderBy: { createdAt: 'desc' } });
    const target = `coffre_cli_latest_${Date.now()}`;
    forgetDatabase(target); // dropped with the stack's databases
    const latest = await coffre(['restore', 'latest', '--source', 'default', '--target-database', target, '--yes', '--no-wait', '--json']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(JSON.parse(latest.stdout).backupId).toBe(newest.id);
    await restoreFinished(JSON.parse(latest.stdout).id);

    const bucket = await coffre(['restore', '--latest', '--source', 'media', '--target-prefix', 'again/', '--yes', '--no-wait', '--json']);
    expect(bucket.code, bucket.stderr).toBe(0);
    const newestOfMedia = await stack.ctx.db.backup.findFirstOrThrow({ where: { sourceName: 'media', status: 'completed' }, orderBy: { createdAt: 'desc' } });
    expect(JSON.parse(bucket.stdout)).toMatchObject({ backupId: newestOfMedia.id, targetKind: 'bucket', targetPath: 'again/' });
    await restoreFinished(JSON.parse(bucket.stdout).id);
  });
});
