// Restoring a backup of a whole server: one of its databases, into the server of a PostgreSQL source
// under its own name or a new one (an existing database of that name is replaced), or every database
// and the globals into a server source where none of them exists yet. The operator types the
// backup's name to confirm; the API's sentence shows when it refuses.
import { apiSend } from '../api/client';
import type { BackupView as Backup, RestoreView as Restore, SourceView as Source } from '@coffre/contract';
import { FormConfirmInput, FormInput, FormSelect, PickOptions } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, type FormState } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { serverRestoreFieldOfApiPath, serverRestoreProblems, serverRestoreRequest, type ServerRestoreChoice } from '../forms/server-restore';
import { serverBackupDatabases } from './ServerBackupContents';

interface Props {
  backup: Backup;
  onClose: () => void;
  /** With the restore and where it goes, in words. */
  onRestored: (restore: Restore, into: string) => void;
}

type ServerRestoreForm = ServerRestoreChoice & { confirm: string };

export function ServerRestoreDialog({ backup, onClose, onRestored }: Props) {
  const sources = useListApi<Source>('/api/sources', null);
  const databases = serverBackupDatabases(backup);
  const form = useForm<ServerRestoreForm>(
    () => ({ what: 'database', database: databases[0] ?? '', sourceId: backup.sourceId ?? '', targetDatabase: '', confirm: '' }),
    serverRestoreProblems,
    serverRestoreFieldOfApiPath,
  );
  const choice = form.form;
  const ready = choice.confirm === backup.name && Object.keys(serverRestoreProblems(choice)).length === 0;
  const postgres = (sources.rows ?? []).filter((s) => s.kind === 'postgres');
  const targets = choice.what === 'all' ? postgres.filter((s) => s.scope === 'server') : postgres;
  const sourceName = postgres.find((s) => s.id === choice.sourceId)?.name ?? 'the chosen source';
  const into = () => (choice.what === 'all' ? `every database and the globals on ${sourceName}` : `database ${choice.targetDatabase.trim() || choice.database} on ${sourceName}`);

  const restore = async () => {
    if (!ready) return;
    let started = null as Restore | null;
    const ok = await form.submit(async (values) => {
      started = await apiSend<Restore>('POST', `/api/backups/${backup.id}/restore`, serverRestoreRequest(values, values.confirm));
    });
    if (ok && started) onRestored(started, into());
  };

  return (
    <FormDialog title={`Restore ${backup.name}`} id="server-restore-form" submitLabel="Restore" danger form={form} ready={ready} onSubmit={restore} onClose={onClose}>
      <fieldset className="fieldset" data-testid="server-restore-what">
        <legend>What to restore</legend>
        <label className="check">
          <input type="radio" name="server-restore-what" value="database" checked={choice.what === 'database'} onChange={() => form.set('what', 'database')} /> One database of it
        </label>
        <label className="check">
          <input type="radio" name="server-restore-what" value="all" checked={choice.what === 'all'} onChange={() => form.set('what', 'all')} /> Every database ({databases.length}) and the globals
          (roles, memberships, tablespaces)
        </label>
      </fieldset>
      <p className="warning">{warningOf(choice)}</p>
      {choice.what === 'database' ? <OneDatabase form={form} databases={databases} /> : null}
      {/* Shown once the sources are read, so that the server it came from is the one picked. */}
      {sources.rows ? (
        <FormSelect
          form={form}
          field="sourceId"
          id="server-restore-source"
          label={choice.what === 'all' ? 'Into the server of (a server source)' : 'Into the server of'}
          hint={choice.what === 'all' && targets.length === 0 ? 'There is no server source to restore into: add one (Sources, "The whole server").' : undefined}
        >
          <PickOptions items={targets} none="Pick a source…" note={(s) => (s.id === backup.sourceId ? ' (where it came from)' : '')} />
        </FormSelect>
      ) : null}
      <FormConfirmInput form={form} field="confirm" id="server-restore-confirm" expected={backup.name} data-autofocus autoComplete="off" />
    </FormDialog>
  );
}

function OneDatabase({ form, databases }: { form: FormState<ServerRestoreForm>; databases: string[] }) {
  return (
    <div className="form-row">
      <FormSelect form={form} field="database" id="server-restore-database" label="Database">
        {databases.length === 0 ? <option value="">(the backup holds no database)</option> : null}
        {databases.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </FormSelect>
      <FormInput form={form} field="targetDatabase" id="server-restore-name" label="Restore as (empty: its own name)" spellCheck={false} placeholder={form.form.database} />
    </div>
  );
}

function warningOf(choice: ServerRestoreChoice): string {
  if (choice.what === 'all') return 'Every database of the backup is created on the chosen server under its own name, after the globals; the API refuses when any of them exists there already.';
  const name = choice.targetDatabase.trim() || choice.database;
  return `Database ${name} is created on the chosen server when it does not exist; one that exists is replaced (loaded beside it, checked, then swapped in).`;
}
