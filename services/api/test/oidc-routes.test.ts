// The single sign-on routes without a browser: what the login page is told, a provider that cannot be
// reached (the browser is sent back to the login page with a sentence, never a JSON error or a 500),
// a callback with no login started (refused and audited), an installation without single sign-on, and
// an ID token signed with a key the provider does not publish (refused: its signature is checked
// against the provider's JWK Set, not taken on trust from the token endpoint's TLS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { deadPort } from '../../../test/support/receivers.js';
import { freePort, rsaKeyPair, signInWithoutBrowser, startOidcProvider, type OidcTestProvider } from '../../../test/support/oidc-provider.js';

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

describe('the ID token’s signature', () => {
  const client = { client_id: 'coffre', client_secret: 'coffre-client-secret-5e21b0' };
  const accounts = { eve: { email: 'eve@example.org', groups: ['ops'] }, ada: { email: 'ada@example.org', groups: ['ops'] } };
  const honestKey = rsaKeyPair('provider-key');
  const forgerKey = rsaKeyPair('provider-key');
  let honest: OidcTestProvider;
  let forger: OidcTestProvider;
  let viaHonest: TestStack;
  let viaForger: TestStack;

  /** A coffre set up for `provider`; its redirect URL is never listened on (the test carries the callback over). */
  async function ssoStack(provider: OidcTestProvider, redirect: string): Promise<TestStack> {
    return createTestStack({ env: { OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: client.client_id, OIDC_CLIENT_SECRET: client.client_secret, OIDC_REDIRECT_URL: redirect, OIDC_ROLE_MAP: 'ops=operator' } });
  }

  beforeAll(async () => {
    const redirect = `http://127.0.0.1:${await freePort()}/api/auth/oidc/callback`;
    // Both sign with the key they hold; the forger's JWK Set publishes another key under the same id.
    honest = await startOidcProvider({ clients: [{ ...client, redirect_uris: [redirect] }], accounts, signingKeys: [honestKey.privateJwk] });
    forger = await startOidcProvider({ clients: [{ ...client, redirect_uris: [redirect] }], accounts, signingKeys: [forgerKey.privateJwk], publishedKeys: [honestKey.publicJwk] });
    viaHonest = await ssoStack(honest, redirect);
    viaForger = await ssoStack(forger, redirect);
  });

  afterAll(async () => {
    await viaHonest?.close();
    await viaForger?.close();
    await honest?.close();
    await forger?.close();
  });

  /** A whole login: coffre's start, the provider's pages, then coffre's callback with the browser's cookie. */
  async function login(stack: TestStack, who: string) {
    const start = await request(stack.app).get('/api/auth/oidc/start');
    expect(start.status).toBe(302);
    const pending = String(start.headers['set-cookie']).match(/coffre_oidc=[^;]+/)![0];
    const back = await signInWithoutBrowser(start.headers.location!, stack.config.OIDC_REDIRECT_URL!, who);
    return request(stack.app).get(`${back.pathname}${back.search}`).set('Cookie', pending);
  }

  it('a token signed with the key the provider publishes logs in', async () => {
    const res = await login(viaHonest, 'ada');
    expect(res.headers.location).toBe('/');
    expect(String(res.headers['set-cookie'])).toContain('coffre_session=');
  });

  it('a token signed with another key than the provider publishes is refused with a sentence, and nobody is logged in or created', async () => {
    const res = await login(viaForger, 'eve');
    expect(res.status).toBe(302);
    expect(new URL(res.headers.location!, 'http://x').searchParams.get('error')).toBe('The single sign-on answer was refused: JWT signature verification failed. Start again from the login page.');
    expect(String(res.headers['set-cookie'])).not.toContain('coffre_session=');
    expect(await viaForger.ctx.db.user.count({ where: { email: 'eve@example.org' } })).toBe(0);
    const event = await viaForger.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', outcome: 'failure' } });
    expect(event.summary).toMatchObject({ after: { method: 'oidc' } });
  });
});
