// The built `coffre user reset-2fa`: an admin turns off a user's two-factor authentication, after
// which the password alone opens the account; an unknown user exits 3 with a sentence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { generate } from 'otplib';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { listen, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

let stack: TestStack;
let api: ListeningApi;

beforeAll(async () => {
  stack = await createTestStack();
  api = await listen(stack);
});

afterAll(async () => {
  removePrivateHomes();
  await api?.close();
  await stack?.close();
});

const coffre = (args: string[]) => runCli(args, { env: { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken } });

describe('coffre user reset-2fa', () => {
  it('turns a user’s second factor off: the password alone logs in again', async () => {
    const credentials = { username: 'cli-frank', password: 'frank-password-3381' };
    const created = await request(stack.app).post('/api/users').set('Authorization', `Bearer ${stack.adminToken}`).send({ ...credentials, role: 'viewer' });
    const login = await request(stack.app).post('/api/auth/login').send(credentials);
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const enrol = await request(stack.app).post('/api/auth/totp/enrol').set('Cookie', cookie).set('X-CSRF-Token', login.body.csrfToken).send();
    const code = await generate({ secret: enrol.body.secret });
    expect((await request(stack.app).post('/api/auth/totp/confirm').set('Cookie', cookie).set('X-CSRF-Token', login.body.csrfToken).send({ code })).status).toBe(200);
    expect((await request(stack.app).post('/api/auth/login').send(credentials)).body.secondFactor).toBe('totp');

    const result = await coffre(['user', 'reset-2fa', 'cli-frank', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ reset: created.body.id });
    expect((await request(stack.app).post('/api/auth/login').send(credentials)).body.csrfToken).toEqual(expect.any(String));
  });

  it('an unknown user exits 3 with a sentence', async () => {
    const result = await coffre(['user', 'reset-2fa', 'nobody-here', '--yes']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/No user is named "nobody-here"/);
  });
});
