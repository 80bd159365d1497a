// Downloading an artifact: served from the first destination whose copy is there and whole, as
// restores do, or from the destination the caller names. A copy that is missing, damaged or
// unreachable is passed over; when none can be served the answer is a sentence saying what happened
// to each copy: 404 when they are gone, 503 when one may come back (an unreachable endpoint).
import type { Readable } from 'node:stream';
import type { Backup, BackupArtifact, Destination } from '../../infra/db.js';
import { AppError, ConflictError, NotFoundError, UnavailableError, ValidationError, errorMessage } from '../../infra/errors.js';
import type { ByteRange } from '../../storage/driver.js';
import type { AppContext } from '../../infra/context.js';
import type { ArtifactKind } from '@coffre/contract';
import { getBackup } from './commands.js';
import { destinationDriver } from '../destinations/destinations.js';

type Copy = BackupArtifact & { destination: Destination };

export interface ArtifactCopies {
  backup: Backup;
  kind: ArtifactKind;
  /** Every recorded copy, in the order they are tried; all of one artifact, so of one size and checksum. */
  copies: Copy[];
  sizeBytes: number;
  checksumSha256: string;
}

/** The recorded copies of a completed backup's artifact; only the one in `destination` (id or name) when given. */
export async function findArtifactCopies(ctx: AppContext, backupId: string, kind: ArtifactKind, destination?: string): Promise<ArtifactCopies> {
  const backup = await getBackup(ctx, backupId);
  if (backup.status !== 'completed') throw new ConflictError(`Backup "${backup.name}" is ${backup.status}: only a completed backup can be downloaded.`);
  if (backup.deletedAt) throw new ConflictError(`Backup "${backup.name}" was deleted: its artifacts are gone.`, 'backup_deleted');
  const all = (backup.artifacts ?? []).filter((a): a is Copy => a.kind === kind && !a.deletedAt && Boolean(a.destination));
  if (all.length === 0) throw new NotFoundError(`The ${kind} artifact of backup "${backup.name}"`);
  const copies = destination ? all.filter((a) => a.destination.id === destination || a.destination.name === destination) : all;
  if (copies.length === 0) {
    throw new NotFoundError(
      `A copy of the ${kind} artifact of backup "${backup.name}" in destination "${destination}" (its copies are in ${all.map((a) => a.destination.name).join(', ')})`,
    );
  }
  return { backup, kind, copies, sizeBytes: Number(copies[0]!.sizeBytes), checksumSha256: copies[0]!.checksumSha256 };
}

export interface OpenedCopy {
  artifact: Copy;
  /** null when `open` was false (a HEAD request): the copy was found, nothing was read. */
  stream: Readable | null;
}

/** Opens the first copy that is there, of the recorded size, and readable; otherwise a 404 or 503 with a sentence. */
export async function openArtifactCopy(ctx: AppContext, found: ArtifactCopies, options: { range?: ByteRange; open?: boolean } = {}): Promise<OpenedCopy> {
  const failures: { destination: string; what: string; error?: unknown }[] = [];
  for (const artifact of found.copies) {
    const destination = artifact.destination.name;
    try {
      const driver = destinationDriver(ctx, artifact.destination);
      const stored = await driver.stat(artifact.key);
      if (!stored) {
        failures.push({ destination, what: 'missing' });
        continue;
      }
      if (stored.sizeBytes !== found.sizeBytes) {
        failures.push({ destination, what: `damaged (${stored.sizeBytes} bytes stored, ${found.sizeBytes} recorded)` });
        continue;
      }
      return { artifact, stream: options.open === false ? null : await driver.get(artifact.key, options.range) };
    } catch (error) {
      if (error instanceof NotFoundError) failures.push({ destination, what: 'missing' });
      else failures.push({ destination, what: `unreadable: ${stripPeriod(errorMessage(error))}`, error });
      ctx.logger.warn({ backupId: found.backup.id, destination, err: errorMessage(error) }, 'a copy of an artifact could not be read for a download');
    }
  }
  throw noCopyServed(found, failures);
}

function noCopyServed(found: ArtifactCopies, failures: { destination: string; what: string; error?: unknown }[]): AppError {
  // A key refused as unsafe (a tampered row) is the same refusal whichever copy it is in.
  const refusals = failures.filter((f) => f.error instanceof ValidationError);
  if (refusals.length === failures.length) return refusals[0]!.error as ValidationError;
  const each = failures.map((f) => `${f.destination}: ${f.what}`).join('; ');
  const subject = `the ${found.kind} artifact of backup "${found.backup.name}"`;
  if (failures.every((f) => f.what === 'missing' || f.what.startsWith('damaged'))) {
    return new AppError(404, 'artifact_missing', `No destination holds a usable copy of ${subject} (${each}). Run coffre storage reconcile to record what is left.`);
  }
  return new UnavailableError(`No copy of ${subject} can be read right now (${each}). Try again once the destination is reachable.`);
}

function stripPeriod(text: string): string {
  return text.replace(/\.\s*$/, '');
}
