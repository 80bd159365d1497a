// Files backups read, and files restores write, only under FILES_ROOTS, and never coffre's own state
// (its home with SECRET_KEY and the admin token, BACKUP_DIR, TMP_DIR, the age identity), whatever
// FILES_ROOTS says: an operator who could archive those and download the archive would become admin.
// Paths are judged where they really lead, so that neither a symbolic link nor ".." escapes a root;
// the check runs when a configuration is saved, again when it runs, and when a files restore is asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { checkFilesPath, generateIdentity, loadConfig } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';

let stack: TestStack;
let auth: { Authorization: string };
let sourceId: string;
/** FILES_ROOTS; it also holds coffre's state, as /srv would hold /srv/backups. */
let root: string;
/** A directory outside FILES_ROOTS with something worth stealing. */
let outside: string;
const figures = { refusedAtSave: 0, refusedAtRun: 0, refusedRestoreTargets: 0 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coffre-roots-'));
  outside = await mkdtemp(join(tmpdir(), 'coffre-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not for operators');
  await mkdir(join(root, 'app', 'current', 'uploads'), { recursive: true });
  await writeFile(join(root, 'app', 'current', 'uploads', 'photo.txt'), 'an upload');
  await symlink('/etc', join(root, 'app', 'escape'));
  await mkdir(join(root, '.coffre'));
  await writeFile(join(root, '.coffre', 'env'), 'SECRET_KEY=…\nADMIN_TOKEN=…\n');
  await mkdir(join(root, 'keys'));
  await writeFile(join(root, 'keys', 'age.txt'), `${generateIdentity().identity}\n`, { mode: 0o600 });
  stack = await createTestStack({
    env: {
      FILES_ROOTS: root,
      BACKUP_DIR: join(root, 'backups'),
      COFFRE_HOME: join(root, '.coffre'),
      AGE_IDENTITY_FILE: join(root, 'keys', 'age.txt'),
    },
  });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  stack.startWorkers();
});

afterAll(async () => {
  console.info(`files roots: ${JSON.stringify(figures)}`);
  await stack?.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

let configurations = 0;
const createConfiguration = (includePaths: string[]) =>
  request(stack.app)
    .post('/api/configurations')
    .set(auth)
    .send({ name: `files-${(configurations += 1)}`, sourceId, includePaths, compression: 'none', active: false });

async function runToEnd(configurationId: string) {
  const run = await request(stack.app).post(`/api/configurations/${configurationId}/run`).set(auth).send();
  expect(run.status).toBe(202);
  return eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${run.body.id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, 'the backup');
}

describe('a configuration is refused at save when an include path leaves FILES_ROOTS or reaches coffre\'s state', () => {
  const cases: [string, () => string, RegExp][] = [
    ['the whole machine', () => '/', /holds coffre's own home/],
    ['the password hashes', () => '/etc/shadow', /is outside FILES_ROOTS/],
    ['root\'s home', () => '/root', /is outside FILES_ROOTS/],
    ['coffre\'s home (SECRET_KEY, the admin token)', () => join(root, '.coffre'), /is coffre's own home \(COFFRE_HOME/],
    ['a file in coffre\'s home', () => join(root, '.coffre', 'env'), /lies inside coffre's own home/],
    ['BACKUP_DIR', () => join(root, 'backups'), /is coffre's own backup directory \(BACKUP_DIR\)/],
    ['TMP_DIR', () => join(root, 'backups', '.tmp'), /coffre's own (backup|temporary) directory/],
    ['a directory holding the age identity', () => join(root, 'keys'), /holds coffre's own age identity file/],
    ['a root that holds BACKUP_DIR', () => root, /holds coffre's own/],
    ['a symbolic link out of the root', () => join(root, 'app', 'escape'), /is outside FILES_ROOTS \(.*\) \(it leads to \/etc\)/],
    ['".." through a link, which reads as inside the root when spelled out', () => `${root}/app/escape/../../app/current`, /is outside FILES_ROOTS/],
    ['".." climbing out', () => `${root}/app/../../etc`, /is outside FILES_ROOTS/],
    ['the process\'s environment', () => '/proc/self/environ', /lies inside coffre's own process information/],
  ];

  it.each(cases)('%s: 400 naming includePaths[i], nothing saved', async (_what, path, reason) => {
    const before = await stack.ctx.db.backupConfiguration.count();
    const res = await createConfiguration([join(root, 'app', 'current'), path()]);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^includePaths\[1\] '.+' /);
    expect(res.body.error.message).toMatch(reason);
    expect(await stack.ctx.db.backupConfiguration.count()).toBe(before);
    figures.refusedAtSave += 1;
  });

  it('an update that adds such a path is refused the same way', async () => {
    const created = await createConfiguration([join(root, 'app', 'current')]);
    expect(created.status).toBe(201);
    const res = await request(stack.app).put(`/api/configurations/${created.body.id}`).set(auth).send({ includePaths: ['/etc'] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^includePaths\[0\] '\/etc' is outside FILES_ROOTS/);
  });
});

describe('at run time', () => {
  it('a directory inside the root is backed up, and a link inside it to /etc is stored as a link, never followed', async () => {
    const created = await createConfiguration([join(root, 'app')]);
    expect(created.status).toBe(201);
    const backup = await runToEnd(created.body.id);
    expect(backup.errorMessage).toBeNull();
    const download = await request(stack.app).get(`/api/backups/${backup.id}/download?artifact=files`).set(auth).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(download.status).toBe(200);
    const listing = spawnSync('tar', ['-tvf', '-'], { input: download.body as Buffer }).stdout.toString();
    expect(listing).toMatch(/app\/escape -> \/etc/);
    expect(listing).toMatch(/app\/current\/uploads\/photo\.txt/);
    expect(listing).not.toMatch(/passwd|hostname/);
  });

  it('an include path swapped for a link out of the root after the save makes the run fail with a sentence, before anything is stored', async () => {
    await mkdir(join(root, 'app', 'swapped'));
    const created = await createConfiguration([join(root, 'app', 'swapped')]);
    expect(created.status).toBe(201);
    await rm(join(root, 'app', 'swapped'), { recursive: true });
    await symlink(outside, join(root, 'app', 'swapped'));
    const backup = await runToEnd(created.body.id);
    expect(backup.status).toBe('failed');
    expect(backup.errorMessage).toMatch(/^The include path '.+\/app\/swapped' is outside FILES_ROOTS \(.+\) \(it leads to .+coffre-outside-.+\): nothing was backed up\.$/);
    expect(await stack.ctx.db.backupArtifact.count({ where: { backupId: backup.id } })).toBe(0);
    figures.refusedAtRun += 1;
  });

  it('a configuration stored before FILES_ROOTS existed (include path /etc) fails at run time with a sentence', async () => {
    const created = await createConfiguration([join(root, 'app', 'current')]);
    await stack.ctx.db.backupConfiguration.update({ where: { id: created.body.id }, data: { includePaths: ['/etc'] } });
    const backup = await runToEnd(created.body.id);
    expect(backup.status).toBe('failed');
    expect(backup.errorMessage).toBe(`The include path '/etc' is outside FILES_ROOTS (${root}): nothing was backed up.`);
    figures.refusedAtRun += 1;
  });
});

describe('files restore targets', () => {
  let backup: { id: string; name: string };

  beforeAll(async () => {
    const created = await createConfiguration([join(root, 'app', 'current')]);
    backup = await runToEnd(created.body.id);
    expect(backup).toMatchObject({ status: 'completed' });
  });

  const refused: [string, () => string, RegExp][] = [
    ['a system directory', () => '/etc/cron.d', /^targetPath '\/etc\/cron\.d' is outside FILES_ROOTS/],
    ['a directory outside the root', () => join(outside, 'restored'), /is outside FILES_ROOTS/],
    ['BACKUP_DIR', () => join(root, 'backups', 'restored'), /lies inside coffre's own backup directory/],
    ['coffre\'s home', () => join(root, '.coffre'), /is coffre's own home/],
    ['a new directory behind a link out of the root', () => join(root, 'app', 'escape', 'cron.d', 'x'), /is outside FILES_ROOTS \(.*\) \(it leads to \/etc\/cron\.d\/x\)/],
    ['the root that holds coffre\'s state', () => root, /holds coffre's own/],
  ];

  it.each(refused)('%s: 400 with a sentence, no restore created', async (_what, path, reason) => {
    const before = await stack.ctx.db.restore.count();
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ artifact: 'files', targetPath: path(), confirm: backup.name });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(reason);
    expect(await stack.ctx.db.restore.count()).toBe(before);
    figures.refusedRestoreTargets += 1;
  });

  it('a new directory under the root is accepted, recorded where it really leads', async () => {
    await symlink(join(root, 'app'), join(root, 'app-link'));
    const res = await request(stack.app)
      .post(`/api/backups/${backup.id}/restore`)
      .set(auth)
      .send({ artifact: 'files', targetPath: join(root, 'app-link', 'restored'), confirm: backup.name });
    expect(res.status).toBe(202);
    expect(res.body.targetPath).toBe(join(root, 'app', 'restored'));
    await eventually(async () => {
      const r = await request(stack.app).get(`/api/restores/${res.body.id}`).set(auth);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 60_000, 'the files restore');
  });
});

describe('without FILES_ROOTS', () => {
  it('every path is refused with a sentence saying an admin must set FILES_ROOTS', async () => {
    const config = loadConfig({ ...stack.env, FILES_ROOTS: '' });
    expect(config.FILES_ROOTS).toEqual([]);
    expect(await checkFilesPath(config, join(root, 'app', 'current'))).toEqual({
      ok: false,
      problem: 'cannot be used: files backups and restores are off until an admin sets FILES_ROOTS to the directories they may use',
    });
  });

  it('FILES_ROOTS with a relative path stops the process with a sentence naming it', () => {
    expect(() => loadConfig({ ...stack.env, FILES_ROOTS: '/srv,data' })).toThrow('FILES_ROOTS must be absolute paths (starting with /) separated by commas');
  });
});
