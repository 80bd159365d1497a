// Sources: the databases (and buckets) coffre backs up. Their URLs are sealed at rest and shown
// masked; nothing here ever returns a password.
import { z } from 'zod';
import type { Source } from '../../infra/db.js';
import { ConflictError, isUniqueViolation, NotFoundError, ValidationError } from '../../infra/errors.js';
import {
  detectServerVersion,
  maskPostgresUrl,
  parsePostgresUrl,
  withPgClient,
  type PgConnection,
} from '../../engine/postgres.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { parseInput } from '../../infra/validation.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import { lazyS3Driver } from '../destinations/destinations.js';

export const sourceNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold letters, digits, ".", "_" and "-" and must start with a letter or digit');

const postgresUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgresql:// URL');

/** A bucket (or a prefix of it) to back up. */
const bucketFields = {
  endpoint: z
    .string()
    .trim()
    .url('must be a URL such as https://minio.example.com:9000')
    .refine((v) => /^https?:\/\//.test(v), 'must be an http:// or https:// URL')
    .optional(),
  region: z.string().trim().min(1).max(64).default('us-east-1'),
  bucket: z.string().trim().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name'),
  prefix: z
    .string()
    .trim()
    .max(200)
    .refine((p) => !p.split('/').some((seg) => seg === '..' || seg === '.'), 'must not contain "." or ".." segments')
    .optional(),
  accessKeyId: z.string().trim().min(1).max(200),
  secretAccessKey: z.string().min(1).max(500),
  forcePathStyle: z.boolean().optional(),
};

export const sourceInputSchema = z
  .union([
    z.object({ name: sourceNameSchema, kind: z.literal('postgres').optional(), url: postgresUrl }).strict(),
    z.object({ name: sourceNameSchema, kind: z.literal('s3'), ...bucketFields }).strict(),
  ])
  .meta({ id: 'SourceInput' });

export const sourceUpdateSchema = z
  .object({
    name: sourceNameSchema.optional(),
    url: postgresUrl.optional(),
    endpoint: bucketFields.endpoint,
    region: z.string().trim().min(1).max(64).optional(),
    bucket: bucketFields.bucket.optional(),
    prefix: bucketFields.prefix,
    accessKeyId: bucketFields.accessKeyId.optional(),
    secretAccessKey: bucketFields.secretAccessKey.optional(),
    forcePathStyle: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'SourceUpdate' });

type BucketSettings = Omit<S3StorageOptions, 'logger' | 'abortRetryMs'>;

export const sourceSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(['postgres', 's3']),
    url: z.string().describe('the URL with its password masked'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Source' });

export type SourceView = z.infer<typeof sourceSchema>;

export function sourceToApi(source: Source): SourceView {
  return {
    id: source.id,
    name: source.name,
    kind: source.kind,
    url: source.urlMasked,
    createdAt: source.createdAt.toISOString(),
    updatedAt: source.updatedAt.toISOString(),
  };
}

export async function listSources(ctx: AppContext): Promise<Source[]> {
  return ctx.db.source.findMany({ orderBy: { name: 'asc' } });
}

export async function getSource(ctx: AppContext, id: string): Promise<Source> {
  const source = await ctx.db.source.findUnique({ where: { id } });
  if (!source) throw new NotFoundError(`Source ${id}`);
  return source;
}

export async function createSource(ctx: AppContext, input: unknown, actor: Actor): Promise<Source> {
  const request = parseInput(sourceInputSchema, input);
  const name = request.name;
  if (await ctx.db.source.findUnique({ where: { name } })) throw new ConflictError(`A source named "${name}" already exists.`);
  let data: { kind: 'postgres' | 's3'; urlEncrypted: string; urlMasked: string };
  if (request.kind === 's3') {
    const { name: _n, kind: _k, ...settings } = request;
    if (settings.endpoint) checkOutboundUrl(settings.endpoint, 'endpoint');
    data = { kind: 's3', urlEncrypted: ctx.secrets.seal(JSON.stringify(settings)), urlMasked: maskBucket(settings) };
  } else {
    validatePostgresUrl(request.url);
    data = { kind: 'postgres', urlEncrypted: ctx.secrets.seal(request.url), urlMasked: maskPostgresUrl(request.url) };
  }
  const source = await ctx.db.source.create({ data: { name, ...data } });
  await recordAudit(ctx.db, actor, { action: 'source.create', targetType: 'source', targetId: source.id, summary: { after: sourceToApi(source) } });
  return source;
}

export async function updateSource(ctx: AppContext, id: string, input: unknown, actor: Actor): Promise<Source> {
  const before = await getSource(ctx, id);
  const { name, url, ...bucketChanges } = parseInput(sourceUpdateSchema, input);
  if (name && name !== before.name && (await ctx.db.source.findUnique({ where: { name } }))) {
    throw new ConflictError(`A source named "${name}" already exists.`);
  }
  const data: { name?: string; urlEncrypted?: string; urlMasked?: string } = name ? { name } : {};
  if (before.kind === 'postgres') {
    if (Object.keys(bucketChanges).length) throw new ValidationError(`${Object.keys(bucketChanges).join(', ')}: not a setting of a PostgreSQL source (change its url).`);
    if (url) {
      validatePostgresUrl(url);
      Object.assign(data, { urlEncrypted: ctx.secrets.seal(url), urlMasked: maskPostgresUrl(url) });
    }
  } else {
    if (url) throw new ValidationError('url: a bucket source has no URL; change endpoint, bucket or prefix.');
    if (Object.keys(bucketChanges).length) {
      if (bucketChanges.endpoint) checkOutboundUrl(bucketChanges.endpoint, 'endpoint');
      const settings = { ...sourceBucket(ctx, before), ...bucketChanges };
      Object.assign(data, { urlEncrypted: ctx.secrets.seal(JSON.stringify(settings)), urlMasked: maskBucket(settings) });
    }
  }
  const source = await ctx.db.source.update({ where: { id }, data });
  await recordAudit(ctx.db, actor, {
    action: 'source.update',
    targetType: 'source',
    targetId: id,
    summary: { before: sourceToApi(before), after: sourceToApi(source) },
  });
  return source;
}

export async function deleteSource(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const source = await getSource(ctx, id);
  const configurations = await ctx.db.backupConfiguration.count({ where: { sourceId: id } });
  if (configurations > 0) {
    throw new ConflictError(`Source "${source.name}" is used by ${configurations} configuration(s): delete or move them first.`);
  }
  const running = await ctx.db.backup.count({ where: { sourceId: id, status: { in: ['pending', 'running'] } } });
  if (running > 0) throw new ConflictError(`Source "${source.name}" has backups pending or running: wait for them to finish.`);
  await ctx.db.source.delete({ where: { id } });
  await recordAudit(ctx.db, actor, { action: 'source.delete', targetType: 'source', targetId: id, summary: { before: sourceToApi(source) } });
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

function maskBucket(settings: Pick<BucketSettings, 'endpoint' | 'region' | 'bucket' | 'prefix'>): string {
  return `s3://${settings.bucket}/${(settings.prefix ?? '').replace(/^\/+/, '')}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
}

export async function testSource(ctx: AppContext, id: string): Promise<{ ok: boolean; serverVersion?: string; message: string }> {
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
    return { ok: true, serverVersion: server.version, message: `Connected to PostgreSQL ${server.version}.` };
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
