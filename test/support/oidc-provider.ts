// A real OpenID Connect provider (the `oidc-provider` package) on a random loopback port, for the
// single sign-on tests: confidential clients with PKCE required, its own development login and
// consent pages (any login name is accepted; its claims come from `accounts`), and `groups`
// released with the profile scope. `publishedKeys` makes it a provider whose ID tokens are signed
// with a key other than the ones its JWK Set (jwks_uri) publishes: a forger's tokens.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Provider, { type JWK } from 'oidc-provider';

export interface TestAccount {
  email: string;
  groups: string[];
  email_verified?: boolean;
}

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface OidcTestProvider {
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
}

/** A free loopback port (the provider's issuer and coffre's redirect URL must be known before they listen). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

export async function startOidcProvider(options: {
  clients: TestClient[];
  accounts: Record<string, TestAccount>;
  port?: number;
  issuer?: string;
  /** The private keys it signs ID tokens with (its own development key when unset). */
  signingKeys?: JWK[];
  /** The public keys its jwks_uri answers with, instead of those it signs with. */
  publishedKeys?: JWK[];
}): Promise<OidcTestProvider> {
  const port = options.port ?? (await freePort());
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' })),
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    cookies: { keys: ['coffre-test-provider-cookie-key'] },
    ...(options.signingKeys ? { jwks: { keys: options.signingKeys } } : {}),
    async findAccount(_ctx, id) {
      const account = options.accounts[id];
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: id, email: account?.email ?? `${id}@example.org`, email_verified: account?.email_verified ?? true, groups: account?.groups ?? [] };
        },
      };
    },
  });
  const callback = provider.callback();
  const published = options.publishedKeys;
  const server: Server = createServer((req, res) => {
    if (published && req.url === '/jwks') return void res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published }));
    return callback(req, res);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    issuer,
    provider,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** An RSA key pair as JWKs with the key id `kid`: the private one to sign with, the public one to publish. */
export function rsaKeyPair(kid: string): { privateJwk: JWK; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig', alg: 'RS256' },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig', alg: 'RS256' },
  };
}

/**
 * Goes through the provider's own login and consent pages over plain HTTP (no browser), from an
 * authorization URL to the redirect back to `redirectUrl`, and answers that redirect's URL.
 */
export async function signInWithoutBrowser(authorizationUrl: string, redirectUrl: string, login: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let next: { url: string; form?: URLSearchParams } = { url: authorizationUrl };
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(next.url, {
      method: next.form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '), ...(next.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: next.form?.toString(),
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (value) cookies.set(name, value);
      else cookies.delete(name);
    }
    const location = res.headers.get('location');
    if (location) {
      const target = new URL(location, next.url);
      if (target.href.startsWith(redirectUrl)) return target;
      next = { url: target.href };
      continue;
    }
    // The login page, then the consent page: each a form posting its prompt.
    const page = await res.text();
    const form = /action="([^"]+)" method="post">\s*<input type="hidden" name="prompt" value="(login|consent)"/.exec(page);
    if (!form) throw new Error(`the provider answered ${res.status} with no form to go on: ${page.slice(0, 300)}`);
    const fields: Record<string, string> = form[2] === 'login' ? { prompt: 'login', login, password: 'any password' } : { prompt: 'consent' };
    next = { url: new URL(form[1]!.replace(/&amp;/g, '&'), next.url).href, form: new URLSearchParams(fields) };
  }
  throw new Error('the provider never sent the browser back');
}
