// Where the tests find PostgreSQL and Redis. Each test makes its own databases and queue prefix.
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789';

/** The URL of another database on the test server. */
export function databaseUrl(database: string, base = PG_ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
