// Secrets at the edges. A password in a source URL's query (?password=) is masked like the one before
// the @, in the answers and in the stored masked copy; parameters that make PostgreSQL's tools read
// files of the worker's machine are refused with a sentence. The passfile of a worker killed with
// SIGKILL stays on that worker's machine, in a directory only its user can open (never under
// BACKUP_DIR, which may be shared storage), and the next worker to start there removes it. The web
// UI's source map is not served to anonymous visitors.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '@coffre/api';
import { filesUnder } from '../support/artifact-audit.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { startWorkerProcess } from '../support/worker-process.js';

let stack: TestStack;
let admin: { Authorization: string };
let scratch: string;
const SECRET = 'qry-Pw-81f3a9';

beforeAll(async () => {
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  scratch = await mkdtemp(join(tmpdir(), 'coffre-edges-'));
});

afterAll(async () => {
  await stack?.close();
  await rm(scratch, { recursive: true, force: true });
});

const sourceUrl = (query: string) => `${stack.env.SOURCE_DATABASE_URL}${query}`;

describe('a source URL', () => {
  it('shows no query value, ?password= included, to anyone, and stores none in the masked copy', async () => {
    const created = await request(stack.app).post('/api/sources').set(admin).send({ name: 'query-password', url: sourceUrl(`?password=${SECRET}&sslmode=disable&application_name=${SECRET}x`) });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(`${stack.env.SOURCE_DATABASE_URL}?password=***&sslmode=***&application_name=***`);
    const viewer = await stack.token('viewer');
    const seen = [
      JSON.stringify((await request(stack.app).get('/api/sources').set('Authorization', `Bearer ${viewer}`)).body),
      JSON.stringify((await request(stack.app).get(`/api/sources/${created.body.id}`).set('Authorization', `Bearer ${viewer}`)).body),
      JSON.stringify(await stack.ctx.db.source.findUniqueOrThrow({ where: { id: created.body.id }, select: { urlMasked: true } })),
    ];
    expect(seen.filter((text) => text.includes(SECRET))).toEqual([]);
    // And it is a password all the same: coffre's tools get it (through a passfile).
    expect(stack.ctx.secrets.open((await stack.ctx.db.source.findUniqueOrThrow({ where: { id: created.body.id } })).urlEncrypted)).toContain(SECRET);
  });

  it.each([
    ['passfile', '/root/.pgpass'],
    ['service', 'prod'],
    ['sslkey', '/etc/ssl/private/server.key'],
    ['options', '-c log_statement=all'],
    ['sslrootcert', '/etc/shadow'],
    ['PassFile', '/root/.pgpass'],
  ])('refuses the %s parameter with a sentence naming it', async (key, value) => {
    const res = await request(stack.app).post('/api/sources').set(admin).send({ name: `with-${key}`, url: sourceUrl(`?sslmode=disable&${key}=${encodeURIComponent(value)}`) });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(new RegExp(`^url: The database URL's "${key}" parameter is not accepted: .{20,}\\.$`)) });
    expect(await stack.ctx.db.source.count({ where: { name: `with-${key}` } })).toBe(0);
  });
});

describe('the passfile of a worker killed with SIGKILL', () => {
  it('lived in a private directory of its machine, not under BACKUP_DIR, and the next worker there removes it', async () => {
    const machineTmp = join(scratch, 'machine-tmp');
    await mkdir(machineTmp);
    const source = await request(stack.app).post('/api/sources').set(admin).send({ name: 'with-password', url: stack.env.SOURCE_DATABASE_URL!.replace('postgres@', 'postgres:pgpass-test-pw@') });
    expect(source.status).toBe(201);
    const victim = await startWorkerProcess(stack, { TMPDIR: machineTmp, COFFRE_FAILPOINTS: 'storage.before-rename=120000', WORKER_CONCURRENCY: '1' });
    const created = await request(stack.app).post('/api/backups').set(admin).send({ sourceId: source.body.id });
    expect(created.status).toBe(202);
    // pg_dump has run and its artifact waits to be published: the passfile is in place.
    await victim.failpoint(1);

    const shared = (await filesUnder(stack.config.BACKUP_DIR)).filter((f) => /pgpass|secret-/.test(f));
    const own = join(machineTmp, `coffre-${process.getuid!()}`, `secrets-${victim.pid}`);
    const passfiles = await filesUnder(own);
    expect({ onSharedStorage: shared, passfiles: passfiles.length }).toEqual({ onSharedStorage: [], passfiles: 1 });
    expect({ dir: (await stat(own)).mode & 0o777, parent: (await stat(join(own, '..'))).mode & 0o777, file: (await stat(passfiles[0]!)).mode & 0o777 }).toEqual({ dir: 0o700, parent: 0o700, file: 0o600 });

    await victim.crash();
    expect(await filesUnder(own)).toHaveLength(1);
    const next = await startWorkerProcess(stack, { TMPDIR: machineTmp });
    try {
      await eventually(async () => (await stat(own).catch(() => null)) === null, 30_000, 'the dead worker’s passfile directory to be removed');
    } finally {
      await next.stop();
    }
  });
});

describe('the web UI’s source map', () => {
  it('is served to signed-in people only', async () => {
    const webRoot = join(scratch, 'web');
    await mkdir(join(webRoot, 'assets'), { recursive: true });
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><script src="/assets/index-abc.js"></script>');
    await writeFile(join(webRoot, 'assets', 'index-abc.js'), 'console.log(1);\n//# sourceMappingURL=index-abc.js.map');
    await writeFile(join(webRoot, 'assets', 'index-abc.js.map'), '{"version":3,"sources":["../src/App.tsx"],"sourcesContent":["secret source"]}');
    const app = createApp(stack.ctx, { webRoot });

    const anonymous = await request(app).get('/assets/index-abc.js.map');
    expect({ status: anonymous.status, leaked: anonymous.text.includes('sourcesContent') }).toEqual({ status: 401, leaked: false });
    expect((await request(app).get('/assets/INDEX-ABC.JS.MAP')).status).toBe(401);
    expect((await request(app).get('/assets/index-abc.js')).status).toBe(200);
    const signedIn = await request(app).get('/assets/index-abc.js.map').set(admin);
    expect({ status: signedIn.status, body: signedIn.text.includes('sourcesContent') }).toEqual({ status: 200, body: true });
  });
});
