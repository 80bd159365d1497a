// What the fault tests check after every trial: each completed backup's stored objects are exactly
// what its rows recorded (size and SHA-256, read back from disk), and nothing else is published in
// the backup directory: no partial object under a final name, no object of a row that is not completed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { AppContext } from '@coffre/shared';

export interface ArtifactAudit {
  /** Completed, not deleted rows checked. */
  completedRows: number;
  /** Stored objects read back and compared. */
  objectsChecked: number;
  bytesChecked: number;
  /** Every difference between a completed row and its stored objects (must stay empty). */
  mismatches: string[];
  /** Published files that belong to no completed row's artifacts (must stay empty). */
  strayFiles: string[];
  /** Files under the temporary directory (unfinished writes, passfiles). */
  temporaryFiles: string[];
}

export async function auditArtifacts(ctx: AppContext, root: string): Promise<ArtifactAudit> {
  const audit: ArtifactAudit = { completedRows: 0, objectsChecked: 0, bytesChecked: 0, mismatches: [], strayFiles: [], temporaryFiles: [] };
  const rows = await ctx.db.backup.findMany({ where: { status: 'completed', deletedAt: null }, include: { artifacts: true } });
  const expected = new Set<string>();
  for (const row of rows) {
    audit.completedRows += 1;
    const live = row.artifacts.filter((a) => !a.deletedAt);
    const database = live.find((a) => a.kind === 'database');
    if (!database) audit.mismatches.push(`${row.id}: completed without a database artifact`);
    else if (database.sizeBytes !== row.sizeBytes || database.checksumSha256 !== row.checksumSha256) {
      audit.mismatches.push(`${row.id}: the row says ${row.sizeBytes} bytes ${row.checksumSha256}, its artifact ${database.sizeBytes} ${database.checksumSha256}`);
    }
    for (const artifact of live) {
      expected.add(artifact.key);
      const path = join(root, artifact.key);
      const info = await stat(path).catch(() => null);
      if (!info) {
        audit.mismatches.push(`${row.id}: ${artifact.kind} ${artifact.key} is missing`);
        continue;
      }
      const sum = await sha256File(path);
      audit.objectsChecked += 1;
      audit.bytesChecked += info.size;
      if (BigInt(info.size) !== artifact.sizeBytes || sum !== artifact.checksumSha256) {
        audit.mismatches.push(
          `${row.id}: ${artifact.kind} ${artifact.key} is ${info.size} bytes ${sum}, recorded ${artifact.sizeBytes} bytes ${artifact.checksumSha256}`,
        );
      }
    }
  }
  for (const file of await filesUnder(root)) {
    const key = relative(root, file).split(sep).join('/');
    if (key.startsWith('.tmp/')) audit.temporaryFiles.push(key);
    else if (!expected.has(key)) audit.strayFiles.push(key);
  }
  return audit;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
