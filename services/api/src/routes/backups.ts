// Backups, their restores and verifications as requested over HTTP; the download of an artifact.
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import {
  backupStats,
  backupToApi,
  expectedOfBackup,
  backupsPerDay,
  deleteBackup,
  findArtifactCopies,
  getBackup,
  importDump,
  AppError,
  listBackups,
  openArtifactCopy,
  requestBackup,
  requestRestore,
  requestVerification,
  restoreToApi,
  retryBackup,
  serverBackupContents,
  verificationToApi,
  type Actor,
  type AppContext,
  type ParsedInput,
} from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function backupRoutes(api: Api, ctx: AppContext): void {
  api.route('backups.create', async ({ body }, { req, actor }) =>
    backupToApi(await requestBackup(ctx, body, actor, { trigger: req.get('x-coffre-client') === 'cli' ? 'cli' : 'manual' })),
  );
  api.route('backups.list', ({ query }) => listBackups(ctx, query));
  api.route('backups.stats', () => backupStats(ctx));
  api.route('backups.daily', ({ query }) => backupsPerDay(ctx, query));
  api.route('backups.get', async ({ params }) => {
    const backup = await getBackup(ctx, params.id);
    return { ...backupToApi(backup, { withLog: true }), expected: await expectedOfBackup(ctx, backup) };
  });
  api.route('backups.server', ({ params }) => serverBackupContents(ctx, params.id));
  api.route('backups.download', (input, { req, res }) => download(ctx, input, req, res));
  api.route('backups.restore', async ({ params, body }, { actor }) => restoreToApi(await requestRestore(ctx, params.id, body, actor)));
  api.route('backups.verify', async ({ params }, { actor }) => verificationToApi(await requestVerification(ctx, params.id, actor)));
  api.route('backups.retry', async ({ params }, { actor }) => backupToApi(await retryBackup(ctx, params.id, actor)));
  api.route('backups.delete', ({ params }, { actor }) => deleteBackup(ctx, params.id, actor));
  api.route('imports.create', async ({ query }, { req, res, actor }) => backupToApi(await importUpload(ctx, query, req, res, actor)));
}

/** The request body, streamed as it arrives: an upload cut off by the client stops the import. */
async function importUpload(ctx: AppContext, query: ParsedInput<'imports.create'>['query'], req: Request, res: Response, actor: Actor) {
  if (!req.is('application/octet-stream')) {
    throw new AppError(415, 'unsupported_media_type', 'Send the dump file as the raw request body with Content-Type: application/octet-stream (for example curl --data-binary @shop.dump).');
  }
  // A client that goes away before the answer stops the import (the request itself closes on a refusal too).
  const stop = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) stop.abort();
  };
  res.once('close', onClose);
  const declared = req.get('content-length');
  try {
    return await importDump(ctx, req, query, actor, { signal: stop.signal, declaredBytes: declared ? Number(declared) : undefined });
  } finally {
    res.off('close', onClose);
  }
}

async function download(ctx: AppContext, { params, query }: ParsedInput<'backups.download'>, req: Request, res: Response): Promise<void> {
  const found = await findArtifactCopies(ctx, params.id, query.artifact, query.destination);
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
