// A real OpenID Connect provider (the `oidc-provider` package) on a random loopback port, for the
// single sign-on tests: confidential clients with PKCE required, its own development login and
// consent pages (any login name is accepted; its claims come from `accounts`), and `groups`
// released with the profile scope.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

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

export async function startOidcProvider(options: { clients: TestClient[]; accounts: Record<string, TestAccount>; port?: number; issuer?: string }): Promise<OidcTestProvider> {
  const port = options.port ?? (await freePort());
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' })),
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    cookies: { keys: ['coffre-test-provider-cookie-key'] },
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
  const server: Server = createServer(provider.callback());
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
