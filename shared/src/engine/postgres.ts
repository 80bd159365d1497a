// Connecting to a source database: parsing its URL, handing the password to PostgreSQL's tools
// through a temporary passfile (never argv), and finding the pg_dump that matches the server.
import { access, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PermanentError } from '../infra/errors.js';
import { resolveOutboundHost } from '../infra/outbound.js';
import { cutSecrets } from '../infra/sentences.js';
import { runTool, toolEnvironment } from './process.js';
import { writeSecretFile } from './secret-files.js';

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  sslmode?: string;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** libpq parameters a URL may not carry: each makes the tools read a file of the worker's machine, or pass options to the server. */
const REFUSED_PARAMETERS: Record<string, string> = {
  passfile: 'it would make PostgreSQL\'s tools read a password file of the machine coffre runs on; put the password in the URL instead',
  service: 'it would make PostgreSQL\'s tools read a service file of the machine coffre runs on; write the host, port and database in the URL instead',
  servicefile: 'it would make PostgreSQL\'s tools read a service file of the machine coffre runs on; write the host, port and database in the URL instead',
  sslkey: 'it would make PostgreSQL\'s tools read a key file of the machine coffre runs on',
  sslcert: 'it would make PostgreSQL\'s tools read a certificate file of the machine coffre runs on',
  sslrootcert: 'it would make PostgreSQL\'s tools read a certificate file of the machine coffre runs on',
  sslcrl: 'it would make PostgreSQL\'s tools read a file of the machine coffre runs on',
  sslcrldir: 'it would make PostgreSQL\'s tools read a directory of the machine coffre runs on',
  options: 'it would pass command-line options to the server for every session; coffre sets the ones a backup needs itself',
};

export function parsePostgresUrl(url: string): PgConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentError('The database URL is not a valid URL: expected postgresql://user:password@host:5432/database.');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new PermanentError('The database URL must start with postgresql://.');
  }
  const database = decodeUrlPart(parsed.pathname.replace(/^\//, ''), 'database name');
  if (!database) throw new PermanentError('The database URL names no database: add /<database> after the host.');
  const host = parsed.searchParams.get('host') ?? decodeUrlPart(parsed.hostname, 'host');
  // libpq would read "a,b" as a list of servers to try, each one unchecked: coffre connects to one.
  if (host.includes(',')) throw new PermanentError('The database URL names several hosts: give the one server to connect to.');
  const port = Number(parsed.port || parsed.searchParams.get('port') || 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PermanentError('The database URL has an invalid port: expected a number from 1 to 65535.');
  const connection: PgConnection = {
    host: host.replace(/^\[|\]$/g, '') || 'localhost',
    port,
    user: decodeUrlPart(parsed.username, 'user name') || 'postgres',
    database,
  };
  if (parsed.password) connection.password = decodeUrlPart(parsed.password, 'password');
  for (const key of parsed.searchParams.keys()) {
    const why = REFUSED_PARAMETERS[key.toLowerCase()];
    if (why) throw new PermanentError(`The database URL's "${key}" parameter is not accepted: ${why}.`);
  }
  // libpq reads a password from the query too; it is a password all the same (masked, passfile).
  const queryPassword = parsed.searchParams.get('password');
  if (!connection.password && queryPassword) connection.password = queryPassword;
  const sslmode = parsed.searchParams.get('sslmode');
  // Checked here, not by libpq at each attempt: a bad value is a settings error no retry can fix.
  if (sslmode && !SSL_MODES.includes(sslmode)) {
    throw new PermanentError(`The database URL has an invalid sslmode: expected one of ${SSL_MODES.join(', ')}.`);
  }
  if (sslmode) connection.sslmode = sslmode;
  return connection;
}

/** Percent-decodes one part of a URL; a stray % gets a sentence that does not repeat the part (it may be the password). */
function decodeUrlPart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new PermanentError(`The ${what} in the database URL holds a % that is not followed by two hex digits: write a literal % as %25.`);
  }
}

/** The URL as people may see it: the password and every query value (?password= among them) replaced by ***. */
export function maskPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    const masked = new URLSearchParams();
    for (const key of parsed.searchParams.keys()) masked.append(key, '***');
    parsed.search = masked.toString();
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return 'postgresql://***';
  }
}

/**
 * `text` (a sentence that may quote a tool's or a server's words) with the URL, its password and a
 * ?password= value cut out, whatever echoed them (cutSecrets: shorter than 4 characters they stay,
 * and no PostgreSQL tool echoes a password).
 */
export function withoutUrlSecrets(text: string, url: string): string {
  const needles = [url];
  try {
    const parsed = new URL(url);
    const passwords = [parsed.searchParams.get('password') ?? ''];
    if (parsed.password) {
      needles.push(parsed.password);
      passwords.push(decodeURIComponent(parsed.password));
    }
    for (const password of passwords) needles.push(password, encodeURIComponent(password));
  } catch {}
  return cutSecrets(text, needles);
}

/**
 * A libpq connection string without the password. Every value is quoted, so a database name such as
 * `x host=evil` or `--file=/tmp/x` stays a database name.
 */
export function conninfo(connection: PgConnection, database = connection.database): string {
  const parts: Record<string, string> = {
    host: connection.host,
    port: String(connection.port),
    user: connection.user,
    dbname: database,
    application_name: 'coffre',
  };
  if (connection.sslmode) parts.sslmode = connection.sslmode;
  return Object.entries(parts)
    .map(([key, value]) => `${key}='${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

export interface PgToolEnvironment {
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/**
 * The environment for pg_dump/pg_restore/psql: PGPASSFILE points to a 0600 file in this process's
 * private directory on this machine (secret-files.ts), removed by cleanup(). The password never
 * reaches argv or the child's environment. The host is checked first (outbound.ts): the tools resolve
 * it again themselves, so a name whose DNS answer changes in between is not caught here.
 */
export async function preparePgToolEnvironment(connection: PgConnection): Promise<PgToolEnvironment> {
  // A refusal stops here; a name that does not resolve is left to the tool, which says so itself.
  await resolveOutboundHost(connection.host).catch((error: unknown) => {
    if (error instanceof PermanentError) throw error;
  });
  const env = toolEnvironment({
    PGCONNECT_TIMEOUT: '15',
    // Never read a user's ~/.pgpass or service file by accident: point both at nothing.
    PGPASSFILE: '/nonexistent/coffre-no-passfile',
    PGSERVICEFILE: '/nonexistent/coffre-no-servicefile',
  });
  if (connection.password === undefined) return { env, cleanup: async () => {} };
  if (/[\r\n]/.test(connection.password)) {
    throw new PermanentError(
      `The password of user "${connection.user}" contains a line break, which PostgreSQL's tools cannot read from a password file: choose a password without line breaks.`,
      'auth',
    );
  }
  const field = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  const passfile = await writeSecretFile(`${field(connection.host)}:${connection.port}:*:${field(connection.user)}:${field(connection.password)}\n`);
  env.PGPASSFILE = passfile.path;
  return { env, cleanup: passfile.remove };
}

/** What a PostgreSQL tool is started with to reach a database: its environment and its --dbname argument. */
export interface PgToolAccess {
  env: NodeJS.ProcessEnv;
  dbname: string;
}

/** Runs `work` with what pg_dump, pg_restore or psql need to reach `connection`; the passfile is removed after. */
export async function withPgToolAccess<T>(connection: PgConnection, work: (access: PgToolAccess) => Promise<T>): Promise<T> {
  const toolEnv = await preparePgToolEnvironment(connection);
  try {
    return await work({ env: toolEnv.env, dbname: `--dbname=${conninfo(connection)}` });
  } finally {
    await toolEnv.cleanup();
  }
}

export function pgClientConfig(connection: PgConnection, database = connection.database): pg.ClientConfig {
  const ssl =
    connection.sslmode && connection.sslmode !== 'disable' && connection.sslmode !== 'allow' && connection.sslmode !== 'prefer'
      ? { rejectUnauthorized: connection.sslmode === 'verify-full' || connection.sslmode === 'verify-ca' }
      : undefined;
  return {
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database,
    ssl,
    application_name: 'coffre',
    connectionTimeoutMillis: 15_000,
    // As pg_dump does for its own session: a source's timeouts, meant for the application, must not cut off
    // the transaction that holds the dump's snapshot while pg_dump runs, nor the row counts beside it.
    options: '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0',
  };
}

/** Opens a client, runs `work`, closes the client. Connection failures become sentences. */
export async function withPgClient<T>(connection: PgConnection, work: (client: pg.Client) => Promise<T>, database = connection.database): Promise<T> {
  const client = new pg.Client(pgClientConfig(connection, database));
  client.on('error', () => {});
  try {
    await resolveOutboundHost(connection.host);
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw describeConnectionError(error, connection, database);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Turns a connection failure into a sentence an operator can act on. */
export function describeConnectionError(error: unknown, connection: PgConnection, database = connection.database): Error {
  if (error instanceof PermanentError) return error;
  const e = error as { code?: string; message?: string };
  const where = `${connection.host}:${connection.port}`;
  switch (e.code) {
    case '28P01':
    case '28000':
      return new PermanentError(
        `PostgreSQL at ${where} refused the credentials of user "${connection.user}": check the user and password in the source URL.`,
        'auth',
      );
    case '3D000':
      return new PermanentError(`Database "${database}" does not exist on ${where}: check the database name in the source URL.`, 'missing-database');
    case 'ECONNREFUSED':
      return new Error(`Cannot connect to PostgreSQL at ${where}: the connection was refused (is the server running and listening there?).`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`Cannot resolve the PostgreSQL host "${connection.host}": check the host name in the source URL.`);
    case 'ETIMEDOUT':
      return new Error(`Connecting to PostgreSQL at ${where} timed out.`);
    default:
      return new Error(`Cannot connect to PostgreSQL at ${where}: ${e.message ?? String(error)}`);
  }
}

export interface ServerVersion {
  versionNum: number;
  major: number;
  version: string;
}

export async function detectServerVersion(client: pg.Client): Promise<ServerVersion> {
  const { rows } = await client.query<{ num: string; version: string }>(
    "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version",
  );
  const versionNum = Number(rows[0]!.num);
  return { versionNum, major: Math.floor(versionNum / 10000), version: rows[0]!.version.split(' ')[0]! };
}

export interface PgTool {
  path: string;
  version: string;
  major: number;
}

export type PgToolName = 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql';

/**
 * Finds the tool for a server major version: /usr/lib/postgresql/<major>/bin first, then newer
 * installed majors (a newer client reads an older server), then PATH. A client older than the
 * server is refused with what to install.
 */
export async function resolvePgTool(tool: PgToolName, serverMajor: number, searchRoot = '/usr/lib/postgresql'): Promise<PgTool> {
  const candidates: string[] = [join(searchRoot, String(serverMajor), 'bin', tool)];
  const installed = await readdir(searchRoot).catch(() => [] as string[]);
  for (const major of installed.map(Number).filter((m) => m > serverMajor).sort((a, b) => a - b)) {
    candidates.push(join(searchRoot, String(major), 'bin', tool));
  }
  let older: PgTool | null = null;
  for (const candidate of [...candidates, tool]) {
    const path = candidate.includes('/') ? candidate : await findOnPath(candidate);
    if (!path || !(await isExecutable(path))) continue;
    const found = await toolVersion(path);
    if (found.major >= serverMajor) return found;
    older ??= found;
  }
  if (older) {
    throw new PermanentError(
      `${tool} ${older.major} cannot ${tool === 'pg_dump' ? 'dump' : 'restore to'} a PostgreSQL ${serverMajor} server: install postgresql-client-${serverMajor}.`,
      'client-too-old',
    );
  }
  throw new PermanentError(`${tool} is not installed: install postgresql-client-${serverMajor}.`, 'client-missing');
}

async function toolVersion(path: string): Promise<PgTool> {
  const output = await runTool(path, ['--version']);
  const match = /(\d+)(?:\.(\d+))?/.exec(output.replace(/^[^)]*\)/, ''));
  const version = match ? match[0] : 'unknown';
  return { path, version, major: match ? Number(match[1]) : 0 };
}

async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const path = join(dir, name);
    if (await isExecutable(path)) return path;
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}


/** The newest installed client tool: it reads what every older pg_dump wrote (imported dumps). */
export async function resolveNewestPgTool(tool: PgToolName, searchRoot = '/usr/lib/postgresql'): Promise<PgTool> {
  const installed = (await readdir(searchRoot).catch(() => [] as string[])).map(Number).filter((major) => Number.isInteger(major) && major > 0);
  return resolvePgTool(tool, installed.length ? Math.max(...installed) : 0, searchRoot);
}
