// Restore one database of a source as it was at a moment (admin): the moment to the second in the
// viewer's zone, the database, and where it goes; the target database's name typed to confirm, as in
// RestoreDialog. A moment outside the recovery window is the API's to refuse, in its own sentence.
import type { PitrStateView, RestoreView as Restore, SourceView as Source } from '@coffre/contract';
import { apiSend } from '../../api/client';
import { FormConfirmInput, FormInput, FormSelect, PickOptions } from '../../components/Field';
import { FormDialog } from '../../components/FormDialog';
import { Time, viewerZone } from '../../components/Time';
import { useForm, type FormState } from '../../hooks/useForm';
import { useListApi } from '../../hooks/useList';
import { databasesOf, fieldOf, pitrRestoreProblems, pitrRestoreRequest, targetDatabaseOf, toLocalInput, type PitrRestoreChoice } from '../../forms/pitr-restore';

interface Props {
  source: Source;
  window: PitrStateView['window'];
  onClose: () => void;
  /** With the restore and the database it goes into. */
  onQueued: (restore: Restore, into: string) => void;
}

export function PitrRestoreDialog({ source, window, onClose, onQueued }: Props) {
  const sources = useListApi<Source>('/api/sources', null);
  const all = sources.rows ?? [];
  const databases = databasesOf(source);
  const form = useForm<PitrRestoreChoice>(
    () => ({ moment: window.latest ? toLocalInput(window.latest) : '', database: databases[0] ?? '', target: 'new', newDatabase: '', sourceId: '', confirm: '' }),
    (choice) => pitrRestoreProblems(choice, all),
    fieldOf,
  );
  const choice = form.form;
  const into = targetDatabaseOf(choice, all);
  const ready = !!into && choice.confirm === into && Object.keys(pitrRestoreProblems(choice, all)).length === 0;

  const restore = async () => {
    if (!ready) return;
    let queued: Restore | null = null;
    const ok = await form.submit(async (values) => {
      queued = await apiSend<Restore>('POST', `/api/sources/${source.id}/pitr/restore`, pitrRestoreRequest(values, all));
    });
    if (ok && queued) onQueued(queued, into);
  };

  return (
    <FormDialog title={`Restore ${source.name} to a moment`} id="pitr-restore-form" submitLabel="Restore to this moment" danger form={form} ready={ready} onSubmit={restore} onClose={onClose} autoComplete="off">
      <FormInput
        form={form}
        field="moment"
        id="pitr-moment"
        label={`Moment, to the second (${viewerZone()})`}
        type="datetime-local"
        step={1}
        hint={
          window.earliest ? (
            <span data-testid="pitr-restorable">
              Restorable from <Time at={window.earliest} seconds absoluteOnly /> to <Time at={window.latest} seconds absoluteOnly />
            </span>
          ) : (
            'No restorable moment yet.'
          )
        }
      />
      <FormInput form={form} field="database" id="pitr-database" label="Database, as it was then" list="pitr-databases" spellCheck={false} />
      <datalist id="pitr-databases">
        {databases.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <TargetFields form={form} source={source} sources={all} />
      <p className="warning">
        {choice.target === 'new'
          ? 'The database is created on the source’s server; one that exists with that name is replaced, after a safety backup.'
          : 'The source’s database is replaced, after a safety backup.'}
      </p>
      <FormConfirmInput form={form} field="confirm" id="pitr-confirm" expected={into} shown={into || 'the target database'} />
    </FormDialog>
  );
}

function TargetFields({ form, source, sources }: { form: FormState<PitrRestoreChoice>; source: Source; sources: Source[] }) {
  const { target } = form.form;
  const radio = (value: PitrRestoreChoice['target'], label: string) => (
    <label className="check">
      <input type="radio" name="pitr-target" value={value} checked={target === value} onChange={() => form.set('target', value)} /> {label}
    </label>
  );
  return (
    <fieldset className="fieldset">
      <legend>Restore into</legend>
      {radio('new', `A new database on ${source.name}'s server`)}
      {target === 'new' ? (
        <div className="nested">
          <FormInput form={form} field="newDatabase" id="pitr-new-database" label="New database name" spellCheck={false} />
        </div>
      ) : null}
      {radio('source', 'An existing source (its own database)')}
      {target === 'source' ? (
        <div className="nested">
          <FormSelect form={form} field="sourceId" id="pitr-target-source" label="Target source">
            <PickOptions items={sources.filter((s) => s.kind === 'postgres')} none="Pick a source…" note={(s) => (s.id === source.id ? ' (this source itself)' : '')} />
          </FormSelect>
        </div>
      ) : null}
    </fieldset>
  );
}
