// coffre doctor against real things: a Redis that is down, a private Redis with an eviction policy,
// a small tmpfs filled past 80 % and 95 %, temporaries left behind, schedulers out of step, an
// overdue configuration; --fix repairs what is safe; --json validates against the published schema.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, deleteChannel, listChannels, testChannel, createConfiguration, systemActor } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { mountTmpfs } from '../../../test/support/tmpfs.js';
import { deadPort, startHttpReceiver } from '../../../test/support/receivers.js';
import { privateHome, removePrivateHomes, runCli } from './support/cli.js';
import { validate } from './support/json-schema.js';

interface Check {
  id: string;
  subject: string | null;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix: string | null;
  fixed: string | null;
  details: Record<string, unknown>;
}
interface Report {
  status: string;
  checks: Check[];
}

let stack: TestStack;
let home: string;
let schema: Record<string, unknown>;

beforeAll(async () => {
  stack = await createTestStack();
  home = privateHome();
  schema = JSON.parse(await readFile(resolve('services/cli/doctor.schema.json'), 'utf8'));
});

afterAll(async () => {
  removePrivateHomes();
  await stack?.close();
});

async function doctor(args: string[] = [], extraEnv: Record<string, string> = {}) {
  const result = await runCli(['doctor', '--json', ...args], { env: { ...stack.env, HOME: home, ...extraEnv } });
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${result.code}): ${result.stderr}`);
  }
  expect(validate(schema, report)).toEqual([]);
  const check = (id: string, subject?: string) => {
    const found = report.checks.find((c) => c.id === id && (subject === undefined || c.subject === subject));
    if (!found) throw new Error(`no ${id} check in ${JSON.stringify(report.checks.map((c) => c.id))}`);
    return found;
  };
  return { code: result.code, report, check, stderr: result.stderr };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('coffre doctor', () => {
  it('on a healthy coffre every check is OK after --fix, and the report validates against the published schema', async () => {
    await doctor(['--fix']); // the maintenance scheduler is only made by workers at start
    // A healthy coffre has a worker: its heartbeat is what the workers check looks for.
    const workers = stack.startWorkers();
    const { code, report, check } = await doctor().finally(() => workers.close(5000));
    expect(code).toBe(0);
    for (const id of ['database', 'migrations', 'redis', 'redis-eviction', 'workers', 'pg-tools', 'backup-directory', 'stuck-runs', 'stale-temporaries', 'schedulers', 'last-backups']) {
      expect(check(id).status, `${id}: ${check(id).message}`).toBe('ok');
    }
    expect(check('workers').message).toMatch(/^1 worker\(s\) alive: \S+ pid \d+\.$/);
    expect(check('migrations').message).toMatch(/up to date/);
    expect(check('pg-tools', 'default').message).toMatch(/pg_dump 1\d.*pg_restore 1\d/);
    expect(['ok', 'warn']).toContain(check('disk-usage', 'local').status);
    expect(report.checks.every((c) => c.fixed === null)).toBe(true);
  });

  it('publishes the schema it validates against: doctor.schema.json is what coffre doctor --schema prints', async () => {
    const printed = await runCli(['doctor', '--schema']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(schema);
    // The validator is strict: a report missing a field, or with a wrong status, does not pass.
    expect(validate(schema, { status: 'ok', checkedAt: 'x', fix: false, summary: { ok: 0, warn: 0, fail: 0, skip: 0 }, checks: [{ id: 'x', status: 'fine' }] })).not.toEqual([]);
  });

  it('reports FAIL for a Redis that does not answer, skips what needs it, and exits 1', async () => {
    const { code, report, check } = await doctor([], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(code).toBe(1);
    expect(report.status).toBe('fail');
    expect(check('redis').status).toBe('fail');
    expect(check('redis').fix).toMatch(/REDIS_URL/);
    expect(check('redis-eviction').status).toBe('skip');
    expect(check('schedulers').status).toBe('skip');
    expect(check('database').status).toBe('ok');
    const human = await runCli(['doctor'], { env: { ...stack.env, HOME: home, REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAIL\s+Redis\s+Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer\./m);
    expect(human.stdout).toMatch(/fix: Start Redis/);
  });

  describe('with a private Redis whose policy evicts', () => {
    let server: ChildProcess;
    let url: string;

    beforeAll(async () => {
      const port = await freePort();
      const dir = join(stack.dir, 'redis');
      await mkdir(dir, { recursive: true });
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
      url = `redis://127.0.0.1:${port}`;
      await eventually(async () => {
        const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      }, 10_000, 'the private redis-server to answer');
    });

    afterAll(() => {
      server?.kill('SIGTERM');
    });

    it('warns about allkeys-lru, and --fix sets noeviction, saying that it does not persist', async () => {
      const before = await doctor([], { REDIS_URL: url });
      expect(before.check('redis-eviction').status).toBe('warn');
      expect(before.check('redis-eviction').message).toMatch(/allkeys-lru/);
      const human = await runCli(['doctor'], { env: { ...stack.env, HOME: home, REDIS_URL: url } });
      expect(human.stdout).toMatch(/^WARN\s+Redis eviction policy\s+maxmemory-policy is allkeys-lru/m);

      const fixed = await doctor(['--fix'], { REDIS_URL: url });
      expect(fixed.check('redis-eviction').status).toBe('ok');
      expect(fixed.check('redis-eviction').fixed).toMatch(/does not persist across a Redis restart/);
      const redis = new Redis(url);
      try {
        expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      } finally {
        redis.disconnect();
      }
    });
  });

  it('warns above 80 % disk use of a backup directory and fails above 95 %', async () => {
    const tmpfs = await mountTmpfs(2 * 1024 * 1024);
    const destination = await stack.ctx.db.destination.create({ data: { name: 'small-disk', kind: 'local', config: { path: tmpfs.dir }, isDefault: false } });
    try {
      await writeFile(join(tmpfs.dir, 'filler-1'), Buffer.alloc(1_750_000));
      const warned = await doctor();
      const disk = warned.check('disk-usage', 'small-disk');
      expect(disk.status, disk.message).toBe('warn');
      expect(disk.details.usedPercent as number).toBeGreaterThan(80);
      expect(disk.details.usedPercent as number).toBeLessThanOrEqual(95);
      expect(disk.fix).toMatch(/retention/);

      await writeFile(join(tmpfs.dir, 'filler-2'), Buffer.alloc(300_000));
      const failed = await doctor();
      expect(failed.check('disk-usage', 'small-disk').status).toBe('fail');
      expect(failed.code).toBe(1);
    } finally {
      await stack.ctx.db.destination.delete({ where: { id: destination.id } });
      await tmpfs.unmount();
    }
  });

  it('warns about temporary files older than 6 h, and --fix removes those only', async () => {
    const tmp = join(stack.config.BACKUP_DIR, '.tmp');
    await mkdir(tmp, { recursive: true });
    const old = join(tmp, 'dead-run.part');
    const fresh = join(tmp, 'running.part');
    await writeFile(old, Buffer.alloc(4096));
    await writeFile(fresh, Buffer.alloc(10));
    const sevenHoursAgo = new Date(Date.now() - 7 * 3600_000);
    await utimes(old, sevenHoursAgo, sevenHoursAgo);

    const found = await doctor();
    expect(found.check('stale-temporaries').status).toBe('warn');
    expect(found.check('stale-temporaries').details.files).toEqual([old]);
    const fixed = await doctor(['--fix']);
    expect(fixed.check('stale-temporaries').status).toBe('ok');
    expect(fixed.check('stale-temporaries').fixed).toMatch(/removed 1 stale temporary file/);
    await expect(stat(old)).rejects.toThrow();
    expect((await stat(fresh)).size).toBe(10);
  });

  it('fails when an active scheduled configuration has no scheduler, and --fix re-syncs it', async () => {
    const configuration = await createConfiguration(
      stack.ctx,
      { name: 'doctor-nightly', sourceId: (await stack.ctx.db.source.findFirstOrThrow()).id, schedule: { kind: 'daily', time: '02:00' } },
      systemActor,
    );
    const backups = stack.ctx.queues.queue('backup');
    await backups.removeJobScheduler(`configuration-${configuration.id}`);

    const broken = await doctor();
    expect(broken.code).toBe(1);
    expect(broken.check('schedulers').status).toBe('fail');
    expect(broken.check('schedulers').message).toContain('"doctor-nightly"');
    const fixed = await doctor(['--fix']);
    expect(fixed.check('schedulers').status).toBe('ok');
    expect(fixed.check('schedulers').fixed).toMatch(/re-synced/);
    expect((await backups.getJobSchedulers(0, -1)).map((s) => s.key)).toContain(`configuration-${configuration.id}`);
  });

  it('warns when a scheduled configuration is overdue', async () => {
    const configuration = await stack.ctx.db.backupConfiguration.findUniqueOrThrow({ where: { name: 'doctor-nightly' } });
    await stack.ctx.db.backupConfiguration.update({ where: { id: configuration.id }, data: { createdAt: new Date(Date.now() - 3 * 86_400_000) } });
    const { check } = await doctor();
    const last = check('last-backups', 'doctor-nightly');
    expect(last.status).toBe('warn');
    expect(last.message).toMatch(/^Overdue: it has never completed a backup/);
    expect(last.fix).toContain('coffre config run "doctor-nightly"');
  });
});

describe('coffre doctor: last backups', () => {
  const sourceId = async () => (await stack.ctx.db.source.findFirstOrThrow()).id;
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);

  /** A daily configuration created `hours` ago, with history rows of the given statuses and ages. */
  async function daily(name: string, hours: number, rows: { status: 'completed' | 'failed'; hoursAgo: number; deleted?: boolean }[]) {
    const configuration = await createConfiguration(stack.ctx, { name, sourceId: await sourceId(), schedule: { kind: 'daily', time: '02:00' } }, systemActor);
    await stack.ctx.db.backupConfiguration.update({ where: { id: configuration.id }, data: { createdAt: hoursAgo(hours) } });
    for (const row of rows) {
      const at = hoursAgo(row.hoursAgo);
      await stack.ctx.db.backup.create({
        data: {
          name: `${name}-${row.hoursAgo}`,
          type: 'full',
          status: row.status,
          trigger: 'schedule',
          sourceId: configuration.sourceId,
          sourceName: 'default',
          configurationId: configuration.id,
          createdAt: at,
          completedAt: at,
          deletedAt: row.deleted ? at : null,
          errorMessage: row.status === 'failed' ? 'pg_dump: error: connection refused.' : null,
        },
      });
    }
    return configuration;
  }

  it('calls a daily configuration whose every run failed failing (and overdue a day and a grace after its creation), as the dashboard does', async () => {
    await daily('all-failed', 27, [{ status: 'failed', hoursAgo: 20 }, { status: 'failed', hoursAgo: 1 }]);
    const result = await doctor();
    const last = result.check('last-backups', 'all-failed');
    expect(last.status).toBe('fail');
    expect(last.message).toMatch(/^Failing: its newest run failed; it has never completed a backup.*, and it is overdue\.$/);
    expect(result.code).toBe(1);
  });

  it('calls a configuration whose only runs failed failing, even before it is overdue, never on time', async () => {
    await daily('failing-young', 10, [{ status: 'failed', hoursAgo: 1 }]);
    const last = (await doctor()).check('last-backups', 'failing-young');
    expect(last.status).toBe('fail');
    expect(last.message).toMatch(/^Failing: its newest run failed; it has never completed a backup/);
    expect(last.message).not.toMatch(/On time/);
  });

  it('does not count a backup whose artifacts were deleted: a configuration kept alive only by it is overdue', async () => {
    await daily('deleted-only', 24 * 10, [{ status: 'completed', hoursAgo: 30 }, { status: 'completed', hoursAgo: 2, deleted: true }]);
    const last = (await doctor()).check('last-backups', 'deleted-only');
    expect(last.status).toBe('warn');
    expect(last.message).toMatch(/^Overdue: the last successful backup still kept was 1 d ago/);
  });

  it('says that no worker is alive, and fails while configurations are scheduled', async () => {
    const workers = (await doctor()).check('workers');
    expect(workers.status).toBe('fail');
    expect(workers.message).toMatch(/^No worker is alive \(none has sent a heartbeat in the last \d+ s\)/);
    expect(workers.fix).toMatch(/pnpm worker/);
  });
  it('checks each notification channel that is on, the new kinds too: its server reachable, its last delivery', async () => {
    const receiver = await startHttpReceiver();
    const dead = await deadPort();
    const botToken = '7012345678:AAHk3v9-Qx_DOCTORtokenDOCTOR12345678';
    const ntfyTopic = 'coffre-doctor-Zq81x';
    // Gotify refuses the application token; the others take what they are sent.
    receiver.respond = (req) => (req.path.startsWith('/gotify') ? { status: 401, body: '{"error":"Unauthorized","errorCode":401}' } : { status: 200, body: '{"ok":true}' });
    const inputs = [
      { name: 'doc-telegram', kind: 'telegram', botToken, chatId: '-1001234567890', apiUrl: receiver.url('/telegram') },
      { name: 'doc-teams', kind: 'teams', url: receiver.url('/workflows/8c1f/triggers/manual/paths/invoke?sig=doctor-teams-sig') },
      { name: 'doc-mattermost', kind: 'mattermost', url: receiver.url('/hooks/doctor-mm-key') },
      { name: 'doc-ntfy', kind: 'ntfy', url: `http://127.0.0.1:${dead}`, topic: ntfyTopic },
      { name: 'doc-gotify', kind: 'gotify', url: receiver.url('/gotify/'), appToken: 'AqWz.Doctor_app-7Kp' },
      { name: 'doc-off', kind: 'teams', url: `http://127.0.0.1:${dead}/off`, enabled: false },
    ] as const;
    try {
      const made = new Map<string, string>();
      for (const input of inputs) made.set(input.name, (await createChannel(stack.ctx, { events: ['backup.failed'], ...input } as Parameters<typeof createChannel>[1], systemActor)).id);
      expect((await testChannel(stack.ctx, made.get('doc-telegram')!, systemActor)).status).toBe('delivered');
      expect((await testChannel(stack.ctx, made.get('doc-gotify')!, systemActor)).status).toBe('failed');

      const { code, report, check } = await doctor();
      const endpoint = `127.0.0.1:${receiver.port}`;
      const telegram = check('notification-channel', 'doc-telegram');
      expect({ status: telegram.status, details: telegram.details }).toMatchObject({ status: 'ok', details: { kind: 'telegram', endpoint, lastEvent: 'test', lastStatus: 'delivered' } });
      expect(telegram.message).toMatch(new RegExp(`^${endpoint} takes connections; the last notification \\(test\\) was delivered at \\d{4}-`));
      for (const name of ['doc-teams', 'doc-mattermost']) {
        expect(check('notification-channel', name)).toMatchObject({ status: 'ok', message: `${endpoint} takes connections; the channel has sent nothing yet.` });
      }
      const gotify = check('notification-channel', 'doc-gotify');
      expect(gotify.status).toBe('warn');
      expect(gotify.message).toMatch(new RegExp(`^${endpoint} takes connections, but the last notification \\(test, .+\\) failed after 1 attempt\\(s\\): .*401`));
      expect(gotify.fix).toMatch(/coffre channel test doc-gotify/);
      const ntfy = check('notification-channel', 'doc-ntfy');
      expect(ntfy.status).toBe('fail');
      expect(ntfy.message).toMatch(new RegExp(`^The ntfy channel's server 127\\.0\\.0\\.1:${dead} cannot be reached from here: .*ECONNREFUSED`));
      expect(code).toBe(1);
      // A channel that is off is not checked; no secret of a channel (token, topic, URL path) is in the report.
      expect(report.checks.some((c) => c.subject === 'doc-off')).toBe(false);
      const text = JSON.stringify(report);
      for (const secret of [botToken, ntfyTopic, 'doctor-teams-sig', 'doctor-mm-key', 'AqWz.Doctor_app-7Kp']) expect(text).not.toContain(secret);
      // Nothing was posted by the doctor: the receiver saw the two tests only.
      expect(receiver.requests.length).toBe(2);
    } finally {
      for (const channel of await listChannels(stack.ctx)) if (channel.name.startsWith('doc-')) await deleteChannel(stack.ctx, channel.id, systemActor);
      await receiver.stop();
    }
  });
});
