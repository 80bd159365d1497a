// Single sign-on settings: all four OIDC_* connection settings or none, a role map that names real
// roles, and the role a claim gives (the highest match; the default role or a refusal otherwise).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, oidcSettings, roleFromClaim } from '@coffre/shared';

const VALID = { DATABASE_URL: 'postgresql://coffre@127.0.0.1:5432/coffre', SECRET_KEY: 'k'.repeat(48) };
const OIDC = {
  OIDC_ISSUER: 'https://login.example.org/realms/main',
  OIDC_CLIENT_ID: 'coffre',
  OIDC_CLIENT_SECRET: 'client-secret-never-echoed',
  OIDC_REDIRECT_URL: 'https://coffre.example.org/api/auth/oidc/callback',
};

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('OIDC settings', () => {
  it('are off when none is set, and on with the four connection settings', () => {
    expect(oidcSettings(loadConfig(VALID))).toBeNull();
    const settings = oidcSettings(loadConfig({ ...VALID, ...OIDC, OIDC_ROLE_MAP: 'coffre-admins=admin, coffre-ops=operator' }))!;
    expect({ ...settings, issuer: settings.issuer.href }).toEqual({
      issuer: 'https://login.example.org/realms/main',
      clientId: 'coffre',
      clientSecret: 'client-secret-never-echoed',
      redirectUrl: OIDC.OIDC_REDIRECT_URL,
      roleClaim: 'groups',
      roleMap: [['coffre-admins', 'admin'], ['coffre-ops', 'operator']],
      defaultRole: null,
      providerName: 'login.example.org',
    });
  });

  it('some but not all of them stop coffre with a sentence that repeats no secret', () => {
    const message = failure({ ...VALID, OIDC_ISSUER: OIDC.OIDC_ISSUER, OIDC_CLIENT_SECRET: OIDC.OIDC_CLIENT_SECRET });
    expect(message).toBe('Invalid environment: single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URL together; some are not set.');
    expect(message).not.toContain(OIDC.OIDC_CLIENT_SECRET);
  });

  it('a role map naming something other than a role is refused', () => {
    expect(failure({ ...VALID, ...OIDC, OIDC_ROLE_MAP: 'coffre-admins=root' })).toBe(
      'Invalid environment: OIDC_ROLE_MAP must be value=role pairs separated by commas (roles: viewer, operator, admin).',
    );
  });
});

describe('the role a claim gives', () => {
  const map = { roleMap: [['coffre-admins', 'admin'], ['coffre-ops', 'operator'], ['staff', 'viewer']] as [string, 'admin' | 'operator' | 'viewer'][], defaultRole: null };

  it('is the highest role any of its values maps to, whether the claim is a list or a string', () => {
    expect(roleFromClaim(map, ['staff', 'coffre-ops'])).toBe('operator');
    expect(roleFromClaim(map, ['coffre-ops', 'coffre-admins', 'staff'])).toBe('admin');
    expect(roleFromClaim(map, 'coffre-ops')).toBe('operator');
  });

  it('is the default role, or none (refused), when nothing matches', () => {
    expect(roleFromClaim(map, ['marketing'])).toBeNull();
    expect(roleFromClaim(map, undefined)).toBeNull();
    expect(roleFromClaim(map, [42, { admin: true }])).toBeNull();
    expect(roleFromClaim({ ...map, defaultRole: 'viewer' }, ['marketing'])).toBe('viewer');
  });
});
