import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import {
  artifactKinds,
  backupDaySchema,
  backupListQuerySchema,
  backupsPerDay,
  dailyQuerySchema,
  backupRequestSchema,
  backupSchema,
  backupStats,
  backupStatsSchema,
  backupToApi,
  deleteBackup,
  findArtifactCopies,
  openArtifactCopy,
  getBackup,
  listBackups,
  requestBackup,
  requestRestore,
  requestVerification,
  restoreRequestSchema,
  restoreSchema,
  restoreToApi,
  verificationSchema,
  verificationToApi,
  ValidationError,
  type AppContext,
} from '@coffre/shared';
import { actorOf } from '../http/auth.js';
import { idParams, pageOf, type Api } from '../http/routes.js';

const downloadQuery = z
  .object({
    artifact: z.enum(artifactKinds).default('database'),
    destination: z.string().min(1).max(100).optional().describe('serve the copy in this destination (id or name); by default the first copy that can be read'),
  })
  .strict();

export function backupRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'post',
    path: '/api/backups',
    summary: 'Request a backup (answers at once; a worker takes it)',
    tag: 'backups',
    access: 'operator',
    body: backupRequestSchema,
    responses: { 202: { description: 'The backup, pending.', schema: backupSchema } },
    handler: async (req, res) => {
      const backup = await requestBackup(ctx, req.body ?? {}, actorOf(req), { trigger: req.get('x-coffre-client') === 'cli' ? 'cli' : 'manual' });
      res.status(202).location(`/api/backups/${backup.id}`).json(backupToApi(backup));
    },
  });

  api.route({
    method: 'get',
    path: '/api/backups',
    summary: 'The backup history, newest first, filtered and paginated',
    tag: 'backups',
    access: 'viewer',
    query: backupListQuerySchema,
    responses: { 200: { description: 'A page of backups.', schema: pageOf(backupSchema, 'BackupPage') } },
    handler: async (req, res) => {
      res.json(await listBackups(ctx, req.query));
    },
  });

  api.route({
    method: 'get',
    path: '/api/backups/stats',
    summary: 'Success rate, sizes, durations, 7-day trend, counts by type and status',
    tag: 'backups',
    access: 'viewer',
    responses: { 200: { description: 'The statistics.', schema: backupStatsSchema } },
    handler: async (_req, res) => {
      res.json(await backupStats(ctx));
    },
  });

  api.route({
    method: 'get',
    path: '/api/backups/daily',
    summary: 'Backups per day by status, and bytes stored at the end of each day (UTC), for charts',
    tag: 'backups',
    access: 'viewer',
    query: dailyQuerySchema,
    responses: { 200: { description: 'One entry per day, oldest first.', schema: z.object({ items: z.array(backupDaySchema) }) } },
    handler: async (req, res) => {
      res.json(await backupsPerDay(ctx, req.query));
    },
  });

  api.route({
    method: 'get',
    path: '/api/backups/:id',
    summary: 'One backup, with its artifacts, newest verification and log excerpt',
    tag: 'backups',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The backup.', schema: backupSchema }, 404: { description: 'No such backup.' } },
    handler: async (req, res) => {
      res.json(backupToApi(await getBackup(ctx, String(req.params.id)), { withLog: true }));
    },
  });

  api.route({
    method: 'get',
    path: '/api/backups/:id/download',
    summary: 'Stream an artifact of a completed backup (Range requests supported)',
    tag: 'backups',
    access: 'operator',
    params: idParams,
    query: downloadQuery,
    responses: {
      200: { description: 'The artifact, with Content-Length and X-Checksum-SHA256.', schema: z.string(), contentType: 'application/octet-stream' },
      206: { description: 'The requested byte range.', schema: z.string(), contentType: 'application/octet-stream' },
      404: { description: 'No such backup or artifact, or no destination holds a usable copy.' },
      409: { description: 'The backup is not completed, or was deleted.' },
      416: { description: 'The range cannot be satisfied.' },
      503: { description: 'No copy can be read now (a destination is unreachable).' },
    },
    handler: async (req, res) => {
      const parsed = downloadQuery.safeParse(req.query);
      if (!parsed.success) {
        const destinationIssue = parsed.error.issues.some((issue) => issue.path[0] === 'destination');
        throw new ValidationError(destinationIssue ? 'destination must be one destination\'s id or name.' : `artifact must be one of ${artifactKinds.join(', ')}.`);
      }
      const found = await findArtifactCopies(ctx, String(req.params.id), parsed.data.artifact, parsed.data.destination);
      const { backup } = found;
      const size = found.sizeBytes;
      const range = parseRange(req.get('range'), size);
      if (range === 'unsatisfiable') {
        res.status(416).set('Content-Range', `bytes */${size}`).json({ error: { code: 'range_not_satisfiable', message: `The artifact is ${size} bytes long.` } });
        return;
      }
      // Opened before any header is set: a refused or missing object gets a JSON error, not an attachment.
      const { artifact, stream } = await openArtifactCopy(ctx, found, { range: range ?? undefined, open: req.method !== 'HEAD' });
      const file = `${backup.name.replace(/[^A-Za-z0-9._-]+/g, '_')}${suffixOf(artifact.key)}`;
      res.set({
        'Content-Type': contentTypeOf(artifact.key),
        'Content-Disposition': `attachment; filename="${file}"`,
        'X-Checksum-SHA256': artifact.checksumSha256,
        'X-Coffre-Destination': artifact.destination.name,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'no-store',
      });
      if (range) {
        res.status(206).set({ 'Content-Range': `bytes ${range.start}-${range.end}/${size}`, 'Content-Length': String(range.end - range.start + 1) });
      } else {
        res.status(200).set('Content-Length', String(size));
      }
      if (!stream) {
        res.end();
        return;
      }
      await pipeline(stream, res).catch((error: Error) => {
        // The client went away, or the storage failed mid-stream: nothing more can be sent.
        req.log?.warn({ err: error.message }, 'download interrupted');
      });
    },
  });

  api.route({
    method: 'post',
    path: '/api/backups/:id/restore',
    summary: 'Restore a backup (confirm must equal the backup\'s name); a safety backup of the target is taken first',
    tag: 'backups',
    access: 'admin',
    params: idParams,
    body: restoreRequestSchema,
    responses: {
      202: { description: 'The restore, pending.', schema: restoreSchema },
      404: { description: 'No such backup or source.' },
      409: { description: 'The backup cannot be restored now, or a restore into the target is already running.' },
    },
    handler: async (req, res) => {
      const restore = await requestRestore(ctx, String(req.params.id), req.body ?? {}, actorOf(req));
      res.status(202).location(`/api/restores/${restore.id}`).json(restoreToApi(restore));
    },
  });

  api.route({
    method: 'post',
    path: '/api/backups/:id/verify',
    summary: 'Test-restore a backup into a scratch database and compare its counts',
    tag: 'backups',
    access: 'operator',
    params: idParams,
    responses: { 202: { description: 'The verification, pending.', schema: verificationSchema }, 409: { description: 'The backup cannot be verified now.' } },
    handler: async (req, res) => {
      const verification = await requestVerification(ctx, String(req.params.id), actorOf(req));
      res.status(202).location(`/api/verifications/${verification.id}`).json(verificationToApi(verification));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/backups/:id',
    summary: 'Delete a backup\'s artifacts (the history row stays, marked deleted)',
    tag: 'backups',
    access: 'admin',
    params: idParams,
    responses: { 204: { description: 'Deleted.' }, 404: { description: 'No such backup.' }, 409: { description: 'The backup is still running.' } },
    handler: async (req, res) => {
      await deleteBackup(ctx, String(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
}

/** One byte range ("bytes=0-99", "bytes=100-", "bytes=-50"), or null for the whole object. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return null;
  let start: number;
  let end: number;
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function suffixOf(key: string): string {
  const name = key.split('/').pop() ?? '';
  const dot = name.indexOf('.');
  return dot >= 0 ? name.slice(dot) : '';
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.md')) return 'text/markdown; charset=utf-8';
  return 'application/octet-stream';
}
