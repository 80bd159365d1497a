// How a restore's target reads in logs, notifications, the API and the CLI, whatever its kind.

export interface RestoreTargetFields {
  targetKind: string;
  targetDatabase: string | null;
  /** files: the directory; bucket: the prefix. */
  targetPath: string | null;
  targetSource?: { name: string } | null;
}

/** `database "shop"`, `directory /srv/restored`, `bucket source "media", prefix "uploads/"`, a whole server. */
export function describeRestoreTarget(row: RestoreTargetFields): string {
  if (row.targetKind === 'files') return `directory ${row.targetPath ?? '(none)'}`;
  if (row.targetKind === 'bucket') {
    const source = row.targetSource ? `bucket source "${row.targetSource.name}"` : 'its bucket';
    return row.targetPath ? `${source}, prefix "${row.targetPath}"` : source;
  }
  if (row.targetKind === 'server') return row.targetSource ? `every database and the globals, into server source "${row.targetSource.name}"` : 'every database and the globals, into its server';
  return `database "${row.targetDatabase ?? '(none)'}"`;
}
