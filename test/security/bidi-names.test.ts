// Bidirectional control characters make one name read as another in lists, logs and confirmations
// ("nightly‮fdp.exe"). Every name given through the API refuses them with a 400 naming the field:
// sources, destinations, configurations, backups, notification channels, users and tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../support/stack.js';

const CONTROLS = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];

let stack: TestStack;
let auth: { Authorization: string };
let sourceId: string;
let sourceUrl: string;

beforeAll(async () => {
  stack = await createTestStack();
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  sourceId = (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id;
  sourceUrl = stack.env.SOURCE_DATABASE_URL!;
});

afterAll(async () => {
  await stack?.close();
});

const named: Record<string, { path: string; field: string; body: (name: string) => object }> = {
  source: { path: '/api/sources', field: 'name', body: (name) => ({ name, url: sourceUrl }) },
  destination: { path: '/api/destinations', field: 'name', body: (name) => ({ name, kind: 'local', path: `${stack.dir}/elsewhere` }) },
  configuration: { path: '/api/configurations', field: 'name', body: (name) => ({ name, sourceId }) },
  backup: { path: '/api/backups', field: 'name', body: (name) => ({ name }) },
  'notification channel': { path: '/api/notification-channels', field: 'name', body: (name) => ({ name, kind: 'webhook', url: 'https://hooks.example.com/coffre' }) },
  user: { path: '/api/users', field: 'username', body: (name) => ({ username: name, password: 'long enough password', role: 'viewer' }) },
  token: { path: '/api/tokens', field: 'name', body: (name) => ({ name, role: 'viewer' }) },
};

describe.each(Object.entries(named))('a %s name', (_what, { path, field, body }) => {
  it.each(CONTROLS.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))(
    'with %s is refused with a 400 naming the field, and nothing is created',
    async (_code, control) => {
      const res = await request(stack.app).post(path).set(auth).send(body(`nightly${control}fdp.exe`));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(new RegExp(`^${field} `));
      expect(res.body.error.message).not.toContain(control);
    },
  );

  it('without them is accepted', async () => {
    const res = await request(stack.app).post(path).set(auth).send(body(`plain-${field}-${Date.now()}`));
    expect([201, 202]).toContain(res.status);
  });
});

it('the configuration form of the web UI refuses them as the API does', async () => {
  const { configurationProblems, emptyForm } = await import('../../services/web/src/forms/configuration.js');
  expect(configurationProblems({ ...emptyForm(sourceId), name: 'nightly\u202Efdp.exe' })).toEqual({ name: expect.stringMatching(/bidirectional/) });
});
