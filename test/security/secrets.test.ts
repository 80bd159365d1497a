// A source password, end to end through the running service: registered through the API, used by
// a worker process for a backup, a safety backup, a restore and a verification against a private
// PostgreSQL that demands it. It must never appear in any process's argv or environment, in any log
// line, in the job data (every key of the test's queue prefix in Redis), in Bull Board's JSON, in any
// API response or audit event, in the files beside the artifacts, or in clear in coffre's own database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import request from 'supertest';
import { Redis } from 'ioredis';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { scanProcessesUntil, type ProcessView } from '../support/processes.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { filesUnder } from '../support/artifact-audit.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/** A token of this run inside every form of the password (raw, percent-encoded), so any copy shows. */
const TOKEN = `zq${randomBytes(6).toString('hex')}xj`;
const PASSWORD = `${TOKEN} é:@/?#%'"\`$(id);\\`;
const WRONG = `wr${randomBytes(6).toString('hex')}ng:@/`;
const USER = 'coffre_reader';
const DATABASE = 'coffre_secret_src';

let server: PrivatePostgres;
let stack: TestStack;
let worker: WorkerProcess;
let auth: { Authorization: string };
let sourceId: string;
const responses: string[] = [];
const leaks: string[] = [];
const figures = { processScans: 0, processesSeen: 0, redisKeys: 0, responsesChecked: 0, logLines: 0 };

const forms = (secret: string) => [secret, encodeURIComponent(secret), secret.slice(0, 14)];

function check(where: string, text: string) {
  for (const secret of [...forms(PASSWORD), ...forms(WRONG)]) if (text.includes(secret)) leaks.push(`${where}: ${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 100)}`);
}

const pids = new Set<number>();
/** pg_dump and pg_restore processes caught talking to the private server: the scan did see the tools. */
const toolsSeen = new Set<number>();
function visit(p: ProcessView) {
  pids.add(p.pid);
  const program = p.cmdline.split('\0')[0] ?? '';
  if (/\/pg_(dump|restore)$/.test(program) && p.cmdline.includes(`port='${server.port}'`)) toolsSeen.add(p.pid);
  check(`argv of ${p.pid}`, p.cmdline);
  check(`environment of ${p.pid} (${p.cmdline.split('\0')[0]})`, p.environ);
}

/** Runs an API call or a wait while every process of the machine is watched. */
async function watched<T>(work: Promise<T>): Promise<T> {
  figures.processScans += await scanProcessesUntil(work, visit);
  return work;
}

async function api(method: 'get' | 'post' | 'put', path: string, body?: object) {
  const res = await request(stack.app)[method](path).set(auth).send(body);
  responses.push(`${method} ${path} → ${res.status} ${res.text}`);
  return res;
}

async function finished(path: string) {
  return eventually(async () => {
    const res = await api('get', path);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 120_000, path);
}

beforeAll(async () => {
  server = await startPrivatePostgres();
  await server.query(`CREATE ROLE ${USER} LOGIN CREATEDB PASSWORD ${pg.escapeLiteral(PASSWORD)}`);
  await server.query(`CREATE DATABASE ${DATABASE} OWNER ${USER}`);
  const client = new pg.Client({ host: server.host, port: server.port, user: USER, password: PASSWORD, database: DATABASE });
  await client.connect();
  await client.query("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || repeat(md5((g * 7)::text), 3) AS body FROM generate_series(1, 300000) g");
  await client.end();
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  worker = await startWorkerProcess(stack);
}, 180_000);

afterAll(async () => {
  console.info(`secrets: ${JSON.stringify({ ...figures, processesSeen: pids.size, toolsSeen: toolsSeen.size, leaks: leaks.length })}`);
  await worker?.stop();
  await stack?.close();
  await server?.stop();
});

describe('a source password', () => {
  it('is accepted through the API and shown masked', async () => {
    const created = await api('post', '/api/sources', { name: 'secret', url: server.url(USER, PASSWORD, DATABASE) });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(`postgresql://${USER}:***@127.0.0.1:${server.port}/${DATABASE}`);
    sourceId = created.body.id;
    // A bad URL carrying the password gets a sentence that does not repeat it.
    const bad = await api('post', '/api/sources', { name: 'secret-bad', url: `postgresql://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:99999/${DATABASE}` });
    expect(bad.status).toBe(400);
    const stray = await api('post', '/api/sources', { name: 'secret-stray', url: `postgresql://${USER}:${TOKEN}%zz@127.0.0.1:${server.port}/${DATABASE}` });
    expect(stray.status).toBe(400);
  });

  it('backs up, restores (over the database: loaded beside it and swapped, the replaced one kept) and verifies with nothing leaking into any process', async () => {
    const created = await api('post', '/api/backups', { sourceId });
    expect(created.status).toBe(202);
    const backup = await watched(finished(`/api/backups/${created.body.id}`));
    expect({ status: backup.status, error: backup.errorMessage }).toEqual({ status: 'completed', error: null });

    const intoNew = await api('post', `/api/backups/${backup.id}/restore`, { targetDatabase: 'coffre_secret_copy', confirm: backup.name });
    expect(intoNew.status).toBe(202);
    expect((await watched(finished(`/api/restores/${intoNew.body.id}`))).status).toBe('completed');
    const inPlace = await api('post', `/api/backups/${backup.id}/restore`, { confirm: backup.name });
    expect(inPlace.status).toBe(202);
    const restored = await watched(finished(`/api/restores/${inPlace.body.id}`));
    // The replaced database is kept (swap), or, where the role may not swap, a safety backup was taken first.
    expect({ status: restored.status, kept: typeof (restored.keptDatabase ?? restored.safetyBackupId) }).toEqual({ status: 'completed', kept: 'string' });

    const verify = await api('post', `/api/backups/${backup.id}/verify`);
    const verification = await watched(finished(`/api/verifications/${verify.body.id}`));
    expect({ status: verification.status, result: verification.result }).toEqual({ status: 'completed', result: 'passed' });
    expect(figures.processScans).toBeGreaterThan(10);
    // The backup, two restores and the verification each ran a tool the scan caught.
    expect(toolsSeen.size).toBeGreaterThanOrEqual(4);
    expect(leaks).toEqual([]);
  });

  it('a wrong password fails the backup with a sentence that does not repeat it', async () => {
    const wrong = await api('post', '/api/sources', { name: 'secret-wrong', url: server.url(USER, WRONG, DATABASE) });
    expect(wrong.status).toBe(201);
    const created = await api('post', '/api/backups', { sourceId: wrong.body.id });
    const backup = await watched(finished(`/api/backups/${created.body.id}`));
    expect(backup.status).toBe('failed');
    expect(backup.errorMessage).toMatch(new RegExp(`refused the credentials of user "${USER}"|password authentication failed for user "${USER}"`));
    expect(leaks).toEqual([]);
  });
});

describe('where the password must not be', () => {
  it('in any API response, including lists, details, logs of runs and the audit log', async () => {
    for (const path of ['/api/sources', `/api/sources/${sourceId}`, '/api/backups?pageSize=100', '/api/restores', '/api/verifications', '/api/audit', '/api/backups/stats']) {
      expect((await api('get', path)).status).toBe(200);
    }
    const backups = await api('get', '/api/backups?pageSize=100');
    for (const item of backups.body.items as { id: string }[]) await api('get', `/api/backups/${item.id}`);
    const tested = await api('post', `/api/sources/${sourceId}/test`);
    expect(tested.status).toBe(200);
    const updated = await api('put', `/api/sources/${sourceId}`, { url: server.url(USER, PASSWORD, DATABASE) });
    expect(updated.status).toBe(200);
    figures.responsesChecked = responses.length;
    for (const response of responses) check('API response', response);
    expect(leaks).toEqual([]);
  });

  it("in Bull Board's JSON", async () => {
    for (const query of ['', '?activeQueue=backup&status=completed', '?activeQueue=backup&status=failed', '?activeQueue=restore&status=completed', '?activeQueue=restore&status=latest']) {
      const res = await request(stack.app).get(`/admin/queues/api/queues${query}`).set(auth);
      expect(res.status).toBe(200);
      check(`Bull Board ${query}`, res.text);
    }
    expect(leaks).toEqual([]);
  });

  it('in the job data: every key of the queue prefix in Redis', async () => {
    const redis = new Redis(stack.config.REDIS_URL);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${stack.config.QUEUE_PREFIX}:*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          figures.redisKeys += 1;
          check(`Redis key ${key}`, key);
          check(`Redis value of ${key}`, await redisValue(redis, key));
        }
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    expect(figures.redisKeys).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });

  it('in the logs of the API and of the worker process', () => {
    figures.logLines = stack.logs.join('').split('\n').length;
    check('logs', stack.logs.join(''));
    check('worker output', worker.output());
    expect(figures.logLines).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });

  it('in the audit table, or anywhere in clear in coffre’s own database', async () => {
    check('audit events', JSON.stringify(await stack.ctx.db.auditEvent.findMany(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    const dump = execFileSync('pg_dump', ['--data-only', `--dbname=${stack.config.DATABASE_URL}`], { encoding: 'utf8', maxBuffer: 256 << 20 });
    check('coffre database', dump);
    expect(dump).toContain(`${USER}:***@`);
    expect(leaks).toEqual([]);
  });

  it('in the files beside the artifacts, and no passfile is left behind', async () => {
    const files = await filesUnder(stack.config.BACKUP_DIR);
    for (const file of files.filter((f) => /manifest\.json$|RESTORE\.md$/.test(f))) check(file, await readFile(file, 'utf8'));
    expect(files.filter((f) => f.includes('pgpass'))).toEqual([]);
    expect(existsSync(stack.config.TMP_DIR) ? (await filesUnder(stack.config.TMP_DIR)).filter((f) => f.includes('pgpass')) : []).toEqual([]);
    expect(leaks).toEqual([]);
  });
});

async function redisValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, '-1', 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
