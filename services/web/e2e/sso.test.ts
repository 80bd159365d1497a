// Single sign-on in Debian's chromium against a real OpenID Connect provider (oidc-provider on a
// loopback port, its own login and consent pages): the login page's "Sign in with …" button, the
// authorization code flow with PKCE ending logged in as the role OIDC_ROLE_MAP gives the account's
// groups, the role following the groups at the next login, and refusals: no mapped group, a forged
// state, a callback replayed in a browser that started no login, a code issued to another client, an
// answer from another issuer than the configured one, and an ID token for another audience.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { OidcClient, OidcRefusal, completeOidcLogin, oidcSettings, startOidcLogin } from '@coffre/shared';
import { DESKTOP, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { freePort, startOidcProvider, type OidcTestProvider, type TestAccount } from '../../../test/support/oidc-provider.js';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/receivers.js';

const CLIENT = { client_id: 'coffre', client_secret: 'coffre-client-secret-9f3a1c' };
const OTHER = { client_id: 'other-app', client_secret: 'other-app-secret-51d0e7' };
const accounts: Record<string, TestAccount> = {
  ada: { email: 'Ada@Example.org', groups: ['staff', 'coffre-ops'] },
  grace: { email: 'grace@example.org', groups: ['marketing'] },
  linus: { email: 'linus@example.org', groups: ['coffre-ops'] },
  margaret: { email: 'margaret@example.org', groups: ['coffre-ops'] },
};

let web: WebStack;
let provider: OidcTestProvider;
let otherIssuer: OidcTestProvider;
let session: BrowserSession;
let redirect = '';
/** A second redirect URI of the clients: the flows that the test finishes itself come back here, untouched by coffre. */
let capture: HttpReceiver;

beforeAll(async () => {
  const port = await freePort();
  redirect = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
  capture = await startHttpReceiver();
  const clients = [
    { ...CLIENT, redirect_uris: [redirect, capture.url('/callback')] },
    { ...OTHER, redirect_uris: [redirect, capture.url('/callback')] },
  ];
  provider = await startOidcProvider({ clients, accounts });
  // Another provider with the same clients: the issuer coffre expects in the mix-up test.
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
  await capture?.stop();
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
    // The browser kept no trace of the flow's checks (the cookie is cleared), and the client secret is in no log line.
    const cookies = (await page.context().cookies(web.url)).map((c) => c.name).filter((name) => name.startsWith('coffre'));
    expect(cookies.sort()).toEqual(['coffre_csrf', 'coffre_session']);
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
    const { query, pending } = await callbackOf(CLIENT.client_id);
    const page = await freshPage();
    // This browser holds the login's checks; the state coming back is not the one it sent.
    await page.context().addCookies([{ name: 'coffre_oidc', value: pending, url: `${web.url}/api/auth/oidc/callback`, httpOnly: true, sameSite: 'Lax' }]);
    const forged = new URLSearchParams(query);
    forged.set('state', 'forged-state-value');
    await page.goto(`${web.url}/api/auth/oidc/callback?${forged}`);
    await page.waitForURL(/\/login\?error=/);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The single sign-on answer was refused: unexpected "state"/);
    expect((await me(page)).status).toBe(401);
    expect(await web.stack.ctx.db.user.count({ where: { email: 'linus@example.org' } })).toBe(0);
  });

  test('a callback replayed in a browser that started no login is refused', async () => {
    const starter = await freshPage();
    const callback = starter.waitForRequest((request) => request.url().startsWith(redirect));
    await starter.goto(`${web.url}/login`);
    await starter.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await signInAtProvider(starter, 'linus');
    const url = (await callback).url();
    expect(url).toContain('code=');
    await starter.waitForURL(`${web.url}/`);

    const victim = await freshPage();
    await victim.goto(url);
    await victim.waitForURL(/\/login\?error=/);
    await expect.poll(() => victim.getByRole('alert').textContent()).toMatch(/belongs to no login started here/);
    expect((await me(victim)).status).toBe(401);
  });
});

/** Runs a flow up to its callback in the browser (login and consent at the provider), as `clientId`, coming back to the capture receiver. */
async function callbackOf(clientId: string, login = 'linus'): Promise<{ query: string; pending: string }> {
  const client = new OidcClient(captureSettings());
  const { url, pending } = await startOidcLogin(client, web.stack.ctx.secrets);
  const authorization = new URL(url);
  authorization.searchParams.set('client_id', clientId);
  const before = capture.requests.length;
  const page = await freshPage();
  await page.goto(authorization.href);
  await signInAtProvider(page, login);
  const [back] = (await capture.waitFor(before + 1, (r) => r.path.startsWith('/callback'))).slice(-1);
  const query = back!.path.slice(back!.path.indexOf('?') + 1);
  expect(query).toContain('code=');
  return { query, pending };
}

const captureSettings = () => ({ ...oidcSettings(web.stack.config)!, redirectUrl: capture.url('/callback') });

describe('answers coffre did not ask for', () => {
  const refusalOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof OidcRefusal ? error.message : `unexpected ${String(error)}`),
    );

  test('a code issued to another client of the provider is refused', async () => {
    const { query, pending } = await callbackOf(OTHER.client_id);
    expect(await refusalOf(completeOidcLogin(web.stack.ctx, new OidcClient(captureSettings()), query, pending))).toMatch(/refused: invalid_grant/);
  });

  test('an answer from another issuer than the configured one is refused', async () => {
    const { query, pending } = await callbackOf(CLIENT.client_id, 'margaret');
    // A mix-up: coffre is set up for the second provider (its discovery document is read), but the answer
    // (and, were it redeemed, the ID token) comes from the first: the answer's iss parameter (RFC 9207)
    // already names the wrong issuer, and openid-client refuses it before redeeming the code.
    const expectingOther = new OidcClient(
      { ...captureSettings(), issuer: new URL(otherIssuer.issuer) },
      { fetch: (url, options) => fetch(url.endsWith('/token') ? url.replace(otherIssuer.issuer, provider.issuer) : url, options as RequestInit) },
    );
    expect(await refusalOf(completeOidcLogin(web.stack.ctx, expectingOther, query, pending))).toMatch(/refused: unexpected "iss" \(issuer\) response parameter value/);
    expect(await web.stack.ctx.db.user.count({ where: { email: 'margaret@example.org' } })).toBe(0);
  });

  test('an ID token for another audience is refused', async () => {
    const { query, pending } = await callbackOf(OTHER.client_id);
    // The code is redeemed as the other client (its credentials replace coffre's): the ID token's audience is that client.
    const otherAuth = `Basic ${Buffer.from(`${OTHER.client_id}:${OTHER.client_secret}`).toString('base64')}`;
    const asOther = new OidcClient(captureSettings(), {
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
    const login = await completeOidcLogin(web.stack.ctx, new OidcClient(captureSettings()), query, pending);
    expect({ username: login.username, role: login.role }).toEqual({ username: 'linus@example.org', role: 'operator' });
  });
});
