// Restores and verifications: the request of a restore (the operator types the backup's name), a
// restore and a verification as shown, and their histories.
import { z } from 'zod';
import { absoluteDirectoryMessage, dotSegmentsMessage, hasNoDotSegments, idParams, isAbsoluteDirectory, pageOf, pagination, runExpectedSchema, runStatuses, uuidOf } from './common.js';
import { defineRoutes } from './route.js';

/** A database coffre may create or restore into: what CREATE DATABASE takes unquoted, and "-". */
export const creatableDatabaseName = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

export const restoreArtifacts = ['database', 'files', 'bucket'] as const;

export const restoreRequestSchema = z
  .object({
    targetSourceId: uuidOf().optional(),
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
    /** A server backup: the one database of it to restore (into targetDatabase, by default its own name). */
    database: z.string().min(1).max(63).optional(),
    /** A server backup: every database of it plus the globals, into the target source's server; none of them may exist there. */
    allDatabases: z.boolean().optional(),
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
    loadedRows: z.number().nullable().optional().describe('database restores, while loading: the rows in the new database so far'),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    requestedBy: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    method: z
      .enum(['swap', 'in-place', 'new-database'])
      .nullable()
      .describe('swap: loaded into a new database beside the target, checked, then renamed in its place; in-place: pg_restore --clean in one transaction'),
    keptDatabase: z.string().nullable().describe('swap: the name the replaced database is kept under until RESTORE_KEEP_DAYS have passed'),
    swapMs: z.number().nullable().describe('swap: milliseconds the target could not be reached (its connections ended, both renames committed)'),
    undoable: z.boolean().describe('POST /api/restores/{id}/undo can swap the replaced database back'),
    undoneAt: z.string().nullable(),
    undoneBy: z.string().nullable(),
    undoneDatabase: z.string().nullable().describe('after an undo: the name the restored database is kept under'),
    log: z.string().nullable().optional(),
    phase: z.string().nullable().optional().describe('while it runs: what it is doing ("dumping", "checking the artifact", "loading"…)'),
    expected: runExpectedSchema.nullable().optional().describe('pending or running: what it should take, for a percentage and an ETA'),
  })
  .meta({ id: 'Restore' });
export type RestoreView = z.infer<typeof restoreSchema>;

const statusList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.enum(runStatuses)).min(1));

export const restoreListQuerySchema = z
  .object({ status: statusList.optional().describe('one status or several, comma-separated'), backupId: uuidOf().optional(), ...pagination(20) })
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
    tables: z
      .array(z.object({ table: z.string(), expected: z.number().nullable(), found: z.number().nullable() }))
      .optional()
      .describe('one verification only, database backups: every table, the rows the backup recorded (null: not counted) and the rows found (null: missing)'),
    durationMs: z.number().nullable(),
    errorMessage: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    log: z.string().nullable().optional(),
    phase: z.string().nullable().optional().describe('while it runs: what it is doing ("dumping", "checking the artifact", "loading"…)'),
    expected: runExpectedSchema.nullable().optional().describe('pending or running: what it should take, for a percentage and an ETA'),
  })
  .meta({ id: 'Verification' });
export type VerificationView = z.infer<typeof verificationSchema>;

export const verificationListQuerySchema = z
  .object({ backupId: uuidOf().optional(), status: statusList.optional().describe('one status or several, comma-separated'), result: z.enum(['passed', 'failed']).optional(), ...pagination(20) })
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
  'restores.undo': {
    method: 'post',
    path: '/api/restores/:id/undo',
    summary: 'Undo a restore that swapped: the database it replaced takes the target\'s name again (the restored one is kept)',
    tag: 'restores',
    access: 'admin',
    params: idParams('Restore'),
    responses: {
      200: { description: 'The restore, undone.', schema: restoreSchema },
      404: { description: 'No such restore.' },
      409: { description: 'The restore cannot be undone (it did not swap, was undone already, its kept database is gone) or the database is busy.' },
    },
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
