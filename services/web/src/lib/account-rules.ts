// Users and API tokens: the rules the API applies to their creation (shared/src/app/auth.ts), field
// by field, so that each input shows its problem as it is typed.
import type { Role } from '../api/types';

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

export type UserErrors = Partial<Record<keyof UserForm, string>>;
export type TokenErrors = Partial<Record<keyof TokenForm, string>>;

export const MIN_PASSWORD = 10;

/** What each role may do, in a few words (shown under role pickers). */
export const roleDescriptions: Record<Role, string> = {
  viewer: 'reads everything, changes nothing',
  operator: 'runs backups and verifications, reads',
  admin: 'everything, including restores, users and tokens',
};
const usernamePattern = /^[A-Za-z0-9._@-]+$/;

export function validateUser(form: UserForm): UserErrors {
  const errors: UserErrors = {};
  const username = form.username.trim();
  if (!username) errors.username = 'The username is required.';
  else if (username.length > 64) errors.username = 'The username must be at most 64 characters.';
  else if (!usernamePattern.test(username)) errors.username = 'The username may hold letters, digits, ".", "_", "@" and "-".';
  if (form.password.length < MIN_PASSWORD) errors.password = `The password must be at least ${MIN_PASSWORD} characters long (${form.password.length} so far).`;
  else if (form.password.length > 200) errors.password = 'The password must be at most 200 characters.';
  return errors;
}

export function userBody(form: UserForm) {
  return { username: form.username.trim(), password: form.password, role: form.role };
}

export function validateToken(form: TokenForm): TokenErrors {
  const errors: TokenErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Name the token after what uses it (a CI job, a script…).';
  else if (name.length > 100) errors.name = 'The name must be at most 100 characters.';
  const days = form.expiresInDays.trim();
  if (days && (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > 3650)) errors.expiresInDays = 'A whole number of days between 1 and 3650, or empty for no expiry.';
  return errors;
}

export function tokenBody(form: TokenForm) {
  const days = form.expiresInDays.trim();
  return { name: form.name.trim(), role: form.role, ...(days ? { expiresInDays: Number(days) } : {}) };
}
