// With AGE_RECIPIENTS set, every new artifact is encrypted unless a configuration opts out: a
// configuration saved without saying follows the installation, as one-off backups do. With
// REQUIRE_ENCRYPTION=true nothing may opt out: saving encrypt:false is a 400, running a configuration
// stored unencrypted is refused (or, fired by its schedule, fails with a sentence), and coffre does
// not start without recipients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigError, generateIdentity, loadConfig, runScheduledConfiguration } from '@coffre/shared';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';

const AGE_HEADER = 'age-encryption.org/v1';
let keysDir: string;
let keys: { identity: string; recipient: string };

beforeAll(async () => {
  keys = generateIdentity();
  keysDir = await mkdtemp(join(tmpdir(), 'coffre-keys-'));
  await writeFile(join(keysDir, 'age.txt'), `${keys.identity}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(keysDir, { recursive: true, force: true });
});

async function finished(stack: TestStack, auth: object, id: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(`/api/backups/${id}`).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 90_000, `backup ${id}`);
}

async function firstBytes(stack: TestStack, backup: { artifacts: { kind: string; key: string }[] }): Promise<string> {
  const key = backup.artifacts.find((a) => a.kind === 'database')!.key;
  return (await readFile(join(stack.config.BACKUP_DIR, key))).subarray(0, AGE_HEADER.length).toString('latin1');
}

describe('with AGE_RECIPIENTS set', () => {
  let stack: TestStack;
  let auth: { Authorization: string };
  let sourceId: string;

  beforeAll(async () => {
    stack = await createTestStack({ env: { AGE_RECIPIENTS: keys.recipient, AGE_IDENTITY_FILE: join(keysDir, 'age.txt') } });
    auth = { Authorization: `Bearer ${stack.adminToken}` };
    sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    stack.startWorkers();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a configuration saved without saying follows the installation, and its scheduled backup is encrypted', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'says-nothing', sourceId });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ encrypt: null, encrypted: true });
    const fired = await runScheduledConfiguration(stack.ctx, created.body.id, `test-firing-${Date.now()}`);
    const backup = await finished(stack, auth, fired!.id);
    expect(backup).toMatchObject({ status: 'completed', trigger: 'schedule', encrypted: true });
    expect(await firstBytes(stack, backup)).toBe(AGE_HEADER);
  });

  it('a configuration that opts out writes plaintext, and says so', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'opts-out', sourceId, encrypt: false, active: false });
    expect(created.body).toMatchObject({ encrypt: false, encrypted: false });
    const run = await request(stack.app).post(`/api/configurations/${created.body.id}/run`).set(auth).send();
    const backup = await finished(stack, auth, run.body.id);
    expect(backup).toMatchObject({ status: 'completed', encrypted: false });
    expect(await firstBytes(stack, backup)).not.toBe(AGE_HEADER);
  });

  it('an update may hand the choice back to the installation with encrypt: null', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'changes-mind', sourceId, encrypt: false, active: false });
    const updated = await request(stack.app).put(`/api/configurations/${created.body.id}`).set(auth).send({ encrypt: null });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ encrypt: null, encrypted: true });
  });
});

describe('with REQUIRE_ENCRYPTION=true', () => {
  let stack: TestStack;
  let auth: { Authorization: string };
  let sourceId: string;

  beforeAll(async () => {
    stack = await createTestStack({ env: { AGE_RECIPIENTS: keys.recipient, AGE_IDENTITY_FILE: join(keysDir, 'age.txt'), REQUIRE_ENCRYPTION: 'true' } });
    auth = { Authorization: `Bearer ${stack.adminToken}` };
    sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    stack.startWorkers();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('saving encrypt: false is refused with a sentence, on create and on update', async () => {
    const refused = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'plaintext', sourceId, encrypt: false });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('encrypt: this installation requires encryption (REQUIRE_ENCRYPTION=true): a configuration may not opt out of it.');
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'encrypted', sourceId, active: false });
    expect(created.body).toMatchObject({ encrypt: null, encrypted: true });
    const update = await request(stack.app).put(`/api/configurations/${created.body.id}`).set(auth).send({ encrypt: false });
    expect(update.status).toBe(400);
  });

  it('a configuration stored unencrypted before the setting is refused when run now, and fails with a sentence when its schedule fires', async () => {
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'stored-plaintext', sourceId });
    await stack.ctx.db.backupConfiguration.update({ where: { id: created.body.id }, data: { encrypt: false } });
    const before = await stack.ctx.db.backup.count();
    const run = await request(stack.app).post(`/api/configurations/${created.body.id}/run`).set(auth).send();
    expect(run.status).toBe(400);
    expect(run.body.error.message).toMatch(/opts out of encryption, and this installation requires it \(REQUIRE_ENCRYPTION=true\)/);
    expect(await stack.ctx.db.backup.count()).toBe(before);

    const fired = await runScheduledConfiguration(stack.ctx, created.body.id, `test-firing-${Date.now()}`);
    const backup = await finished(stack, auth, fired!.id);
    expect(backup).toMatchObject({ status: 'failed', encrypted: false });
    expect(backup.errorMessage).toMatch(/requires encryption \(REQUIRE_ENCRYPTION=true\).*nothing was written/);
    expect(backup.artifacts).toEqual([]);
  });

  it('coffre does not start without recipients', () => {
    expect(() => loadConfig({ ...stack.env, AGE_RECIPIENTS: '' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...stack.env, AGE_RECIPIENTS: '' })).toThrow(/REQUIRE_ENCRYPTION is true but AGE_RECIPIENTS is not set/);
  });
});
