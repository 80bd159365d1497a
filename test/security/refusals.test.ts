// Refusals are in the audit log, and an attacker cannot fill it with them: 403s (a viewer changing
// things, a cookie change without its CSRF token, logging out without it) and wrong typed
// confirmations are recorded with who and from where, one row per actor, address, action and reason
// a minute that counts the repeats, and at most REFUSALS_PER_WINDOW new rows a minute however many
// actors take turns. (Failed logins, recorded one by one and rate-limited, are in sessions.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { REFUSALS_PER_WINDOW, createAppContext, createDb, hashToken } from '@coffre/shared';
import { createApp } from '@coffre/api';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';

let stack: TestStack;
let admin: { Authorization: string };

beforeAll(async () => {
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  stack.startWorkers();
});

afterAll(async () => {
  await stack?.close();
});

const tokenId = async (token: string) => (await stack.ctx.db.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })).id;

describe('403s', () => {
  it('a viewer trying 30 changes leaves one row, failure, reason role, from its address, counting 30', async () => {
    const viewer = await stack.token('viewer');
    for (let i = 0; i < 30; i++) {
      const res = await request(stack.app).post('/api/backups').set('Authorization', `Bearer ${viewer}`).send({});
      expect(res.status).toBe(403);
    }
    const rows = await stack.ctx.db.auditEvent.findMany({ where: { action: 'access.denied', actorId: await tokenId(viewer) } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorType: 'token', actorName: 'token test viewer', outcome: 'failure', targetType: 'route', targetId: 'POST /api/backups', ip: expect.any(String) });
    expect(rows[0]!.summary).toMatchObject({ reason: 'role', count: 30, method: 'POST', path: '/api/backups' });
  });

  it('a cookie change without the CSRF token, and a logout without it, are recorded under the session’s user', async () => {
    await request(stack.app).post('/api/users').set(admin).send({ username: 'grace', password: 'correct horse battery staple', role: 'admin' });
    const login = await request(stack.app).post('/api/auth/login').send({ username: 'grace', password: 'correct horse battery staple' });
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    expect((await request(stack.app).post('/api/tokens').set('Cookie', cookie).send({ name: 'forged', role: 'admin' })).status).toBe(403);
    expect((await request(stack.app).post('/api/auth/logout').set('Cookie', cookie).send()).status).toBe(403);
    const rows = await stack.ctx.db.auditEvent.findMany({ where: { action: 'access.denied', actorName: 'grace' }, orderBy: { at: 'asc' } });
    expect(rows.map((r) => [r.actorType, r.targetId, (r.summary as { reason: string }).reason, (r.summary as { count: number }).count])).toEqual([['user', 'POST /api/tokens', 'csrf', 2]]);
  });
});

describe('wrong typed confirmations', () => {
  it('a restore whose confirm does not match the backup’s name is refused, recorded, and nothing is queued', async () => {
    const created = await request(stack.app).post('/api/backups').set(admin).send({ name: 'confirm-me' });
    expect(created.status).toBe(202);
    await eventually(async () => (await stack.ctx.db.backup.findUnique({ where: { id: created.body.id } }))?.status === 'completed', 120_000, 'the backup');
    for (const confirm of ['confirm-m', 'CONFIRM-ME', 'yes']) {
      const res = await request(stack.app).post(`/api/backups/${created.body.id}/restore`).set(admin).send({ confirm, targetDatabase: 'coffre_never_restored' });
      expect(res.status).toBe(400);
    }
    expect(await stack.ctx.db.restore.count()).toBe(0);
    const rows = await stack.ctx.db.auditEvent.findMany({ where: { action: 'backup.restore', outcome: 'failure' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorName: 'token bootstrap admin', targetType: 'backup', targetId: created.body.id });
    expect(rows[0]!.summary).toMatchObject({ reason: 'wrong-confirmation', count: 3, backup: 'confirm-me' });
  });
});

describe('bounded', () => {
  it(`however many actors take turns, at most ${REFUSALS_PER_WINDOW} new refusal rows a minute`, async () => {
    // An API process of its own, so that this minute's bound starts with this test.
    const db = createDb(stack.config.DATABASE_URL, { max: 3 });
    const app = createApp(createAppContext({ config: stack.config, db, queues: stack.ctx.queues, logger: stack.ctx.logger }));
    try {
      const since = new Date();
      const actors = REFUSALS_PER_WINDOW + 20;
      const started = Date.now();
      for (let i = 0; i < actors; i++) {
        const viewer = await stack.token('viewer');
        expect((await request(app).delete('/api/backups/0195a3c1-7b2e-7c3d-8e4f-0123456789ab').set('Authorization', `Bearer ${viewer}`)).status).toBe(403);
      }
      // The bound is per minute: the whole burst fitted in one.
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await stack.ctx.db.auditEvent.count({ where: { action: 'access.denied', at: { gte: since } } })).toBe(REFUSALS_PER_WINDOW);
    } finally {
      await db.$disconnect();
    }
  });
});
