// Single sign-on (OpenID Connect) and the TOTP second factor of password users.
import { z } from 'zod';
import { idParams } from './common.js';
import { loginAnswerSchema } from './auth.js';
import { defineRoutes } from './route.js';

export const providersSchema = z
  .object({ oidc: z.object({ name: z.string().describe('shown as "Sign in with <name>"') }).nullable().describe('null: single sign-on is not configured') })
  .meta({ id: 'LoginProviders' });

const totpCode = z.string().trim().regex(/^\d{6}$/, 'must be the 6 digits the authenticator shows');
const recoveryCode = z.string().trim().min(8).max(40);

export const secondFactorSchema = z
  .union([z.object({ code: totpCode }).strict(), z.object({ recoveryCode }).strict()])
  .meta({ id: 'SecondFactor' });

export const totpLoginSchema = z
  .union([
    z.object({ challenge: z.string().min(1).max(2000), code: totpCode }).strict(),
    z.object({ challenge: z.string().min(1).max(2000), recoveryCode }).strict(),
  ])
  .meta({ id: 'TotpLogin' });

export const totpStatusSchema = z
  .object({
    available: z.boolean().describe('false for API tokens and single sign-on users: no second factor here'),
    enabled: z.boolean(),
    pending: z.boolean().describe('an enrolment was started and awaits its first code'),
    recoveryCodesLeft: z.number().int(),
  })
  .meta({ id: 'TotpStatus' });
export type TotpStatus = z.infer<typeof totpStatusSchema>;

export const totpEnrolmentSchema = z
  .object({ secret: z.string().describe('base32; shown in this answer only'), uri: z.string().describe('otpauth:// URI for an authenticator app') })
  .meta({ id: 'TotpEnrolment' });

export const totpConfirmSchema = z.object({ code: totpCode }).strict().meta({ id: 'TotpConfirm' });
export const recoveryCodesSchema = z.object({ recoveryCodes: z.array(z.string()).describe('each opens one login; shown in this answer only') }).meta({ id: 'RecoveryCodes' });

const tag = 'auth';

export const ssoRoutes = defineRoutes({
  'auth.providers': {
    method: 'get',
    path: '/api/auth/providers',
    summary: 'How one may log in (for the login page)',
    tag,
    access: 'public',
    responses: { 200: { description: 'The login methods beside the password.', schema: providersSchema } },
  },
  'auth.oidc.start': {
    method: 'get',
    path: '/api/auth/oidc/start',
    summary: 'Start a single sign-on login: redirects to the provider',
    tag,
    access: 'public',
    responses: { 302: { description: 'To the provider’s authorization endpoint.' }, 404: { description: 'Single sign-on is not configured.' } },
  },
  'auth.oidc.callback': {
    method: 'get',
    path: '/api/auth/oidc/callback',
    summary: 'Where the provider sends the browser back (OIDC_REDIRECT_URL)',
    tag,
    access: 'public',
    responses: { 302: { description: 'Logged in: to the UI; refused: to the login page with a sentence.' } },
  },
  'auth.login.totp': {
    method: 'post',
    path: '/api/auth/login/totp',
    summary: 'Second step of a password login with two-factor authentication: the code, or a recovery code',
    tag,
    access: 'public',
    body: totpLoginSchema,
    responses: { 200: { description: 'The session cookie is set; the CSRF token is in the answer.', schema: loginAnswerSchema }, 429: { description: 'Too many wrong codes.' } },
  },
  'totp.status': {
    method: 'get',
    path: '/api/auth/totp',
    summary: 'Whether your two-factor authentication is on',
    tag,
    access: 'viewer',
    responses: { 200: { description: 'Its state.', schema: totpStatusSchema } },
  },
  'totp.enrol': {
    method: 'post',
    path: '/api/auth/totp/enrol',
    summary: 'Start enrolling an authenticator (its secret is shown in this answer only)',
    tag,
    access: 'viewer',
    responses: { 200: { description: 'The secret and its otpauth URI.', schema: totpEnrolmentSchema } },
  },
  'totp.confirm': {
    method: 'post',
    path: '/api/auth/totp/confirm',
    summary: 'Confirm the enrolment with a code: turns two-factor authentication on',
    tag,
    access: 'viewer',
    body: totpConfirmSchema,
    responses: { 200: { description: 'On; the ten recovery codes, shown in this answer only.', schema: recoveryCodesSchema } },
  },
  'totp.disable': {
    method: 'post',
    path: '/api/auth/totp/disable',
    summary: 'Turn two-factor authentication off (with a code or a recovery code)',
    tag,
    access: 'viewer',
    body: secondFactorSchema,
    responses: { 204: { description: 'Off.' } },
  },
  'users.totp.reset': {
    method: 'delete',
    path: '/api/users/:id/totp',
    summary: 'Turn a user’s two-factor authentication off (a lost authenticator)',
    tag,
    access: 'admin',
    params: idParams('User'),
    responses: { 204: { description: 'Off: the user logs in with the password alone.' } },
  },
});
