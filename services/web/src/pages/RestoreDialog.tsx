// Restoring overwrites what is there, so the operator types the backup's name and picks what to
// restore and where (RestoreRequest in the API):
// - the database: into the database it came from, into another source (its own database or a new
//   one by name on its server), or into a new database on the backup's own server;
// - the archived files: into a directory (the archived paths are recreated under it);
// - a bucket backup's objects: into a bucket source, under a prefix.
import type { ReactNode } from 'react';
import { apiSend } from '../api/client';
import type { BackupView as Backup, RestoreView as Restore, SourceView as Source } from '@coffre/contract';
import { FormConfirmInput, FormInput, FormSelect, PickOptions } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, type FormState } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { restoreProblems, restoreRequest, type RestoreChoice } from '../forms/restore';

interface Props {
  backup: Backup;
  onClose: () => void;
  /** With the restore and where it goes, in words. */
  onRestored: (restore: Restore, into: string) => void;
}

type RestoreForm = RestoreChoice & { confirm: string };

export function RestoreDialog({ backup, onClose, onRestored }: Props) {
  const sources = useListApi<Source>('/api/sources', null);
  const kinds = new Set((backup.artifacts ?? []).map((a) => a.kind));
  const artifacts = (['database', 'files', 'bucket'] as const).filter((kind) => kinds.has(kind));
  const form = useForm<RestoreForm>(
    () => ({ artifact: artifacts[0] ?? 'database', target: backup.sourceId ? 'same' : 'source', sourceId: '', database: '', path: '', bucketSourceId: backup.sourceId ?? '', prefix: '', confirm: '' }),
    restoreProblems,
    () => null,
  );
  const choice = form.form;
  const ready = choice.confirm === backup.name && Object.keys(restoreProblems(choice)).length === 0;

  const sourceName = (id: string) => sources.rows?.find((s) => s.id === id)?.name ?? 'the chosen source';
  const into = (): string => {
    if (choice.artifact === 'files') return choice.path.trim();
    if (choice.artifact === 'bucket') return `${sourceName(choice.bucketSourceId)}${choice.prefix.trim() ? `/${choice.prefix.trim()}` : ''}`;
    if (choice.target === 'new') return choice.database;
    if (choice.target === 'source') return choice.database || sourceName(choice.sourceId);
    return backup.sourceName;
  };

  const restore = async () => {
    if (!ready) return;
    let started = null as Restore | null;
    const ok = await form.submit(async (values) => {
      started = await apiSend<Restore>('POST', `/api/backups/${backup.id}/restore`, restoreRequest(values, values.confirm));
    });
    if (ok && started) onRestored(started, started.targetDatabase && choice.artifact === 'database' && choice.target === 'same' ? started.targetDatabase : into());
  };

  return (
    <FormDialog title={`Restore ${backup.name}`} id="restore-form" submitLabel="Restore" danger form={form} ready={ready} onSubmit={restore} onClose={onClose}>
      {artifacts.length > 1 ? (
        <fieldset className="fieldset">
          <legend>What to restore</legend>
          {artifacts.map((kind) => (
            <Radio key={kind} form={form} field="artifact" value={kind}>
              {kind === 'database' ? 'The database' : kind === 'files' ? `The files archived beside it${backup.filesCount ? ` (${backup.filesCount})` : ''}` : "The bucket's objects"}
            </Radio>
          ))}
        </fieldset>
      ) : null}
      <p className="warning">{warningOf(choice)}</p>
      {choice.artifact === 'database' ? <DatabaseTarget form={form} backup={backup} sources={sources.rows ?? []} /> : null}
      {choice.artifact === 'files' ? <FormInput form={form} field="path" id="restore-path" label="Directory to restore the files into (absolute path)" spellCheck={false} placeholder="/srv/restored" /> : null}
      {/* Shown once the sources are read, so that the bucket it came from is the one picked. */}
      {choice.artifact === 'bucket' && sources.rows ? (
        <div className="form-row">
          <FormSelect form={form} field="bucketSourceId" id="restore-bucket" label="Into the bucket of">
            <PickOptions items={sources.rows.filter((s) => s.kind === 's3')} none="Pick a bucket source…" note={(s) => (s.id === backup.sourceId ? ' (where it came from)' : '')} />
          </FormSelect>
          <FormInput form={form} field="prefix" id="restore-prefix" label="Prefix (empty: the source's own)" spellCheck={false} placeholder="restored/" />
        </div>
      ) : null}
      <FormConfirmInput form={form} field="confirm" id="restore-confirm" expected={backup.name} data-autofocus autoComplete="off" />
    </FormDialog>
  );
}

function DatabaseTarget({ form, backup, sources }: { form: FormState<RestoreForm>; backup: Backup; sources: Source[] }) {
  const { target } = form.form;
  const otherDatabases = sources.filter((s) => s.kind === 'postgres' && s.id !== backup.sourceId);
  return (
    <fieldset className="fieldset">
      <legend>Restore into</legend>
      {backup.sourceId ? (
        <Radio form={form} field="target" value="same">
          The database it came from ({backup.sourceName})
        </Radio>
      ) : null}
      <Radio form={form} field="target" value="source" disabled={otherDatabases.length === 0}>
        Another source
        {otherDatabases.length === 0 ? <span className="muted small"> (there is no other PostgreSQL source)</span> : null}
      </Radio>
      {target === 'source' ? (
        <div className="nested">
          <FormSelect form={form} field="sourceId" id="restore-source" label="Source">
            <PickOptions items={otherDatabases} none="Pick a source…" />
          </FormSelect>
          <FormInput form={form} field="database" id="restore-database" label="Database (empty: the source's own)" spellCheck={false} />
        </div>
      ) : null}
      {backup.sourceId ? (
        <Radio form={form} field="target" value="new">
          A new database on {backup.sourceName}'s server
        </Radio>
      ) : null}
      {target === 'new' ? (
        <div className="nested">
          <FormInput form={form} field="database" id="restore-database" label="Database name" spellCheck={false} />
        </div>
      ) : null}
    </fieldset>
  );
}

function Radio<K extends 'artifact' | 'target'>({ form, field, value, disabled, children }: { form: FormState<RestoreForm>; field: K; value: RestoreForm[K]; disabled?: boolean; children: ReactNode }) {
  return (
    <label className="check">
      <input type="radio" name={field} value={value} checked={form.form[field] === value} onChange={() => form.set(field, value)} disabled={disabled} /> {children}
    </label>
  );
}

function warningOf(choice: RestoreChoice): string {
  if (choice.artifact === 'files') return 'The archived files are recreated under this directory (created when missing); files already there with the same paths are replaced. Nothing is written outside it.';
  if (choice.artifact === 'bucket') return 'The objects are put into the bucket of the chosen source, under the prefix; objects already there with the same keys are replaced.';
  if (choice.target === 'new') return 'The backup is restored into the database of that name, created when it does not exist (one that exists is replaced, after a safety backup).';
  if (choice.target === 'source' && choice.database)
    return `The backup is restored into database ${choice.database} on that source's server, created when it does not exist (one that exists is replaced, after a safety backup).`;
  return "Restoring replaces the target database's contents. A safety backup of the target is taken first.";
}
