// Destinations: where artifacts are written. The local directory of BACKUP_DIR is registered as the
// default destination named `local`; others (more directories, S3-compatible buckets) are added
// through the API. S3 credentials are sealed at rest and never shown.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { Destination } from '../../infra/db.js';
import { ConflictError, isUniqueViolation, NotFoundError, ValidationError } from '../../infra/errors.js';
import { createLocalStorage } from '../../storage/local.js';
import { describeS3Location } from '../../storage/s3-location.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import type { StorageDriver, StorageUsage } from '../../storage/driver.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { parseInput, requireUuid } from '../../infra/validation.js';
import { checkOutboundUrl } from '../../infra/outbound.js';

export interface LocalDestinationConfig {
  path: string;
}

export interface S3DestinationConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  forcePathStyle?: boolean;
  serverSideEncryption?: 'AES256' | 'aws:kms';
}

interface S3Secret {
  accessKeyId: string;
  secretAccessKey: string;
}

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold letters, digits, ".", "_" and "-"');

const localFields = {
  kind: z.literal('local'),
  path: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute directory path'),
};

const s3Fields = {
  kind: z.literal('s3'),
  endpoint: z
    .string()
    .trim()
    .url('must be a URL such as https://minio.example.com:9000')
    .refine((v) => /^https?:\/\//.test(v), 'must be an http:// or https:// URL')
    .optional(),
  region: z.string().trim().min(1).max(64).default('us-east-1'),
  bucket: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3–63 lower-case letters, digits, "." and "-")'),
  prefix: z
    .string()
    .trim()
    .max(200)
    .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'must not contain "." or ".." segments')
    .optional(),
  accessKeyId: z.string().trim().min(1).max(200),
  secretAccessKey: z.string().min(1).max(500),
  forcePathStyle: z.boolean().optional(),
  serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
};

export const destinationInputSchema = z
  .discriminatedUnion('kind', [
    z.object({ name, isDefault: z.boolean().optional(), ...localFields }).strict(),
    z.object({ name, isDefault: z.boolean().optional(), ...s3Fields }).strict(),
  ])
  .meta({ id: 'DestinationInput' });

export const destinationUpdateSchema = z
  .object({
    name: name.optional(),
    isDefault: z.boolean().optional(),
    path: localFields.path.optional(),
    endpoint: s3Fields.endpoint,
    region: z.string().trim().min(1).max(64).optional(),
    bucket: s3Fields.bucket.optional(),
    prefix: s3Fields.prefix,
    accessKeyId: s3Fields.accessKeyId.optional(),
    secretAccessKey: s3Fields.secretAccessKey.optional(),
    forcePathStyle: z.boolean().optional(),
    serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
  })
  .strict()
  .meta({ id: 'DestinationUpdate' });

export const destinationSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(['local', 's3']),
    isDefault: z.boolean(),
    location: z.string().describe('where it writes, without credentials'),
    config: z.record(z.string(), z.unknown()).describe('settings that are not secret'),
    hasCredentials: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Destination' });

export type DestinationView = z.infer<typeof destinationSchema>;

export function destinationToApi(destination: Destination): DestinationView {
  return {
    id: destination.id,
    name: destination.name,
    kind: destination.kind,
    isDefault: destination.isDefault,
    location: locationOf(destination),
    config: destination.config as Record<string, unknown>,
    hasCredentials: destination.secretEncrypted !== null,
    createdAt: destination.createdAt.toISOString(),
    updatedAt: destination.updatedAt.toISOString(),
  };
}

function locationOf(destination: Destination): string {
  if (destination.kind === 'local') return (destination.config as unknown as LocalDestinationConfig).path;
  return describeS3Location(destination.config as unknown as S3DestinationConfig);
}

const drivers = new Map<string, { updatedAt: number; driver: StorageDriver }>();

/** The storage driver of a destination (cached until the row changes). */
export function destinationDriver(ctx: AppContext, destination: Destination): StorageDriver {
  const cached = drivers.get(destination.id);
  if (cached && cached.updatedAt === destination.updatedAt.getTime()) return cached.driver;
  let driver: StorageDriver;
  if (destination.kind === 'local') {
    driver = createLocalStorage((destination.config as unknown as LocalDestinationConfig).path);
  } else {
    const secret = destination.secretEncrypted ? (JSON.parse(ctx.secrets.open(destination.secretEncrypted)) as S3Secret) : null;
    if (!secret) throw new Error(`Destination "${destination.name}" has no credentials.`);
    driver = lazyS3Driver({ ...(destination.config as unknown as S3DestinationConfig), ...secret, logger: ctx.logger });
  }
  drivers.set(destination.id, { updatedAt: destination.updatedAt.getTime(), driver });
  return driver;
}

/**
 * An S3 driver that loads the AWS SDK on first use: processes that never touch a bucket do not pay
 * for it (about 20 MB of memory per process).
 */
export function lazyS3Driver(options: S3StorageOptions): StorageDriver {
  let loaded: Promise<StorageDriver> | null = null;
  const driver = () => (loaded ??= import('../../storage/s3.js').then((m) => m.createS3Storage(options)));
  return {
    kind: 's3',
    description: describeS3Location(options),
    put: async (key, body, putOptions) => (await driver()).put(key, body, putOptions),
    get: async (key, range) => (await driver()).get(key, range),
    stat: async (key) => (await driver()).stat(key),
    delete: async (key) => (await driver()).delete(key),
    list: async function* (prefix) {
      yield* (await driver()).list(prefix);
    },
    checkWritable: async () => (await driver()).checkWritable(),
    removeStaleTemporaries: async (olderThanMs) => (await (await driver()).removeStaleTemporaries?.(olderThanMs)) ?? 0,
  };
}

/** Registers BACKUP_DIR as the default local destination, and keeps its path in step with the setting. */
export async function ensureDefaultDestination(ctx: AppContext): Promise<Destination> {
  const config = { path: ctx.config.BACKUP_DIR };
  const existing = await ctx.db.destination.findUnique({ where: { name: 'local' } });
  if (!existing) {
    try {
      return await ctx.db.destination.create({ data: { name: 'local', kind: 'local', config, isDefault: true } });
    } catch (error) {
      // The API and the workers start together on a new installation: one of them creates it.
      if (isUniqueViolation(error)) return ensureDefaultDestination(ctx);
      throw error;
    }
  }
  if (existing.kind === 'local' && (existing.config as unknown as LocalDestinationConfig).path !== config.path) {
    return ctx.db.destination.update({ where: { id: existing.id }, data: { config } });
  }
  return existing;
}

/** The destinations of a backup: its configuration's, or the default ones. */
/** The folders of the local destinations, by name; BACKUP_DIR as `local` while none is registered (the API and workers register it at start). */
export async function localDestinationFolders(ctx: AppContext): Promise<{ name: string; path: string }[]> {
  const rows = await ctx.db.destination.findMany({ where: { kind: 'local' }, orderBy: { name: 'asc' } });
  const folders = rows.map((d) => ({ name: d.name, path: resolve((d.config as unknown as LocalDestinationConfig).path) }));
  return folders.length > 0 ? folders : [{ name: 'local', path: resolve(ctx.config.BACKUP_DIR) }];
}

export async function destinationsForBackup(ctx: AppContext, configurationId: string | null): Promise<Destination[]> {
  if (configurationId) {
    const links = await ctx.db.configurationDestination.findMany({
      where: { configurationId },
      include: { destination: true },
      orderBy: { destinationId: 'asc' },
    });
    if (links.length > 0) return links.map((l) => l.destination);
  }
  const defaults = await ctx.db.destination.findMany({ where: { isDefault: true }, orderBy: { createdAt: 'asc' } });
  return defaults.length > 0 ? defaults : [await ensureDefaultDestination(ctx)];
}

export async function listDestinations(ctx: AppContext): Promise<Destination[]> {
  return ctx.db.destination.findMany({ orderBy: { name: 'asc' } });
}

export async function getDestination(ctx: AppContext, id: string): Promise<Destination> {
  const destination = await ctx.db.destination.findUnique({ where: { id: requireUuid(id, 'Destination') } });
  if (!destination) throw new NotFoundError(`Destination ${id}`);
  return destination;
}

export async function createDestination(ctx: AppContext, body: unknown, actor: Actor): Promise<Destination> {
  const input = parseInput(destinationInputSchema, body);
  if (input.kind === 's3' && input.endpoint) checkOutboundUrl(input.endpoint, 'endpoint');
  if (await ctx.db.destination.findUnique({ where: { name: input.name } })) throw new ConflictError(`A destination named "${input.name}" already exists.`);
  const { config, secret } = splitSecret(input);
  const destination = await ctx.db.destination.create({
    data: {
      name: input.name,
      kind: input.kind,
      config: config as object,
      secretEncrypted: secret ? ctx.secrets.seal(JSON.stringify(secret)) : null,
      isDefault: input.isDefault ?? false,
    },
  });
  await recordAudit(ctx.db, actor, { action: 'destination.create', targetType: 'destination', targetId: destination.id, summary: { after: destinationToApi(destination) } });
  return destination;
}

export async function updateDestination(ctx: AppContext, id: string, body: unknown, actor: Actor): Promise<Destination> {
  const before = await getDestination(ctx, id);
  const changes = parseInput(destinationUpdateSchema, body);
  const localKeys = ['path'];
  const s3Keys = ['endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'forcePathStyle', 'serverSideEncryption'];
  const wrong = Object.keys(changes).filter((k) => (before.kind === 'local' ? s3Keys : localKeys).includes(k));
  if (wrong.length) throw new ValidationError(`${wrong.join(', ')}: not a setting of a ${before.kind} destination.`);
  if (changes.endpoint) checkOutboundUrl(changes.endpoint, 'endpoint');
  if (changes.name && changes.name !== before.name && (await ctx.db.destination.findUnique({ where: { name: changes.name } }))) {
    throw new ConflictError(`A destination named "${changes.name}" already exists.`);
  }
  const { name: newName, isDefault, accessKeyId, secretAccessKey, ...settings } = changes;
  const config = { ...(before.config as Record<string, unknown>), ...settings };
  let secretEncrypted = before.secretEncrypted;
  if (accessKeyId || secretAccessKey) {
    const old = before.secretEncrypted ? (JSON.parse(ctx.secrets.open(before.secretEncrypted)) as S3Secret) : { accessKeyId: '', secretAccessKey: '' };
    secretEncrypted = ctx.secrets.seal(JSON.stringify({ accessKeyId: accessKeyId ?? old.accessKeyId, secretAccessKey: secretAccessKey ?? old.secretAccessKey }));
  }
  const destination = await ctx.db.destination.update({
    where: { id },
    data: { ...(newName ? { name: newName } : {}), ...(isDefault !== undefined ? { isDefault } : {}), config: config as object, secretEncrypted },
  });
  await recordAudit(ctx.db, actor, {
    action: 'destination.update',
    targetType: 'destination',
    targetId: id,
    summary: { before: destinationToApi(before), after: destinationToApi(destination), credentialsChanged: Boolean(accessKeyId || secretAccessKey) },
  });
  return destination;
}

export async function deleteDestination(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const destination = await getDestination(ctx, id);
  const stored = await ctx.db.backupArtifact.count({ where: { destinationId: id, deletedAt: null } });
  if (stored > 0) throw new ConflictError(`Destination "${destination.name}" still holds ${stored} artifact(s): delete those backups first.`);
  const used = await ctx.db.configurationDestination.count({ where: { destinationId: id } });
  if (used > 0) throw new ConflictError(`Destination "${destination.name}" is used by ${used} configuration(s): remove it from them first.`);
  await ctx.db.backupArtifact.deleteMany({ where: { destinationId: id } });
  await ctx.db.destination.delete({ where: { id } });
  drivers.delete(id);
  await recordAudit(ctx.db, actor, { action: 'destination.delete', targetType: 'destination', targetId: id, summary: { before: destinationToApi(destination) } });
}

export async function testDestination(ctx: AppContext, id: string): Promise<{ ok: boolean; message: string }> {
  const destination = await getDestination(ctx, id);
  try {
    await destinationDriver(ctx, destination).checkWritable();
    return { ok: true, message: `${locationOf(destination)} is writable.` };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function splitSecret(input: z.infer<typeof destinationInputSchema>): { config: Record<string, unknown>; secret: S3Secret | null } {
  if (input.kind === 'local') return { config: { path: input.path }, secret: null };
  const { name: _n, isDefault: _d, kind: _k, accessKeyId, secretAccessKey, ...config } = input;
  return { config, secret: { accessKeyId, secretAccessKey } };
}

export interface SystemReport {
  backupDir: string;
  warning: boolean;
  destinations: {
    id: string;
    name: string;
    kind: 'local' | 's3';
    location: string;
    bytesStored: number;
    artifacts: number;
    usage: (StorageUsage & { warning: boolean }) | null;
    error?: string;
  }[];
}

/** Disk usage of local destinations (warning above 80 %), and bytes stored per destination. */
export async function systemReport(ctx: AppContext): Promise<SystemReport> {
  const destinations = await listDestinations(ctx);
  const stored = await ctx.db.backupArtifact.groupBy({ by: ['destinationId'], where: { deletedAt: null }, _sum: { sizeBytes: true }, _count: true });
  const byDestination = new Map(stored.map((s) => [s.destinationId, s]));
  const report: SystemReport = { backupDir: ctx.config.BACKUP_DIR, warning: false, destinations: [] };
  for (const destination of destinations) {
    const sums = byDestination.get(destination.id);
    const entry: SystemReport['destinations'][number] = {
      id: destination.id,
      name: destination.name,
      kind: destination.kind,
      location: locationOf(destination),
      bytesStored: Number(sums?._sum.sizeBytes ?? 0),
      artifacts: sums?._count ?? 0,
      usage: null,
    };
    if (destination.kind === 'local') {
      try {
        const usage = await destinationDriver(ctx, destination).usage!();
        entry.usage = { ...usage, warning: usage.usedPercent > 80 };
        report.warning ||= entry.usage.warning;
      } catch (error) {
        entry.error = (error as Error).message;
      }
    }
    report.destinations.push(entry);
  }
  return report;
}
