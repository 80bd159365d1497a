// The user and token forms against the API's own schemas.
import { describe, expect, test } from 'vitest';
import { tokenRequestSchema, userRequestSchema } from '@coffre/shared';
import { tokenBody, userBody, validateToken, validateUser, type TokenForm, type UserForm } from '../src/lib/account-rules.js';

const user = (change: Partial<UserForm> = {}): UserForm => ({ username: 'alice', password: 'correct horse', role: 'operator', ...change });
const token = (change: Partial<TokenForm> = {}): TokenForm => ({ name: 'nightly CI', role: 'operator', expiresInDays: '', ...change });

describe('user form', () => {
  test.each([
    ['a user', user(), null],
    ['an email as username', user({ username: 'alice@example.com', role: 'admin' }), null],
    ['a password of exactly 10 characters', user({ password: '0123456789' }), null],
    ['no username', user({ username: ' ' }), 'username'],
    ['a username with a space', user({ username: 'alice smith' }), 'username'],
    ['a password of 9 characters', user({ password: '012345678' }), 'password'],
  ] as const)('%s', (_label, form, field) => {
    const errors = validateUser(form);
    const parsed = userRequestSchema.safeParse(userBody(form));
    if (field === null) {
      expect(errors).toEqual({});
      expect(parsed.success).toBe(true);
    } else {
      expect(Object.keys(errors)).toEqual([field]);
      expect(parsed.success).toBe(false);
    }
  });

  test('says how long the password is so far', () => {
    expect(validateUser(user({ password: 'short' })).password).toBe('The password must be at least 10 characters long (5 so far).');
  });
});

describe('token form', () => {
  test.each([
    ['a token that never expires', token(), null],
    ['a token for 90 days', token({ expiresInDays: '90', role: 'viewer' }), null],
    ['no name', token({ name: '' }), 'name'],
    ['0 days', token({ expiresInDays: '0' }), 'expiresInDays'],
    ['3651 days', token({ expiresInDays: '3651' }), 'expiresInDays'],
    ['1.5 days', token({ expiresInDays: '1.5' }), 'expiresInDays'],
  ] as const)('%s', (_label, form, field) => {
    const errors = validateToken(form);
    const body = tokenBody(form);
    const parsed = tokenRequestSchema.safeParse(body);
    if (field === null) {
      expect(errors).toEqual({});
      expect(parsed.success).toBe(true);
    } else {
      expect(Object.keys(errors)).toEqual([field]);
      // A fraction or a number out of range is refused by the API too.
      if (field !== 'name' || !form.name) expect(parsed.success).toBe(false);
    }
  });
});
