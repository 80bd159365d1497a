// Users and API tokens: their forms, the request bodies, and their problems, found by the contract's
// userRequestSchema and tokenRequestSchema (the API's own).
import { tokenRequestSchema, userRequestSchema, userUpdateSchema, type Role } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface UserForm {
  username: string;
  password: string;
  role: Role;
}

export interface TokenForm {
  name: string;
  role: Role;
  /** Empty: the token never expires. */
  expiresInDays: string;
}

/** The shortest password the API takes. */
export const MIN_PASSWORD = userRequestSchema.shape.password.minLength ?? 10;

/** What each role may do, in a few words (shown under role pickers). */
export const roleDescriptions: Record<Role, string> = {
  viewer: 'reads everything, changes nothing',
  operator: 'runs backups and verifications, reads',
  admin: 'everything, including restores, users and tokens',
};

const fieldOf =
  <F>(fields: readonly (keyof F & string)[]) =>
  (path: string): keyof F | null =>
    (fields as readonly string[]).includes(path) ? (path as keyof F) : null;

export const userFieldOfApiPath = fieldOf<UserForm>(['username', 'password', 'role']);
export const tokenFieldOfApiPath = fieldOf<TokenForm>(['name', 'role', 'expiresInDays']);

export function userProblems(form: UserForm): Problems<UserForm> {
  return problemsOf(userRequestSchema, userBody(form), userFieldOfApiPath);
}

export function userBody(form: UserForm) {
  return { username: form.username.trim(), password: form.password, role: form.role };
}

/** A change of a user: the username is shown, not changed; an empty password keeps theirs. */
export function userUpdateProblems(form: UserForm): Problems<UserForm> {
  return problemsOf(userUpdateSchema, userUpdateBody(form), userFieldOfApiPath);
}

export function userUpdateBody(form: UserForm) {
  return { role: form.role, ...(form.password ? { password: form.password } : {}) };
}

export function tokenProblems(form: TokenForm): Problems<TokenForm> {
  return problemsOf(tokenRequestSchema, tokenBody(form), tokenFieldOfApiPath, {
    name: 'Name the token after what uses it (a CI job, a script…).',
    expiresInDays: 'A whole number of days between 1 and 3650, or empty for no expiry.',
  });
}

export function tokenBody(form: TokenForm) {
  const days = form.expiresInDays.trim();
  return { name: form.name.trim(), role: form.role, ...(days ? { expiresInDays: Number(days) } : {}) };
}
