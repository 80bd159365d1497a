// Scratch databases on the test server, dropped after each test file.
import pg from 'pg';
import { inject } from 'vitest';
import { PG_ADMIN_URL, databaseUrl, uniqueName } from './env.js';

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], url = PG_ADMIN_URL) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<T>(sql, params);
  } finally {
    await client.end();
  }
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The rows of one statement, on a connection of its own. */
export async function queryRows<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  return withClient(url, async (client) => (await client.query<T>(text)).rows);
}

/**
 * Commits one row every 100 ms with `insert` (an INSERT … RETURNING id, at) until stopped: the
 * writer of the point-in-time recovery tests. `rows` holds every committed row with its timestamp.
 */
export function startTickWriter(url: string, insert: string) {
  const rows: { id: number; at: Date }[] = [];
  let running = true;
  const done = withClient(url, async (client) => {
    client.on('error', () => {});
    while (running) {
      rows.push((await client.query<{ id: number; at: Date }>(insert)).rows[0]!);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  done.catch(() => {});
  return {
    rows,
    async stop() {
      running = false;
      await done;
    },
  };
}

export interface ScratchDatabase {
  name: string;
  url: string;
}

const created: string[] = [];

export async function createDatabase(prefix = 'coffre_t', template?: string): Promise<ScratchDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  await adminQuery(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  created.push(name);
  return { name, url: databaseUrl(name) };
}

export function forgetDatabase(name: string): void {
  created.push(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export async function dropCreatedDatabases(): Promise<void> {
  while (created.length) await dropDatabase(created.pop()!);
}

/** A database with coffre's schema applied (copied from the template migrated in global setup). */
export async function createMetadataDatabase(): Promise<ScratchDatabase> {
  return createDatabase('coffre_meta', inject('templateDatabase'));
}
