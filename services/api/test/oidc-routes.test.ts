// The single sign-on routes without a browser: what the login page is told, a provider that cannot be
// reached (the browser is sent back to the login page with a sentence, never a JSON error or a 500),
// a callback with no login started (refused and audited), and an installation without single sign-on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { deadPort } from '../../../test/support/receivers.js';

let sso: TestStack;
let plain: TestStack;

beforeAll(async () => {
  const port = await deadPort();
  sso = await createTestStack({
    env: {
      OIDC_ISSUER: `http://127.0.0.1:${port}`,
      OIDC_CLIENT_ID: 'coffre',
      OIDC_CLIENT_SECRET: 'secret-of-a-dead-provider-71',
      OIDC_REDIRECT_URL: 'http://127.0.0.1:3000/api/auth/oidc/callback',
      OIDC_ROLE_MAP: 'ops=operator',
    },
  });
  plain = await createTestStack();
});

afterAll(async () => {
  await sso?.close();
  await plain?.close();
});

describe('single sign-on routes', () => {
  it('tell the login page the provider’s name, or that there is none', async () => {
    expect((await request(sso.app).get('/api/auth/providers')).body).toEqual({ oidc: { name: '127.0.0.1' } });
    expect((await request(plain.app).get('/api/auth/providers')).body).toEqual({ oidc: null });
  });

  it('a provider that cannot be reached sends the browser back to the login page with a sentence', async () => {
    const res = await request(sso.app).get('/api/auth/oidc/start');
    expect(res.status).toBe(302);
    const sentence = new URL(res.headers.location!, 'http://x').searchParams.get('error');
    expect(sentence).toMatch(/^The single sign-on provider http:\/\/127\.0\.0\.1:\d+\/ cannot be reached .*: try again, or log in with a password\.$/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(sso.logs.join('')).not.toContain('secret-of-a-dead-provider-71');
  });

  it('a callback with no login started is refused before the provider is asked anything, and audited', async () => {
    const res = await request(sso.app).get('/api/auth/oidc/callback?code=stolen-code&state=whatever');
    expect(res.status).toBe(302);
    expect(new URL(res.headers.location!, 'http://x').searchParams.get('error')).toMatch(/belongs to no login started here/);
    expect(String(res.headers['set-cookie'])).not.toContain('coffre_session=');
    const event = await sso.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', outcome: 'failure' } });
    expect(event.summary).toMatchObject({ after: { method: 'oidc' } });
  });

  it('without single sign-on, its routes answer 404 with a sentence', async () => {
    for (const path of ['/api/auth/oidc/start', '/api/auth/oidc/callback?code=x&state=y']) {
      const res = await request(plain.app).get(path);
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe('Single sign-on is not configured here (OIDC_ISSUER is not set): log in with a password or a token.');
    }
  });
});
