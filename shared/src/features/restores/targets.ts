// Databases a restore may not overwrite. coffre's own metadata database, always: a restore there would
// replace the history that says what the backups are. The system databases postgres, template0 and
// template1 unless an admin asks for it in the request: every later CREATE DATABASE copies template1,
// restored tables included. Checked when the restore is requested, and again by the worker just
// before it runs.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { PermanentError } from '../../infra/errors.js';
import { parsePostgresUrl, withPgClient, type PgConnection } from '../../engine/postgres.js';
import { recordRefusal } from '../audit/refusals.js';
import type { Actor, AppContext } from '../../infra/context.js';

export const SYSTEM_DATABASES = ['postgres', 'template0', 'template1'];

export function isSystemDatabase(database: string): boolean {
  return SYSTEM_DATABASES.includes(database);
}

/** Throws a PermanentError (code protected_database) when a restore may not write into `target`. */
export async function checkRestoreTarget(ctx: AppContext, target: PgConnection, options: { allowSystemDatabase: boolean }): Promise<void> {
  const where = `${target.host}:${target.port}`;
  if (await isMetadataDatabase(ctx, target)) {
    throw new PermanentError(
      `Database "${target.database}" on ${where} is coffre's own metadata database (DATABASE_URL): coffre never restores into it. Choose another target database.`,
      'protected_database',
    );
  }
  if (isSystemDatabase(target.database) && !options.allowSystemDatabase) {
    throw new PermanentError(
      `Database "${target.database}" on ${where} is a system database, which every new database or connection relies on: restoring into it is refused unless an admin sends allowSystemDatabase: true. Choose another target database.`,
      'protected_database',
    );
  }
}

/** checkRestoreTarget for a request: a refusal goes to the audit log too. */
export async function checkRequestedRestoreTarget(ctx: AppContext, actor: Actor, backupId: string, target: PgConnection, options: { allowSystemDatabase: boolean }): Promise<void> {
  try {
    await checkRestoreTarget(ctx, target, options);
  } catch (error) {
    await recordRefusal(ctx.db, actor, { action: 'backup.restore', targetType: 'backup', targetId: backupId, reason: 'protected-database', summary: { targetDatabase: target.database } });
    throw error;
  }
}

/**
 * Whether `target` is the database of DATABASE_URL: the same name on the same server. The server is
 * the same when host and port say so (localhost, 127.0.0.1, ::1, a socket directory and this
 * machine's own addresses are one host), or when the server itself says so: its start time, port and
 * the database's oid match those of the metadata database (an alias in DNS, another interface).
 */
export async function isMetadataDatabase(ctx: AppContext, target: PgConnection): Promise<boolean> {
  let metadata: PgConnection;
  try {
    metadata = parsePostgresUrl(ctx.config.DATABASE_URL);
  } catch {
    return false;
  }
  if (target.database !== metadata.database) return false;
  if (target.port === metadata.port && (await sameHost(target.host, metadata.host))) return true;
  const [theirs, ours] = await Promise.all([
    withPgClient(target, (client) => client.query<{ fingerprint: string }>(FINGERPRINT).then((r) => r.rows[0]?.fingerprint)).catch(() => null),
    ctx.db.$queryRawUnsafe<{ fingerprint: string }[]>(FINGERPRINT).then((rows) => rows[0]?.fingerprint).catch(() => null),
  ]);
  return Boolean(theirs && ours && theirs === ours);
}

const FINGERPRINT =
  "SELECT pg_postmaster_start_time()::text || '/' || current_setting('port') || '/' || (SELECT oid FROM pg_database WHERE datname = current_database())::text AS fingerprint";

async function sameHost(a: string, b: string): Promise<boolean> {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const [left, right] = await Promise.all([addressesOf(a), addressesOf(b)]);
  return [...left].some((address) => right.has(address));
}

/** The addresses a host stands for; every address of this machine stands for "this machine". */
async function addressesOf(host: string): Promise<Set<string>> {
  const local = localAddresses();
  if (host.startsWith('/') || host.toLowerCase() === 'localhost') return new Set(['this-machine']);
  const found = isIP(host) ? [host] : await lookup(host, { all: true }).then((all) => all.map((a) => a.address)).catch(() => [] as string[]);
  return new Set(found.map((address) => (local.has(normalise(address)) ? 'this-machine' : normalise(address))));
}

function localAddresses(): Set<string> {
  const addresses = new Set<string>(['127.0.0.1', '::1', '0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) addresses.add(normalise(entry.address));
  return addresses;
}

function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = (mapped ? mapped[1]! : address).toLowerCase().replace(/%.*$/, '');
  return /^127\./.test(plain) ? '127.0.0.1' : plain;
}
