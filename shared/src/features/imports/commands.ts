// Importing a dump made elsewhere: the upload is streamed, checked and stored by the import pipeline
// (engine/import-pipeline.ts) in the API process, since the bytes arrive there, and becomes a
// completed backup with trigger `import`, which is then verified, restored, downloaded and retained
// like any other. The row is written only once the artifact is stored and checked: a refused upload
// leaves no row and no object.
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { ImportQuery } from '@coffre/contract';
import type { Backup } from '../../infra/db.js';
import { AppError, NotFoundError, ValidationError, errorMessage } from '../../infra/errors.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { recordAudit } from '../audit/audit.js';
import { runImport } from '../../engine/import-pipeline.js';
import { resolveNewestPgTool } from '../../engine/postgres.js';
import { artifactSuffix } from '../../engine/compression.js';
import type { Manifest, ManifestObject } from '../../engine/manifest.js';
import { destinationDriver, destinationsForBackup } from '../destinations/destinations.js';
import { COFFRE_VERSION, recordArtifacts, storagePrefix, writeSidecars } from '../backups/job.js';
import { defaultBackupName } from '../backups/commands.js';

export interface ImportOptions {
  signal?: AbortSignal;
  /** The Content-Length the client announced, refused at once when it is over the limit. */
  declaredBytes?: number;
}

export async function importDump(ctx: AppContext, upload: Readable, query: ImportQuery, actor: Actor, options: ImportOptions = {}): Promise<Backup> {
  const limit = ctx.config.IMPORT_MAX_BYTES;
  if (options.declaredBytes !== undefined && options.declaredBytes > limit) {
    throw new AppError(413, 'payload_too_large', `The upload is ${options.declaredBytes} bytes, larger than IMPORT_MAX_BYTES (${limit} bytes): nothing was stored.`);
  }
  const source = query.sourceId ? await ctx.db.source.findUnique({ where: { id: query.sourceId } }) : null;
  if (query.sourceId && !source) throw new NotFoundError(`Source ${query.sourceId}`);
  if (source && source.kind !== 'postgres') throw new ValidationError(`sourceId: source "${source.name}" is a bucket; a database dump belongs to a PostgreSQL source.`);
  const encrypted = ctx.recipients.length > 0;
  const compression = 'zstd' as const;
  const now = new Date();
  const id = randomUUIDv7();
  const prefix = storagePrefix({ id, createdAt: now });
  const key = `${prefix}/database.dump${artifactSuffix(compression, encrypted)}`;
  const destinations = await destinationsForBackup(ctx, null);
  const drivers = destinations.map((destination) => ({ destination, driver: destinationDriver(ctx, destination) }));
  const pgRestore = await resolveNewestPgTool('pg_restore');
  const started = Date.now();

  let result;
  try {
    result = await runImport({
      upload,
      maxBytes: limit,
      identities: () => ctx.identities(),
      pgRestorePath: pgRestore.path,
      compression,
      recipients: encrypted ? ctx.recipients : [],
      targets: drivers.map(({ driver }) => ({ driver, key })),
      signal: options.signal,
    });
  } catch (error) {
    await recordAudit(ctx.db, actor, {
      action: 'backup.import',
      targetType: 'backup',
      outcome: 'failure',
      summary: { filename: query.filename ?? null, source: source?.name ?? null, reason: errorMessage(error).slice(0, 500) },
    });
    throw error;
  }

  const name = query.name ?? defaultBackupName(importBase(query.filename), 'full', now);
  const object: ManifestObject = { kind: 'database', key, sizeBytes: result.sizeBytes, checksumSha256: result.checksumSha256 };
  const backup = await ctx.db.backup.create({
    data: {
      id,
      name,
      type: 'full',
      status: 'completed',
      trigger: 'import',
      dumpFormat: result.format,
      sourceId: source?.id ?? null,
      sourceName: source?.name ?? 'import',
      compression,
      encrypted,
      sizeBytes: BigInt(result.sizeBytes),
      checksumSha256: result.checksumSha256,
      progressBytes: BigInt(result.sizeBytes),
      durationMs: Date.now() - started,
      serverVersion: result.serverVersion,
      pgDumpVersion: result.pgDumpVersion,
      storagePrefix: prefix,
      requestedBy: actor.name,
      startedAt: new Date(started),
      completedAt: new Date(),
      createdAt: now,
      log: `imported ${query.filename ?? 'an upload'}: ${result.uploadBytes} bytes sent (${describeWrapping(result)}), a ${result.format}-format dump of ${result.dumpBytes} bytes, read whole and found complete; ${result.sizeBytes} bytes stored`,
    },
  });
  await recordArtifacts(ctx, backup.id, destinations, [object]);
  const manifest: Manifest = {
    format: 'coffre-backup/v1',
    backupId: backup.id,
    name,
    type: 'full',
    source: backup.sourceName,
    createdAt: now.toISOString(),
    completedAt: backup.completedAt!.toISOString(),
    coffreVersion: COFFRE_VERSION,
    ...(result.serverVersion ? { serverVersion: result.serverVersion, pgDumpVersion: result.pgDumpVersion ?? undefined } : {}),
    compression,
    encryption: encrypted ? { format: 'age-v1', recipients: ctx.recipients } : null,
    objects: [object],
    counts: {},
    dumpFormat: result.format,
    imported: { filename: query.filename ?? null, compression: result.uploadCompression, encrypted: result.uploadEncrypted, uploadBytes: result.uploadBytes, dumpBytes: result.dumpBytes },
  };
  await writeSidecars(ctx, backup.id, drivers, prefix, manifest);
  await recordAudit(ctx.db, actor, {
    action: 'backup.import',
    targetType: 'backup',
    targetId: backup.id,
    summary: { after: { name, format: result.format, filename: query.filename ?? null, source: backup.sourceName, uploadBytes: result.uploadBytes, sizeBytes: result.sizeBytes } },
  });
  return backup;
}

function describeWrapping(result: { uploadCompression: string; uploadEncrypted: boolean }): string {
  const parts = [result.uploadEncrypted ? 'age-encrypted' : '', result.uploadCompression !== 'none' ? `${result.uploadCompression}-compressed` : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'as is';
}

/** "shop.dump.gz" → "shop"; no file name → "import". */
function importBase(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop()!.replace(/(\.(sql|dump|tar|backup|gz|zst|age|pgdump))+$/i, '');
  return /^[\w.-]{1,100}$/.test(base) ? `${base}-import` : 'import';
}

/** A time-ordered UUID (v7), as the database gives every other row: imports name their row before writing it. */
function randomUUIDv7(): string {
  const bytes = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
