// Who calls: logging in to the web UI, the caller, API tokens, users and web UI sessions.
import { z } from 'zod';
import { displayName, idParams, listOf, roles } from './common.js';
import { defineRoutes } from './route.js';

export const loginSchema = z
  .union([
    z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }).strict(),
    z.object({ token: z.string().min(1).max(200) }).strict(),
  ])
  .meta({ id: 'Login' });

export const actorSchema = z.object({ name: z.string(), role: z.enum(roles), type: z.string() }).meta({ id: 'Actor' });
export type ActorView = z.infer<typeof actorSchema>;

export const loginAnswerSchema = z.object({ actor: actorSchema, csrfToken: z.string() });
/** A password user with two-factor authentication: no session yet, the code is asked next (auth.login.totp). */
export const secondFactorNeededSchema = z.object({ secondFactor: z.literal('totp'), challenge: z.string().describe('send it back with the code; valid 5 minutes') });

export const tokenRequestSchema = z
  .object({
    name: displayName(100),
    role: z.enum(roles),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .meta({ id: 'TokenRequest' });
export type TokenRequest = z.infer<typeof tokenRequestSchema>;

export const tokenSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    role: z.enum(roles),
    prefix: z.string().describe('the first characters of its value, to recognise it'),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });
export type TokenView = z.infer<typeof tokenSchema>;

export const createdTokenSchema = tokenSchema.extend({ token: z.string().describe('its value: shown in this answer only') }).meta({ id: 'CreatedApiToken' });

export const userRequestSchema = z
  .object({
    username: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'may hold letters, digits, ".", "_", "@" and "-"'),
    password: z.string().min(10, 'must be at least 10 characters long').max(200),
    role: z.enum(roles),
  })
  .strict()
  .meta({ id: 'UserRequest' });
export type UserRequest = z.infer<typeof userRequestSchema>;

export const userUpdateSchema = z
  .object({
    role: z.enum(roles).optional(),
    password: userRequestSchema.shape.password.optional().describe('a new password: the user\'s open sessions end'),
  })
  .strict()
  .refine((v) => v.role !== undefined || v.password !== undefined, 'give a role, a password or both')
  .meta({ id: 'UserUpdate' });
export type UserUpdate = z.infer<typeof userUpdateSchema>;

export const userSchema = z
  .object({
    id: z.string().uuid(),
    username: z.string(),
    role: z.enum(roles),
    createdAt: z.string(),
    disabledAt: z.string().nullable().optional(),
    twoFactor: z.boolean().optional().describe('two-factor authentication is on'),
    sso: z.boolean().optional().describe('made by single sign-on: no password opens it'),
  })
  .meta({ id: 'User' });
export type UserView = z.infer<typeof userSchema>;

export const sessionSchema = z
  .object({
    id: z.string().uuid(),
    current: z.boolean().describe('the session this request came with'),
    actorName: z.string(),
    role: z.enum(roles),
    openedWith: z.enum(['password', 'token']),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'Session' });
export type SessionView = z.infer<typeof sessionSchema>;

export const sessionListQuerySchema = z
  .object({ all: z.enum(['true', 'false']).optional().describe('admins: every session, not only their own') })
  .strict();

const tag = 'auth';

export const authRoutes = defineRoutes({
  'auth.me': {
    method: 'get',
    path: '/api/auth/me',
    summary: 'Who the caller is',
    tag,
    access: 'viewer',
    responses: { 200: { description: 'The caller.', schema: actorSchema } },
  },
  'tokens.list': {
    method: 'get',
    path: '/api/tokens',
    summary: 'API tokens (never their values)',
    tag,
    access: 'admin',
    responses: { 200: { description: 'Every token.', schema: listOf(tokenSchema) } },
  },
  'tokens.create': {
    method: 'post',
    path: '/api/tokens',
    summary: 'Create an API token (its value is shown in this answer only)',
    tag,
    access: 'admin',
    body: tokenRequestSchema,
    responses: { 201: { description: 'The token and its value.', schema: createdTokenSchema } },
  },
  'tokens.revoke': {
    method: 'delete',
    path: '/api/tokens/:id',
    summary: 'Revoke an API token',
    tag,
    access: 'admin',
    params: idParams('Token'),
    responses: { 204: { description: 'Revoked.' } },
  },
  'users.list': {
    method: 'get',
    path: '/api/users',
    summary: 'Users of the web UI',
    tag,
    access: 'admin',
    responses: { 200: { description: 'Every user.', schema: listOf(userSchema) } },
  },
  'users.create': {
    method: 'post',
    path: '/api/users',
    summary: 'Create a user',
    tag,
    access: 'admin',
    body: userRequestSchema,
    responses: { 201: { description: 'The user.', schema: userSchema }, 409: { description: 'The username is taken.' } },
  },
  'users.update': {
    method: 'put',
    path: '/api/users/:id',
    summary: "Change a user's role or reset their password (their open sessions end on a new password)",
    tag,
    access: 'admin',
    params: idParams('User'),
    body: userUpdateSchema,
    responses: { 200: { description: 'The user.', schema: userSchema }, 404: { description: 'No such user.' } },
  },
  'users.delete': {
    method: 'delete',
    path: '/api/users/:id',
    summary: 'Delete a user',
    tag,
    access: 'admin',
    params: idParams('User'),
    responses: { 204: { description: 'Deleted.' } },
  },
  'sessions.list': {
    method: 'get',
    path: '/api/auth/sessions',
    summary: 'Your web UI sessions (the one of this request marked current); admins: ?all=true for everyone’s',
    tag,
    access: 'viewer',
    query: sessionListQuerySchema,
    responses: { 200: { description: 'Open sessions, newest first.', schema: listOf(sessionSchema).meta({ id: 'SessionList' }) } },
  },
  'sessions.end': {
    method: 'delete',
    path: '/api/auth/sessions/:id',
    summary: 'End a web UI session (your own; admins: anyone’s)',
    tag,
    access: 'viewer',
    params: idParams('Session'),
    responses: { 204: { description: 'Ended: its cookie opens nothing any more.' }, 404: { description: 'No such session of yours.' } },
  },
});

/**
 * Logging in and out: mounted before authentication (a login has no session yet), rate limited,
 * and left out of the OpenAPI document, which describes the authenticated API.
 */
export const loginRoutes = defineRoutes({
  'auth.login': {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Open a web UI session with a username and password, or a token',
    tag,
    access: 'public',
    body: loginSchema,
    responses: {
      200: { description: 'The session cookie is set and the CSRF token is in the answer; or, with two-factor authentication, the challenge for the code.', schema: z.union([loginAnswerSchema, secondFactorNeededSchema]) },
    },
  },
  'auth.logout': {
    method: 'post',
    path: '/api/auth/logout',
    summary: 'End the web UI session of the cookie',
    tag,
    access: 'public',
    responses: { 204: { description: 'Ended.' } },
  },
});
