// Telegram, Microsoft Teams (workflow webhooks), Mattermost, ntfy and Gotify channels end to end: made
// through the API, fed by a real failed backup through the notifications queue, and received by a
// real HTTP server that checks each request against the format the service documents. Their secrets
// (bot and app tokens, ntfy topics and access tokens, webhook URLs) are sealed, masked in answers and
// absent from logs and error sentences; retries and permanent refusals work as for every channel.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { databaseUrl } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../../../test/support/receivers.js';

const PUBLIC_URL = 'https://coffre.example.org';
const BOT_TOKEN = '7012345678:AAHk3v9-Qx_TESTtokenTESTtoken1234567';
const NTFY_TOPIC = 'coffre-alerts-Zq81x';
const NTFY_TOKEN = 'tk_9s8d7f6g5h4j3k2l1mnbvcxz0';
const GOTIFY_TOKEN = 'AqWz.Gotify_app-7Kp';
const TEAMS_PATH = '/workflows/8c1f/triggers/manual/paths/invoke?api-version=1&sig=teams-sig-Xk2p9';
const MATTERMOST_PATH = '/hooks/mm-key-4p7cz9x1';
const secrets = [BOT_TOKEN, NTFY_TOPIC, NTFY_TOKEN, GOTIFY_TOKEN, 'teams-sig-Xk2p9', 'mm-key-4p7cz9x1'];

let stack: TestStack;
let auth: { Authorization: string };
let receiver: HttpReceiver;
let missingSourceId: string;

beforeAll(async () => {
  stack = await createTestStack({ env: { PUBLIC_URL } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  receiver = await startHttpReceiver();
  stack.startWorkers({ concurrency: 2 });
  const source = await request(stack.app).post('/api/sources').set(auth).send({ name: 'missing-db', url: databaseUrl('coffre_no_such_database') });
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
});

async function addChannel(body: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>> {
  const res = await request(stack.app).post('/api/notification-channels').set(auth).send({ events: ['backup.failed'], ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const channels = () => ({
  telegram: { name: 'tg', kind: 'telegram', botToken: BOT_TOKEN, chatId: '-1001234567890', apiUrl: receiver.url('/telegram') },
  teams: { name: 'teams', kind: 'teams', url: receiver.url(TEAMS_PATH) },
  mattermost: { name: 'mm', kind: 'mattermost', url: receiver.url(MATTERMOST_PATH), channel: 'ops-alerts', username: 'coffre-bot' },
  ntfy: { name: 'ntfy', kind: 'ntfy', url: receiver.url('/ntfy'), topic: NTFY_TOPIC, accessToken: NTFY_TOKEN },
  gotify: { name: 'gotify', kind: 'gotify', url: receiver.url('/gotify/'), appToken: GOTIFY_TOKEN },
});

async function failedBackup(name: string) {
  const created = await request(stack.app).post('/api/backups').set(auth).send({ sourceId: missingSourceId, name });
  expect(created.status).toBe(202);
  return eventually(async () => {
    const row = await stack.ctx.db.backup.findUnique({ where: { id: created.body.id } });
    return row?.status === 'failed' ? row : null;
  }, 90_000, 'the backup to fail');
}

const isJson = (r: ReceivedRequest) => expect(r.headers['content-type']).toBe('application/json');

describe('each service gets the request its documentation describes', () => {
  it('from one failed backup: Telegram sendMessage, a Teams Adaptive Card, a Mattermost webhook, an ntfy JSON publish, a Gotify message', async () => {
    for (const body of Object.values(channels())) await addChannel(body);
    const backup = await failedBackup('doomed-backup');
    const title = 'Backup "doomed-backup" of missing-db failed';
    const link = `${PUBLIC_URL}/backups/${backup.id}`;
    const hits = await receiver.waitFor(5, (r) => r.raw.includes('doomed-backup'));
    const byPath = (prefix: string) => hits.find((r) => r.path.startsWith(prefix))!;

    const telegram = byPath('/telegram/');
    expect([telegram.method, telegram.path]).toEqual(['POST', `/telegram/bot${BOT_TOKEN}/sendMessage`]);
    isJson(telegram);
    const tg = telegram.json as Record<string, unknown>;
    expect(Object.keys(tg).sort()).toEqual(['chat_id', 'link_preview_options', 'parse_mode', 'text']);
    expect(tg).toMatchObject({ chat_id: -1001234567890, parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(tg.text).toMatch(new RegExp(`^❌ <b>${title}</b>\n`));
    expect(tg.text).toContain(backup.errorMessage!);
    expect(tg.text).toContain(`<a href="${link}">Open in coffre</a>`);

    const teams = byPath('/workflows/');
    expect([teams.method, teams.path]).toEqual(['POST', TEAMS_PATH]);
    isJson(teams);
    const card = teams.json as { type: string; attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[] };
    expect(card.type).toBe('message');
    expect(card.attachments).toHaveLength(1);
    expect(card.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.attachments[0]!.contentUrl).toBeNull();
    const content = card.attachments[0]!.content as { type: string; version: string; $schema: string; body: { type: string; text: string; color?: string }[]; actions: unknown[] };
    expect([content.type, content.version, content.$schema]).toEqual(['AdaptiveCard', '1.4', 'http://adaptivecards.io/schemas/adaptive-card.json']);
    expect(content.body[0]).toMatchObject({ type: 'TextBlock', text: title, weight: 'Bolder', color: 'Attention', wrap: true });
    expect(content.body.every((block) => block.type === 'TextBlock')).toBe(true);
    expect(content.body.some((block) => block.text.includes(backup.errorMessage!))).toBe(true);
    expect(content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in coffre', url: link }]);

    const mattermost = byPath('/hooks/');
    expect([mattermost.method, mattermost.path]).toEqual(['POST', MATTERMOST_PATH]);
    isJson(mattermost);
    const mm = mattermost.json as Record<string, string>;
    expect(Object.keys(mm).sort()).toEqual(['channel', 'text', 'username']);
    expect([mm.channel, mm.username]).toEqual(['ops-alerts', 'coffre-bot']);
    expect(mm.text).toMatch(new RegExp(`^:x: \\*\\*${title}\\*\\*\n`));
    expect(mm.text).toContain(`[Open in coffre](${link})`);

    const ntfy = byPath('/ntfy');
    expect([ntfy.method, ntfy.path]).toEqual(['POST', '/ntfy']);
    isJson(ntfy);
    expect(ntfy.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    const message = (ntfy.json as { message: string }).message;
    expect(ntfy.json).toEqual({ topic: NTFY_TOPIC, title, message, priority: 4, tags: ['rotating_light', 'coffre'], click: link });
    expect(message).toContain(backup.errorMessage!);

    const gotify = byPath('/gotify/');
    expect([gotify.method, gotify.path]).toEqual(['POST', `/gotify/message?token=${GOTIFY_TOKEN}`]);
    isJson(gotify);
    const gotifyMessage = (gotify.json as { message: string }).message;
    expect(gotify.json).toEqual({ title, message: gotifyMessage, priority: 8 });
    expect(gotifyMessage).toContain(link);

    // Once: one delivery per channel, delivered at the first attempt.
    const deliveries = await eventually(async () => {
      const rows = await stack.ctx.db.notificationDelivery.findMany({ where: { event: 'backup.failed' } });
      return rows.length === 5 && rows.every((d) => d.status === 'delivered') ? rows : null;
    }, 30_000, 'five deliveries');
    expect(deliveries.map((d) => d.attempts)).toEqual([1, 1, 1, 1, 1]);
  });

  it('a completed backup is good news: ntfy priority 3 with a check mark, Gotify priority 4, a Teams card in the good colour', async () => {
    const list = channels();
    for (const body of [list.ntfy, list.gotify, list.teams]) await addChannel({ ...body, events: ['backup.completed'] });
    const created = await request(stack.app).post('/api/backups').set(auth).send({ name: 'fine-backup' });
    expect(created.status).toBe(202);
    const hits = await receiver.waitFor(3, (r) => r.raw.includes('fine-backup'));
    expect(hits.find((r) => r.path === '/ntfy')!.json).toMatchObject({ priority: 3, tags: ['white_check_mark', 'coffre'] });
    expect(hits.find((r) => r.path.startsWith('/gotify/'))!.json).toMatchObject({ priority: 4 });
    const card = hits.find((r) => r.path.startsWith('/workflows/'))!.json as { attachments: { content: { body: { color?: string }[] } }[] };
    expect(card.attachments[0]!.content.body[0]!.color).toBe('Good');
  });
});

describe('their secrets', () => {
  it('are sealed at rest, masked in every answer, and in no log line', async () => {
    const created = [];
    for (const body of Object.values(channels())) created.push(await addChannel(body));
    const listed = await request(stack.app).get('/api/notification-channels').set(auth);
    expect(listed.status).toBe(200);
    const byKind = Object.fromEntries((listed.body.items as Record<string, unknown>[]).map((c) => [c.kind, c]));
    expect(byKind.telegram).toMatchObject({ botToken: '********', chatId: '-1001234567890', apiUrl: receiver.url('/telegram') });
    expect(byKind.teams).toMatchObject({ url: `http://127.0.0.1:${receiver.port}/********` });
    expect(byKind.mattermost).toMatchObject({ url: `http://127.0.0.1:${receiver.port}/********`, channel: 'ops-alerts', username: 'coffre-bot' });
    expect(byKind.ntfy).toMatchObject({ topic: '********', accessToken: '********' });
    expect(byKind.gotify).toMatchObject({ appToken: '********' });
    const answers = JSON.stringify([listed.body, created]);
    const rows = JSON.stringify(await stack.ctx.db.notificationChannel.findMany());
    for (const secret of secrets) {
      expect(answers).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    // A test send goes through, and leaves no secret in the logs.
    for (const channel of created) {
      const sent = await request(stack.app).post(`/api/notification-channels/${channel.id}/test`).set(auth);
      expect(sent.body.status, JSON.stringify(sent.body)).toBe('delivered');
    }
    const logs = stack.logs.join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });

  it('an update keeps the secrets it does not name, and refuses the fields of another kind', async () => {
    const list = channels();
    const tg = await addChannel(list.telegram);
    const changed = await request(stack.app).put(`/api/notification-channels/${tg.id}`).set(auth).send({ chatId: '@coffre_alerts' });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const sent = await request(stack.app).post(`/api/notification-channels/${tg.id}/test`).set(auth);
    expect(sent.body.status).toBe('delivered');
    const [hit] = await receiver.waitFor(1, (r) => r.path.startsWith('/telegram/') && (r.json as { chat_id: unknown }).chat_id === '@coffre_alerts');
    expect(hit!.path).toBe(`/telegram/bot${BOT_TOKEN}/sendMessage`);
    const foreign = await request(stack.app).put(`/api/notification-channels/${tg.id}`).set(auth).send({ topic: 'other' });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toBe('topic does not apply to telegram channels.');
  });

  it('bad settings are refused with a sentence naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', kind: 'telegram', botToken: 'not-a-token', chatId: '42' }, 'botToken must be a bot token'],
      [{ name: 'x', kind: 'telegram', botToken: BOT_TOKEN, chatId: 'general' }, 'chatId must be a chat id'],
      [{ name: 'x', kind: 'ntfy', url: 'https://ntfy.sh', topic: 'has space' }, 'topic must be 1–64 letters'],
      [{ name: 'x', kind: 'gotify', url: 'https://push.example.org' }, 'appToken'],
      [{ name: 'x', kind: 'mattermost', url: 'https://chat.example.org/hooks/x', channel: 'Town Square' }, 'channel must be a channel name'],
    ];
    for (const [body, message] of cases) {
      const res = await request(stack.app).post('/api/notification-channels').set(auth).send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.message).toContain(message);
    }
  });
});

describe('delivery', () => {
  it('retries a Telegram 429 and delivers; a Gotify 401 is permanent, after one attempt, with no token in its error', async () => {
    const list = channels();
    const tg = await addChannel(list.telegram);
    const gotify = await addChannel(list.gotify);
    let telegramCalls = 0;
    receiver.respond = (r) => {
      if (r.path.startsWith('/telegram/')) return { status: ++telegramCalls === 1 ? 429 : 200, body: '{}' };
      if (r.path.startsWith('/gotify/')) return { status: 401, body: `{"error":"Unauthorized","errorDescription":"you need to provide a valid access token or user credentials to access this api ${GOTIFY_TOKEN}"}` };
      return { status: 200, body: 'ok' };
    };
    await failedBackup('retried-backup');
    const settled = await eventually(async () => {
      const rows = await stack.ctx.db.notificationDelivery.findMany({ where: { channelId: { in: [tg.id, gotify.id] } }, include: { attemptsLog: { orderBy: { attempt: 'asc' } } } });
      return rows.length === 2 && rows.every((d) => d.status !== 'pending') ? rows : null;
    }, 90_000, 'both deliveries to settle');
    const telegram = settled.find((d) => d.channelId === tg.id)!;
    expect(telegram.attemptsLog.map((a) => [a.ok, a.statusCode])).toEqual([[false, 429], [true, 200]]);
    expect(telegram.status).toBe('delivered');
    const refused = settled.find((d) => d.channelId === gotify.id)!;
    expect([refused.status, refused.attempts, refused.lastError]).toEqual(['failed', 1, 'The receiver answered 401.']);
    expect(JSON.stringify(settled)).not.toContain(GOTIFY_TOKEN);
  });
});
