// Restoring overwrites what is there, so the operator types the backup's name and picks what to
// restore and where (RestoreRequest in the API):
// - the database: into the database it came from, into another source (its own database or a new
//   one by name on its server), or into a new database on the backup's own server;
// - the archived files: into a directory (the archived paths are recreated under it);
// - a bucket backup's objects: into a bucket source, under a prefix.
import { useState, type FormEvent } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { Backup, Restore, Source } from '../api/types';
import { Button } from '../components/Button';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { useToast } from '../components/Toasts';
import { useApi } from '../hooks/usePolling';
import { restoreProblems, restoreRequest, type RestoreChoice } from '../lib/restore-rules';

interface Props {
  backup: Backup;
  onClose: () => void;
  /** With the restore and where it goes, in words. */
  onRestored: (restore: Restore, into: string) => void;
}

export function RestoreDialog({ backup, onClose, onRestored }: Props) {
  const toast = useToast();
  const sources = useApi<{ items: Source[] }>('/api/sources', null);
  const kinds = new Set((backup.artifacts ?? []).map((a) => a.kind));
  const artifacts = (['database', 'files', 'bucket'] as const).filter((kind) => kinds.has(kind));
  const [choice, setChoice] = useState<RestoreChoice>(() => ({
    artifact: artifacts[0] ?? 'database',
    target: backup.sourceId ? 'same' : 'source',
    sourceId: '',
    database: '',
    path: '',
    bucketSourceId: backup.sourceId ?? '',
    prefix: '',
  }));
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<string | null>(null);
  const [touched, setTouched] = useState<Set<string>>(new Set());

  const all = sources.data?.items ?? [];
  const otherDatabases = all.filter((s) => s.kind === 'postgres' && s.id !== backup.sourceId);
  const buckets = all.filter((s) => s.kind === 's3');
  const problems = restoreProblems(choice);
  const shown = (field: keyof typeof problems) => (touched.has(field) ? problems[field] : undefined);
  const ready = confirm === backup.name && Object.keys(problems).length === 0;
  const update = (change: Partial<RestoreChoice>) => {
    setChoice((current) => ({ ...current, ...change }));
    setTouched((current) => new Set([...current, ...Object.keys(change)]));
    setApiError(null);
  };

  const sourceName = (id: string) => all.find((s) => s.id === id)?.name ?? 'the chosen source';
  const into = (): string => {
    if (choice.artifact === 'files') return choice.path.trim();
    if (choice.artifact === 'bucket') return `${sourceName(choice.bucketSourceId)}${choice.prefix.trim() ? `/${choice.prefix.trim()}` : ''}`;
    if (choice.target === 'new') return choice.database;
    if (choice.target === 'source') return choice.database || sourceName(choice.sourceId);
    return backup.sourceName;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setApiError(null);
    try {
      const restore = await apiSend<Restore>('POST', `/api/backups/${backup.id}/restore`, restoreRequest(choice, confirm));
      onRestored(restore, restore.targetDatabase && choice.artifact === 'database' && choice.target === 'same' ? restore.targetDatabase : into());
    } catch (error) {
      const message = error instanceof ApiError ? error.message : (error as Error).message;
      setApiError(message);
      toast.error(message);
      setBusy(false);
    }
  };

  const warning =
    choice.artifact === 'files'
      ? 'The archived files are recreated under this directory (created when missing); files already there with the same paths are replaced. Nothing is written outside it.'
      : choice.artifact === 'bucket'
        ? 'The objects are put into the bucket of the chosen source, under the prefix; objects already there with the same keys are replaced.'
        : choice.target === 'new'
          ? 'The backup is restored into the database of that name, created when it does not exist (one that exists is replaced, after a safety backup).'
          : choice.target === 'source' && choice.database
            ? `The backup is restored into database ${choice.database} on that source's server, created when it does not exist (one that exists is replaced, after a safety backup).`
            : "Restoring replaces the target database's contents. A safety backup of the target is taken first.";

  return (
    <Dialog
      title={`Restore ${backup.name}`}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button variant="danger" type="submit" form="restore-form" busy={busy} disabled={!ready}>
            Restore
          </Button>
        </>
      }
    >
      <form id="restore-form" className="form" onSubmit={submit} noValidate>
        {artifacts.length > 1 ? (
          <fieldset className="fieldset">
            <legend>What to restore</legend>
            {artifacts.map((kind) => (
              <label key={kind} className="check">
                <input type="radio" name="artifact" value={kind} checked={choice.artifact === kind} onChange={() => update({ artifact: kind })} />{' '}
                {kind === 'database' ? 'The database' : kind === 'files' ? `The files archived beside it${backup.filesCount ? ` (${backup.filesCount})` : ''}` : "The bucket's objects"}
              </label>
            ))}
          </fieldset>
        ) : null}
        <p className="warning">{warning}</p>

        {choice.artifact === 'database' ? (
          <fieldset className="fieldset">
            <legend>Restore into</legend>
            {backup.sourceId ? (
              <label className="check">
                <input type="radio" name="target" value="same" checked={choice.target === 'same'} onChange={() => update({ target: 'same' })} /> The database it came from (
                {backup.sourceName})
              </label>
            ) : null}
            <label className="check">
              <input type="radio" name="target" value="source" checked={choice.target === 'source'} onChange={() => update({ target: 'source' })} disabled={otherDatabases.length === 0} />{' '}
              Another source
              {otherDatabases.length === 0 ? <span className="muted small"> (there is no other PostgreSQL source)</span> : null}
            </label>
            {choice.target === 'source' ? (
              <div className="nested">
                <Field label="Source" id="restore-source" error={shown('sourceId')}>
                  <select id="restore-source" value={choice.sourceId} onChange={(e) => update({ sourceId: e.target.value })} {...invalid(shown('sourceId'), 'restore-source')}>
                    <option value="">Pick a source…</option>
                    {otherDatabases.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label="Database (empty: the source's own)" id="restore-database" error={shown('database')}>
                  <input id="restore-database" spellCheck={false} value={choice.database} onChange={(e) => update({ database: e.target.value })} {...invalid(shown('database'), 'restore-database')} />
                </Field>
              </div>
            ) : null}
            {backup.sourceId ? (
              <label className="check">
                <input type="radio" name="target" value="new" checked={choice.target === 'new'} onChange={() => update({ target: 'new' })} /> A new database on {backup.sourceName}'s server
              </label>
            ) : null}
            {choice.target === 'new' ? (
              <div className="nested">
                <Field label="Database name" id="restore-database" error={shown('database')}>
                  <input id="restore-database" spellCheck={false} value={choice.database} onChange={(e) => update({ database: e.target.value })} {...invalid(shown('database'), 'restore-database')} />
                </Field>
              </div>
            ) : null}
          </fieldset>
        ) : null}

        {choice.artifact === 'files' ? (
          <Field label="Directory to restore the files into (absolute path)" id="restore-path" error={shown('path')}>
            <input id="restore-path" spellCheck={false} placeholder="/srv/restored" value={choice.path} onChange={(e) => update({ path: e.target.value })} {...invalid(shown('path'), 'restore-path')} />
          </Field>
        ) : null}

        {choice.artifact === 'bucket' ? (
          <div className="form-row">
            <Field label="Into the bucket of" id="restore-bucket" error={shown('bucketSourceId')}>
              <select id="restore-bucket" value={choice.bucketSourceId} onChange={(e) => update({ bucketSourceId: e.target.value })} {...invalid(shown('bucketSourceId'), 'restore-bucket')}>
                <option value="">Pick a bucket source…</option>
                {buckets.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                    {s.id === backup.sourceId ? ' (where it came from)' : ''}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Prefix (empty: the source's own)" id="restore-prefix" error={shown('prefix')}>
              <input id="restore-prefix" spellCheck={false} placeholder="restored/" value={choice.prefix} onChange={(e) => update({ prefix: e.target.value })} {...invalid(shown('prefix'), 'restore-prefix')} />
            </Field>
          </div>
        ) : null}

        <div className="field">
          <label htmlFor="restore-confirm">
            Type <strong className="mono break">{backup.name}</strong> to confirm
          </label>
          <input id="restore-confirm" data-autofocus autoComplete="off" spellCheck={false} value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          {confirm && confirm !== backup.name ? <span className="field-hint">The name does not match yet.</span> : null}
        </div>
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
