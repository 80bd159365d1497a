// Sources (the databases and buckets coffre backs up) and destinations (where artifacts go): what
// the API accepts and what it shows. Credentials go in and never come out: URLs are shown masked,
// bucket keys not at all.
import { z } from 'zod';
import { pitrCheckSchema } from './pitr.js';
import { absoluteDirectoryMessage, dotSegmentsMessage, hasNoDotSegments, httpUrlOf, idParams, isAbsoluteDirectory, keyPrefix, listOf, plainName } from './common.js';
import { defineRoutes } from './route.js';

// An endpoint is a setting, shown to viewers: its credentials go in accessKeyId and secretAccessKey.
const endpoint = httpUrlOf('must be a URL such as https://minio.example.com:9000', { credentialsGoIn: 'give the credentials in accessKeyId and secretAccessKey', bare: true }).optional();
const region = z.string().trim().min(1).max(64);
const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A bucket (or a prefix of it): where a bucket source reads and an S3 destination writes. */
const bucketFields = (bucketMessage: string) => ({
  endpoint,
  region: region.default('us-east-1'),
  bucket: z.string().trim().regex(bucketName, bucketMessage),
  prefix: keyPrefix.optional(),
  accessKeyId: z.string().trim().min(1).max(200),
  secretAccessKey: z.string().min(1).max(500),
  forcePathStyle: z.boolean().optional(),
});

/** The fields of a bucket that an update may change, each optional. */
function bucketChanges(fields: ReturnType<typeof bucketFields>) {
  return {
    endpoint,
    region: region.optional(),
    bucket: fields.bucket.optional(),
    prefix: fields.prefix,
    accessKeyId: fields.accessKeyId.optional(),
    secretAccessKey: fields.secretAccessKey.optional(),
    forcePathStyle: z.boolean().optional(),
  };
}

// --- sources ---

export const sourceNameSchema = plainName('may hold letters, digits, ".", "_" and "-" and must start with a letter or digit');

const postgresUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgresql:// URL');

const sourceBucket = bucketFields('must be a valid bucket name');

const databasePatterns = z.array(z.string().trim().min(1).max(63)).max(100);

/** A PostgreSQL source that is a whole server: every database (templates excluded) plus the globals. */
const serverScope = {
  scope: z.enum(['database', 'server']).optional(),
  /** Database name patterns (`*` any characters) a server source backs up; none: every database. */
  includeDatabases: databasePatterns.optional(),
  /** Database name patterns a server source leaves out. */
  excludeDatabases: databasePatterns.optional(),
};

export const sourceInputSchema = z
  .union([
    z.object({ name: sourceNameSchema, kind: z.literal('postgres').optional(), url: postgresUrl, ...serverScope }).strict(),
    z.object({ name: sourceNameSchema, kind: z.literal('s3'), ...sourceBucket }).strict(),
  ])
  .meta({ id: 'SourceInput' });
export type SourceInput = z.infer<typeof sourceInputSchema>;

export const sourceUpdateSchema = z
  .object({
    name: sourceNameSchema.optional(),
    url: postgresUrl.optional(),
    password: z.string().min(1).max(500).optional().describe("PostgreSQL sources: a new password put into the URL (the stored one, or the url given), the rest kept"),
    ...serverScope,
    ...bucketChanges(sourceBucket),
  })
  .strict()
  .meta({ id: 'SourceUpdate' });
export type SourceUpdate = z.infer<typeof sourceUpdateSchema>;

export const sourceSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(['postgres', 's3']),
    url: z.string().describe('the URL with its password masked'),
    scope: z.enum(['database', 'server']).optional(),
    includeDatabases: z.array(z.string()).optional(),
    excludeDatabases: z.array(z.string()).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Source' });
export type SourceView = z.infer<typeof sourceSchema>;

export const sourceTestSchema = z.object({
  ok: z.boolean(),
  serverVersion: z.string().optional(),
  message: z.string(),
  pitr: pitrCheckSchema.optional().describe('sources with point-in-time recovery on: each requirement, with what to change'),
});

// --- destinations ---

export const destinationKinds = ['local', 's3', 'sftp', 'rclone'] as const;
const destinationName = plainName('may hold letters, digits, ".", "_" and "-"');
const localPath = z.string().trim().min(1).max(1000).refine(isAbsoluteDirectory, absoluteDirectoryMessage);
const destinationBucket = bucketFields('must be a valid bucket name (3–63 lower-case letters, digits, "." and "-")');
const serverSideEncryption = z.enum(['AES256', 'aws:kms']).optional();

/** A folder on an SFTP server or an rclone remote: absolute, or relative to where the login starts. */
const remotePath = z
  .string()
  .trim()
  .max(500)
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/[\x00-\x1f\x7f\\]/.test(v), 'must not contain control characters or backslashes')
  .refine(hasNoDotSegments, dotSegmentsMessage);
const sshHost = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^([A-Za-z0-9_.-]+|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or an IP address');
const sshPort = z.number().int().min(1).max(65535);
const sshUsername = z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9._][A-Za-z0-9._@-]*$/, 'may hold letters, digits, ".", "_", "@" and "-"');
const sshPassword = z.string().min(1).max(1000);
const sshPrivateKey = z.string().trim().max(20_000).regex(/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, 'must be a private key in PEM or OpenSSH format (-----BEGIN … PRIVATE KEY-----)');
const hostKeySha256 = z.string().trim().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be a SHA-256 fingerprint as ssh-keygen -lf prints it (SHA256:…)');
const rcloneRemote = z.string().trim().regex(/^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,63}$/, 'must be the name of a remote of the rclone configuration');
const rcloneConfig = z.string().min(1).max(65_536);

const sftpDestination = z
  .object({
    name: destinationName,
    isDefault: z.boolean().optional(),
    kind: z.literal('sftp'),
    host: sshHost,
    port: sshPort.default(22),
    username: sshUsername,
    remotePath: remotePath.default(''),
    password: sshPassword.optional(),
    privateKey: sshPrivateKey.optional(),
    passphrase: sshPassword.optional(),
    hostKeySha256: hostKeySha256.optional().describe('the server key to expect; pinned on first connection when absent'),
  })
  .strict()
  .refine((d) => Boolean(d.password) !== Boolean(d.privateKey), { message: 'give either password or privateKey', path: ['password'] });

const rcloneDestination = z
  .object({
    name: destinationName,
    isDefault: z.boolean().optional(),
    kind: z.literal('rclone'),
    remote: rcloneRemote,
    remotePath: remotePath.default(''),
    rcloneConfig: rcloneConfig.describe('the text of an rclone.conf holding the remote (sealed, never shown)'),
  })
  .strict();

export const destinationInputSchema = z
  .discriminatedUnion('kind', [
    z.object({ name: destinationName, isDefault: z.boolean().optional(), kind: z.literal('local'), path: localPath }).strict(),
    z.object({ name: destinationName, isDefault: z.boolean().optional(), kind: z.literal('s3'), ...destinationBucket, serverSideEncryption }).strict(),
    sftpDestination,
    rcloneDestination,
  ])
  .meta({ id: 'DestinationInput' });
export type DestinationInput = z.infer<typeof destinationInputSchema>;

export const destinationUpdateSchema = z
  .object({
    name: destinationName.optional(),
    isDefault: z.boolean().optional(),
    path: localPath.optional(),
    ...bucketChanges(destinationBucket),
    serverSideEncryption,
    host: sshHost.optional(),
    port: sshPort.optional(),
    username: sshUsername.optional(),
    remotePath: remotePath.optional(),
    password: sshPassword.optional(),
    privateKey: sshPrivateKey.optional(),
    passphrase: sshPassword.optional(),
    hostKeySha256: hostKeySha256.nullable().optional().describe('null forgets the pinned key: the next connection pins the one it meets'),
    remote: rcloneRemote.optional(),
    rcloneConfig: rcloneConfig.optional(),
  })
  .strict()
  .meta({ id: 'DestinationUpdate' });
export type DestinationUpdate = z.infer<typeof destinationUpdateSchema>;

export const destinationSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(destinationKinds),
    isDefault: z.boolean(),
    location: z.string().describe('where it writes, without credentials'),
    config: z.record(z.string(), z.unknown()).describe('settings that are not secret'),
    hasCredentials: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Destination' });
export type DestinationView = z.infer<typeof destinationSchema>;

export const destinationTestSchema = z.object({ ok: z.boolean(), message: z.string() });

const usage = z.object({ totalBytes: z.number(), freeBytes: z.number(), usedPercent: z.number(), warning: z.boolean() });
export const systemSchema = z
  .object({
    backupDir: z.string(),
    warning: z.boolean().describe('a local destination is more than 80 % full'),
    destinations: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.enum(destinationKinds),
        location: z.string(),
        bytesStored: z.number(),
        artifacts: z.number(),
        usage: usage.nullable(),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'System' });
export type SystemReport = z.infer<typeof systemSchema>;
export type DestinationUsage = SystemReport['destinations'][number];

// --- routes: sources and destinations are the same kind of resource ---

interface StoredResource<V extends z.ZodType, I extends z.ZodType, U extends z.ZodType, T extends z.ZodType> {
  /** "source", "destination": the word of the answers' descriptions; its capital is the word of a 404. */
  noun: 'source' | 'destination';
  view: V;
  input: I;
  update: U;
  test: T;
  summaries: { list: string; create: string; get: string; update: string; delete: string; test: string };
  /** Why a removal is refused (409). */
  inUse: string;
}

/** The six routes of a stored resource under /api/<noun>s: list, create, get, update, delete, test. */
function storedResourceRoutes<V extends z.ZodType, I extends z.ZodType, U extends z.ZodType, T extends z.ZodType>(resource: StoredResource<V, I, U, T>) {
  const { noun, view, summaries } = resource;
  const tag = `${noun}s`;
  const path = `/api/${tag}`;
  const params = idParams(noun.charAt(0).toUpperCase() + noun.slice(1));
  const one = { path: `${path}/:id`, tag, params };
  const shown = (description: string) => ({ 200: { description, schema: view }, 404: { description: `No such ${noun}.` } });
  return {
    list: { method: 'get', path, tag, summary: summaries.list, access: 'viewer', responses: { 200: { description: `Every ${noun}.`, schema: listOf(view) } } },
    create: { method: 'post', path, tag, summary: summaries.create, access: 'admin', location: `${path}/:id`, body: resource.input, responses: { 201: { description: `The ${noun}.`, schema: view }, 409: { description: 'The name is taken.' } } },
    get: { ...one, method: 'get', summary: summaries.get, access: 'viewer', responses: shown(`The ${noun}.`) },
    update: { ...one, method: 'put', summary: summaries.update, access: 'admin', body: resource.update, responses: shown(`The ${noun}.`) },
    delete: { ...one, method: 'delete', summary: summaries.delete, access: 'admin', responses: { 204: { description: 'Removed.' }, 409: { description: resource.inUse } } },
    test: { ...one, path: `${path}/:id/test`, method: 'post', summary: summaries.test, access: 'operator', responses: { 200: { description: 'The outcome.', schema: resource.test } } },
  } as const;
}

const sources = storedResourceRoutes({
  noun: 'source',
  view: sourceSchema,
  input: sourceInputSchema,
  update: sourceUpdateSchema,
  test: sourceTestSchema,
  summaries: {
    list: 'The sources (URLs shown with the password masked)',
    create: 'Register a source database',
    get: 'One source',
    update: 'Rename a source or change its URL',
    delete: 'Remove a source (its backups stay in the history)',
    test: 'Try to connect to a source and report its server version',
  },
  inUse: 'Configurations or running backups use it.',
});

const destinations = storedResourceRoutes({
  noun: 'destination',
  view: destinationSchema,
  input: destinationInputSchema,
  update: destinationUpdateSchema,
  test: destinationTestSchema,
  summaries: {
    list: 'Where artifacts are written (credentials never shown)',
    create: 'Add a destination: a local directory, an S3-compatible bucket, an SFTP server or an rclone remote',
    get: 'One destination',
    update: 'Change a destination (credentials are replaced only when given)',
    delete: 'Remove a destination that holds no artifacts',
    test: 'Check that a destination can be written',
  },
  inUse: 'It still holds artifacts or is used by configurations.',
});

export const storageRoutes = defineRoutes({
  'sources.list': sources.list,
  'sources.create': sources.create,
  'sources.get': sources.get,
  'sources.update': sources.update,
  'sources.delete': sources.delete,
  'sources.test': sources.test,
  'destinations.list': destinations.list,
  'destinations.create': destinations.create,
  'destinations.get': destinations.get,
  'destinations.update': destinations.update,
  'destinations.delete': destinations.delete,
  'destinations.test': destinations.test,
  'system.get': {
    method: 'get',
    path: '/api/system',
    summary: 'The backup directory, disk usage of local destinations (warning above 80 %), bytes stored per destination',
    tag: 'system',
    access: 'viewer',
    responses: { 200: { description: 'The report.', schema: systemSchema } },
  },
});
