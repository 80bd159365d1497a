// The audit log: every state-changing route of the published OpenAPI document is called with valid
// input and must leave an audit event naming who did it and from where; then every password and
// token this file used is searched for in the whole AuditEvent table, in every API answer, in the
// captured logs, in the job data in Redis and in a plain-text dump of coffre's whole database.
// A route added to the document without a way to call it here fails the first test: add it below.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { generate } from 'otplib';
import { forgetDatabase } from '../../../test/support/pg.js';
import { REDIS_URL } from '../../../test/support/env.js';
import { createTestStack, eventually, type TestStack } from '../../../test/support/stack.js';
import { startHttpReceiver, startSmtpSink, type HttpReceiver, type SmtpSink } from '../../../test/support/receivers.js';
import { startPostgresCluster, type PostgresCluster } from '../../../test/support/postgres-cluster.js';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const SECRETS = {
  sourcePassword: 'srcpw-Kx81mQ0z',
  sourcePasswordChanged: 'srcpw-changed-Tq55',
  smtpPassword: 'smtp-pw-Wq0!7s',
  webhookSigningSecret: 'whsec-audit-5c8e1f0a92',
  webhookPath: 'hook-path-token-33aa',
  s3SecretKey: 's3-secret-key-Zx9Yw8Vu7',
  userPassword: 'user-pw-Lm4n5o6p7q',
};

interface Call {
  route: string;
  status: number;
  /** The action this route must record, or why it records none. */
  expect: { action: string } | { readOnly: string };
  /** Who must be recorded, when not the admin token (a user's own two-factor routes). */
  actor?: { type: string; name: string };
  since: Date;
  error?: string;
}

interface Answer {
  label: string;
  text: string;
  /** Secrets this answer carries by design (a new token's value, shown once; the session cookie). */
  allowed: string[];
}

let stack: TestStack;
/** A cluster of the test's own that streams its WAL (point-in-time recovery routes). */
let pitrCluster: PostgresCluster | null = null;
let pitrWorkDir: string | null = null;
let receiver: HttpReceiver;
let smtp: SmtpSink;
let documented: string[] = [];
const calls: Call[] = [];
const answers: Answer[] = [];
const tokens: string[] = [];
/** Secrets an answer shows once by design (a new TOTP secret, recovery codes), by route. */
const shownOnce: Record<string, string[]> = {};

/** Route → how to call it with valid input. Run in this order; ids flow through `ids`. */
type Recipe = { expect: Call['expect']; actor?: Call['actor']; run: (ids: Record<string, string>) => Promise<request.Response> };

function recipes(admin: (method: 'post' | 'put' | 'delete', path: string) => request.Test): [string, Recipe][] {
  const sourceUrl = (password: string) => stack.env.SOURCE_DATABASE_URL!.replace('postgres@', `postgres:${password}@`);
  const waitFinished = (model: 'backup' | 'restore' | 'verification', id: string) =>
    eventually(async () => {
      const row = await (stack.ctx.db[model] as unknown as { findUnique(a: object): Promise<{ status: string } | null> }).findUnique({ where: { id } });
      return row && (row.status === 'completed' || row.status === 'failed') ? row : null;
    }, 120_000, `${model} ${id} to finish`);
  return [
    ['post /api/sources', { expect: { action: 'source.create' }, run: async (ids) => keep(ids, 'source', await admin('post', '/api/sources').send({ name: 'audited-src', url: sourceUrl(SECRETS.sourcePassword) })) }],
    ['put /api/sources/{id}', { expect: { action: 'source.update' }, run: (ids) => admin('put', `/api/sources/${ids.source}`).send({ url: sourceUrl(SECRETS.sourcePasswordChanged) }) }],
    ['post /api/sources/{id}/test', { expect: { readOnly: 'tries a connection; changes nothing' }, run: (ids) => admin('post', `/api/sources/${ids.source}/test`).send() }],
    [
      'put /api/sources/{id}/pitr',
      {
        expect: { action: 'source.pitr' },
        run: async (ids) => {
          pitrCluster = await startPostgresCluster();
          keep(ids, 'pitrSource', await admin('post', '/api/sources').send({ name: 'audited-pitr', url: pitrCluster.url('postgres') }));
          const res = await admin('put', `/api/sources/${ids.pitrSource}/pitr`).send({ enabled: true });
          // A base backup and WAL after it, for the restore to a moment below.
          const base = await admin('post', '/api/backups').send({ sourceId: ids.pitrSource, type: 'physical', name: 'audited-base' });
          await waitFinished('backup', base.body.id);
          await eventually(async () => {
            const window = (await stack.ctx.db.walFile.findMany({ where: { sourceId: ids.pitrSource } })).length;
            const state = await request(stack.app).get(`/api/sources/${ids.pitrSource}/pitr`).set('Authorization', `Bearer ${stack.adminToken}`);
            return window > 0 && Boolean(state.body.window?.latest) && Date.parse(state.body.window.latest) - Date.parse(state.body.window.earliest) > 2000;
          }, 60_000, 'a recovery window of two seconds');
          return res;
        },
      },
    ],
    ['post /api/sources/{id}/pitr/check', { expect: { readOnly: 'checks the requirements; changes nothing' }, run: (ids) => admin('post', `/api/sources/${ids.pitrSource}/pitr/check`).send() }],
    [
      'post /api/sources/{id}/pitr/restore',
      {
        expect: { action: 'source.pitr.restore' },
        run: async (ids) => {
          const state = await request(stack.app).get(`/api/sources/${ids.pitrSource}/pitr`).set('Authorization', `Bearer ${stack.adminToken}`);
          if (!state.body.window?.earliest) throw new Error(`no recovery window: ${state.status} ${JSON.stringify(state.body)}`);
          const moment = new Date(Math.ceil(Date.parse(state.body.window.earliest) / 1000) * 1000 + 1000).toISOString();
          const res = await admin('post', `/api/sources/${ids.pitrSource}/pitr/restore`).send({ targetTime: moment, database: 'postgres', targetDatabase: 'audited_at_moment', confirm: 'audited_at_moment' });
          if (res.body?.id) await waitFinished('restore', res.body.id);
          return res;
        },
      },
    ],
    ['post /api/destinations', { expect: { action: 'destination.create' }, run: async (ids) => keep(ids, 'destination', await admin('post', '/api/destinations').send({ name: 'second-dir', kind: 'local', path: join(stack.dir, 'second') })) }],
    ['put /api/destinations/{id}', { expect: { action: 'destination.update' }, run: (ids) => admin('put', `/api/destinations/${ids.destination}`).send({ name: 'second-directory' }) }],
    ['post /api/destinations/{id}/test', { expect: { readOnly: 'writes and removes a probe; changes nothing' }, run: (ids) => admin('post', `/api/destinations/${ids.destination}/test`).send() }],
    ['post /api/configurations', { expect: { action: 'configuration.create' }, run: async (ids) => keep(ids, 'configuration', await admin('post', '/api/configurations').send({ name: 'audited-config', sourceId: ids.source })) }],
    ['put /api/configurations/{id}', { expect: { action: 'configuration.update' }, run: (ids) => admin('put', `/api/configurations/${ids.configuration}`).send({ compression: 'gzip' }) }],
    ['post /api/configurations/{id}/deactivate', { expect: { action: 'configuration.deactivate' }, run: (ids) => admin('post', `/api/configurations/${ids.configuration}/deactivate`).send() }],
    ['post /api/configurations/{id}/activate', { expect: { action: 'configuration.activate' }, run: (ids) => admin('post', `/api/configurations/${ids.configuration}/activate`).send() }],
    ['post /api/configurations/{id}/duplicate', { expect: { action: 'configuration.duplicate' }, run: async (ids) => keep(ids, 'copy', await admin('post', `/api/configurations/${ids.configuration}/duplicate`).send()) }],
    [
      'post /api/configurations/{id}/run',
      {
        expect: { action: 'backup.create' },
        run: async (ids) => {
          const res = keep(ids, 'backup', await admin('post', `/api/configurations/${ids.configuration}/run`).send());
          await waitFinished('backup', ids.backup!);
          return res;
        },
      },
    ],
    [
      'post /api/backups',
      {
        expect: { action: 'backup.create' },
        run: async (ids) => {
          const res = keep(ids, 'spare', await admin('post', '/api/backups').send({ sourceId: ids.source, name: 'spare' }));
          await waitFinished('backup', ids.spare!);
          return res;
        },
      },
    ],
    [
      'post /api/backups/{id}/verify',
      {
        expect: { action: 'backup.verify' },
        run: async (ids) => {
          const res = await admin('post', `/api/backups/${ids.backup}/verify`).send();
          if (res.body?.id) await waitFinished('verification', res.body.id);
          return res;
        },
      },
    ],
    [
      'post /api/backups/{id}/restore',
      {
        expect: { action: 'backup.restore' },
        run: async (ids) => {
          const target = `coffre_audit_restored_${Date.now()}`;
          forgetDatabase(target);
          const backup = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: ids.backup } });
          const res = await admin('post', `/api/backups/${ids.backup}/restore`).send({ targetDatabase: target, confirm: backup.name });
          if (res.body?.id) await waitFinished('restore', res.body.id);
          return res;
        },
      },
    ],
    [
      'post /api/restores/{id}/undo',
      {
        expect: { action: 'restore.undo' },
        run: async (ids) => {
          // A restore over the source's own database swaps; its undo swaps the replaced one back.
          const backup = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: ids.backup } });
          const restore = await admin('post', `/api/backups/${ids.backup}/restore`).send({ confirm: backup.name });
          const done = await waitFinished('restore', restore.body.id);
          if (done.status !== 'completed') throw new Error(`the restore over the source database ended ${done.status}`);
          const row = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: restore.body.id } });
          if (row.keptDatabase) forgetDatabase(row.keptDatabase);
          const res = await admin('post', `/api/restores/${restore.body.id}/undo`).send();
          if (res.body?.undoneDatabase) forgetDatabase(res.body.undoneDatabase);
          return res;
        },
      },
    ],
    [
      'post /api/backups/{id}/retry',
      {
        expect: { action: 'backup.create' },
        run: async (ids) => {
          const missing = keep(ids, 'missingSource', await admin('post', '/api/sources').send({ name: 'audited-missing-db', url: stack.env.SOURCE_DATABASE_URL!.replace(/\/[^/?]+(\?|$)/, '/coffre_no_such_database$1') }));
          const failing = await admin('post', '/api/backups').send({ sourceId: missing.body.id, name: 'fails' });
          const failed = await waitFinished('backup', failing.body.id);
          if (failed.status !== 'failed') throw new Error(`the backup of a missing database ended ${failed.status}`);
          const res = await admin('post', `/api/backups/${failing.body.id}/retry`).send();
          if (res.body?.id) await waitFinished('backup', res.body.id);
          return res;
        },
      },
    ],
    [
      'post /api/imports',
      {
        expect: { action: 'backup.import' },
        run: (ids) => {
          // A dump of the source made with pg_dump itself, as one made elsewhere would be.
          const dump = execFileSync('pg_dump', ['-Fc', `--dbname=${stack.env.SOURCE_DATABASE_URL}`]);
          return admin('post', `/api/imports?filename=elsewhere.dump&sourceId=${ids.source}`).set('Content-Type', 'application/octet-stream').send(dump);
        },
      },
    ],
    ['delete /api/backups/{id}', { expect: { action: 'backup.delete' }, run: (ids) => admin('delete', `/api/backups/${ids.spare}`).send() }],
    [
      'post /api/tokens',
      {
        expect: { action: 'token.create' },
        run: async (ids) => {
          const res = keep(ids, 'token', await admin('post', '/api/tokens').send({ name: 'ci', role: 'operator' }));
          if (res.body?.token) tokens.push(res.body.token);
          return res;
        },
      },
    ],
    ['delete /api/tokens/{id}', { expect: { action: 'token.revoke' }, run: (ids) => admin('delete', `/api/tokens/${ids.token}`).send() }],
    [
      'delete /api/auth/sessions/{id}',
      {
        expect: { action: 'session.end' },
        run: async () => {
          // A web UI session opened with the admin token, ended through the API with that token.
          await request(stack.app).post('/api/auth/login').send({ token: stack.adminToken });
          const sessions = await request(stack.app).get('/api/auth/sessions').set('Authorization', `Bearer ${stack.adminToken}`);
          return admin('delete', `/api/auth/sessions/${sessions.body.items[0]?.id}`).send();
        },
      },
    ],
    ['post /api/users', { expect: { action: 'user.create' }, run: async (ids) => keep(ids, 'user', await admin('post', '/api/users').send({ username: 'audited-user', password: SECRETS.userPassword, role: 'viewer' })) }],
    ['put /api/users/{id}', { expect: { action: 'user.update' }, run: (ids) => admin('put', `/api/users/${ids.user}`).send({ role: 'operator', password: SECRETS.userPassword }) }],
    ...twoFactorRecipes(),
    ['delete /api/users/{id}', { expect: { action: 'user.delete' }, run: (ids) => admin('delete', `/api/users/${ids.user}`).send() }],
    [
      'post /api/notification-channels',
      {
        expect: { action: 'notification-channel.create' },
        run: async (ids) =>
          keep(ids, 'channel', await admin('post', '/api/notification-channels').send({ name: 'audit-hook', kind: 'webhook', url: receiver.url(`/hooks/${SECRETS.webhookPath}`), signingSecret: SECRETS.webhookSigningSecret, events: ['backup.failed', 'backup.completed'] })),
      },
    ],
    ['put /api/notification-channels/{id}', { expect: { action: 'notification-channel.update' }, run: (ids) => admin('put', `/api/notification-channels/${ids.channel}`).send({ events: ['backup.failed'] }) }],
    ['post /api/notification-channels/{id}/test', { expect: { action: 'notification-channel.test' }, run: (ids) => admin('post', `/api/notification-channels/${ids.channel}/test`).send() }],
    ['delete /api/notification-channels/{id}', { expect: { action: 'notification-channel.delete' }, run: (ids) => admin('delete', `/api/notification-channels/${ids.channel}`).send() }],
    [
      'delete /api/configurations/{id}',
      {
        expect: { action: 'configuration.delete' },
        run: async (ids) => {
          await admin('delete', `/api/configurations/${ids.copy}`).send();
          return admin('delete', `/api/configurations/${ids.configuration}`).send();
        },
      },
    ],
    ['delete /api/destinations/{id}', { expect: { action: 'destination.delete' }, run: (ids) => admin('delete', `/api/destinations/${ids.destination}`).send() }],
    ['delete /api/sources/{id}', { expect: { action: 'source.delete' }, run: (ids) => admin('delete', `/api/sources/${ids.source}`).send() }],
  ];
}

/** The two-factor routes, run by the user created above (audited-user) in a web UI session, then the admin's reset. */
function twoFactorRecipes(): [string, Recipe][] {
  const user = { type: 'user', name: 'audited-user' };
  const code = (secret: string, offset: number) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
  const inSession = (ids: Record<string, string>, path: string) => request(stack.app).post(path).set('Cookie', ids.cookie!).set('X-CSRF-Token', ids.csrf!);
  const remember = (route: string, secrets: string[]) => {
    tokens.push(...secrets);
    shownOnce[route] = secrets;
  };
  return [
    [
      'post /api/auth/totp/enrol',
      {
        expect: { action: 'auth.totp.enrol' },
        actor: user,
        run: async (ids) => {
          const login = await request(stack.app).post('/api/auth/login').send({ username: 'audited-user', password: SECRETS.userPassword });
          ids.cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
          ids.csrf = login.body.csrfToken;
          tokens.push(decodeURIComponent(/coffre_session=([^;]+)/.exec(ids.cookie)?.[1] ?? 'no session'));
          const res = await inSession(ids, '/api/auth/totp/enrol').send();
          ids.totpSecret = res.body.secret;
          remember('post /api/auth/totp/enrol', [res.body.secret]);
          return res;
        },
      },
    ],
    [
      'post /api/auth/totp/confirm',
      {
        expect: { action: 'auth.totp.enable' },
        actor: user,
        run: async (ids) => {
          const res = await inSession(ids, '/api/auth/totp/confirm').send({ code: await code(ids.totpSecret!, -1) });
          remember('post /api/auth/totp/confirm', res.body.recoveryCodes ?? []);
          return res;
        },
      },
    ],
    [
      'post /api/auth/login/totp',
      {
        expect: { action: 'auth.login' },
        actor: user,
        run: async (ids) => {
          const first = await request(stack.app).post('/api/auth/login').send({ username: 'audited-user', password: SECRETS.userPassword });
          return request(stack.app).post('/api/auth/login/totp').send({ challenge: first.body.challenge, code: await code(ids.totpSecret!, 0) });
        },
      },
    ],
    ['post /api/auth/totp/disable', { expect: { action: 'auth.totp.disable' }, actor: user, run: async (ids) => inSession(ids, '/api/auth/totp/disable').send({ code: await code(ids.totpSecret!, 1) }) }],
    ['delete /api/users/{id}/totp', { expect: { action: 'user.totp.reset' }, run: (ids) => request(stack.app).delete(`/api/users/${ids.user}/totp`).set('Authorization', `Bearer ${stack.adminToken}`).send() }],
  ];
}

function keep(ids: Record<string, string>, name: string, res: request.Response): request.Response {
  if (res.body?.id) ids[name] = res.body.id;
  return res;
}

/** The session cookie a login answer sets (searched for everywhere else, like every secret). */
function sessionOf(res: request.Response): string {
  const session = decodeURIComponent(/coffre_session=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1] ?? '');
  if (session) tokens.push(session);
  return session;
}

function record(label: string, res: request.Response, allowed: string[] = []): request.Response {
  answers.push({ label, text: `${JSON.stringify(res.headers)}\n${res.text ?? ''}`, allowed });
  return res;
}

beforeAll(async () => {
  pitrWorkDir = await mkdtemp(join(tmpdir(), 'coffre-audit-pitr-'));
  await chmod(pitrWorkDir, 0o755);
  stack = await createTestStack({ env: { PITR_WORK_DIR: pitrWorkDir, WAL_FLUSH_SECONDS: '1' } });
  receiver = await startHttpReceiver();
  smtp = await startSmtpSink({ user: 'mailer', password: SECRETS.smtpPassword });
  stack.startWorkers({ concurrency: 2 });
  tokens.push(stack.adminToken);
  const auth = { Authorization: `Bearer ${stack.adminToken}` };
  const admin = (method: 'post' | 'put' | 'delete', path: string) => request(stack.app)[method](path).set(auth);

  const doc = record('openapi', await request(stack.app).get('/api/openapi.json').set(auth));
  documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods)
      .filter((m) => m === 'post' || m === 'put' || m === 'delete' || m === 'patch')
      .map((m) => `${m} ${path}`),
  );

  const ids: Record<string, string> = {};
  for (const [route, recipe] of recipes(admin)) {
    const since = new Date();
    try {
      const res = await recipe.run(ids);
      record(route, res, route === 'post /api/tokens' ? tokens.slice(-1) : route === 'post /api/auth/login/totp' ? [sessionOf(res)] : (shownOnce[route] ?? []));
      calls.push({ route, status: res.status, expect: recipe.expect, actor: recipe.actor, since });
    } catch (error) {
      calls.push({ route, status: 0, expect: recipe.expect, actor: recipe.actor, since, error: (error as Error).message });
    }
  }

  // Beyond the document: an email channel (SMTP password), an S3 destination (secret key), a login.
  record('email channel', await admin('post', '/api/notification-channels').send({ name: 'audit-mail', kind: 'email', host: '127.0.0.1', port: smtp.port, user: 'mailer', password: SECRETS.smtpPassword, from: 'coffre@example.org', to: ['ops@example.org'] }));
  const mail = answers.at(-1)!;
  const mailId = JSON.parse(mail.text.slice(mail.text.indexOf('\n') + 1)).id as string;
  record('email channel test', await admin('post', `/api/notification-channels/${mailId}/test`).send());
  // A delivery through the queue, so that Redis holds notification jobs and the logs their outcome.
  record('queued hook', await admin('post', '/api/notification-channels').send({ name: 'queued-hook', kind: 'webhook', url: receiver.url(`/hooks/${SECRETS.webhookPath}/queued`), signingSecret: SECRETS.webhookSigningSecret, events: ['backup.completed'] }));
  record('backup for the queued hook', await admin('post', '/api/backups').send({ name: 'notified' }));
  await receiver.waitFor(1, (r) => r.path.endsWith('/queued'));
  await eventually(async () => stack.logs.some((line) => line.includes('notification delivered')), 30_000, 'the delivery to be logged');
  record('s3 destination', await admin('post', '/api/destinations').send({ name: 'bucket', kind: 's3', endpoint: 'http://127.0.0.1:9', bucket: 'audit-bucket', accessKeyId: 'AKIAAUDIT', secretAccessKey: SECRETS.s3SecretKey }));
  await admin('post', '/api/users').send({ username: 'login-user', password: SECRETS.userPassword, role: 'viewer' });
  const login = await request(stack.app).post('/api/auth/login').send({ username: 'login-user', password: SECRETS.userPassword });
  const session = /coffre_session=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1];
  if (session) tokens.push(decodeURIComponent(session));
  record('login', login, session ? [decodeURIComponent(session)] : []);
  const operator = await stack.token('operator');
  tokens.push(operator);
  record('operator reads', await request(stack.app).get('/api/audit').set('Authorization', `Bearer ${operator}`));
  record('admin reads the audit log', await request(stack.app).get('/api/audit').query({ pageSize: 100 }).set(auth));
}, 600_000);

afterAll(async () => {
  await stack?.close();
  await pitrCluster?.destroy();
  if (pitrWorkDir) await rm(pitrWorkDir, { recursive: true, force: true });
  await receiver?.stop();
  await smtp?.close();
});

const allSecrets = () => [...Object.values(SECRETS), ...tokens];

function leaks(text: string, allowed: string[] = []): string[] {
  return allSecrets().filter((secret) => !allowed.includes(secret) && text.includes(secret));
}

describe('every state change leaves an audit event', () => {
  it('every state-changing route of the document is called here (add new routes to the recipes)', () => {
    const called = new Set(calls.map((c) => c.route));
    expect(documented.filter((route) => !called.has(route))).toEqual([]);
    expect(documented.length).toBeGreaterThanOrEqual(25);
  });

  it('each call succeeded with valid input', () => {
    const failures = calls.filter((c) => c.error || c.status < 200 || c.status >= 300).map((c) => ({ route: c.route, status: c.status, error: c.error }));
    expect(failures).toEqual([]);
  });

  it('each state-changing call recorded its action, with who did it and from where', async () => {
    const missing: string[] = [];
    for (const call of calls) {
      if (!('action' in call.expect)) continue;
      const event = await stack.ctx.db.auditEvent.findFirst({ where: { action: call.expect.action, at: { gte: call.since } }, orderBy: { at: 'asc' } });
      if (!event) {
        missing.push(`${call.route} → ${call.expect.action}`);
        continue;
      }
      const actor = call.actor ?? { type: 'token', name: 'token bootstrap admin' };
      expect({ route: call.route, actorType: event.actorType, actorName: event.actorName, outcome: event.outcome, ip: Boolean(event.ip) }).toEqual({
        route: call.route,
        actorType: actor.type,
        actorName: actor.name,
        outcome: 'success',
        ip: true,
      });
    }
    expect(missing).toEqual([]);
  });

  it('a read-only call leaves nothing (the routes declared read-only really change nothing)', async () => {
    for (const call of calls.filter((c) => 'readOnly' in c.expect)) {
      const next = calls[calls.indexOf(call) + 1]!;
      const events = await stack.ctx.db.auditEvent.count({ where: { at: { gte: call.since, lt: next.since } } });
      expect({ route: call.route, events }).toEqual({ route: call.route, events: 0 });
    }
  });

  it('logging in and out with a session records auth.login and auth.logout', async () => {
    const since = new Date();
    const login = await request(stack.app).post('/api/auth/login').send({ token: stack.adminToken });
    expect(login.status).toBe(200);
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const logout = await request(stack.app).post('/api/auth/logout').set('Cookie', cookies).set('X-CSRF-Token', login.body.csrfToken);
    expect(logout.status).toBe(204);
    const actions = (await stack.ctx.db.auditEvent.findMany({ where: { at: { gte: since }, action: { startsWith: 'auth.' } }, orderBy: { at: 'asc' } })).map((e) => e.action);
    expect(actions).toEqual(['auth.login', 'auth.logout']);
  });
});

describe('no secret anywhere', () => {
  it('the secrets were really used (the search below can find them)', async () => {
    expect(receiver.requests.some((r) => r.path.includes(SECRETS.webhookPath))).toBe(true);
    expect(smtp.messages.length).toBeGreaterThanOrEqual(1);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    // A leak would be found: the search sees the token in the one answer that shows it by design.
    const created = answers.find((a) => a.label === 'post /api/tokens')!;
    expect(leaks(created.text)).toEqual([tokens[1]]);
    // And the TOTP secret and recovery codes in the answers that show them once.
    expect(leaks(answers.find((a) => a.label === 'post /api/auth/totp/enrol')!.text)).toEqual(shownOnce['post /api/auth/totp/enrol']);
    expect(leaks(answers.find((a) => a.label === 'post /api/auth/totp/confirm')!.text)).toHaveLength(10);
  });

  it('the whole AuditEvent table holds none of them', async () => {
    const events = await stack.ctx.db.auditEvent.findMany();
    expect(events.length).toBeGreaterThanOrEqual(30);
    expect(leaks(JSON.stringify(events))).toEqual([]);
  });

  it('no API answer holds one (but the new token and the session cookie, shown once by design)', () => {
    expect(answers.length).toBeGreaterThanOrEqual(30);
    for (const answer of answers) expect({ label: answer.label, leaks: leaks(answer.text, answer.allowed) }).toEqual({ label: answer.label, leaks: [] });
  });

  it('the captured logs hold none of them', () => {
    expect(stack.logs.join('')).toContain('notification delivered');
    expect(leaks(stack.logs.join(''))).toEqual([]);
  });

  it('the job data in Redis holds none of them', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      let text = '';
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${stack.config.QUEUE_PREFIX}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          if (type === 'hash') text += JSON.stringify(await redis.hgetall(key));
          else if (type === 'string') text += await redis.get(key);
          else if (type === 'list') text += JSON.stringify(await redis.lrange(key, 0, -1));
          else if (type === 'zset') text += JSON.stringify(await redis.zrange(key, '0', '-1'));
          else if (type === 'stream') text += JSON.stringify(await redis.xrange(key, '-', '+'));
        }
      } while (cursor !== '0');
      expect(text).toContain('deliveryId');
      expect(leaks(text)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it("a plain-text dump of coffre's whole database holds none of them (secrets are sealed, tokens hashed)", () => {
    const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', `--dbname=${stack.env.DATABASE_URL}`], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(dump).toContain('notification-channel.create');
    expect(leaks(dump)).toEqual([]);
  });
});

describe('the runs this file started', () => {
  it('finished well, so the restore and verify routes were exercised for real', async () => {
    // The restore to a moment, the restore into a new database, and the one over the source's database that was undone.
    const restores = await stack.ctx.db.restore.findMany({ orderBy: { createdAt: 'asc' } });
    expect(restores.map((r) => [r.status, r.targetTime ? 'moment' : r.method, Boolean(r.undoneAt)]).sort()).toEqual([
      ['completed', 'moment', false],
      ['completed', 'new-database', false],
      ['completed', 'swap', true],
    ]);
    expect((await stack.ctx.db.verification.findMany()).map((v) => [v.status, v.result])).toEqual([['completed', 'passed']]);
  });
});
