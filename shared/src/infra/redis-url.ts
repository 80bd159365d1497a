// REDIS_URL, read in one place: a Redis server (redis://, rediss://) or a primary that Redis
// Sentinel watches and replaces when it fails (redis+sentinel://). The API, the workers, Bull Board
// and the CLI all connect through createRedis (jobs/queues.ts), which takes its options from here.
//
//   redis+sentinel://[user:password@]host1:26379,host2:26379/mymaster[?db=N&sentinelPassword=…&sentinelUsername=…]
//
// The credentials before @ are the Redis servers' (primary and replicas); the sentinels' own, when
// they ask for a password, go in the query. Error sentences never quote the URL: it may hold both.

export const SENTINEL_SCHEME = 'redis+sentinel:';
const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_PARAMS = ['db', 'sentinelPassword', 'sentinelUsername'] as const;

export interface SentinelAddress {
  host: string;
  port: number;
}

/** What ioredis needs to find the primary through the sentinels (its SentinelConnectionOptions and auth). */
export interface SentinelTarget {
  kind: 'sentinel';
  sentinels: SentinelAddress[];
  /** The master group name the sentinels monitor. */
  name: string;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  db: number;
}

export type RedisTarget = { kind: 'direct'; url: string } | SentinelTarget;

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/** Parses REDIS_URL; throws a RedisUrlError whose message completes "REDIS_URL …". */
export function parseRedisUrl(url: string): RedisTarget {
  const text = url.trim();
  if (/^rediss?:\/\//i.test(text)) return { kind: 'direct', url: checkedDirectUrl(text) };
  if (text.toLowerCase().startsWith(`${SENTINEL_SCHEME}//`)) return parseSentinelUrl(text);
  throw new RedisUrlError('must be a redis://, rediss:// or redis+sentinel:// URL');
}

/** The sentence of what is wrong with a REDIS_URL, or null when it is usable (for config validation). */
export function redisUrlProblem(url: string): string | null {
  try {
    parseRedisUrl(url);
    return null;
  } catch (error) {
    if (error instanceof RedisUrlError) return error.message;
    throw error;
  }
}

/** REDIS_URL as it may be shown or logged: every password replaced by ***. */
export function describeRedisUrl(url: string): string {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(url);
  } catch {
    return 'REDIS_URL';
  }
  if (target.kind === 'direct') {
    const parsed = new URL(target.url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  }
  const user = target.username ?? '';
  const auth = target.password !== undefined ? `${encodeURIComponent(user)}:***@` : user ? `${encodeURIComponent(user)}@` : '';
  const hosts = target.sentinels.map(formatAddress).join(',');
  const query = [target.db ? `db=${target.db}` : '', target.sentinelUsername ? `sentinelUsername=${encodeURIComponent(target.sentinelUsername)}` : '', target.sentinelPassword !== undefined ? 'sentinelPassword=***' : '']
    .filter(Boolean)
    .join('&');
  return `redis+sentinel://${auth}${hosts}/${encodeURIComponent(target.name)}${query ? `?${query}` : ''}`;
}

export function formatAddress({ host, port }: SentinelAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function checkedDirectUrl(text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new RedisUrlError('is not a valid URL (write redis://[user:password@]host:port[/db])');
  }
  if (!parsed.hostname) throw new RedisUrlError('names no host (write redis://host:port)');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new RedisUrlError('may only end with a database number (redis://host:port/0)');
  return text;
}

function parseSentinelUrl(text: string): SentinelTarget {
  const match = /^redis\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/i.exec(text);
  if (!match) throw new RedisUrlError('is not a valid Sentinel URL (write redis+sentinel://host1:26379,host2:26379/mymaster)');
  const [, auth, hostList = '', masterName = '', query = ''] = match;
  const sentinels = hostList
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map(parseAddress);
  if (sentinels.length === 0) throw new RedisUrlError('names no sentinel (write redis+sentinel://host1:26379,host2:26379/mymaster)');
  const name = decode(masterName, 'master name');
  if (!name) throw new RedisUrlError('names no master group after the sentinels (write redis+sentinel://host1:26379,host2:26379/mymaster)');
  const params = new URLSearchParams(query);
  const unknown = [...params.keys()].filter((key) => !(SENTINEL_PARAMS as readonly string[]).includes(key));
  if (unknown.length) throw new RedisUrlError(`has unknown parameter(s) ${unknown.join(', ')} (known: ${SENTINEL_PARAMS.join(', ')})`);
  const dbText = params.get('db') ?? '0';
  if (!/^\d{1,5}$/.test(dbText)) throw new RedisUrlError('has a db parameter that is not a database number (0, 1, …)');
  const target: SentinelTarget = { kind: 'sentinel', sentinels, name, db: Number(dbText) };
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    const username = decode(colon === -1 ? auth : auth.slice(0, colon), 'user name');
    if (username) target.username = username;
    if (colon !== -1) target.password = decode(auth.slice(colon + 1), 'password');
  }
  const sentinelUsername = params.get('sentinelUsername');
  const sentinelPassword = params.get('sentinelPassword');
  if (sentinelUsername) target.sentinelUsername = sentinelUsername;
  if (sentinelPassword !== null) target.sentinelPassword = sentinelPassword;
  return target;
}

function parseAddress(entry: string): SentinelAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(entry);
  if (!match) throw new RedisUrlError('has a sentinel that is not host or host:port (for IPv6, [::1]:26379)');
  const port = match[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError('has a sentinel port outside 1 to 65535');
  return { host: (match[1] ?? match[2])!, port };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`has a ${what} with a bad %-escape`);
  }
}
