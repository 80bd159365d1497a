// Single sign-on with OpenID Connect: the authorization code flow with PKCE, state and nonce
// (openid-client). What the browser carries between the start and the callback (state, nonce, the
// PKCE verifier) is sealed with SECRET_KEY in a short-lived cookie. Users are matched by email,
// created at their first login, and their role is set from a claim at every login.
import * as oidc from 'openid-client';
import type { Config } from '../../infra/config.js';
import type { Role } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { UnavailableError } from '../../infra/errors.js';

/** How long a started login may take at the provider. */
export const OIDC_PENDING_MS = 10 * 60_000;

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
  roleClaim: string;
  roleMap: [string, Role][];
  defaultRole: Role | null;
  providerName: string;
}

/** The SSO settings, or null when single sign-on is not configured. */
export function oidcSettings(config: Config): OidcSettings | null {
  if (!config.OIDC_ISSUER || !config.OIDC_CLIENT_ID || !config.OIDC_CLIENT_SECRET || !config.OIDC_REDIRECT_URL) return null;
  const issuer = new URL(config.OIDC_ISSUER);
  return {
    issuer,
    clientId: config.OIDC_CLIENT_ID,
    clientSecret: config.OIDC_CLIENT_SECRET,
    redirectUrl: config.OIDC_REDIRECT_URL,
    roleClaim: config.OIDC_ROLE_CLAIM,
    roleMap: parseRoleMap(config.OIDC_ROLE_MAP ?? ''),
    defaultRole: config.OIDC_DEFAULT_ROLE ?? null,
    providerName: config.OIDC_PROVIDER_NAME ?? issuer.hostname,
  };
}

export function parseRoleMap(text: string): [string, Role][] {
  return text
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.lastIndexOf('=');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim() as Role];
    });
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The highest role the claim's values map to; the default role when none does (null: refused). */
export function roleFromClaim(settings: Pick<OidcSettings, 'roleMap' | 'defaultRole'>, claim: unknown): Role | null {
  const values = (Array.isArray(claim) ? claim : [claim]).filter((v): v is string => typeof v === 'string');
  let best: Role | null = null;
  for (const [value, role] of settings.roleMap) {
    if (values.includes(value) && (best === null || rank[role] > rank[best])) best = role;
  }
  return best ?? settings.defaultRole;
}

/** The provider's configuration, read from its discovery document once and remembered. */
export class OidcClient {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(
    readonly settings: OidcSettings,
    private readonly options: { fetch?: oidc.CustomFetch } = {},
  ) {}

  configure(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = null;
      throw new UnavailableError(`The single sign-on provider ${this.settings.issuer.href} cannot be reached or answered no usable discovery document (${(error as Error).message}): try again, or log in with a password.`);
    });
    return this.configuration;
  }

  private discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    // Plain HTTP only for a provider on this machine (a test or development provider); anything else needs HTTPS.
    const loopback = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    // client_secret_basic: the default authentication method of a registered OpenID Connect client.
    // openid-client 6 does not check the signature of an ID token that comes from the token endpoint
    // (OpenID Connect lets TLS stand for it); enableNonRepudiationChecks checks it against the
    // provider's JWK Set (jwks_uri), so that a token signed with any other key is refused.
    return oidc.discovery(issuer, clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
      execute: [...(loopback ? [oidc.allowInsecureRequests] : []), oidc.enableNonRepudiationChecks],
      ...(this.options.fetch ? { [oidc.customFetch]: this.options.fetch } : {}),
    });
  }
}

/** What the browser carries from the start of a login to its callback. */
interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  startedAt: number;
}

/** Where to send the browser, and the sealed cookie that remembers the checks. */
export async function startOidcLogin(client: OidcClient, secrets: SecretBox): Promise<{ url: string; pending: string }> {
  const configuration = await client.configure();
  const pending: Pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), startedAt: Date.now() };
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: client.settings.redirectUrl,
    scope: 'openid email profile',
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  return { url: url.href, pending: secrets.seal(JSON.stringify(pending)) };
}

/** A login refused at the callback, with the sentence the login page shows and who it claimed to be. */
export class OidcRefusal extends Error {
  constructor(
    message: string,
    readonly claimed = 'unknown',
  ) {
    super(message);
  }
}

export interface OidcLogin {
  userId: string;
  username: string;
  role: Role;
  /** The role before this login changed it (null when unchanged or new). */
  previousRole: Role | null;
  created: boolean;
}

/**
 * Completes a login from the callback's URL: checks the state and the answer's issuer, redeems the code
 * (PKCE), checks the ID token's signature against the provider's published keys, its issuer, audience,
 * nonce and expiry (openid-client), then matches or creates the user and sets its role.
 */
export async function completeOidcLogin(ctx: AppContext, client: OidcClient, callbackQuery: string, sealedPending: string | undefined): Promise<OidcLogin> {
  const pending = openPending(ctx.secrets, sealedPending);
  const configuration = await client.configure();
  const callback = new URL(client.settings.redirectUrl);
  callback.search = callbackQuery;
  let claims: Record<string, unknown>;
  try {
    const tokens = await oidc.authorizationCodeGrant(configuration, callback, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
    claims = { ...(tokens.claims() ?? {}) };
    if (claims.email === undefined || claims[client.settings.roleClaim] === undefined) {
      // Some providers put only the subject in the ID token: the rest is at the userinfo endpoint.
      const info = await oidc.fetchUserInfo(configuration, tokens.access_token, String(claims.sub));
      claims = { ...info, ...claims };
    }
  } catch (error) {
    if (error instanceof OidcRefusal) throw error;
    const e = error as { code?: string; error?: string; error_description?: string; message: string; cause?: { message?: string } };
    // The provider's own words when it refused (an OAuth error), openid-client's failed check otherwise.
    const why = e.error ? `${e.error}${e.error_description ? ` (${e.error_description})` : ''}` : typeof e.cause?.message === 'string' ? e.cause.message : e.message;
    ctx.logger.warn({ err: e.message, code: e.code ?? e.error }, 'single sign-on: the provider’s answer was refused');
    throw new OidcRefusal(`The single sign-on answer was refused: ${why.slice(0, 300)}. Start again from the login page.`);
  }
  return loginFromClaims(ctx, client.settings, claims);
}

function openPending(secrets: SecretBox, sealed: string | undefined): Pending {
  let pending: Pending;
  try {
    pending = JSON.parse(secrets.open(sealed ?? '')) as Pending;
  } catch {
    throw new OidcRefusal('This single sign-on answer belongs to no login started here (or the browser dropped its cookie): start again from the login page.');
  }
  if (Date.now() - pending.startedAt > OIDC_PENDING_MS) throw new OidcRefusal('The single sign-on login took more than 10 minutes: start again from the login page.');
  return pending;
}

async function loginFromClaims(ctx: AppContext, settings: OidcSettings, claims: Record<string, unknown>): Promise<OidcLogin> {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  const refuse = (sentence: string) => new OidcRefusal(sentence, email || String(claims.sub ?? 'unknown'));
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 64) throw refuse('The provider sent no usable email address: coffre matches single sign-on users by email.');
  if (claims.email_verified === false) throw refuse('The provider says this email address is not verified: coffre refuses it.');
  const role = roleFromClaim(settings, claims[settings.roleClaim]);
  if (!role) throw refuse(`Your account at the provider has no ${settings.roleClaim} value that OIDC_ROLE_MAP gives a role to: ask an administrator.`);

  let user = await ctx.db.user.findUnique({ where: { email } });
  let created = false;
  let previousRole: Role | null = null;
  if (!user) {
    if (await ctx.db.user.findUnique({ where: { username: email } })) throw refuse(`A user named ${email} exists without this email address: an administrator must settle which account it is.`);
    user = await ctx.db.user.create({ data: { username: email, email, role, passwordHash: 'oidc' } });
    created = true;
  } else if (user.disabledAt) {
    throw refuse('This account is disabled.');
  } else if (user.role !== role) {
    previousRole = user.role;
    user = await ctx.db.user.update({ where: { id: user.id }, data: { role } });
  }
  return { userId: user.id, username: user.username, role, previousRole, created };
}
