// Notifications end to end: channels through the API, events raised where runs end, delivery by the
// workers through the notifications queue to a real HTTP receiver and a real SMTP sink, retries with
// backoff, permanent refusals, dedupe, and the backup's own status untouched by any of it.
import { createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { notifyMaintenanceFindings, notifyRunEnded } from '@coffre/shared';
import { forgetDatabase } from '../../../test/support/pg.js';
import { databaseUrl } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { deadPort, mailHeader, mailText, startHttpReceiver, startSmtpSink, type HttpReceiver, type SmtpSink } from '../../../test/support/receivers.js';
import { canMountTmpfs, mountTmpfs } from '../../../test/support/tmpfs.js';
import { enqueue } from '@coffre/shared';

const SIGNING_SECRET = 'whsec-0123456789-signing-secret';
const SMTP = { user: 'coffre-mailer', password: 'smtp-pass-Zq81!x' };
const PUBLIC_URL = 'https://coffre.example.org';

let stack: TestStack;
let auth: { Authorization: string };
let receiver: HttpReceiver;
let smtp: SmtpSink;
let missingSourceId: string;

beforeAll(async () => {
  stack = await createTestStack({ env: { PUBLIC_URL } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  receiver = await startHttpReceiver();
  smtp = await startSmtpSink(SMTP);
  stack.startWorkers({ concurrency: 2 });
  // A source whose database does not exist: its backups fail, for their own reason.
  const source = await request(stack.app)
    .post('/api/sources')
    .set(auth)
    .send({ name: 'missing-db', url: databaseUrl('coffre_no_such_database').replace('postgres@', 'postgres:src-pass-1@') });
  expect(source.status).toBe(201);
  missingSourceId = source.body.id;
});

afterEach(async () => {
  await stack.ctx.db.notificationChannel.deleteMany();
  receiver.respond = () => ({ status: 200, body: 'ok' });
});

afterAll(async () => {
  await stack?.close();
  await receiver?.stop();
  await smtp?.close();
});

async function addChannel(body: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>> {
  const res = await request(stack.app).post('/api/notification-channels').set(auth).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function backupAndWait(body: Record<string, unknown>) {
  const created = await request(stack.app).post('/api/backups').set(auth).send(body);
  expect(created.status).toBe(202);
  return eventually(async () => {
    const row = await stack.ctx.db.backup.findUnique({ where: { id: created.body.id } });
    return row && (row.status === 'completed' || row.status === 'failed') ? row : null;
  }, 90_000, 'the backup to finish');
}

/** The BullMQ job of a delivery, once it is finished (no retry left to come). */
async function finishedDeliveryJob(deliveryId: string) {
  return eventually(async () => {
    const queue = stack.ctx.queues.queue('notifications');
    const state = await queue.getJobState(`delivery-${deliveryId}`);
    // Read the job once it is finished: a copy read earlier holds stale counters.
    return state === 'completed' || state === 'failed' ? { job: (await queue.getJob(`delivery-${deliveryId}`))!, state } : null;
  }, 90_000, `the job of delivery ${deliveryId} to finish`);
}

describe('notification channels through the API', () => {
  it('stores secrets sealed and only ever answers them masked', async () => {
    const created = await addChannel({ name: 'ops-hook', kind: 'webhook', url: receiver.url('/hooks/path-secret-77'), signingSecret: SIGNING_SECRET });
    expect(created.url).toBe(`http://127.0.0.1:${receiver.port}/********`);
    expect(created.signingSecret).toBe('********');
    expect(created.events).toEqual(['backup.failed', 'restore.failed', 'verification.failed', 'configuration.overdue', 'disk.warning']);
    const row = await stack.ctx.db.notificationChannel.findUniqueOrThrow({ where: { id: created.id } });
    const stored = JSON.stringify(row);
    expect(stored).not.toContain('path-secret-77');
    expect(stored).not.toContain(SIGNING_SECRET);

    const mail = await addChannel({ name: 'ops-mail', kind: 'email', host: '127.0.0.1', port: smtp.port, user: SMTP.user, password: SMTP.password, from: 'coffre@example.org', to: ['oncall@example.org'] });
    expect(mail.password).toBe('********');
    expect(JSON.stringify(await stack.ctx.db.notificationChannel.findUniqueOrThrow({ where: { id: mail.id } }))).not.toContain(SMTP.password);

    const list = await request(stack.app).get('/api/notification-channels').set(auth);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['ops-hook', 'ops-mail']);
    expect(JSON.stringify(list.body)).not.toMatch(/path-secret-77|whsec-|smtp-pass/);
  });

  it('an update keeps the secrets it does not name, and refuses fields of another kind', async () => {
    const channel = await addChannel({ name: 'keep-me', kind: 'webhook', url: receiver.url('/hooks/keep'), signingSecret: SIGNING_SECRET, events: ['backup.completed'] });
    const renamed = await request(stack.app).put(`/api/notification-channels/${channel.id}`).set(auth).send({ name: 'kept', enabled: false });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'kept', enabled: false, signingSecret: '********', events: ['backup.completed'] });
    // The URL and signing secret survived the rename: a test send still reaches /hooks/keep, signed.
    const sent = await request(stack.app).post(`/api/notification-channels/${channel.id}/test`).set(auth);
    expect(sent.status).toBe(200);
    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/keep');
    expect(hit!.headers['x-coffre-signature']).toBe(`sha256=${createHmac('sha256', SIGNING_SECRET).update(hit!.raw).digest('hex')}`);

    const wrongKind = await request(stack.app).put(`/api/notification-channels/${channel.id}`).set(auth).send({ host: 'smtp.example.org' });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.message).toBe('host does not apply to webhook channels.');
    const unsigned = await request(stack.app).put(`/api/notification-channels/${channel.id}`).set(auth).send({ signingSecret: null });
    expect(unsigned.body.signingSecret).toBeNull();
  });

  it('refuses bad input with a sentence, and unknown ids with 404', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: 'x', kind: 'pager', url: 'https://example.org' }, /kind/i],
      [{ name: 'x', kind: 'webhook', url: 'ftp://example.org/hook' }, /url must be an http/i],
      [{ name: 'x', kind: 'slack', url: 'https://hooks.slack.com/x', events: ['backup.exploded'] }, /events/],
      [{ name: 'x', kind: 'email', host: 'smtp.example.org', from: 'not-an-address', to: ['a@example.org'] }, /from must be an email/],
      [{ name: 'x', kind: 'email', host: 'smtp.example.org', from: 'a@example.org', to: [] }, /to must name at least one address/],
      [{ name: 'x', kind: 'webhook', url: 'https://example.org', signingSecret: 'short' }, /signingSecret must be at least 16/],
    ];
    for (const [body, message] of cases) {
      const res = await request(stack.app).post('/api/notification-channels').set(auth).send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.message).toMatch(message);
    }
    await addChannel({ name: 'twice', kind: 'discord', url: receiver.url('/discord') });
    expect((await request(stack.app).post('/api/notification-channels').set(auth).send({ name: 'twice', kind: 'discord', url: receiver.url('/d2') })).status).toBe(409);
    const missing = '0195a3c1-7b2e-7c3d-8e4f-0123456789ab';
    for (const path of [`/api/notification-channels/${missing}`, `/api/notification-channels/${missing}/deliveries`, '/api/notification-channels/not-a-uuid']) {
      expect((await request(stack.app).get(path).set(auth)).status).toBe(404);
    }
  });

  it('test-send answers with the delivery: delivered to a live receiver, the error for a dead one', async () => {
    const live = await addChannel({ name: 'live', kind: 'webhook', url: receiver.url('/hooks/live') });
    const ok = await request(stack.app).post(`/api/notification-channels/${live.id}/test`).set(auth);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ event: 'test', status: 'delivered', attempts: 1 });
    expect(ok.body.attemptLog).toEqual([expect.objectContaining({ attempt: 1, ok: true, statusCode: 200, error: null })]);
    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/live');
    expect(hit!.headers['x-coffre-event']).toBe('test');
    expect(hit!.headers['x-coffre-signature']).toBeUndefined();

    const dead = await addChannel({ name: 'dead', kind: 'webhook', url: `http://127.0.0.1:${await deadPort()}/hooks/dead-secret-path` });
    const failed = await request(stack.app).post(`/api/notification-channels/${dead.id}/test`).set(auth);
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.attemptLog[0]).toMatchObject({ ok: false, statusCode: null });
    expect(failed.body.lastError).toBe('The receiver refused the connection (is it running?).');
    expect(JSON.stringify(failed.body)).not.toContain('dead-secret-path');

    const history = await request(stack.app).get(`/api/notification-channels/${live.id}/deliveries`).set(auth);
    expect(history.status).toBe(200);
    expect(history.body.total).toBe(1);
    expect(history.body.items[0].id).toBe(ok.body.id);
  });

  it('Slack and Discord get their incoming-webhook formats; email goes through SMTP with its credentials', async () => {
    const slack = await addChannel({ name: 'slack', kind: 'slack', url: receiver.url('/services/T000/B000/slack-token') });
    const discord = await addChannel({ name: 'discord', kind: 'discord', url: receiver.url('/api/webhooks/1/discord-token') });
    const email = await addChannel({ name: 'mail', kind: 'email', host: '127.0.0.1', port: smtp.port, user: SMTP.user, password: SMTP.password, from: 'coffre@example.org', to: ['a@example.org', 'b@example.org'] });
    for (const channel of [slack, discord, email]) {
      const res = await request(stack.app).post(`/api/notification-channels/${channel.id}/test`).set(auth);
      expect({ name: channel.name, status: res.body.status, error: res.body.lastError }).toEqual({ name: channel.name, status: 'delivered', error: null });
    }
    const [slackHit] = await receiver.waitFor(1, (r) => r.path.endsWith('/slack-token'));
    expect(slackHit!.json).toEqual({ text: expect.stringContaining('*Test notification from coffre to channel "slack"*') });
    expect((slackHit!.json as { text: string }).text).toContain(`<${PUBLIC_URL}/|Open in coffre>`);
    const [discordHit] = await receiver.waitFor(1, (r) => r.path.endsWith('/discord-token'));
    expect(discordHit!.json).toMatchObject({ username: 'coffre', allowed_mentions: { parse: [] }, embeds: [{ title: 'Test notification from coffre to channel "discord"', url: `${PUBLIC_URL}/` }] });
    const [mail] = await smtp.waitFor(1, (m) => m.raw.includes('to channel "mail"'));
    expect(mail!.user).toBe(SMTP.user);
    expect(mail!.to).toEqual(['a@example.org', 'b@example.org']);
    expect(mailHeader(mail!.raw, 'Subject')).toBe('[coffre] Test notification from coffre to channel "mail"');

    const wrongPassword = await request(stack.app).put(`/api/notification-channels/${email.id}`).set(auth).send({ password: 'not-the-password' });
    expect(wrongPassword.status).toBe(200);
    const refused = await request(stack.app).post(`/api/notification-channels/${email.id}/test`).set(auth);
    expect(refused.body.status).toBe('failed');
    expect(refused.body.attemptLog[0].statusCode).toBe(535);
    expect(refused.body.lastError).not.toContain('not-the-password');
  });
});

describe('events delivered through the queue', () => {
  it('a failed backup produces exactly one signed webhook and one email, and the backup failed for its own reason', async () => {
    const hook = await addChannel({ name: 'fail-hook', kind: 'webhook', url: receiver.url('/hooks/failures'), signingSecret: SIGNING_SECRET, events: ['backup.failed'] });
    const mail = await addChannel({ name: 'fail-mail', kind: 'email', host: '127.0.0.1', port: smtp.port, user: SMTP.user, password: SMTP.password, from: 'coffre@example.org', to: ['oncall@example.org'], events: ['backup.failed'] });
    const backup = await backupAndWait({ sourceId: missingSourceId, name: 'doomed-backup' });
    expect(backup.status).toBe('failed');
    expect(backup.errorMessage).toMatch(/Database "coffre_no_such_database" does not exist/);

    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/failures');
    const expected = `sha256=${createHmac('sha256', SIGNING_SECRET).update(hit!.raw).digest('hex')}`;
    expect(hit!.headers['x-coffre-signature']).toBe(expected);
    expect(hit!.headers['x-coffre-event']).toBe('backup.failed');
    expect(Math.abs(Number(hit!.headers['x-coffre-timestamp']) - Date.now() / 1000)).toBeLessThan(120);
    expect(hit!.json).toMatchObject({
      event: 'backup.failed',
      url: `${PUBLIC_URL}/backups/${backup.id}`,
      backup: { id: backup.id, name: 'doomed-backup', status: 'failed', source: 'missing-db', errorMessage: backup.errorMessage },
    });
    expect(new Date((hit!.json as { occurredAt: string }).occurredAt).getTime()).toBe(backup.completedAt!.getTime());
    const [email] = await smtp.waitFor(1, (m) => m.raw.includes('doomed-backup'));
    expect(email!.to).toEqual(['oncall@example.org']);
    expect(mailHeader(email!.raw, 'Subject')).toBe('[coffre] Backup "doomed-backup" of missing-db failed');
    expect(mailHeader(email!.raw, 'X-Coffre-Event')).toBe('backup.failed');
    expect(mailText(email!.raw)).toContain(`Details: ${PUBLIC_URL}/backups/${backup.id}`);

    // Exactly one: one delivery per channel, each one attempt, their jobs finished, and nothing more sent.
    const queued = await stack.ctx.db.notificationDelivery.findMany({ where: { channelId: { in: [hook.id, mail.id] } } });
    expect(queued).toHaveLength(2);
    for (const d of queued) expect((await finishedDeliveryJob(d.id)).state).toBe('completed');
    const deliveries = await stack.ctx.db.notificationDelivery.findMany({ where: { channelId: { in: [hook.id, mail.id] } } });
    expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([['delivered', 1], ['delivered', 1]]);
    // The event raised again (a retried job, a second worker) creates nothing new.
    await notifyRunEnded(stack.ctx, 'backup', backup.id);
    expect(await stack.ctx.db.notificationDelivery.count({ where: { channelId: { in: [hook.id, mail.id] } } })).toBe(2);
    expect(receiver.requests.filter((r) => r.path === '/hooks/failures')).toHaveLength(1);
    expect(smtp.messages.filter((m) => m.raw.includes('doomed-backup'))).toHaveLength(1);
  });

  it('a receiver that is down gets retries with exponential backoff, then the delivery goes through', async () => {
    const down = await startHttpReceiver();
    await down.stop();
    try {
      const channel = await addChannel({ name: 'flaky', kind: 'webhook', url: down.url('/hooks/flaky'), events: ['backup.failed', 'backup.completed'] });
      const failed = await backupAndWait({ sourceId: missingSourceId, name: 'fails-while-receiver-down' });
      const completed = await backupAndWait({ name: 'completes-while-receiver-down' });
      // The runs are untouched by the dead receiver: one failed for its own reason, the other completed.
      expect(failed.status).toBe('failed');
      expect(failed.errorMessage).toMatch(/does not exist/);
      expect(completed.status).toBe('completed');
      expect(completed.errorMessage).toBeNull();

      const delivery = await stack.ctx.db.notificationDelivery.findFirstOrThrow({ where: { channelId: channel.id, event: 'backup.failed' } });
      await eventually(async () => (await stack.ctx.db.notificationAttempt.count({ where: { deliveryId: delivery.id } })) >= 2, 60_000, 'two failed attempts');
      await down.start();
      const [hit] = await down.waitFor(1, (r) => r.headers['x-coffre-event'] === 'backup.failed');
      expect((hit!.json as { backup: { id: string } }).backup.id).toBe(failed.id);

      const done = await eventually(async () => {
        const row = await stack.ctx.db.notificationDelivery.findUniqueOrThrow({ where: { id: delivery.id }, include: { attemptsLog: { orderBy: { attempt: 'asc' } } } });
        return row.status === 'delivered' ? row : null;
      }, 60_000, 'the delivery to go through');
      const log = done.attemptsLog;
      expect(log.length).toBeGreaterThanOrEqual(3);
      expect(log.slice(0, -1).every((a) => !a.ok && a.error === 'The receiver refused the connection (is it running?).')).toBe(true);
      expect(log.at(-1)).toMatchObject({ ok: true, statusCode: 200 });
      expect(log.map((a) => a.attempt)).toEqual(log.map((_, i) => i + 1));
      // Backoff from 2 s, doubling: the second try waits ≥ 2 s after the first, the third ≥ 4 s after the second.
      const gaps = log.slice(1).map((a, i) => a.at.getTime() - log[i]!.at.getTime());
      expect(gaps[0]).toBeGreaterThanOrEqual(1_900);
      expect(gaps[1]).toBeGreaterThanOrEqual(3_800);
      // The rows did not move because of any of it.
      expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: failed.id } })).status).toBe('failed');
      expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: completed.id } })).status).toBe('completed');
    } finally {
      await down.stop();
    }
  });

  it('a 4xx other than 408/429 is permanent: one attempt, no retry; a 429 is retried', async () => {
    const gone = await addChannel({ name: 'gone', kind: 'webhook', url: receiver.url('/hooks/gone'), events: ['backup.failed'] });
    let throttled = 0;
    receiver.respond = (r) => {
      if (r.path === '/hooks/gone') return { status: 404, body: 'no such hook' };
      if (r.path === '/hooks/throttled' && throttled++ === 0) return { status: 429, body: 'slow down' };
      return { status: 200 };
    };
    const busy = await addChannel({ name: 'throttled', kind: 'webhook', url: receiver.url('/hooks/throttled'), events: ['backup.failed'] });
    const backup = await backupAndWait({ sourceId: missingSourceId, name: 'refused-notification' });
    expect(backup.status).toBe('failed');

    const refused = await stack.ctx.db.notificationDelivery.findFirstOrThrow({ where: { channelId: gone.id } });
    const { job, state } = await finishedDeliveryJob(refused.id);
    expect(state).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    const row = await stack.ctx.db.notificationDelivery.findUniqueOrThrow({ where: { id: refused.id }, include: { attemptsLog: true } });
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastError: 'The receiver answered 404.' });
    expect(row.attemptsLog).toEqual([expect.objectContaining({ ok: false, statusCode: 404 })]);

    const retried = await stack.ctx.db.notificationDelivery.findFirstOrThrow({ where: { channelId: busy.id } });
    expect((await finishedDeliveryJob(retried.id)).state).toBe('completed');
    const after = await stack.ctx.db.notificationAttempt.findMany({ where: { deliveryId: retried.id }, orderBy: { attempt: 'asc' } });
    expect(after.map((a) => [a.ok, a.statusCode])).toEqual([[false, 429], [true, 200]]);
  });

  it('a restore that completes is announced, with a link to it', async () => {
    await addChannel({ name: 'restores', kind: 'webhook', url: receiver.url('/hooks/restores'), events: ['restore.completed', 'restore.failed'] });
    const backup = await backupAndWait({ name: 'to-restore' });
    expect(backup.status).toBe('completed');
    const target = `coffre_notify_restored_${Date.now()}`;
    forgetDatabase(target);
    const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ targetDatabase: target, confirm: 'to-restore' });
    expect(res.status).toBe(202);
    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/restores');
    expect(hit!.json).toMatchObject({ event: 'restore.completed', url: `${PUBLIC_URL}/restores/${res.body.id}`, restore: { id: res.body.id, status: 'completed', backupName: 'to-restore', targetDatabase: target } });
  });

  it('a verification that fails (the artifact was damaged in storage) is announced once, with its result', async () => {
    await addChannel({ name: 'verifications', kind: 'webhook', url: receiver.url('/hooks/verifications'), events: ['verification.failed'] });
    const backup = await backupAndWait({ name: 'to-damage' });
    const artifact = await stack.ctx.db.backupArtifact.findFirstOrThrow({ where: { backupId: backup.id, kind: 'database' } });
    const path = join(stack.config.BACKUP_DIR, artifact.key);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(path, bytes);
    const res = await request(stack.app).post(`/api/backups/${backup.id}/verify`).set(auth);
    expect(res.status).toBe(202);
    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/verifications');
    expect(hit!.json).toMatchObject({
      event: 'verification.failed',
      url: `${PUBLIC_URL}/verifications/${res.body.id}`,
      verification: { id: res.body.id, status: 'failed', result: 'failed', backupName: 'to-damage', errorMessage: expect.stringMatching(/^The artifact was altered/) },
    });
    await finishedDeliveryJob((await stack.ctx.db.notificationDelivery.findFirstOrThrow({ where: { event: 'verification.failed' } })).id);
    expect(await stack.ctx.db.notificationDelivery.count({ where: { event: 'verification.failed' } })).toBe(1);
  });

  it('maintenance announces an overdue configuration once per episode', async () => {
    await addChannel({ name: 'overdue', kind: 'webhook', url: receiver.url('/hooks/overdue'), events: ['configuration.overdue'] });
    const sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
    const created = await request(stack.app).post('/api/configurations').set(auth).send({ name: 'nightly', sourceId, schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' } });
    expect(created.status).toBe(201);
    await stack.ctx.db.backupConfiguration.update({ where: { id: created.body.id }, data: { createdAt: new Date(Date.now() - 4 * 86_400_000) } });

    // Through the maintenance job itself, twice: the second run finds the same episode and sends nothing.
    for (let run = 0; run < 2; run++) {
      const job = await enqueue(stack.ctx, 'maintenance.run', {});
      await eventually(async () => ['completed', 'failed'].includes(await job.getState()), 60_000, 'the maintenance run');
      expect(await job.getState()).toBe('completed');
    }
    const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/overdue');
    expect(hit!.json).toMatchObject({ event: 'configuration.overdue', configuration: { id: created.body.id, name: 'nightly', lastCompletedAt: null }, url: `${PUBLIC_URL}/configurations/${created.body.id}` });
    expect(await stack.ctx.db.notificationDelivery.count({ where: { event: 'configuration.overdue' } })).toBe(1);
    await request(stack.app).delete(`/api/configurations/${created.body.id}`).set(auth);
  });

  it.skipIf(!canMountTmpfs())('maintenance warns when a local destination is above 80 % full, once a day', async () => {
    await addChannel({ name: 'disk', kind: 'webhook', url: receiver.url('/hooks/disk'), events: ['disk.warning'] });
    const fs = await mountTmpfs(1024 * 1024);
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${fs.dir}/filler`, Buffer.alloc(900 * 1024));
      const destination = await request(stack.app).post('/api/destinations').set(auth).send({ name: 'small-disk', kind: 'local', path: fs.dir });
      expect(destination.status).toBe(201);
      const first = await notifyMaintenanceFindings(stack.ctx, stack.ctx.logger);
      const second = await notifyMaintenanceFindings(stack.ctx, stack.ctx.logger);
      expect(first.fullDestinations).toBe(1);
      expect(second.fullDestinations).toBe(1);
      const [hit] = await receiver.waitFor(1, (r) => r.path === '/hooks/disk');
      expect(hit!.json).toMatchObject({ event: 'disk.warning', destination: { id: destination.body.id, name: 'small-disk' } });
      expect((hit!.json as { destination: { usedPercent: number } }).destination.usedPercent).toBeGreaterThan(80);
      expect(await stack.ctx.db.notificationDelivery.count({ where: { event: 'disk.warning' } })).toBe(1);
      await stack.ctx.db.destination.delete({ where: { id: destination.body.id } });
    } finally {
      await fs.unmount();
    }
  });

  it('a disabled channel, or one that does not listen to the event, gets nothing', async () => {
    const off = await addChannel({ name: 'off', kind: 'webhook', url: receiver.url('/hooks/off'), events: ['backup.failed'], enabled: false });
    const other = await addChannel({ name: 'other', kind: 'webhook', url: receiver.url('/hooks/other'), events: ['restore.failed'] });
    const backup = await backupAndWait({ sourceId: missingSourceId, name: 'heard-by-nobody' });
    expect(backup.status).toBe('failed');
    expect(await stack.ctx.db.notificationDelivery.count({ where: { channelId: { in: [off.id, other.id] } } })).toBe(0);
  });
});
