// manifest.json and RESTORE.md: what a backup holds and how to restore it without coffre.
import type { CompressionKind } from './compression.js';
import type { TableCount } from './counts.js';
import { physicalRestoreNotes } from './physical-notes.js';

export interface ManifestObject {
  /** A server backup's databases are `database:<name>`, beside its `globals`. */
  kind: 'database' | 'files' | 'bucket' | 'globals' | `database:${string}`;
  key: string;
  sizeBytes: number;
  checksumSha256: string;
}

export interface Manifest {
  format: 'coffre-backup/v1';
  backupId: string;
  name: string;
  type: 'full' | 'schema' | 'data' | 'physical';
  source: string;
  createdAt: string;
  completedAt: string;
  coffreVersion: string;
  serverVersion?: string;
  pgDumpVersion?: string;
  compression: CompressionKind;
  encryption: { format: 'age-v1'; recipients: string[] } | null;
  objects: ManifestObject[];
  counts: { tables?: number; records?: number | null; files?: number; objects?: number };
  tables?: TableCount[];
  /** A server backup: its databases (each its own object) and its globals. */
  server?: {
    databases: { name: string; key: string; tables: number; records: number | null }[];
    failed: { database: string; error: string }[];
    globals: { key: string; noRolePasswords: boolean; pgDumpallVersion: string };
  };
  /**
   * What the database artifact holds when it is not pg_dump's custom format: a tar of pg_dump's
   * directory format (its folder `database/`, dumped with `dumpJobs` parallel jobs), or an imported
   * tar-format or plain dump.
   */
  dumpFormat?: 'custom' | 'directory' | 'tar' | 'plain';
  dumpJobs?: number;
  /** Where an imported dump came from and how it was sent. */
  imported?: { filename: string | null; compression: CompressionKind; encrypted: boolean; uploadBytes: number; dumpBytes: number };
  /** physical backups: the WAL they need to be consistent */
  wal?: { start: string; end: string; timeline: number };
  /** physical backups: where the source's WAL is stored */
  walPrefix?: string;
}

export function manifestJson(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** A short page an operator can follow with only PostgreSQL's tools, zstd/gzip and age. */
export function restoreNotes(manifest: Manifest): string {
  if (manifest.type === 'physical') return physicalRestoreNotes(manifest);
  const database = manifest.objects.find((o) => o.kind === 'database');
  const lines = [
    `# Restoring ${manifest.name}`,
    '',
    `Backup ${manifest.backupId} of \`${manifest.source}\` (${manifest.type}), taken ${manifest.completedAt}` +
      (manifest.serverVersion ? ` from PostgreSQL ${manifest.serverVersion} with pg_dump ${manifest.pgDumpVersion}.` : '.'),
    '',
  ];
  if (database) {
    const file = database.key.split('/').pop()!;
    const decrypt = manifest.encryption ? `age -d -i key.txt ${file} | ` : '';
    const decompress =
      manifest.compression === 'zstd' ? 'zstd -dc' : manifest.compression === 'gzip' ? 'gzip -dc' : 'cat';
    const input = manifest.encryption ? `${decrypt}${decompress}` : `${decompress} ${file}`;
    lines.push(
      '## The database',
      '',
      '1. Check the file: its SHA-256 must be',
      `   \`${database.checksumSha256}\` (${database.sizeBytes} bytes):`,
      '',
      '   ```sh',
      `   sha256sum ${file}`,
      '   ```',
      '',
      '2. Restore it (into an empty database, or one whose objects it may drop and recreate):',
      '',
      '   ```sh',
      '   createdb restored',
      ...restoreCommands(manifest, input),
      '   ```',
      '',
    );
    if (manifest.dumpFormat === 'directory') {
      lines.push(
        `The file is a tar of pg_dump's directory format (dumped with ${manifest.dumpJobs ?? 'several'} parallel jobs): it unpacks into a folder \`database\`, which pg_restore reads with as many jobs as you like (\`-j\`). Unpacking needs about as much free space as the dump itself.`,
        '',
      );
    }
    if (manifest.encryption) {
      lines.push(
        `The file is encrypted with age to ${manifest.encryption.recipients.length} recipient(s); \`key.txt\` is an identity file holding one of their AGE-SECRET-KEY-1… keys.`,
        '',
      );
    }
    if (manifest.type === 'data') {
      lines.push('This backup holds data only: restore it into a database that already has the schema, after emptying its tables.', '');
    }
  }
  if (manifest.server) {
    const decompress = manifest.compression === 'zstd' ? 'zstd -dc' : manifest.compression === 'gzip' ? 'gzip -dc' : 'cat';
    const read = (file: string) => (manifest.encryption ? `age -d -i key.txt ${file} | ${decompress}` : `${decompress} ${file}`);
    const globals = manifest.server.globals.key.split('/').pop()!;
    lines.push(
      '## The server',
      '',
      'Into a server where none of these databases exists: the globals first (roles that exist already only log an error), then each database under its own name.',
      '',
      '```sh',
      `${read(globals)} | psql -X -d postgres`,
      ...manifest.server.databases.map((d) => `${read(`databases/${d.key.split('/').pop()!}`)} | pg_restore --create --exit-on-error -d postgres   # ${d.name}`),
      '```',
      '',
    );
    if (manifest.server.globals.noRolePasswords) lines.push('The roles were saved without their passwords (the backup role may not read pg_authid): set them again after the restore.', '');
  }
  const files = manifest.objects.find((o) => o.kind === 'files');
  if (files) {
    const name = files.key.split('/').pop()!;
    const decompress = manifest.compression === 'zstd' ? 'zstd -dc' : manifest.compression === 'gzip' ? 'gzip -dc' : 'cat';
    const head = manifest.encryption ? `age -d -i key.txt ${name} | ${decompress}` : `${decompress} ${name}`;
    lines.push('## The files', '', '```sh', `mkdir restored-files && ${head} | tar -x -C restored-files`, '```', '');
  }
  lines.push('`manifest.json` beside this page lists every object with its size and SHA-256.', '');
  return lines.join('\n');
}

/** The commands that load the database artifact, read by `input` (decryption and decompression). */
function restoreCommands(manifest: Manifest, input: string): string[] {
  if (manifest.dumpFormat === 'plain') return [`   ${input} | psql -X -v ON_ERROR_STOP=1 --single-transaction -d restored`];
  if (manifest.dumpFormat === 'directory') {
    return [`   ${input} | tar -x`, '   pg_restore --clean --if-exists --no-owner --exit-on-error --jobs=4 -d restored database'];
  }
  return [`   ${input} | pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction -d restored`];
}
