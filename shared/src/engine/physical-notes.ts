// RESTORE.md of a physical (base) backup: recovering the whole cluster to a moment with standard
// tools only: tar, zstd, age, and a restore_command that fetches and decrypts WAL segments.
/** What the notes read of a base backup's manifest (a Manifest of manifest.ts, which calls this). */
export interface PhysicalNotesManifest {
  backupId: string;
  name: string;
  source: string;
  completedAt: string;
  serverVersion?: string;
  encryption: { recipients: string[] } | null;
  objects: { kind: string; key: string; sizeBytes: number; checksumSha256: string }[];
  wal?: { start: string; end: string; timeline: number };
  walPrefix?: string;
}

export function physicalRestoreNotes(manifest: PhysicalNotesManifest): string {
  const base = manifest.objects.find((o) => o.kind === 'database');
  const file = base?.key.split('/').pop() ?? 'base.tar.zst';
  const decrypt = manifest.encryption ? `age -d -i /secure/key.txt ${file} | ` : '';
  const unpack = manifest.encryption ? `${decrypt}zstd -dc | tar -x -C "$PGDATA"` : `zstd -dc ${file} | tar -x -C "$PGDATA"`;
  const fetch = manifest.encryption
    ? `age -d -i /secure/key.txt /path/to/${manifest.walPrefix ?? 'wal/<source id>'}/<timeline>/%f.zst.age | zstd -dc > %p`
    : `zstd -dc /path/to/${manifest.walPrefix ?? 'wal/<source id>'}/<timeline>/%f.zst > %p`;
  return [
    `# Recovering ${manifest.name} (a base backup for point-in-time recovery)`,
    '',
    `Base backup ${manifest.backupId} of \`${manifest.source}\`, taken ${manifest.completedAt} from PostgreSQL ${manifest.serverVersion ?? '?'}.`,
    manifest.wal ? `It is consistent once the WAL from ${manifest.wal.start} to ${manifest.wal.end} (timeline ${manifest.wal.timeline}) has been replayed.` : '',
    '',
    `1. Check the file: its SHA-256 must be \`${base?.checksumSha256 ?? '?'}\` (${base?.sizeBytes ?? '?'} bytes): \`sha256sum ${file}\`.`,
    '',
    `2. Unpack it into an empty directory owned by the postgres user, with the same major version installed:`,
    '',
    '   ```sh',
    '   mkdir -m 700 "$PGDATA"',
    `   ${unpack}`,
    '   touch "$PGDATA/recovery.signal"',
    '   ```',
    '',
    '3. Tell PostgreSQL where the WAL is and when to stop, in `$PGDATA/postgresql.auto.conf` (one object per WAL file;',
    '   a segment that was still being written when the stream stopped is stored as `<name>.partial-<end>.zst`:',
    '   copy the one with the highest end to `<name>.zst` to use it):',
    '',
    '   ```',
    `   restore_command = '${fetch.replace(/'/g, "''")}'`,
    "   recovery_target_time = '2026-01-31 17:00:00+00'",
    "   recovery_target_action = 'promote'",
    '   ```',
    '',
    '4. Start it: `pg_ctl -D "$PGDATA" start`. It replays the WAL up to that time and opens for writes.',
    '',
    manifest.encryption ? `The files are encrypted with age; \`key.txt\` holds one of the recipients' AGE-SECRET-KEY-1… keys.` : '',
    '`manifest.json` beside this page lists every object with its size and SHA-256.',
    '',
  ].join('\n');
}
