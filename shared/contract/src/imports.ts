// Imports: a dump made elsewhere, uploaded as the raw request body, becomes a backup (trigger import).
import { z } from 'zod';
import { displayName, readableText, uuidOf } from './common.js';
import { backupSchema } from './backups.js';
import { defineRoutes } from './route.js';

export const importQuerySchema = z
  .object({
    /** The backup's name; by default the file's name given by `filename`, or import-<date>. */
    name: displayName(200, { empty: 'must not be empty', long: 'must be at most 200 characters' }).optional(),
    /** The file's own name, kept in the audit log and used for the default name. */
    filename: readableText(z.string().trim().min(1).max(255)).optional(),
    /** The source the dump belongs to: verifications restore it on this source's server. */
    sourceId: uuidOf().optional(),
  })
  .strict();
export type ImportQuery = z.infer<typeof importQuerySchema>;

export const importRoutes = defineRoutes({
  'imports.create': {
    method: 'post',
    path: '/api/imports',
    summary: 'Import a dump made elsewhere (the raw file as the body): it is checked, stored and becomes a backup with trigger import',
    tag: 'backups',
    access: 'operator',
    location: '/api/backups/:id',
    query: importQuerySchema,
    upload: {
      contentType: 'application/octet-stream',
      description:
        'A pg_dump custom (-Fc) or tar (-Ft) archive, or a plain SQL script, optionally gzip- or zstd-compressed and optionally age-encrypted to this installation\'s key. At most IMPORT_MAX_BYTES.',
    },
    responses: {
      201: { description: 'The backup the dump became, completed.', schema: backupSchema },
      404: { description: 'No such source.' },
      413: { description: 'The upload is larger than IMPORT_MAX_BYTES.' },
      415: { description: 'The body is not sent as application/octet-stream.' },
      422: { description: 'The file is not a PostgreSQL dump, or it is truncated or damaged: nothing was stored.' },
    },
  },
});
