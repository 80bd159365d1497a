// What a backup of a whole server holds, for the web UI's details: each database (its artifact's
// size, and the tables and rows the manifest recorded), the globals, and whether pg_dumpall left the
// role passwords out. The artifacts come from the history; the rest from the manifest, read from
// the first destination that holds a whole copy. An unreadable manifest is said, not fatal.
import type { BackupServerView } from '@coffre/contract';
import { ConflictError, errorMessage } from '../../infra/errors.js';
import type { AppContext } from '../../infra/context.js';
import type { Manifest } from '../../engine/manifest.js';
import { getBackup } from './commands.js';
import { openArtifactCopy, type ArtifactCopies } from './downloads.js';

/** A manifest is a few kilobytes; a bigger one is not read into memory. */
const MANIFEST_LIMIT = 4 << 20;

type Loaded = Awaited<ReturnType<typeof getBackup>>;
type Artifact = NonNullable<Loaded['artifacts']>[number];

export async function serverBackupContents(ctx: AppContext, backupId: string): Promise<BackupServerView> {
  const backup = await getBackup(ctx, backupId);
  const artifacts = (backup.artifacts ?? []).filter((a) => !a.deletedAt);
  const globals = artifacts.find((a) => a.kind === 'globals');
  if (!globals) throw new ConflictError(`Backup "${backup.name}" is a backup of one database, not of a whole server.`, 'not_server_backup');
  const { manifest, error } = await readManifest(ctx, backup, artifacts);
  const recorded = new Map((manifest?.server?.databases ?? []).map((d) => [d.name, d]));
  const databases = firstCopyOfEach(artifacts.filter((a) => a.kind.startsWith('database:'))).map((a) => {
    const name = a.kind.slice('database:'.length);
    const entry = recorded.get(name);
    return { name, sizeBytes: Number(a.sizeBytes), tables: entry?.tables ?? null, records: entry?.records ?? null };
  });
  return {
    databases,
    failed: manifest?.server?.failed ?? [],
    globals: {
      sizeBytes: Number(globals.sizeBytes),
      noRolePasswords: manifest?.server?.globals.noRolePasswords ?? null,
      pgDumpallVersion: manifest?.server?.globals.pgDumpallVersion ?? null,
    },
    manifestError: error,
  };
}

/** One row per artifact kind (a copy per destination is the same artifact), in the order stored. */
function firstCopyOfEach(artifacts: Artifact[]): Artifact[] {
  const seen = new Set<string>();
  return artifacts.filter((a) => !seen.has(a.kind) && Boolean(seen.add(a.kind)));
}

async function readManifest(ctx: AppContext, backup: Loaded, artifacts: Artifact[]): Promise<{ manifest: Manifest | null; error: string | null }> {
  const copies = artifacts.filter((a) => a.kind === 'manifest' && a.destination) as ArtifactCopies['copies'];
  if (copies.length === 0) return { manifest: null, error: 'The backup holds no manifest.' };
  const sizeBytes = Number(copies[0]!.sizeBytes);
  if (sizeBytes > MANIFEST_LIMIT) return { manifest: null, error: `The manifest is ${sizeBytes} bytes, more than a manifest should be; it was not read.` };
  try {
    const { stream } = await openArtifactCopy(ctx, { backup, kind: 'manifest', copies, sizeBytes, checksumSha256: copies[0]!.checksumSha256 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    return { manifest: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Manifest, error: null };
  } catch (error) {
    return { manifest: null, error: `The manifest could not be read: ${errorMessage(error)}` };
  }
}
