// Where coffre connects: a source host, an S3 endpoint, a webhook, Slack or Discord URL and an SMTP
// host are typed in by admins, and coffre runs next to cloud metadata services (169.254.169.254 and
// friends) that hand out credentials to whoever asks. Those addresses are refused in every spelling when
// saved, with a 400 naming the field; a name whose DNS answer is one of them is refused when coffre
// connects; loopback and private addresses stay allowed. A receiver that refuses a webhook never
// gets its answer shown back.
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../support/stack.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';

let stack: TestStack;
let auth: { Authorization: string };
let receiver: HttpReceiver;
const figures = { refusedAtSave: 0, refusedAtConnect: 0, allowed: 0 };

// Names under .rebind.test answer 169.254.169.254 (IPv4) and fe80::1 (IPv6), as a hostile DNS would.
const REBIND = /\.rebind\.test$/i;
const real = { lookup: dns.lookup, promises: dnsPromises.lookup };

beforeAll(async () => {
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  receiver = await startHttpReceiver();
  const answer = (family: number) => (family === 6 ? { address: 'fe80::1', family: 6 } : { address: '169.254.169.254', family: 4 });
  const fake = ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean; family?: number };
    if (!REBIND.test(hostname)) return (real.lookup as (...args: unknown[]) => void)(hostname, options, callback);
    const found = answer(opts.family ?? 4);
    setImmediate(() => (opts.all ? cb(null, [found]) : cb(null, found.address, found.family)));
  }) as typeof dns.lookup;
  dns.lookup = fake;
  dnsPromises.lookup = (async (hostname: string, options?: { all?: boolean; family?: number }) => {
    if (!REBIND.test(hostname)) return real.promises(hostname, options as never);
    const found = answer(options?.family ?? 4);
    return options?.all ? [found] : found;
  }) as typeof dnsPromises.lookup;
  syncBuiltinESMExports();
});

afterAll(async () => {
  dns.lookup = real.lookup;
  dnsPromises.lookup = real.promises;
  syncBuiltinESMExports();
  console.info(`outbound: ${JSON.stringify(figures)}`);
  await receiver?.stop();
  await stack?.close();
});

const post = (path: string, body: object) => request(stack.app).post(path).set(auth).send(body);

const FORBIDDEN_HOSTS = [
  '169.254.169.254',
  '169.254.170.2',
  '[fe80::1]',
  '[fe80::a9fe:a9fe]',
  '[::ffff:169.254.169.254]',
  '[::ffff:a9fe:a9fe]',
  '[64:ff9b::a9fe:a9fe]',
  '2852039166',
  '0xa9fea9fe',
  '0251.0376.0251.0376',
  '169.254.43518',
  'metadata.google.internal',
  'METADATA.Google.Internal.',
  'metadata.goog',
  'instance-data.ec2.internal',
  '100.100.100.200',
  '[fd00:ec2::254]',
];

describe('refused when saved, with a 400 naming the field', () => {
  it.each(FORBIDDEN_HOSTS)('a source on %s', async (host) => {
    const res = await post('/api/sources', { name: `src-${figures.refusedAtSave}`, url: `postgresql://postgres:pw@${host}:5432/app` });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^url: .* coffre never connects there\.$/) });
    figures.refusedAtSave += 1;
  });

  it('a source whose ?host= parameter names a metadata address, or a bucket source on one', async () => {
    const viaQuery = await post('/api/sources', { name: 'via-query', url: 'postgresql://postgres@db.example.org:5432/app?host=169.254.169.254' });
    expect({ status: viaQuery.status, message: viaQuery.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^url: 169\.254\.169\.254 is a link-local address/) });
    const bucket = await post('/api/sources', { name: 'bucket', kind: 's3', endpoint: 'http://169.254.169.254/', bucket: 'data', accessKeyId: 'AKIA', secretAccessKey: 'secret' });
    expect({ status: bucket.status, message: bucket.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^endpoint: 169\.254\.169\.254 is/) });
    // A list of hosts (which libpq would try in turn) cannot slip one past the check either.
    for (const url of ['postgresql://postgres@169.254.169.254,localhost:5432/app', 'postgresql://postgres@db.example.org/app?host=localhost,169.254.169.254']) {
      const listed = await post('/api/sources', { name: 'host-list', url });
      expect({ url, status: listed.status, message: listed.body.error?.message }).toEqual({ url, status: 400, message: 'url: The database URL names several hosts: give the one server to connect to.' });
    }
    expect(await stack.ctx.db.source.count({ where: { name: { in: ['via-query', 'bucket', 'host-list'] } } })).toBe(0);
    figures.refusedAtSave += 4;
  });

  it.each(FORBIDDEN_HOSTS)('an S3 destination endpoint on %s', async (host) => {
    const res = await post('/api/destinations', { name: `s3-${figures.refusedAtSave}`, kind: 's3', endpoint: `http://${host}:9000`, bucket: 'backups', accessKeyId: 'AKIA', secretAccessKey: 'secret' });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^endpoint: .* coffre never connects there\.$/) });
    figures.refusedAtSave += 1;
  });

  it('webhook, Slack and Discord URLs and SMTP hosts', async () => {
    for (const kind of ['webhook', 'slack', 'discord']) {
      for (const host of ['169.254.169.254', '[fe80::1]', 'metadata.google.internal', '0xa9fea9fe']) {
        const res = await post('/api/notification-channels', { name: `${kind}-${host}`, kind, url: `http://${host}/latest/meta-data/iam/security-credentials/` });
        expect({ kind, host, status: res.status, message: res.body.error?.message }).toEqual({ kind, host, status: 400, message: expect.stringMatching(/^url: .* coffre never connects there\.$/) });
        // The sentence names the host only: the rest of a webhook URL is a credential.
        expect(res.body.error.message).not.toContain('security-credentials');
        figures.refusedAtSave += 1;
      }
    }
    // Teams, Mattermost, ntfy and Gotify URLs, and a Telegram Bot API server, are checked alike.
    const extra = { teams: {}, mattermost: {}, ntfy: { topic: 'alerts' }, gotify: { appToken: 'AppToken1' } } as const;
    for (const [kind, settings] of Object.entries(extra)) {
      const res = await post('/api/notification-channels', { name: `${kind}-metadata`, kind, url: 'http://169.254.169.254/latest/meta-data/', ...settings });
      expect({ kind, status: res.status, message: res.body.error?.message }).toEqual({ kind, status: 400, message: expect.stringMatching(/^url: .* coffre never connects there\.$/) });
      figures.refusedAtSave += 1;
    }
    const telegram = await post('/api/notification-channels', { name: 'tg-metadata', kind: 'telegram', botToken: '7012345678:AAHoutboundTESTtokenTESTtoken1234', chatId: '42', apiUrl: 'http://[fe80::1]/' });
    expect({ status: telegram.status, message: telegram.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^apiUrl: .* coffre never connects there\.$/) });
    figures.refusedAtSave += 1;
    for (const host of ['169.254.169.254', '[fe80::1]', 'metadata.google.internal', '2852039166']) {
      const res = await post('/api/notification-channels', { name: `mail-${host}`, kind: 'email', host, from: 'coffre@example.org', to: ['ops@example.org'] });
      expect({ host, status: res.status, message: res.body.error?.message }).toEqual({ host, status: 400, message: expect.stringMatching(/^host: .* coffre never connects there\.$/) });
      figures.refusedAtSave += 1;
    }
    expect(await stack.ctx.db.notificationChannel.count()).toBe(0);
  });

  it('changing an existing destination or channel to such an address is refused too, and changes nothing', async () => {
    const destination = await post('/api/destinations', { name: 'bucket-ok', kind: 's3', endpoint: 'http://127.0.0.1:9', bucket: 'backups', accessKeyId: 'AKIA', secretAccessKey: 'secret' });
    expect(destination.status).toBe(201);
    const moved = await request(stack.app).put(`/api/destinations/${destination.body.id}`).set(auth).send({ endpoint: 'http://169.254.169.254' });
    expect({ status: moved.status, message: moved.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^endpoint: /) });
    const channel = await post('/api/notification-channels', { name: 'hook-ok', kind: 'webhook', url: receiver.url('/ok') });
    expect(channel.status).toBe(201);
    const redirected = await request(stack.app).put(`/api/notification-channels/${channel.body.id}`).set(auth).send({ url: 'http://[::ffff:169.254.169.254]/' });
    expect({ status: redirected.status, message: redirected.body.error?.message }).toEqual({ status: 400, message: expect.stringMatching(/^url: /) });
    expect((await request(stack.app).get(`/api/destinations/${destination.body.id}`).set(auth)).body.location).toContain('127.0.0.1:9');
    await stack.ctx.db.notificationChannel.deleteMany();
    await stack.ctx.db.destination.delete({ where: { id: destination.body.id } });
    figures.refusedAtSave += 2;
  });

  it('loopback and private addresses stay allowed: coffre backs up the PostgreSQL next to it', async () => {
    for (const [i, host] of ['127.0.0.1', 'localhost', '[::1]', '10.1.2.3', '192.168.1.20', '172.16.0.9', 'db.example.org'].entries()) {
      const res = await post('/api/sources', { name: `allowed-${i}`, url: `postgresql://postgres@${host}:5432/app` });
      expect({ host, status: res.status }).toEqual({ host, status: 201 });
      figures.allowed += 1;
    }
  });
});

describe('refused when connecting, after DNS', () => {
  it('a webhook whose name resolves to a link-local address is not sent, and the delivery says why', async () => {
    const channel = await post('/api/notification-channels', { name: 'rebound-hook', kind: 'webhook', url: `http://hook.rebind.test:${receiver.port}/hooks/x` });
    expect(channel.status).toBe(201);
    const delivery = await request(stack.app).post(`/api/notification-channels/${channel.body.id}/test`).set(auth).send();
    expect(delivery.status).toBe(200);
    expect(delivery.body.status).toBe('failed');
    expect(delivery.body.lastError).toBe('coffre refused to connect to hook.rebind.test: it resolves to 169.254.169.254, a link-local address, where cloud metadata services answer.');
    figures.refusedAtConnect += 1;
  });

  it('an SMTP host whose name resolves to a link-local address gets no mail', async () => {
    const channel = await post('/api/notification-channels', { name: 'rebound-mail', kind: 'email', host: 'smtp.rebind.test', port: 2525, from: 'coffre@example.org', to: ['ops@example.org'] });
    expect(channel.status).toBe(201);
    const delivery = await request(stack.app).post(`/api/notification-channels/${channel.body.id}/test`).set(auth).send();
    expect(delivery.body.lastError).toBe('coffre refused to connect to smtp.rebind.test: it resolves to 169.254.169.254, a link-local address, where cloud metadata services answer.');
    figures.refusedAtConnect += 1;
  });

  it('a source whose name resolves to a link-local address is not connected to', async () => {
    const source = await post('/api/sources', { name: 'rebound-db', url: 'postgresql://postgres:pw@db.rebind.test:5432/app' });
    expect(source.status).toBe(201);
    const tested = await post(`/api/sources/${source.body.id}/test`, {});
    expect(tested.body).toEqual({ ok: false, message: 'coffre refused to connect to db.rebind.test: it resolves to 169.254.169.254, a link-local address, where cloud metadata services answer.' });
    figures.refusedAtConnect += 1;
  });

  it('an S3 endpoint whose name resolves to a link-local address is not connected to', async () => {
    const destination = await post('/api/destinations', { name: 'rebound-s3', kind: 's3', endpoint: 'http://s3.rebind.test:9000', forcePathStyle: true, bucket: 'backups', accessKeyId: 'AKIA', secretAccessKey: 'secret' });
    expect(destination.status).toBe(201);
    const tested = await post(`/api/destinations/${destination.body.id}/test`, {});
    expect(tested.body.ok).toBe(false);
    expect(tested.body.message).toContain('coffre refused to connect to s3.rebind.test: it resolves to 169.254.169.254, a link-local address');
    figures.refusedAtConnect += 1;
  });

  it('a channel stored before this check (a metadata address in its sealed URL) is refused when sending', async () => {
    const url = 'http://169.254.169.254/latest/meta-data/';
    const row = await stack.ctx.db.notificationChannel.create({
      data: { name: 'legacy-hook', kind: 'webhook', events: ['backup.failed'], config: { url: 'http://169.254.169.254/********', signed: false }, secretEncrypted: stack.ctx.secrets.seal(JSON.stringify({ url })) },
    });
    const delivery = await request(stack.app).post(`/api/notification-channels/${row.id}/test`).set(auth).send();
    expect(delivery.body.lastError).toBe('coffre refused to connect to 169.254.169.254: it is a link-local address, where cloud metadata services answer.');
    figures.refusedAtConnect += 1;
  });
});

describe("a receiver's answer is never shown back", () => {
  it('a refused webhook records the status only, not what the internal service answered', async () => {
    const INTERNAL = 'AccessKeyId=ASIA-internal-credentials-7f3a';
    receiver.respond = () => ({ status: 500, body: `{"Code":"Success","${INTERNAL}"}` });
    try {
      const channel = await post('/api/notification-channels', { name: 'talkative', kind: 'webhook', url: receiver.url('/hooks/talkative') });
      const delivery = await request(stack.app).post(`/api/notification-channels/${channel.body.id}/test`).set(auth).send();
      expect(delivery.body.lastError).toBe('The receiver answered 500.');
      const rows = JSON.stringify(await stack.ctx.db.notificationAttempt.findMany());
      const audit = JSON.stringify(await stack.ctx.db.auditEvent.findMany());
      expect({ inAttempts: rows.includes(INTERNAL), inAudit: audit.includes(INTERNAL), inAnswer: JSON.stringify(delivery.body).includes(INTERNAL) }).toEqual({ inAttempts: false, inAudit: false, inAnswer: false });
    } finally {
      receiver.respond = () => ({ status: 200, body: 'ok' });
    }
  });
});
