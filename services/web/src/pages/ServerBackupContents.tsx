// A backup of a whole server in its details: each database it holds (its artifact's size, the tables
// and rows recorded), the databases that could not be backed up and why, and the globals, saying
// whether the role passwords are in them (pg_dumpall leaves them out when the role may not read
// pg_authid: roles restored from it then have no password).
import type { BackupServerView, BackupView as Backup } from '@coffre/contract';
import { DataTable, type Column } from '../components/DataTable';
import { LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatCount } from '../lib/format';

/** A server backup holds a globals artifact; a backup of one database never does. */
export function isServerBackup(backup: Backup): boolean {
  return (backup.artifacts ?? []).some((a) => (a.kind as string) === 'globals');
}

/** The databases a server backup holds, by name, from its artifacts (no request needed). */
export function serverBackupDatabases(backup: Backup): string[] {
  const names = (backup.artifacts ?? []).map((a) => a.kind as string).filter((kind) => kind.startsWith('database:'));
  return [...new Set(names)].map((kind) => kind.slice('database:'.length));
}

type Database = BackupServerView['databases'][number];

const columns: Column<Database>[] = [
  { header: 'Database', className: 'mono break', cell: (d) => d.name },
  { header: 'Size', numeric: true, cell: (d) => formatBytes(d.sizeBytes) },
  { header: 'Tables', numeric: true, cell: (d) => formatCount(d.tables) },
  { header: 'Rows', numeric: true, cell: (d) => (d.records === null ? 'not counted' : formatCount(d.records)) },
];

export function ServerBackupContents({ backup }: { backup: Backup }) {
  // Read once the run is over: while it runs, the databases are still being added.
  const over = backup.status === 'completed' || backup.status === 'failed';
  const { data, error } = useApi<BackupServerView>(over ? `/api/backups/${backup.id}/server` : null, null);
  if (!over) return null;
  return (
    <section data-testid="server-backup" aria-labelledby="server-backup-title">
      <h3 id="server-backup-title">Databases of the server</h3>
      {error && !data ? <LoadError error={error} what="the databases of this backup" /> : null}
      {!data && !error ? <Loading what="the databases of this backup" /> : null}
      {data ? <ServerContents contents={data} /> : null}
    </section>
  );
}

function ServerContents({ contents }: { contents: BackupServerView }) {
  const { globals } = contents;
  return (
    <>
      <DataTable
        list={{ rows: contents.databases }}
        columns={columns}
        rowKey={(d) => d.name}
        rowProps={(d) => ({ 'data-testid': 'server-database', 'data-name': d.name })}
        what="databases"
        empty="No database of the server was backed up."
        compact
      />
      {contents.failed.length > 0 ? (
        <ul className="plain-list" data-testid="server-failed">
          {contents.failed.map((f) => (
            <li key={f.database} className="form-error">
              Database <span className="mono">{f.database}</span> could not be backed up: {f.error}
            </li>
          ))}
        </ul>
      ) : null}
      <p data-testid="server-globals" data-role-passwords={globals.noRolePasswords === null ? 'unknown' : String(!globals.noRolePasswords)}>
        Globals (roles, memberships, tablespaces): {formatBytes(globals.sizeBytes)}
        {globals.pgDumpallVersion ? `, from pg_dumpall ${globals.pgDumpallVersion}` : ''}. {rolePasswordsSentence(globals.noRolePasswords)}
      </p>
      {contents.manifestError ? <p className="warning">{contents.manifestError}</p> : null}
    </>
  );
}

function rolePasswordsSentence(noRolePasswords: boolean | null): string {
  if (noRolePasswords === null) return 'Whether the role passwords are included is unknown without the manifest.';
  if (noRolePasswords) return 'Role passwords are not included (the role that took it may not read pg_authid): restored roles have no password until one is set.';
  return 'Role passwords are included.';
}
