// A sentence shown to operators (why a WAL stream failed) may quote a tool's or a server's words: the
// source URL's password, in any form it takes there, and the URL itself are cut out of it.
import { describe, expect, it } from 'vitest';
import { withoutUrlSecrets } from '@coffre/shared';

const PASSWORD = 'p@ss:w/rd é-7f3a';
const URL_WITH_PASSWORD = `postgresql://app:${encodeURIComponent(PASSWORD)}@db.internal:5432/shop`;

describe('withoutUrlSecrets', () => {
  it('cuts the URL, its password raw and percent-encoded, and a ?password= value out of the sentence', () => {
    const echoed = `pg_receivewal stopped (exit 1): could not connect to "${URL_WITH_PASSWORD}": password "${PASSWORD}" or ${encodeURIComponent(PASSWORD)} refused`;
    const out = withoutUrlSecrets(echoed, URL_WITH_PASSWORD);
    expect(out).toBe('pg_receivewal stopped (exit 1): could not connect to "[redacted]": password "[redacted]" or [redacted] refused');

    const inQuery = `postgresql://app@db.internal/shop?sslmode=require&password=${encodeURIComponent(PASSWORD)}`;
    expect(withoutUrlSecrets(`server said ${PASSWORD}; sslmode=require stays`, inQuery)).toBe('server said [redacted]; sslmode=require stays');
  });

  it('leaves a sentence without secrets as it is', () => {
    const sentence = 'Cannot connect to PostgreSQL at db.internal:5432: the connection was refused (is the server running and listening there?).';
    expect(withoutUrlSecrets(sentence, URL_WITH_PASSWORD)).toBe(sentence);
    expect(withoutUrlSecrets(sentence, 'not a url')).toBe(sentence);
  });
});
