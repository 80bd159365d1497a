// Imports: dumps made by pg_dump 15 elsewhere, in every accepted format and wrapping, uploaded to
// POST /api/imports, restored by the worker and compared with the database they were dumped from;
// foreign, truncated and oversized files refused with a sentence, leaving no row and no object.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { generateIdentity } from '@coffre/shared';
import { createDatabase, forgetDatabase } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums, schemaDump } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { filesUnder } from '../../../test/support/artifact-audit.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';

const MAX_BYTES = 40 * 1024 * 1024;

let stack: TestStack;
let dir: string;
let source: { name: string; url: string };
let sourceSchema: string;
let sourceData: Record<string, string>;
let recipient: string;
const dumps: Record<'custom' | 'tar' | 'plain', Buffer> = {} as never;
const restoredDatabases: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffre-imports-'));
  source = await createDatabase('coffre_imp_src');
  await createRichDatabase(source.url);
  sourceSchema = schemaDump(source.url);
  sourceData = await dataChecksums(source.url);
  const keys = generateIdentity();
  recipient = keys.recipient;
  const identityFile = join(dir, 'key.txt');
  await writeFile(identityFile, `${keys.identity}\n`, { mode: 0o600 });
  stack = await createTestStack({ sourceUrl: source.url, env: { AGE_RECIPIENTS: keys.recipient, AGE_IDENTITY_FILE: identityFile, IMPORT_MAX_BYTES: String(MAX_BYTES) } });
  stack.startWorkers();
  const pgDump = '/usr/lib/postgresql/15/bin/pg_dump';
  expect(execFileSync(pgDump, ['--version'], { encoding: 'utf8' })).toMatch(/pg_dump \(PostgreSQL\) 15\./);
  for (const [format, flag] of [['custom', '-Fc'], ['tar', '-Ft'], ['plain', '-Fp']] as const) {
    dumps[format] = execFileSync(pgDump, [flag, `--dbname=${source.url}`], { maxBuffer: 256 << 20 });
  }
});

afterAll(async () => {
  for (const name of restoredDatabases) execFileSync('dropdb', ['--if-exists', '--force', '-h', '127.0.0.1', '-U', 'postgres', name]);
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

type Wrapping = 'none' | 'gzip' | 'zstd' | 'age' | 'zstd+age';

async function wrap(bytes: Buffer, wrapping: Wrapping): Promise<Buffer> {
  if (wrapping === 'none') return bytes;
  if (wrapping === 'gzip') return gzipSync(bytes);
  const zstd = wrapping.startsWith('zstd') ? execFileSync('zstd', ['-q', '-c'], { input: bytes, maxBuffer: 256 << 20 }) : bytes;
  if (!wrapping.endsWith('age')) return zstd;
  return execFileSync('age', ['-r', recipient], { input: zstd, maxBuffer: 256 << 20 });
}

const upload = (body: Buffer, query: Record<string, string> = {}, token = stack.adminToken) =>
  request(stack.app).post('/api/imports').query(query).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/octet-stream').send(body);

async function waitFinished(model: 'restore' | 'verification', id: string) {
  return eventually(async () => {
    const row = await (stack.ctx.db[model] as unknown as { findUnique(a: object): Promise<{ status: string; errorMessage: string | null; result?: string } | null> }).findUnique({ where: { id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : null;
  }, 120_000, `${model} ${id} to finish`);
}

async function storedObjects(): Promise<string[]> {
  return (await filesUnder(stack.config.BACKUP_DIR)).sort();
}

describe('an import of each accepted format from pg_dump 15 restores to the same schema and data', () => {
  const cases: ['custom' | 'tar' | 'plain', Wrapping][] = [];
  for (const format of ['custom', 'tar', 'plain'] as const) for (const wrapping of ['none', 'gzip', 'zstd', 'zstd+age'] as const) cases.push([format, wrapping]);

  it.each(cases)('%s format, wrapped: %s', async (format, wrapping) => {
    const body = await wrap(dumps[format], wrapping);
    const filename = `shop.${format === 'plain' ? 'sql' : format === 'tar' ? 'tar' : 'dump'}${wrapping.includes('zstd') ? '.zst' : wrapping === 'gzip' ? '.gz' : ''}${wrapping.endsWith('age') ? '.age' : ''}`;
    const res = await upload(body, { filename, sourceId: (await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'default' } })).id });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201, body: { trigger: 'import', status: 'completed', dumpFormat: format } });
    expect(res.headers.location).toBe(`/api/backups/${res.body.id}`);
    const backup = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: res.body.id }, include: { artifacts: true } });
    expect(backup.artifacts.map((a) => a.kind).sort()).toEqual(['database', 'manifest', 'restore-notes']);
    const manifest = JSON.parse(await readFile(join(stack.config.BACKUP_DIR, backup.artifacts.find((a) => a.kind === 'manifest')!.key), 'utf8'));
    expect(manifest.imported).toMatchObject({ filename, encrypted: wrapping.endsWith('age'), compression: wrapping.includes('zstd') ? 'zstd' : wrapping === 'gzip' ? 'gzip' : 'none', dumpBytes: dumps[format].length });

    const target = uniqueName('coffre_imp_rt');
    restoredDatabases.push(target);
    forgetDatabase(target);
    const restore = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set('Authorization', `Bearer ${stack.adminToken}`).send({ targetDatabase: target, confirm: backup.name });
    expect(restore.status).toBe(202);
    const done = await waitFinished('restore', restore.body.id);
    expect({ status: done.status, error: done.errorMessage }).toEqual({ status: 'completed', error: null });
    expect(schemaDump(databaseUrl(target))).toBe(sourceSchema);
    expect(await dataChecksums(databaseUrl(target))).toEqual(sourceData);
  });
});

describe('an imported backup is like the others', () => {
  it('verifies (restored whole into a scratch database), and downloads with its checksum', async () => {
    const sourceId = (await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'default' } })).id;
    const res = await upload(dumps.plain, { filename: 'shop.sql', sourceId });
    expect(res.status).toBe(201);
    const verify = await request(stack.app).post(`/api/backups/${res.body.id}/verify`).set('Authorization', `Bearer ${stack.adminToken}`).send();
    expect(verify.status).toBe(202);
    const done = await waitFinished('verification', verify.body.id);
    expect({ status: done.status, result: done.result, error: done.errorMessage }).toEqual({ status: 'completed', result: 'passed', error: null });
    const verification = await stack.ctx.db.verification.findUniqueOrThrow({ where: { id: verify.body.id } });
    // The fixture holds 501 people and 2000 orders among its tables: the restored copy was counted.
    expect(verification.tablesFound).toBeGreaterThan(2);
    expect(Number(verification.recordsFound)).toBeGreaterThanOrEqual(2501);

    const download = await request(stack.app).get(`/api/backups/${res.body.id}/download`).set('Authorization', `Bearer ${stack.adminToken}`).buffer(true).parse(binary);
    expect(download.status).toBe(200);
    expect(createHash('sha256').update(download.body as Buffer).digest('hex')).toBe(res.body.checksumSha256);
  });

  it('an operator may import; a viewer may not', async () => {
    const operator = await upload(dumps.custom, { filename: 'op.dump' }, await stack.token('operator'));
    expect(operator.status).toBe(201);
    const viewer = await upload(dumps.custom, { filename: 'viewer.dump' }, await stack.token('viewer'));
    expect(viewer.status).toBe(403);
  });
});

describe('a file that is not a complete dump is refused with a sentence, and nothing is stored', () => {
  const truncate = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length * 0.6));
  const refusals: [string, () => Promise<Buffer>, RegExp][] = [
    ['a PNG image', async () => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4000, 7)]), /not a PostgreSQL dump/],
    ['a shell script', async () => Buffer.from('#!/bin/sh\nrm -rf /\n'), /not a PostgreSQL dump/],
    ['a gzip-compressed text file', async () => gzipSync(Buffer.from('hello\n'.repeat(1000))), /not a PostgreSQL dump once gzip-decompressed/],
    ['a truncated custom-format dump', async () => truncate(dumps.custom), /custom-format dump is truncated or damaged/],
    ['a truncated tar-format dump', async () => truncate(dumps.tar), /tar-format dump is truncated/],
    ['a truncated plain SQL dump', async () => truncate(dumps.plain), /plain SQL dump is truncated/],
    ['a truncated gzip file of a custom dump', async () => truncate(gzipSync(dumps.custom)), /damaged|truncated/],
    ['a truncated zstd file of a plain dump', async () => truncate(await wrap(dumps.plain, 'zstd')), /damaged|truncated/],
    ['an age file for another key', async () => execFileSync('age', ['-r', generateIdentity().recipient], { input: dumps.custom }), /cannot be decrypted with this installation's key/],
    ['an empty body', async () => Buffer.alloc(0), /empty/],
  ];

  it.each(refusals)('%s', async (_label, make, sentence) => {
    const before = await storedObjects();
    const rowsBefore = await stack.ctx.db.backup.count();
    const res = await upload(await make(), { filename: 'bad.bin' });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 422, code: 'not_a_dump' });
    expect(res.body.error.message).toMatch(sentence);
    expect(res.body.error.message).toMatch(/[Nn]othing was stored|empty/);
    expect(await stack.ctx.db.backup.count()).toBe(rowsBefore);
    expect(await storedObjects()).toEqual(before);
    const audit = await stack.ctx.db.auditEvent.findFirst({ where: { action: 'backup.import', outcome: 'failure' }, orderBy: { at: 'desc' } });
    expect(audit?.summary).toMatchObject({ filename: 'bad.bin' });
  });

  it('an upload over IMPORT_MAX_BYTES is announced by its Content-Length is refused with 413, and nothing is stored', async () => {
    const before = await storedObjects();
    const rowsBefore = await stack.ctx.db.backup.count();
    // A plain script whose body keeps going past the limit.
    const big = Buffer.concat([dumps.plain.subarray(0, 2000), Buffer.alloc(MAX_BYTES + 1024 * 1024, '-- filler\n')]);
    const res = await upload(big, { filename: 'big.sql' });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 413, code: 'payload_too_large' });
    expect(res.body.error.message).toMatch(/IMPORT_MAX_BYTES/);
    expect(await stack.ctx.db.backup.count()).toBe(rowsBefore);
    expect(await storedObjects()).toEqual(before);
  });

  it('an upload over IMPORT_MAX_BYTES sent chunked (no Content-Length) is cut off at the limit, and nothing is stored', async () => {
    const before = await storedObjects();
    const rowsBefore = await stack.ctx.db.backup.count();
    const server = stack.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    let sent = 0;
    try {
      const answer = await new Promise<{ status: number; body: { error: { code: string; message: string } } }>((done, fail) => {
        const req = http.request(
          { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/api/imports?filename=big.sql', method: 'POST', headers: { Authorization: `Bearer ${stack.adminToken}`, 'Content-Type': 'application/octet-stream' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => done({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          },
        );
        req.on('error', fail);
        const filler = Buffer.alloc(1024 * 1024, '-- filler\n');
        const body = new Readable({
          read() {
            // Twice the limit, unless the API stops reading first.
            if (sent === 0) this.push(dumps.plain.subarray(0, 2000));
            sent += filler.length;
            this.push(sent > 2 * MAX_BYTES ? null : filler);
          },
        });
        body.pipe(req);
      });
      expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status: 413, code: 'payload_too_large' });
      expect(answer.body.error.message).toMatch(/larger than IMPORT_MAX_BYTES \(\d+ bytes\): nothing was stored/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(await stack.ctx.db.backup.count()).toBe(rowsBefore);
    expect(await storedObjects()).toEqual(before);
  });

  it('a JSON body is refused with 415 and a sentence', async () => {
    const res = await request(stack.app).post('/api/imports').set('Authorization', `Bearer ${stack.adminToken}`).send({ file: 'x' });
    expect(res.status).toBe(415);
    expect(res.body.error.message).toMatch(/application\/octet-stream/);
  });
});

function binary(res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}
