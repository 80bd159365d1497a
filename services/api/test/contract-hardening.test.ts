// What an attacker's probe of the API found the contract let through, each refused or normalised
// where the contract parses the request:
// - names holding C1 controls, line/paragraph separators or zero-width characters (the C0 controls
//   and the bidirectional controls were already refused);
// - ids in paths and bodies kept as typed, so that an upper-case id reached the audit log;
// - 400 sentences that quoted a secret value back (an ntfy topic, an S3 endpoint with a password);
// - S3 endpoints and a Telegram Bot API URL holding a user name and password (or, for an endpoint,
//   a query string), stored in clear and shown to viewers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import {
  channelInputSchema,
  channelUpdateSchema,
  configurationCreateSchema,
  destinationInputSchema,
  destinationUpdateSchema,
  formatZodError,
  routes,
  sourceInputSchema,
  totpConfirmSchema,
  totpLoginSchema,
  secondFactorSchema,
  type RouteDef,
} from '@coffre/contract';
import type { z } from 'zod';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;
let admin: { Authorization: string };
let viewer: { Authorization: string };
let sourceId: string;

beforeAll(async () => {
  stack = await createTestStack();
  admin = { Authorization: `Bearer ${stack.adminToken}` };
  viewer = { Authorization: `Bearer ${await stack.token('viewer')}` };
  sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
});

afterAll(async () => {
  await stack?.close();
});

/** The 400 sentence of a parse, as the API words it. */
function sentence(schema: z.ZodType, value: unknown): string | null {
  const parsed = schema.safeParse(value, { reportInput: true });
  return parsed.success ? null : formatZodError(parsed.error);
}

const code = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

describe('names refuse C1 controls, line and paragraph separators and zero-width characters', () => {
  const REFUSED = ['\u0080', '\u0085', '\u009b', '\u009f', '\u2028', '\u2029', '\u200b', '\u2060', '\ufeff'];

  const named: Record<string, { path: string; body: (name: string) => object }> = {
    backup: { path: '/api/backups', body: (name) => ({ name }) },
    configuration: { path: '/api/configurations', body: (name) => ({ name, sourceId }) },
    'notification channel': { path: '/api/notification-channels', body: (name) => ({ name, kind: 'webhook', url: 'https://hooks.example.com/coffre' }) },
    token: { path: '/api/tokens', body: (name) => ({ name, role: 'viewer' }) },
  };

  describe.each(Object.entries(named))('a %s name', (_what, { path, body }) => {
    it.each(REFUSED.map((c) => [code(c), c]))('with %s is refused with a 400 naming the field, the character shown escaped', async (shown, character) => {
      const res = await request(stack.app).post(path).set(admin).send(body(`c1${character}31mRED`));
      expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^name must not contain /) });
      expect(res.body.error.message).not.toContain(character);
      expect(res.body.error.message).toContain(`\\u${shown.slice(2)}`);
    });
  });

  it('the probe\'s names, one by one, on a backup', async () => {
    for (const name of ['c1\u009b31mRED\u009b0m', 'a\u0085b', 'a\u2028b', 'a\u200bb']) {
      const res = await request(stack.app).post('/api/backups').set(admin).send({ name });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
    }
  });

  it('an import\'s name and file name (kept in the audit log) are refused alike', async () => {
    for (const query of [{ name: 'a\u0085b' }, { filename: 'shop\u2028.dump' }, { filename: 'shop\u009b31m.dump' }]) {
      const res = await request(stack.app).post('/api/imports').query(query).set(admin).set('Content-Type', 'application/octet-stream').send(Buffer.from('x'));
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });

  it('a Mattermost sender name is refused alike', () => {
    const base = { name: 'mm', kind: 'mattermost', url: 'https://chat.example.org/hooks/abc' };
    expect(sentence(channelInputSchema, { ...base, username: 'coffre\u200bbot' })).toMatch(/^username must not contain zero-width spaces/);
    expect(sentence(channelUpdateSchema, { username: 'coffre\u0085bot' })).toMatch(/^username must not contain control characters/);
  });

  it('each with its own sentence', () => {
    const base = { name: 'x', sourceId };
    expect(sentence(configurationCreateSchema, { ...base, name: 'a\u009bb' })).toBe("name must not contain control characters (got 'a\\u009Bb').");
    expect(sentence(configurationCreateSchema, { ...base, name: 'a\u2028b' })).toBe("name must not contain line or paragraph separators (U+2028, U+2029) (got 'a\\u2028b').");
    expect(sentence(configurationCreateSchema, { ...base, name: 'a\ufeffb' })).toBe("name must not contain zero-width spaces (U+200B, U+2060, U+FEFF) (got 'a\\uFEFFb').");
  });

  it('letters of every script, accents and emoji are still names', async () => {
    // U+200C in a Persian word, U+200D in an emoji sequence: joiners that scripts and emoji need.
    for (const name of ['Sauvegarde été', 'нощно', '夜間バックアップ', 'ليلي', 'nightly 🌙', 'a\u00a0b', 'پشتیبان\u200cگیری', 'team 👨\u200d👩\u200d👧']) {
      expect({ name, problem: sentence(configurationCreateSchema, { name, sourceId }) }).toEqual({ name, problem: null });
    }
    const res = await request(stack.app).post('/api/tokens').set(admin).send({ name: 'jeton été 🌙', role: 'viewer' });
    expect(res.status).toBe(201);
  });
});

describe('ids are kept in lower case, however typed', () => {
  const UPPER = '01A22ED1-6E85-7C3A-9B1F-0123456789AB';

  it('every route with an :id gives its handler the id in lower case', () => {
    const withParams = Object.entries(routes as Record<string, RouteDef>).filter(([, route]) => route.params);
    expect(withParams.length).toBeGreaterThan(10);
    for (const [name, route] of withParams) {
      const parsed = route.params!.safeParse({ id: UPPER });
      expect({ name, parsed: parsed.success ? parsed.data : parsed.error.issues }).toEqual({ name, parsed: { id: UPPER.toLowerCase() } });
    }
  });

  it('ids in bodies too', () => {
    const parsed = configurationCreateSchema.parse({ name: 'n', sourceId: UPPER, destinationIds: [UPPER.replace('AB', 'CD')] });
    expect({ sourceId: parsed.sourceId, destinationIds: parsed.destinationIds }).toEqual({ sourceId: UPPER.toLowerCase(), destinationIds: [UPPER.replace('AB', 'CD').toLowerCase()] });
    // The same destination typed twice, once in capitals, is one destination listed twice.
    expect(sentence(configurationCreateSchema, { name: 'n', sourceId, destinationIds: [UPPER, UPPER.toLowerCase()] })).toMatch(/^destinationIds must not list a destination twice/);
  });

  it('a malformed id is still a 404 naming it', async () => {
    const res = await request(stack.app).delete('/api/notification-channels/NOT-AN-ID').set(admin);
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 404, message: 'Notification channel NOT-AN-ID was not found.' });
  });

  it('an upper-case id in a path reaches the audit log in lower case', async () => {
    const channel = await request(stack.app).post('/api/notification-channels').set(admin).send({ name: 'upper-case-id', kind: 'webhook', url: 'https://hooks.example.com/coffre' });
    expect(channel.status).toBe(201);
    const token = await request(stack.app).post('/api/tokens').set(admin).send({ name: 'upper-case-id', role: 'viewer' });
    expect(token.status).toBe(201);
    const ids = [channel.body.id as string, token.body.id as string];
    expect((await request(stack.app).put(`/api/notification-channels/${ids[0]!.toUpperCase()}`).set(admin).send({ enabled: false })).status).toBe(200);
    expect((await request(stack.app).delete(`/api/notification-channels/${ids[0]!.toUpperCase()}`).set(admin)).status).toBe(204);
    expect((await request(stack.app).delete(`/api/tokens/${ids[1]!.toUpperCase()}`).set(admin)).status).toBe(204);
    const events = await stack.ctx.db.auditEvent.findMany({ where: { OR: ids.map((id) => ({ targetId: { equals: id, mode: 'insensitive' as const } })) } });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.targetId).filter((id) => id !== id!.toLowerCase())).toEqual([]);
  });
});

describe('a 400 never quotes a secret back', () => {
  it('an ntfy topic, an S3 endpoint (destinations and bucket sources) and a Telegram Bot API URL', async () => {
    const probes: [string, object, string][] = [
      ['/api/notification-channels', { name: 'nt', kind: 'ntfy', topic: 'bad topic with space SECRETTOPIC' }, 'SECRETTOPIC'],
      ['/api/destinations', { name: 'd3', kind: 's3', endpoint: 'ftp://u:EndpointEchoPass@h', bucket: 'backups', accessKeyId: 'AKIA', secretAccessKey: 'secret' }, 'EndpointEchoPass'],
      ['/api/sources', { name: 's3', kind: 's3', endpoint: 'ftp://u:SourceEchoPass@h', bucket: 'data', accessKeyId: 'AKIA', secretAccessKey: 'secret' }, 'SourceEchoPass'],
      ['/api/notification-channels', { name: 'tg', kind: 'telegram', botToken: '7012345678:AAHoutboundTESTtokenTESTtoken1234', chatId: '42', apiUrl: 'ftp://u:ApiUrlEchoPass@h' }, 'ApiUrlEchoPass'],
    ];
    for (const [path, body, secret] of probes) {
      const res = await request(stack.app).post(path).set(admin).send(body);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(JSON.stringify(res.body)).not.toContain(secret);
    }
  });

  it('nor any other field that may hold one', () => {
    const cases: [z.ZodType, object, string][] = [
      [channelUpdateSchema, { topic: 'has space TOPICSECRET' }, 'TOPICSECRET'],
      [destinationUpdateSchema, { endpoint: 'gopher://ENDPOINTSECRET' }, 'ENDPOINTSECRET'],
      [destinationInputSchema, { name: 'rc', kind: 'rclone', remote: 'r', rcloneConfig: `[r]\ntype = s3\nsecret_access_key = RCLONESECRET\n${'x'.repeat(70_000)}` }, 'RCLONESECRET'],
      [totpLoginSchema, { challenge: `CHALLENGESECRET${'x'.repeat(2100)}`, code: '123456' }, 'CHALLENGESECRET'],
      [totpLoginSchema, { challenge: 'c', recoveryCode: 'RC1' }, 'RC1'],
      [secondFactorSchema, { recoveryCode: 'RC2' }, 'RC2'],
      [totpConfirmSchema, { code: 'CODE99' }, 'CODE99'],
      [sourceInputSchema, { name: 's', kind: 's3', bucket: 'data', accessKeyId: 'AKIA', secretAccessKey: 'secret', endpoint: 'https://u:SRCSECRET@h' }, 'SRCSECRET'],
    ];
    for (const [schema, value, secret] of cases) {
      const problem = sentence(schema, value);
      expect({ secret, refused: problem !== null }).toEqual({ secret, refused: true });
      expect(problem).not.toContain(secret);
    }
  });

  it('other values are still quoted', () => {
    expect(sentence(configurationCreateSchema, { name: 'n', sourceId: 'abc' })).toBe("sourceId must be a UUID (got 'abc').");
  });
});

describe('S3 endpoints and the Telegram Bot API URL hold no credentials', () => {
  const s3 = { kind: 's3', bucket: 'backups', accessKeyId: 'AKIA', secretAccessKey: 'secret' };

  it('an S3 destination whose endpoint holds a user name and password, or a query string, is refused and nothing is stored', async () => {
    const refused = [
      ['http://epuser:EndpointPassw0rd@127.0.0.1:4570/?token=X', /^endpoint must not hold a user name or password: give the credentials in accessKeyId and secretAccessKey/],
      ['http://epuser@127.0.0.1:4570', /^endpoint must not hold a user name or password/],
      ['http://:EndpointPassw0rd@127.0.0.1:4570', /^endpoint must not hold a user name or password/],
      ['http://127.0.0.1:4570/?token=X', /^endpoint must not have a query string or a fragment/],
      ['http://127.0.0.1:4570/#X', /^endpoint must not have a query string or a fragment/],
    ] as const;
    for (const [endpoint, message] of refused) {
      const res = await request(stack.app).post('/api/destinations').set(admin).send({ name: 'creds-in-endpoint', ...s3, endpoint });
      expect({ endpoint, status: res.status, message: res.body.error?.message }).toEqual({ endpoint, status: 400, message: expect.stringMatching(message) });
      expect(res.body.error.message).not.toMatch(/EndpointPassw0rd|token=X/);
    }
    expect(await stack.ctx.db.destination.count({ where: { name: 'creds-in-endpoint' } })).toBe(0);
    const listed = await request(stack.app).get('/api/destinations').set(viewer);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toMatch(/EndpointPassw0rd|epuser/);
  });

  it('nor may an update put them in', async () => {
    const created = await request(stack.app).post('/api/destinations').set(admin).send({ name: 'clean-endpoint', ...s3, endpoint: 'http://127.0.0.1:4570/' });
    expect(created.status).toBe(201);
    const moved = await request(stack.app).put(`/api/destinations/${created.body.id}`).set(admin).send({ endpoint: 'http://epuser:EndpointPassw0rd@127.0.0.1:4570' });
    expect({ status: moved.status, message: moved.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^endpoint must not hold a user name or password/) });
    const shown = await request(stack.app).get(`/api/destinations/${created.body.id}`).set(viewer);
    expect(JSON.stringify(shown.body)).not.toContain('EndpointPassw0rd');
  });

  it('a bucket source alike', async () => {
    const res = await request(stack.app).post('/api/sources').set(admin).send({ name: 'bucket-creds', ...s3, bucket: 'data', endpoint: 'https://epuser:EndpointPassw0rd@s3.example.org' });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^endpoint must not hold a user name or password/) });
    const update = sentence((routes['sources.update'] as RouteDef).body!, { endpoint: 'https://s3.example.org/?X-Amz-Credential=abc' });
    expect(update).toMatch(/^endpoint must not have a query string or a fragment/);
  });

  it('a Telegram Bot API URL: the token goes in botToken', async () => {
    const telegram = { name: 'tg-creds', kind: 'telegram', botToken: '7012345678:AAHoutboundTESTtokenTESTtoken1234', chatId: '42' };
    const res = await request(stack.app).post('/api/notification-channels').set(admin).send({ ...telegram, apiUrl: 'http://botuser:BotApiPassw0rd@127.0.0.1:8081' });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^apiUrl must not hold a user name or password: give the bot's token in botToken/) });
    expect(res.body.error.message).not.toContain('BotApiPassw0rd');
    expect(sentence(channelUpdateSchema, { apiUrl: 'http://127.0.0.1:8081/?token=X' })).toMatch(/^apiUrl must not have a query string or a fragment/);
    expect(sentence(channelUpdateSchema, { apiUrl: 'http://u:p@127.0.0.1:8081/' })).toMatch(/^apiUrl must not hold a user name or password/);
    expect(await stack.ctx.db.notificationChannel.count({ where: { name: 'tg-creds' } })).toBe(0);
  });

  it('plain endpoints and Bot API URLs are still accepted; other URLs keep their rules', () => {
    expect(sentence(destinationInputSchema, { name: 'ok', ...s3, endpoint: 'https://minio.example.com:9000' })).toBeNull();
    expect(sentence(destinationInputSchema, { name: 'ok', ...s3, endpoint: 'http://127.0.0.1:9000/path/' })).toBeNull();
    expect(sentence(channelInputSchema, { name: 'tg', kind: 'telegram', botToken: '7012345678:AAHoutboundTESTtokenTESTtoken1234', chatId: '42', apiUrl: 'https://bots.example.org/api' })).toBeNull();
    // A webhook URL is a credential as a whole: stored sealed, shown as its scheme and host only.
    expect(sentence(channelInputSchema, { name: 'wh', kind: 'webhook', url: 'https://u:p@hooks.example.com/coffre?key=1' })).toBeNull();
  });
});
