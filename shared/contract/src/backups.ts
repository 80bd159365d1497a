// Backups: the request of one, the history's filters, a backup as shown, the statistics and the
// daily series of the dashboard, and the download of an artifact.
import { z } from 'zod';
import { artifactKinds, backupTriggers, dumpFormats, dumpJobsSchema, backupTypes, compressionNames, displayName, idParams, pageOf, pagination, runExpectedSchema, runStatuses, uuidOf } from './common.js';
import { defineRoutes } from './route.js';

export const backupRequestSchema = z
  .object({
    sourceId: uuidOf().optional(),
    configurationId: uuidOf().optional(),
    type: z.enum(backupTypes).optional(),
    name: displayName(200, { empty: 'must not be empty', long: 'must be at most 200 characters' }).optional(),
    dumpJobs: dumpJobsSchema.optional().describe("pg_dump --jobs for this backup (default: the configuration's, else 1); 2 to 32 dump in the directory format"),
  })
  .strict()
  .meta({ id: 'BackupRequest' });
export type BackupRequest = z.infer<typeof backupRequestSchema>;

const csvEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)).min(1));

const isoDate = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)), 'must be a date (YYYY-MM-DD or ISO 8601)')
  .transform((v) => new Date(v));

export const backupListQuerySchema = z
  .object({
    status: csvEnum(runStatuses).optional(),
    type: csvEnum(backupTypes).optional(),
    trigger: csvEnum(backupTriggers).optional(),
    sourceId: uuidOf().optional(),
    configurationId: uuidOf().optional(),
    q: z.string().trim().max(200).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    includeDeleted: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    ...pagination(20),
  })
  .strict();
export type BackupListQuery = z.infer<typeof backupListQuerySchema>;

const artifactView = z.object({
  kind: z.enum(artifactKinds),
  destination: z.string(),
  key: z.string(),
  sizeBytes: z.number(),
  checksumSha256: z.string(),
});

export const backupSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    type: z.enum(backupTypes),
    status: z.enum(runStatuses),
    trigger: z.string(),
    sourceId: z.string().nullable(),
    sourceName: z.string(),
    configurationId: z.string().nullable(),
    compression: z.enum(compressionNames),
    encrypted: z.boolean(),
    sizeBytes: z.number().nullable(),
    checksumSha256: z.string().nullable(),
    durationMs: z.number().nullable(),
    progressBytes: z.number(),
    tablesCount: z.number().nullable(),
    recordsCount: z.number().nullable(),
    filesCount: z.number().nullable(),
    objectsCount: z.number().nullable(),
    serverVersion: z.string().nullable(),
    pgDumpVersion: z.string().nullable(),
    /** What the database artifact holds: custom (pg_dump -Fc), directory (pg_dump -Fd --jobs, tarred), or tar or plain (imports). */
    dumpFormat: z.enum(dumpFormats).optional(),
    errorMessage: z.string().nullable(),
    attempts: z.number(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    deletedAt: z.string().nullable(),
    artifacts: z.array(artifactView).optional(),
    lastVerification: z
      .object({ id: z.string(), status: z.string(), result: z.string().nullable(), completedAt: z.string().nullable() })
      .nullable()
      .optional(),
    log: z.string().nullable().optional(),
    phase: z.string().nullable().optional().describe('while it runs: what it is doing ("dumping", "checking the artifact", "loading"…)'),
    expected: runExpectedSchema.nullable().optional().describe('pending or running: what it should take, for a percentage and an ETA'),
  })
  .meta({ id: 'Backup' });
export type BackupView = z.infer<typeof backupSchema>;

/** A backup of a whole server: each database of it (its artifact and counts), the globals, and what the manifest says. */
export const backupServerSchema = z
  .object({
    databases: z.array(
      z.object({
        name: z.string(),
        sizeBytes: z.number().describe('bytes of its artifact as stored'),
        tables: z.number().nullable(),
        records: z.number().nullable(),
      }),
    ),
    failed: z.array(z.object({ database: z.string(), error: z.string() })).describe('the databases that could not be backed up, with why (from the manifest)'),
    globals: z.object({
      sizeBytes: z.number(),
      noRolePasswords: z.boolean().nullable().describe('true: pg_dumpall ran with --no-role-passwords (the role may not read pg_authid); null when the manifest could not be read'),
      pgDumpallVersion: z.string().nullable(),
    }),
    manifestError: z.string().nullable().describe('why the manifest could not be read; the artifacts are listed all the same'),
  })
  .meta({ id: 'BackupServer' });
export type BackupServerView = z.infer<typeof backupServerSchema>;

const periodStats = z.object({ total: z.number(), completed: z.number(), failed: z.number(), sizeBytes: z.number() });

export const backupStatsSchema = z
  .object({
    total: z.number(),
    byStatus: z.record(z.string(), z.number()),
    byType: z.record(z.string(), z.number()),
    successRate: z.number().nullable().describe('completed / (completed + failed), 0–1'),
    totalSizeBytes: z.number().describe('bytes of the backups whose artifacts are kept'),
    averageDurationMs: z.number().nullable().describe('of completed backups'),
    last7Days: periodStats,
    previous7Days: periodStats,
    trendPercent: z.number().nullable().describe('change of backups taken, last 7 days against the 7 before'),
    lastCompletedAt: z.string().nullable(),
    lastVerification: z.object({ passed: z.number(), failed: z.number(), lastAt: z.string().nullable() }),
  })
  .meta({ id: 'BackupStats' });
export type BackupStats = z.infer<typeof backupStatsSchema>;

export const dailyQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }).strict();

export const backupDaySchema = z
  .object({
    date: z.string().describe('YYYY-MM-DD (UTC)'),
    completed: z.number(),
    failed: z.number(),
    pending: z.number(),
    running: z.number(),
    storedBytes: z.number().describe('bytes of completed backups whose artifacts were kept at the end of the day'),
  })
  .meta({ id: 'BackupDay' });
export type BackupDay = z.infer<typeof backupDaySchema>;

export const downloadQuerySchema = z
  .object({
    artifact: z.enum(artifactKinds).default('database'),
    destination: z.string().min(1).max(100).optional().describe('serve the copy in this destination (id or name); by default the first copy that can be read'),
  })
  .strict();
export type DownloadQuery = z.input<typeof downloadQuerySchema>;

const backupId = idParams('Backup');
const octets = { schema: z.string(), contentType: 'application/octet-stream' };

export const backupRoutes = defineRoutes({
  'backups.create': {
    method: 'post',
    path: '/api/backups',
    summary: 'Request a backup (answers at once; a worker takes it)',
    tag: 'backups',
    access: 'operator',
    location: '/api/backups/:id',
    body: backupRequestSchema,
    responses: { 202: { description: 'The backup, pending.', schema: backupSchema } },
  },
  'backups.list': {
    method: 'get',
    path: '/api/backups',
    summary: 'The backup history, newest first, filtered and paginated',
    tag: 'backups',
    access: 'viewer',
    query: backupListQuerySchema,
    responses: { 200: { description: 'A page of backups.', schema: pageOf(backupSchema, 'BackupPage') } },
  },
  'backups.stats': {
    method: 'get',
    path: '/api/backups/stats',
    summary: 'Success rate, sizes, durations, 7-day trend, counts by type and status',
    tag: 'backups',
    access: 'viewer',
    responses: { 200: { description: 'The statistics.', schema: backupStatsSchema } },
  },
  'backups.daily': {
    method: 'get',
    path: '/api/backups/daily',
    summary: 'Backups per day by status, and bytes stored at the end of each day (UTC), for charts',
    tag: 'backups',
    access: 'viewer',
    query: dailyQuerySchema,
    responses: { 200: { description: 'One entry per day, oldest first.', schema: z.object({ items: z.array(backupDaySchema) }) } },
  },
  'backups.get': {
    method: 'get',
    path: '/api/backups/:id',
    summary: 'One backup, with its artifacts, newest verification and log excerpt',
    tag: 'backups',
    access: 'viewer',
    params: backupId,
    responses: { 200: { description: 'The backup.', schema: backupSchema }, 404: { description: 'No such backup.' } },
  },
  'backups.server': {
    method: 'get',
    path: '/api/backups/:id/server',
    summary: 'A backup of a whole server: its databases with their sizes and counts, its globals, and whether role passwords are in them',
    tag: 'backups',
    access: 'viewer',
    params: backupId,
    responses: {
      200: { description: 'What the backup holds.', schema: backupServerSchema },
      404: { description: 'No such backup.' },
      409: { description: 'The backup is of one database, not of a whole server.' },
    },
  },
  'backups.download': {
    method: 'get',
    path: '/api/backups/:id/download',
    summary: 'Stream an artifact of a completed backup (Range requests supported)',
    tag: 'backups',
    access: 'operator',
    params: backupId,
    query: downloadQuerySchema,
    querySentence: (issues) =>
      issues.some((issue) => issue.path[0] === 'destination')
        ? "destination must be one destination's id or name."
        : `artifact must be one of ${artifactKinds.join(', ')}.`,
    responses: {
      200: { description: 'The artifact, with Content-Length and X-Checksum-SHA256.', ...octets },
      206: { description: 'The requested byte range.', ...octets },
      404: { description: 'No such backup or artifact, or no destination holds a usable copy.' },
      409: { description: 'The backup is not completed, or was deleted.' },
      416: { description: 'The range cannot be satisfied.' },
      503: { description: 'No copy can be read now (a destination is unreachable).' },
    },
  },
  'backups.retry': {
    method: 'post',
    path: '/api/backups/:id/retry',
    summary: 'Run a failed backup again: a new backup of the same source, configuration and type',
    tag: 'backups',
    access: 'operator',
    location: '/api/backups/:id',
    params: backupId,
    responses: {
      202: { description: 'The new backup, pending.', schema: backupSchema },
      404: { description: 'No such backup.' },
      409: { description: 'The backup did not fail, or its source is gone.' },
    },
  },
  'backups.delete': {
    method: 'delete',
    path: '/api/backups/:id',
    summary: "Delete a backup's artifacts (the history row stays, marked deleted)",
    tag: 'backups',
    access: 'admin',
    params: backupId,
    responses: { 204: { description: 'Deleted.' }, 404: { description: 'No such backup.' }, 409: { description: 'The backup is still running.' } },
  },
});
