// Single sign-on in Debian's chromium against a real OpenID Connect provider (oidc-provider on a
// loopback port, its own login and consent pages): the login page's "Sign in with …" button, the
// authorization code flow with PKCE ending logged in as the role OIDC_ROLE_MAP gives the account's
// groups, the role following the groups at the next login, and refusals: no mapped group, a forged
// state, a callback in a browser that started no login, a code issued to another client, and ID
// tokens of another issuer or another audience.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { OidcClient, OidcRefusal, completeOidcLogin, oidcSettings, startOidcLogin } from '@coffre/shared';
import { DESKTOP, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { freePort, startOidcProvider, type OidcTestProvider, type TestAccount } from '../../../test/support/oidc-provider.js';

const CLIENT = { client_id: 'coffre', client_secret: 'coffre-client-secret-9f3a1c' };
const OTHER = { client_id: 'other-app', client_secret: 'other-app-secret-51d0e7' };
const accounts: Record<string, TestAccount> = {
  ada: { email: 'Ada@Example.org', groups: ['staff', 'coffre-ops'] },
  grace: { email: 'grace@example.org', groups: ['marketing'] },
  linus: { email: 'linus@example.org', groups: ['coffre-ops'] },
};

let web: WebStack;
let provider: OidcTestProvider;
let otherIssuer: OidcTestProvider;
let session: BrowserSession;
let redirect = '';

beforeAll(async () => {
  const port = await freePort();
  redirect = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
  const clients = [
    { ...CLIENT, redirect_uris: [redirect] },
    { ...OTHER, redirect_uris: [redirect] },
  ];
  provider = await startOidcProvider({ clients, accounts });
  // Another provider with the same clients: it shares the in-memory store of the first (oidc-provider's
  // memory adapter is one per process), so it redeems the first's codes — signed as another issuer.
  otherIssuer = await startOidcProvider({ clients, accounts });
  web = await createWebStack({
    port,
    env: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: CLIENT.client_id,
      OIDC_CLIENT_SECRET: CLIENT.client_secret,
      OIDC_REDIRECT_URL: redirect,
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ROLE_MAP: 'coffre-admins=admin,coffre-ops=operator',
      OIDC_PROVIDER_NAME: 'Test IdP',
    },
  });
  session = await launchBrowser();
});

afterAll(async () => {
  await session?.close();
  await web?.close();
  await provider?.close();
  await otherIssuer?.close();
});

async function freshPage(): Promise<Page> {
  const { page } = await session.newPage(DESKTOP);
  page.setDefaultTimeout(60_000);
  // The provider's development pages import a web font: there is no network here.
  await page.route(/fonts\.googleapis\.com/, (route) => route.abort());
  return page;
}

/** At the provider's own pages: its login form (any password), then its consent page. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function me(page: Page): Promise<{ status: number; body: { name?: string; role?: string; type?: string } }> {
  return page.evaluate(async () => {
    const res = await fetch('/api/auth/me');
    return { status: res.status, body: await res.json() };
  });
}

async function loginWithSso(login: string): Promise<Page> {
  const page = await freshPage();
  await page.goto(`${web.url}/login`);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await signInAtProvider(page, login);
  return page;
}

describe('single sign-on in the browser', () => {
  test('the login page offers the provider; the flow ends logged in as the mapped role', async () => {
    const since = new Date();
    const page = await loginWithSso('ada');
    await page.waitForURL(`${web.url}/`);
    await expect.poll(async () => (await me(page)).body).toEqual({ name: 'ada@example.org', role: 'operator', type: 'user' });
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('ada@example.orgoperator');
    await screenshot(page, 'sso-logged-in');

    const user = await web.stack.ctx.db.user.findUniqueOrThrow({ where: { email: 'ada@example.org' } });
    expect({ username: user.username, role: user.role, passwordHash: user.passwordHash }).toEqual({ username: 'ada@example.org', role: 'operator', passwordHash: 'oidc' });
    const event = await web.stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', at: { gte: since } } });
    expect({ actor: event.actorName, type: event.actorType, outcome: event.outcome, summary: event.summary }).toEqual({
      actor: 'ada@example.org',
      type: 'user',
      outcome: 'success',
      summary: { after: { method: 'oidc', role: 'operator', created: true } },
    });
    // The browser kept no trace of the flow's checks, and the client secret is in no log line.
    expect((await page.context().cookies()).map((c) => c.name).sort()).toEqual(['coffre_csrf', 'coffre_session']);
    expect(web.stack.logs.join('')).not.toContain(CLIENT.client_secret);
    // An account created by single sign-on has no password to log in with.
    const byPassword = await fetch(`${web.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'ada@example.org', password: 'oidc' }) });
    expect(byPassword.status).toBe(401);
  });

  test('the role follows the groups at each login, and the change is audited', async () => {
    accounts.ada!.groups = ['coffre-admins', 'coffre-ops'];
    const since = new Date();
    const page = await loginWithSso('ada');
    await page.waitForURL(`${web.url}/`);
    await expect.poll(async () => (await me(page)).body.role).toBe('admin');
    const event = await web.stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', at: { gte: since } } });
    expect(event.summary).toEqual({ after: { method: 'oidc', role: 'admin', created: false }, before: { role: 'operator' } });
    expect(await web.stack.ctx.db.user.count({ where: { email: 'ada@example.org' } })).toBe(1);
  });

  test('an account whose groups map to no role is refused with a sentence, and no user is made', async () => {
    const page = await loginWithSso('grace');
    await page.waitForURL(/\/login\?error=/);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/has no groups value that OIDC_ROLE_MAP gives a role to/);
    await screenshot(page, 'sso-refused');
    expect((await me(page)).status).toBe(401);
    expect(await web.stack.ctx.db.user.count({ where: { email: 'grace@example.org' } })).toBe(0);
    const failure = await web.stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', outcome: 'failure', actorName: 'grace@example.org' } });
    expect(failure.summary).toMatchObject({ after: { method: 'oidc' } });
  });

  test('a forged state is refused', async () => {
    const page = await freshPage();
    await page.route(/\/api\/auth\/oidc\/callback/, (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set('state', 'forged-state-value');
      return route.continue({ url: url.href });
    });
    await page.goto(`${web.url}/login`);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await signInAtProvider(page, 'linus');
    await page.waitForURL(/\/login\?error=/);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The single sign-on answer was refused: .*state/);
    expect((await me(page)).status).toBe(401);
    expect(await web.stack.ctx.db.user.count({ where: { email: 'linus@example.org' } })).toBe(0);
  });

  test('a callback opened in a browser that started no login is refused', async () => {
    const starter = await freshPage();
    let callback = '';
    await starter.route(/\/api\/auth\/oidc\/callback/, (route) => {
      callback = route.request().url();
      return route.fulfill({ status: 200, body: 'kept' });
    });
    await starter.goto(`${web.url}/login`);
    await starter.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await signInAtProvider(starter, 'linus');
    await expect.poll(() => callback).toContain('code=');

    const victim = await freshPage();
    await victim.goto(callback);
    await victim.waitForURL(/\/login\?error=/);
    await expect.poll(() => victim.getByRole('alert').textContent()).toMatch(/belongs to no login started here/);
    expect((await me(victim)).status).toBe(401);
  });

  test('a code issued to another client of the provider is refused', async () => {
    const page = await freshPage();
    // The authorization request leaves as another client's (same redirect URI): the code is that client's.
    await page.route((url) => url.href.startsWith(`${provider.issuer}/auth?`), (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set('client_id', OTHER.client_id);
      return route.continue({ url: url.href });
    });
    await page.goto(`${web.url}/login`);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await signInAtProvider(page, 'linus');
    await page.waitForURL(/\/login\?error=/);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The single sign-on answer was refused: .*invalid_grant|grant request is invalid/i);
    expect((await me(page)).status).toBe(401);
  });
});

describe('ID tokens coffre did not ask for', () => {
  /** Runs the flow up to the callback in the browser (login at the provider) and returns its query and the sealed checks. */
  async function callbackOf(clientId: string): Promise<{ query: string; pending: string }> {
    const client = new OidcClient(oidcSettings(web.stack.config)!);
    const { url, pending } = await startOidcLogin(client, web.stack.ctx.secrets);
    const authorization = new URL(url);
    authorization.searchParams.set('client_id', clientId);
    const page = await freshPage();
    let query = '';
    await page.route(/\/api\/auth\/oidc\/callback/, (route) => {
      query = new URL(route.request().url()).search.slice(1);
      return route.fulfill({ status: 200, body: 'kept' });
    });
    await page.goto(authorization.href);
    await signInAtProvider(page, 'linus');
    await expect.poll(() => query).toContain('code=');
    return { query, pending };
  }

  const refusalOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof OidcRefusal ? error.message : `unexpected ${String(error)}`),
    );

  test('an ID token of another issuer is refused', async () => {
    const { query, pending } = await callbackOf(CLIENT.client_id);
    // The token request reaches the other provider (a mix-up): its ID token is genuine, but not the configured issuer's.
    const mixedUp = new OidcClient(oidcSettings(web.stack.config)!, {
      fetch: (url, options) => fetch(url.replace(provider.issuer, otherIssuer.issuer), options as RequestInit),
    });
    expect(await refusalOf(completeOidcLogin(web.stack.ctx, mixedUp, query, pending))).toMatch(/refused: unexpected JWT "iss" \(issuer\) claim value/);
    expect(await web.stack.ctx.db.user.count({ where: { email: 'linus@example.org' } })).toBe(0);
  });

  test('an ID token for another audience is refused', async () => {
    const { query, pending } = await callbackOf(OTHER.client_id);
    // The code is redeemed as the other client (its credentials replace coffre's): the ID token's audience is that client.
    const otherAuth = `Basic ${Buffer.from(`${OTHER.client_id}:${OTHER.client_secret}`).toString('base64')}`;
    const asOther = new OidcClient(oidcSettings(web.stack.config)!, {
      fetch: (url, options) => {
        const headers = new Headers(options.headers as HeadersInit);
        if (url.endsWith('/token')) headers.set('authorization', otherAuth);
        return fetch(url, { ...(options as RequestInit), headers });
      },
    });
    expect(await refusalOf(completeOidcLogin(web.stack.ctx, asOther, query, pending))).toMatch(/refused: unexpected JWT "aud" \(audience\) claim value/);
  });

  test('the same flow, untouched, is accepted (the refusals above are the tampering’s doing)', async () => {
    const { query, pending } = await callbackOf(CLIENT.client_id);
    const login = await completeOidcLogin(web.stack.ctx, new OidcClient(oidcSettings(web.stack.config)!), query, pending);
    expect({ username: login.username, role: login.role }).toEqual({ username: 'linus@example.org', role: 'operator' });
  });
});
