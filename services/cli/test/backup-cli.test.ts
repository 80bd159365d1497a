// The built `coffre` against a real API and workers: backups taken, listed, shown, downloaded and
// checked, restored into a new database, refused restores, verifications, deletions, login.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, systemActor } from '@coffre/shared';
import { createDatabase, withClient } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { listen, privateHome, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;
let source: { name: string; url: string };
let env: Record<string, string>;
const dropAfter: string[] = [];
const scratchDirs: string[] = [];

async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  source = await createDatabase('coffre_cli_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  api = await listen(stack);
  env = { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken };
  stack.startWorkers({ concurrency: 2 });
});

afterAll(async () => {
  removePrivateHomes();
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
  for (const database of dropAfter) await withClient(source.url, (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  await api?.close();
  await stack?.close();
});

const coffre = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { env: { ...env, ...extra } });

/** A completed backup made through the CLI, as its JSON. */
async function completedBackup(name: string) {
  const result = await coffre(['backup', 'create', '--name', name, '--wait', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { id: string; name: string; status: string; sizeBytes: number; checksumSha256: string; trigger: string };
}

function targetUrl(database: string): string {
  const url = new URL(source.url);
  url.pathname = `/${database}`;
  return url.toString();
}

describe('coffre backup', () => {
  it('create --wait reports progress lines off a terminal and ends completed, recorded with trigger cli', async () => {
    const result = await coffre(['backup', 'create', '--name', 'cli-first', '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Backup "cli-first" requested/);
    expect(result.stderr).toMatch(/backup "cli-first": (pending|running)/);
    expect(result.stdout).toMatch(/Backup "cli-first" completed: [\d.]+ (KB|MB) in .+, \d+ tables, \d+ rows, sha256 [0-9a-f]{64}\./);
    const row = await stack.ctx.db.backup.findFirstOrThrow({ where: { name: 'cli-first' } });
    expect(row.status).toBe('completed');
    expect(row.trigger).toBe('cli');
  });

  it('create names the source by name, and an unknown source exits 3 without requesting anything', async () => {
    const before = await stack.ctx.db.backup.count();
    const unknown = await coffre(['backup', 'create', '--source', 'nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/There is no source "nope" \(sources: .*default/);
    expect(await stack.ctx.db.backup.count()).toBe(before);
    const named = await coffre(['backup', 'create', '--source', 'default', '--type', 'schema', '--name', 'cli-schema', '--json']);
    expect(named.code, named.stderr).toBe(0);
    const body = JSON.parse(named.stdout);
    expect(body.type).toBe('schema');
    expect(body.status).toBe('pending');
  });

  it('a backup that fails exits 1 with its reason; --json still prints the failed backup', async () => {
    const url = new URL(source.url);
    url.pathname = '/coffre_cli_no_such_database';
    await createSource(stack.ctx, { name: 'broken', url: url.toString() }, systemActor);
    const result = await coffre(['backup', 'create', '--source', 'broken', '--wait', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', sourceName: 'broken' });
    expect(result.stderr).toMatch(/failed: .*coffre_cli_no_such_database.* does not exist/);
  });

  it('list prints a table with human sizes and ages, and --json the API page', async () => {
    await completedBackup('cli-listed');
    const table = await coffre(['backup', 'list', '--status', 'completed']);
    expect(table.code, table.stderr).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.includes('cli-listed'))!;
    expect(line).toMatch(/completed/);
    expect(line).toMatch(/\d+(\.\d)? (KB|MB)/);
    expect(line).toMatch(/\d+ (s|min) ago/);
    expect(table.stdout).toMatch(/1–\d+ of \d+/);
    const json = await coffre(['backup', 'list', '--search', 'cli-listed', '--json']);
    const page = JSON.parse(json.stdout);
    expect(page.total).toBe(1);
    expect(page.items[0].name).toBe('cli-listed');
  });

  it('show finds a backup by name or id; an unknown one exits 3', async () => {
    const backup = await completedBackup('cli-shown');
    const byName = await coffre(['backup', 'show', 'cli-shown']);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toContain(backup.id);
    expect(byName.stdout).toMatch(/SHA-256:\s+[0-9a-f]{64}/);
    expect(byName.stdout).toMatch(/database\s.*database\.dump/);
    const byId = await coffre(['backup', 'show', backup.id, '--json']);
    expect(JSON.parse(byId.stdout).name).toBe('cli-shown');
    const missing = await coffre(['backup', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/was not found/);
  });

  it('download writes the artifact whose SHA-256 matches the backup, and leaves no temporary file', async () => {
    const backup = await completedBackup('cli-download');
    const dir = await scratchDir('coffre-dl-');
    const file = join(dir, 'dump.zst');
    const result = await coffre(['backup', 'download', backup.id, '-o', file]);
    expect(result.code, result.stderr).toBe(0);
    const bytes = await readFile(file);
    expect(bytes.length).toBe(backup.sizeBytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup.checksumSha256);
    expect(await readdir(dir)).toEqual(['dump.zst']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await coffre(['backup', 'download', backup.id, '-o', file]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('exists');
    // Without -o, the file takes the name the API gives, in the current directory.
    const manifest = await runCli(['backup', 'download', backup.id, '--artifact', 'manifest', '--json'], { env, cwd: dir });
    expect(manifest.code, manifest.stderr).toBe(0);
    expect(JSON.parse(manifest.stdout).file).toBe(join(dir, 'cli-download.json'));
    expect(JSON.parse(await readFile(join(dir, 'cli-download.json'), 'utf8')).objects).toBeDefined();
  });

  it('download refuses bytes that do not match X-Checksum-SHA256: exit 1 and nothing written', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const body = Buffer.from('these are not the bytes announced');
    const fake: Server = createServer((req, res) => {
      if (req.url === `/api/backups/${id}`) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id, name: 'tampered', status: 'completed' }));
      } else if (req.url?.startsWith(`/api/backups/${id}/download`)) {
        res.writeHead(200, { 'content-length': body.length, 'x-checksum-sha256': 'a'.repeat(64), 'content-disposition': 'attachment; filename="t.dump"' });
        res.end(body);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ready) => fake.listen(0, '127.0.0.1', () => ready()));
    try {
      const dir = await scratchDir('coffre-dl-bad-');
      const result = await runCli(['backup', 'download', id, '-o', join(dir, 'out.dump')], {
        env: { COFFRE_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, COFFRE_TOKEN: 'x'.repeat(30) },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('does not match its checksum');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      fake.close();
    }
  });

  it('verify --wait passes for a good backup and exits 4 when the restored counts differ from the recorded ones', async () => {
    const good = await completedBackup('cli-verify');
    const passed = await coffre(['backup', 'verify', good.id, '--wait']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/Verification passed/);

    const bad = await completedBackup('cli-verify-bad');
    // The backup now claims one more row in one table than its dump holds.
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: bad.id } });
    const counts = row.tableCounts as { schema: string; table: string; rows: number }[];
    const people = counts.find((t) => t.table === 'people')!;
    people.rows += 1;
    await stack.ctx.db.backup.update({ where: { id: bad.id }, data: { tableCounts: counts } });
    const failed = await coffre(['backup', 'verify', bad.id, '--wait']);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toMatch(/Verification failed/);
    expect(failed.stdout).toMatch(/people/);
  });

  it('delete refuses without --yes off a terminal (exit 5), and with --yes removes the artifacts but keeps the row', async () => {
    const backup = await completedBackup('cli-delete');
    const refused = await coffre(['backup', 'delete', backup.id]);
    expect(refused.code).toBe(5);
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } })).deletedAt).toBeNull();
    const deleted = await coffre(['backup', 'delete', 'cli-delete', '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(row.deletedAt).not.toBeNull();
  });
});

describe('coffre restore', () => {
  it('--yes restores into a new database whose data equals the source', async () => {
    const backup = await completedBackup('cli-restore');
    const target = `coffre_cli_restored_${Date.now()}`;
    dropAfter.push(target);
    const result = await coffre(['restore', backup.id, '--target-database', target, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`database "${target}" on source default`);
    expect(result.stderr).toContain('is loaded beside it and swapped in; the replaced database is kept');
    expect(result.stdout).toMatch(new RegExp(`Restored "cli-restore" into database ${target}`));
    expect(await dataChecksums(targetUrl(target))).toEqual(await dataChecksums(source.url));

    // Over it again: swapped, then undone. Its status then no longer names the kept database, which has its name back.
    const over = await coffre(['restore', backup.id, '--target-database', target, '--yes', '--json']);
    expect(over.code, over.stderr).toBe(0);
    const swapped = JSON.parse(over.stdout) as { id: string; keptDatabase: string };
    dropAfter.push(swapped.keptDatabase);
    expect((await coffre(['restore', 'status', swapped.id])).stdout).toContain(`Replaced database kept as: ${swapped.keptDatabase} (undo: coffre restore undo ${swapped.id})`);
    const undone = await coffre(['restore', 'undo', swapped.id, '--json']);
    expect(undone.code, undone.stderr).toBe(0);
    dropAfter.push(JSON.parse(undone.stdout).undoneDatabase);
    const after = (await coffre(['restore', 'status', swapped.id])).stdout;
    expect(after).toMatch(/Undone at .* the restored database is kept as /);
    expect(after).not.toContain('Replaced database kept as');
  });

  it('without --yes and without a terminal it refuses (exit 5) and queues nothing', async () => {
    const backup = await completedBackup('cli-unconfirmed');
    const result = await coffre(['restore', backup.id, '--target-database', 'coffre_cli_never']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/Not restored/);
    expect(await stack.ctx.db.restore.count({ where: { backupId: backup.id } })).toBe(0);
  });

  it('a second restore into a target with one queued is refused by the API (409): exit 5, nothing more queued', async () => {
    const backup = await completedBackup('cli-twice');
    const target = `coffre_cli_twice_${Date.now()}`;
    dropAfter.push(target);
    // Paused, the restore queue keeps the first restore pending for as long as the test needs.
    const restores = stack.ctx.queues.queue('restore');
    await restores.pause();
    try {
      const first = await coffre(['restore', backup.id, '--target-database', target, '--yes', '--no-wait', '--json']);
      expect(first.code, first.stderr).toBe(0);
      const status = await coffre(['restore', 'status', JSON.parse(first.stdout).id, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'pending', targetDatabase: target, backupName: 'cli-twice' });
      const second = await coffre(['restore', backup.id, '--target-database', target, '--yes']);
      expect(second.code).toBe(5);
      expect(second.stderr).toMatch(/already pending/);
      expect(await stack.ctx.db.restore.count({ where: { backupId: backup.id } })).toBe(1);
      const { rows } = await withClient(source.url, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]));
      expect(rows).toHaveLength(0);
    } finally {
      await restores.resume();
    }
    await eventually(async () => (await stack.ctx.db.restore.findFirst({ where: { backupId: backup.id, status: { in: ['completed', 'failed'] } } })) ?? undefined, 120_000, 'the first restore to finish');
  });

  it('names a missing backup: exit 3; no backup named off a terminal: exit 2', async () => {
    const missing = await coffre(['restore', 'no-such-backup', '--yes']);
    expect(missing.code).toBe(3);
    const none = await coffre(['restore', '--yes']);
    expect(none.code).toBe(2);
  });
});

describe('coffre config', () => {
  it('creates from flags, lists, disables, enables, runs and deletes a configuration', async () => {
    const created = await coffre(['config', 'create', '--name', 'nightly', '--source', 'default', '--schedule', 'daily', '--time', '02:30', '--keep-last', '7', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const configuration = JSON.parse(created.stdout);
    expect(configuration.schedule).toMatchObject({ kind: 'daily', time: '02:30' });
    expect(configuration.retention).toEqual({ keepLast: 7 });
    const schedulers = async () => (await stack.ctx.queues.queue('backup').getJobSchedulers(0, -1)).map((s) => s.key);
    expect(await schedulers()).toContain(`configuration-${configuration.id}`);

    const list = await coffre(['config', 'list']);
    expect(list.stdout).toMatch(/nightly.*default.*full.*02:30.*yes/);

    expect((await coffre(['config', 'disable', 'nightly'])).code).toBe(0);
    expect(await schedulers()).not.toContain(`configuration-${configuration.id}`);
    expect((await coffre(['config', 'enable', 'nightly'])).code).toBe(0);
    expect(await schedulers()).toContain(`configuration-${configuration.id}`);

    const run = await coffre(['config', 'run', 'nightly', '--wait', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const backup = JSON.parse(run.stdout);
    expect(backup.configurationId).toBe(configuration.id);
    expect(backup.status).toBe('completed');
    expect(backup.trigger).toBe('cli');

    const shown = await coffre(['config', 'show', configuration.id]);
    expect(shown.stdout).toMatch(/Retention:\s+keepLast 7/);

    expect((await coffre(['config', 'delete', 'nightly'])).code).toBe(5);
    expect((await coffre(['config', 'delete', 'nightly', '--yes'])).code).toBe(0);
    expect(await stack.ctx.db.backupConfiguration.count({ where: { id: configuration.id } })).toBe(0);
  });

  it('creates from a JSON file naming its source, flags on top; a bad field exits 2 with the API\'s sentence', async () => {
    const dir = await scratchDir('coffre-config-');
    const file = join(dir, 'weekly.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify({ name: 'weekly', source: 'default', type: 'schema', schedule: { kind: 'weekly', weekday: 1, time: '03:00' } }));
    const created = await coffre(['config', 'create', '--file', file, '--inactive', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'weekly', type: 'schema', active: false });
    const bad = await coffre(['config', 'create', '--name', 'bad', '--source', 'default', '--max-age-days', '900']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/maxAgeDays/);
  });
});

describe('coffre login', () => {
  it('saves the URL and token in a file only its owner reads, never prints the token, and later commands use it', async () => {
    const home = privateHome();
    const result = await runCli(['login', '--url', api.url, '--token', stack.adminToken], { env: { HOME: home } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(stack.adminToken);
    const file = join(home, '.config', 'coffre', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: api.url, token: stack.adminToken });
    const whoami = await runCli(['whoami'], { env: { HOME: home } });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(/\(admin\)/);
  });

  it('a wrong token exits 6, saves nothing, and is not echoed', async () => {
    const home = privateHome();
    const wrong = 'wrong-token-0123456789abcdefghij';
    const result = await runCli(['login', '--url', api.url, '--token', wrong], { env: { HOME: home } });
    expect(result.code).toBe(6);
    expect(result.stdout + result.stderr).not.toContain(wrong);
    await expect(stat(join(home, '.config', 'coffre', 'config.json'))).rejects.toThrow();
    const viewer = await stack.token('viewer');
    const forbidden = await coffre(['backup', 'create'], { COFFRE_TOKEN: viewer });
    expect(forbidden.code).toBe(6);
  });
});
