// Restores and verifications: the request of a restore (the operator types the backup's name), a
// restore and a verification as shown, and their histories.
import { z } from 'zod';
import { absoluteDirectoryMessage, dotSegmentsMessage, hasNoDotSegments, idParams, isAbsoluteDirectory, pageOf, pagination, runStatuses } from './common.js';
import { defineRoutes } from './route.js';

/** A database coffre may create or restore into: what CREATE DATABASE takes unquoted, and "-". */
export const creatableDatabaseName = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

export const restoreArtifacts = ['database', 'files', 'bucket'] as const;

export const restoreRequestSchema = z
  .object({
    targetSourceId: z.string().uuid().optional(),
    targetDatabase: z
      .string()
      .regex(creatableDatabaseName, 'must be 1–63 letters, digits, "_" or "-", starting with a letter or "_"')
      .optional(),
    /** What to restore: the database (default), the archived files, or the bucket's objects. */
    artifact: z.enum(restoreArtifacts).optional(),
    /** files: the absolute directory the archived paths are recreated in (nothing is written outside it). */
    targetPath: z.string().max(1000).refine(isAbsoluteDirectory, absoluteDirectoryMessage).optional(),
    /** bucket: the prefix the objects are put under in the target bucket (default: the source's prefix). */
    targetPrefix: z.string().max(200).refine(hasNoDotSegments, dotSegmentsMessage).optional(),
    /** Admins only: allows a restore into postgres, template0 or template1 (never into coffre's own database). */
    allowSystemDatabase: z.boolean().optional(),
    confirm: z.string().max(300),
  })
  .strict()
  .meta({ id: 'RestoreRequest' });
export type RestoreRequest = z.infer<typeof restoreRequestSchema>;

export const restoreSchema = z
  .object({
    id: z.string().uuid(),
    backupId: z.string().uuid(),
    backupName: z.string().optional(),
    status: z.enum(runStatuses),
    targetKind: z.string(),
    targetSourceId: z.string().nullable(),
    targetDatabase: z.string().nullable(),
    targetPath: z.string().nullable().describe('files: the directory; bucket: the prefix'),
    target: z.string().describe('the target in words: `database "shop"`, `directory /srv/x`, `bucket source "media", prefix "up/"`'),
    createDatabase: z.boolean(),
    targetTime: z.string().nullable().optional().describe('a restore to a moment: the moment the database was restored as'),
    sourceDatabase: z.string().nullable().optional().describe('a restore to a moment: the database of the recovered cluster that was restored'),
    safetyBackupId: z.string().nullable(),
    progressBytes: z.number(),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    requestedBy: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    log: z.string().nullable().optional(),
  })
  .meta({ id: 'Restore' });
export type RestoreView = z.infer<typeof restoreSchema>;

export const restoreListQuerySchema = z
  .object({ status: z.enum(runStatuses).optional(), backupId: z.string().uuid().optional(), ...pagination(20) })
  .strict();
export type RestoreListQuery = z.infer<typeof restoreListQuerySchema>;

export const verificationSchema = z
  .object({
    id: z.string().uuid(),
    backupId: z.string().uuid(),
    backupName: z.string().optional(),
    status: z.enum(runStatuses),
    result: z.enum(['passed', 'failed']).nullable(),
    trigger: z.string(),
    scratchDatabase: z.string().nullable(),
    tablesExpected: z.number().nullable(),
    tablesFound: z.number().nullable(),
    recordsExpected: z.number().nullable(),
    recordsFound: z.number().nullable(),
    differences: z
      .array(z.object({ table: z.string(), expected: z.number().nullable(), found: z.number().nullable(), detail: z.string().optional() }))
      .nullable()
      .describe('tables (database backups) or object keys (bucket backups) that differ'),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Verification' });
export type VerificationView = z.infer<typeof verificationSchema>;

export const verificationListQuerySchema = z
  .object({ backupId: z.string().uuid().optional(), result: z.enum(['passed', 'failed']).optional(), ...pagination(20) })
  .strict();
export type VerificationListQuery = z.infer<typeof verificationListQuerySchema>;

const backupId = idParams('Backup');

export const runRoutes = defineRoutes({
  'backups.restore': {
    method: 'post',
    path: '/api/backups/:id/restore',
    summary: "Restore a backup (confirm must equal the backup's name); a safety backup of the target is taken first",
    tag: 'backups',
    access: 'admin',
    location: '/api/restores/:id',
    params: backupId,
    body: restoreRequestSchema,
    responses: {
      202: { description: 'The restore, pending.', schema: restoreSchema },
      404: { description: 'No such backup or source.' },
      409: { description: 'The backup cannot be restored now, or a restore into the target is already running.' },
    },
  },
  'backups.verify': {
    method: 'post',
    path: '/api/backups/:id/verify',
    summary: 'Test-restore a backup into a scratch database and compare its counts',
    tag: 'backups',
    access: 'operator',
    location: '/api/verifications/:id',
    params: backupId,
    responses: { 202: { description: 'The verification, pending.', schema: verificationSchema }, 409: { description: 'The backup cannot be verified now.' } },
  },
  'restores.list': {
    method: 'get',
    path: '/api/restores',
    summary: 'Restore history, newest first',
    tag: 'restores',
    access: 'viewer',
    query: restoreListQuerySchema,
    responses: { 200: { description: 'A page of restores.', schema: pageOf(restoreSchema, 'RestorePage') } },
  },
  'restores.get': {
    method: 'get',
    path: '/api/restores/:id',
    summary: 'One restore, with its log excerpt',
    tag: 'restores',
    access: 'viewer',
    params: idParams('Restore'),
    responses: { 200: { description: 'The restore.', schema: restoreSchema }, 404: { description: 'No such restore.' } },
  },
  'verifications.list': {
    method: 'get',
    path: '/api/verifications',
    summary: 'Verification history, newest first',
    tag: 'verifications',
    access: 'viewer',
    query: verificationListQuerySchema,
    responses: { 200: { description: 'A page of verifications.', schema: pageOf(verificationSchema, 'VerificationPage') } },
  },
  'verifications.get': {
    method: 'get',
    path: '/api/verifications/:id',
    summary: 'One verification with its differences',
    tag: 'verifications',
    access: 'viewer',
    params: idParams('Verification'),
    responses: { 200: { description: 'The verification.', schema: verificationSchema }, 404: { description: 'No such verification.' } },
  },
});
