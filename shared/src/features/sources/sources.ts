// Sources: the databases (and buckets) coffre backs up. Their URLs are sealed at rest and shown
// masked; nothing here ever returns a password.
import type { SourceInput, SourceUpdate, SourceView } from '@coffre/contract';
import type { Source } from '../../infra/db.js';
import { ConflictError, isUniqueViolation, ValidationError } from '../../infra/errors.js';
import {
  detectServerVersion,
  maskPostgresUrl,
  parsePostgresUrl,
  withPgClient,
  type PgConnection,
} from '../../engine/postgres.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { checkPitrRequirements, type PitrCheck } from '../../engine/replication.js';
import { lazyS3Driver } from '../destinations/destinations.js';
import { enqueue } from '../catalog.js';
import { storedResource, type ResourceTable } from '../stored/resource.js';

type BucketSettings = Omit<S3StorageOptions, 'logger' | 'abortRetryMs'>;

export function sourceToApi(source: Source): SourceView {
  return {
    id: source.id,
    name: source.name,
    kind: source.kind,
    url: source.urlMasked,
    ...(source.kind === 'postgres' ? { scope: source.scope as 'database' | 'server', includeDatabases: source.includeDatabases, excludeDatabases: source.excludeDatabases } : {}),
    createdAt: source.createdAt.toISOString(),
    updatedAt: source.updatedAt.toISOString(),
  };
}

const sources = storedResource<Source>({ noun: 'source', table: (ctx) => ctx.db.source as unknown as ResourceTable<Source>, toApi: sourceToApi });

export const listSources = sources.list;
export const getSource = sources.get;

export async function createSource(ctx: AppContext, request: SourceInput, actor: Actor): Promise<Source> {
  if (request.kind === 's3') {
    const { name, kind: _k, ...settings } = request;
    if (settings.endpoint) checkOutboundUrl(settings.endpoint, 'endpoint');
    return sources.create(ctx, actor, { name, kind: 's3', ...sealedBucket(ctx, settings) });
  }
  validatePostgresUrl(request.url);
  return sources.create(ctx, actor, {
    name: request.name,
    kind: 'postgres',
    urlEncrypted: ctx.secrets.seal(request.url),
    urlMasked: maskPostgresUrl(request.url),
    ...serverScopeOf(request),
  });
}

export async function updateSource(ctx: AppContext, id: string, changes: SourceUpdate, actor: Actor): Promise<Source> {
  const before = await getSource(ctx, id);
  const { name, url: givenUrl, password, scope, includeDatabases, excludeDatabases, ...bucketChanges } = changes;
  await sources.refuseTakenName(ctx, name, before);
  const data: { name?: string; urlEncrypted?: string; urlMasked?: string; scope?: string; includeDatabases?: string[]; excludeDatabases?: string[] } = name ? { name } : {};
  if (before.kind === 'postgres') {
    Object.assign(data, serverScopeOf({ scope, includeDatabases, excludeDatabases }));
    if (Object.keys(bucketChanges).length) throw new ValidationError(`${Object.keys(bucketChanges).join(', ')}: not a setting of a PostgreSQL source (change its url).`);
    const url = password ? withPassword(givenUrl ?? ctx.secrets.open(before.urlEncrypted), password) : givenUrl;
    if (url) {
      validatePostgresUrl(url);
      Object.assign(data, { urlEncrypted: ctx.secrets.seal(url), urlMasked: maskPostgresUrl(url) });
    }
  } else {
    if (givenUrl || password) throw new ValidationError(`${givenUrl ? 'url' : 'password'}: a bucket source has no URL; change endpoint, bucket or prefix.`);
    if (Object.keys(bucketChanges).length) {
      if (bucketChanges.endpoint) checkOutboundUrl(bucketChanges.endpoint, 'endpoint');
      Object.assign(data, sealedBucket(ctx, { ...sourceBucket(ctx, before), ...bucketChanges }));
    }
  }
  const updated = await sources.update(ctx, actor, before, data);
  // A source that streams its WAL and now names another server (a failover): its stream notices and
  // restarts on that server; one that had given up on the old server is queued again here.
  if (updated.pitrEnabled && data.urlEncrypted) await enqueue(ctx, 'pitr.stream', { sourceId: updated.id });
  return updated;
}

/** The URL with `password` in place of its own (percent-encoded as a URL needs). */
function withPassword(url: string, password: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = encodeURIComponent(password);
    return parsed.toString();
  } catch {
    throw new ValidationError('url: is not a valid URL, so no password can be put in it.');
  }
}

/** The server-scope columns a request sets (patterns only mean something for a server source). */
function serverScopeOf(request: { scope?: 'database' | 'server'; includeDatabases?: string[]; excludeDatabases?: string[] }) {
  return {
    ...(request.scope ? { scope: request.scope } : {}),
    ...(request.includeDatabases ? { includeDatabases: request.includeDatabases } : {}),
    ...(request.excludeDatabases ? { excludeDatabases: request.excludeDatabases } : {}),
  };
}

export async function deleteSource(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const source = await getSource(ctx, id);
  const configurations = await ctx.db.backupConfiguration.count({ where: { sourceId: id } });
  if (configurations > 0) {
    throw new ConflictError(`Source "${source.name}" is used by ${configurations} configuration(s): delete or move them first.`);
  }
  const running = await ctx.db.backup.count({ where: { sourceId: id, status: { in: ['pending', 'running'] } } });
  if (running > 0) throw new ConflictError(`Source "${source.name}" has backups pending or running: wait for them to finish.`);
  await sources.remove(ctx, actor, source);
}

/** Registers (or updates) the source named `default` from SOURCE_DATABASE_URL. */
export async function ensureDefaultSource(ctx: AppContext): Promise<Source | null> {
  const url = ctx.config.SOURCE_DATABASE_URL;
  if (!url) return null;
  validatePostgresUrl(url);
  const existing = await ctx.db.source.findUnique({ where: { name: 'default' } });
  if (existing && ctx.secrets.open(existing.urlEncrypted) === url) return existing;
  const data = { urlEncrypted: ctx.secrets.seal(url), urlMasked: maskPostgresUrl(url) };
  if (existing) return ctx.db.source.update({ where: { id: existing.id }, data });
  try {
    return await ctx.db.source.create({ data: { name: 'default', kind: 'postgres', ...data } });
  } catch (error) {
    // The API and the workers start together on a new installation: one of them creates it.
    if (isUniqueViolation(error)) return ensureDefaultSource(ctx);
    throw error;
  }
}

/** The connection details of a source, with its password, for the engine only. */
export function sourceConnection(ctx: AppContext, source: Source): PgConnection {
  if (source.kind !== 'postgres') throw new ValidationError(`Source "${source.name}" is a bucket, not a PostgreSQL database.`);
  return parsePostgresUrl(ctx.secrets.open(source.urlEncrypted));
}

/** The bucket settings of a bucket source, with its credentials, for the engine only. */
export function sourceBucket(ctx: AppContext, source: Source): BucketSettings {
  if (source.kind !== 's3') throw new ValidationError(`Source "${source.name}" is a PostgreSQL database, not a bucket.`);
  return JSON.parse(ctx.secrets.open(source.urlEncrypted)) as BucketSettings;
}

/** The sealed settings of a bucket source, and the location shown for it. */
function sealedBucket(ctx: AppContext, settings: Parameters<typeof maskBucket>[0]) {
  return { urlEncrypted: ctx.secrets.seal(JSON.stringify(settings)), urlMasked: maskBucket(settings) };
}

function maskBucket(settings: Pick<BucketSettings, 'endpoint' | 'region' | 'bucket' | 'prefix'>): string {
  return `s3://${settings.bucket}/${(settings.prefix ?? '').replace(/^\/+/, '')}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
}

export async function testSource(ctx: AppContext, id: string): Promise<{ ok: boolean; serverVersion?: string; message: string; pitr?: PitrCheck }> {
  const source = await getSource(ctx, id);
  if (source.kind === 's3') {
    try {
      const storage = lazyS3Driver({ ...sourceBucket(ctx, source), logger: ctx.logger });
      let objects = 0;
      for await (const _object of storage.list()) if (++objects >= 1000) break;
      return { ok: true, message: `Listed the bucket: ${objects >= 1000 ? 'at least 1000' : objects} object(s).` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }
  try {
    const connection = sourceConnection(ctx, source);
    const server = await withPgClient(connection, detectServerVersion);
    const connected = `Connected to PostgreSQL ${server.version}.`;
    if (!source.pitrEnabled) return { ok: true, serverVersion: server.version, message: connected };
    const pitr = await checkPitrRequirements(connection, source.pitrSlot);
    const missing = pitr.requirements.filter((r) => !r.ok).map((r) => r.message);
    return { ok: pitr.ok, serverVersion: server.version, message: pitr.ok ? `${connected} Point-in-time recovery: every requirement is met.` : `${connected} Point-in-time recovery cannot stream: ${missing.join(' ')}`, pitr };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function validatePostgresUrl(url: string): void {
  let connection: PgConnection;
  try {
    connection = parsePostgresUrl(url);
  } catch (error) {
    throw new ValidationError(`url: ${(error as Error).message}`);
  }
  if (!connection.host.startsWith('/')) checkOutboundHost(connection.host, 'url');
}
