// GET /api/health needs no token, so anyone can call it as often as they like: it must not do real
// work per request. Anonymous callers get a cached status only; the details (storage written to,
// pg_dump run) need a token and are computed at most every 30 s. Storage writes are counted in the
// local destination's folder of temporaries and at an S3 server; processes at child_process itself.
import childProcess from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_DIR_NAME } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../support/s3.js';

const REQUESTS = 1000;
const PARALLEL = 50;

let stack: TestStack;
let s3: S3Server;
let token: string;
let spawned = 0;
const restoreChildProcess: (() => void)[] = [];

/** Counts every process this process starts, whichever child_process function starts it. */
function countSpawns() {
  for (const name of ['spawn', 'execFile', 'exec', 'fork', 'spawnSync', 'execFileSync', 'execSync'] as const) {
    const original = childProcess[name] as (...args: unknown[]) => unknown;
    (childProcess as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      spawned += 1;
      return original.apply(childProcess, args);
    };
    restoreChildProcess.push(() => ((childProcess as unknown as Record<string, unknown>)[name] = original));
  }
  // Modules that imported { spawn } see the counting functions too.
  syncBuiltinESMExports();
}

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('health-probe');
  stack = await createTestStack();
  token = await stack.token('viewer');
  const admin = { Authorization: `Bearer ${stack.adminToken}` };
  await request(stack.app)
    .post('/api/destinations')
    .set(admin)
    .send({ name: 'offsite', kind: 's3', endpoint: s3.endpoint, bucket: 'health-probe', accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true })
    .expect(201);
  countSpawns();
});

afterAll(async () => {
  restoreChildProcess.forEach((restore) => restore());
  syncBuiltinESMExports();
  await stack?.close();
  await s3?.stop();
});

/** Entries created or removed in the local destination's folder of temporaries, where write probes go. */
async function watchTemporaries(): Promise<{ events: () => number; settle: () => Promise<void>; close: () => void }> {
  const folder = join(stack.config.BACKUP_DIR, TEMP_DIR_NAME);
  await mkdir(folder, { recursive: true });
  const names: string[] = [];
  const watcher: FSWatcher = watch(folder, (_event, name) => names.push(String(name)));
  let marks = 0;
  return {
    events: () => names.filter((n) => !n.startsWith('mark-')).length,
    // A file of our own, seen by the watcher: every event before it has been delivered.
    async settle() {
      const mark = `mark-${(marks += 1)}`;
      await writeFile(join(folder, mark), '');
      await eventually(async () => names.includes(mark), 5_000, 'the watcher to see its mark');
    },
    close: () => watcher.close(),
  };
}

const writesAtS3 = async () => {
  const methods = await s3.requestsByMethod();
  return (methods.PUT ?? 0) + (methods.POST ?? 0) + (methods.DELETE ?? 0);
};

describe('GET /api/health', () => {
  it('with a token, details the checks (a positive control: the probes write, pg_dump runs)', async () => {
    const watcher = await watchTemporaries();
    try {
      const [spawnsBefore, s3Before] = [spawned, await writesAtS3()];
      const res = await request(stack.app).get('/api/health').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.checks.storage).toMatchObject({ ok: true, message: '2 destination(s) writable' });
      expect(res.body.checks.pgDump.ok).toBe(true);
      expect(res.body.workers).toEqual({ alive: 0, items: [] });
      await watcher.settle();
      expect(watcher.events()).toBeGreaterThan(0);
      expect(await writesAtS3()).toBeGreaterThan(s3Before);
      expect(spawned).toBeGreaterThan(spawnsBefore);
    } finally {
      watcher.close();
    }
  });

  it(`${REQUESTS} anonymous requests, ${PARALLEL} at a time, get a cached status only: no storage write, no process started`, async () => {
    const watcher = await watchTemporaries();
    try {
      const [spawnsBefore, s3Before] = [spawned, await writesAtS3()];
      const bodies: unknown[] = [];
      for (let sent = 0; sent < REQUESTS; sent += PARALLEL) {
        const answers = await Promise.all(Array.from({ length: PARALLEL }, () => request(stack.app).get('/api/health')));
        for (const answer of answers) {
          expect(answer.status).toBe(200);
          bodies.push(answer.body);
        }
      }
      expect(bodies).toEqual(Array(REQUESTS).fill({ status: 'ok' }));
      await watcher.settle();
      expect({ localWrites: watcher.events(), s3Writes: (await writesAtS3()) - s3Before, processes: spawned - spawnsBefore }).toEqual({ localWrites: 0, s3Writes: 0, processes: 0 });
    } finally {
      watcher.close();
    }
  });

  it('with a token, the details are reused for 30 s: repeated requests write and start nothing more', async () => {
    const watcher = await watchTemporaries();
    try {
      const [spawnsBefore, s3Before] = [spawned, await writesAtS3()];
      for (let i = 0; i < 20; i++) expect((await request(stack.app).get('/api/health').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      await watcher.settle();
      expect({ localWrites: watcher.events(), s3Writes: (await writesAtS3()) - s3Before, processes: spawned - spawnsBefore }).toEqual({ localWrites: 0, s3Writes: 0, processes: 0 });
    } finally {
      watcher.close();
    }
  });

  it('GET /api/workers lists the workers alive to a viewer, and nobody without a token', async () => {
    expect((await request(stack.app).get('/api/workers')).status).toBe(401);
    const workers = stack.startWorkers();
    try {
      const res = await request(stack.app).get('/api/workers').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0]).toMatchObject({ pid: process.pid, queues: ['backup', 'restore', 'maintenance', 'notifications', 'wal'] });
    } finally {
      await workers.close(5000);
    }
    expect((await request(stack.app).get('/api/workers').set('Authorization', `Bearer ${token}`)).body.items).toEqual([]);
  });

  it('a wrong token is refused rather than treated as anonymous', async () => {
    const res = await request(stack.app).get('/api/health').set('Authorization', 'Bearer cof_not-a-real-token');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});
