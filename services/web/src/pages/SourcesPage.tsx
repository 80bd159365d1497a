// The databases coffre backs up: a connection test for operators; add and remove for admins.
import { useState, type FormEvent } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { Source } from '../api/types';
import { useAuth } from '../auth';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { Empty, LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { formatDateTime } from '../lib/format';

interface TestOutcome {
  ok: boolean;
  serverVersion?: string;
  message: string;
}

export function SourcesPage() {
  const { can } = useAuth();
  const toast = useToast();
  const { data, error, reload } = useApi<{ items: Source[] }>('/api/sources', 10_000);
  const [results, setResults] = useState<Record<string, TestOutcome>>({});
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Source | null>(null);
  const { busy, run } = useAction();
  const [testing, setTesting] = useState<string | null>(null);

  const test = async (source: Source) => {
    setTesting(source.id);
    try {
      const outcome = await apiSend<TestOutcome>('POST', `/api/sources/${source.id}/test`);
      setResults((all) => ({ ...all, [source.id]: outcome }));
      if (outcome.ok) toast.success(`${source.name}: ${outcome.message}`);
      else toast.error(`${source.name}: ${outcome.message}`);
    } catch (caught) {
      toast.error(caught instanceof ApiError ? caught.message : (caught as Error).message);
    } finally {
      setTesting(null);
    }
  };

  return (
    <section className="page">
      <header className="page-header">
        <h1>Sources</h1>
        {can('admin') ? (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add a source
          </Button>
        ) : null}
      </header>
      {error && !data ? <LoadError error={error} what="the sources" /> : null}
      {!data && !error ? <Loading what="sources" /> : null}
      {data && data.items.length === 0 ? <Empty>No source yet.</Empty> : null}
      <div className="cards">
        {data?.items.map((source) => {
          const result = results[source.id];
          return (
            <article key={source.id} className="card" data-testid="source-card" data-name={source.name}>
              <header className="card-header">
                <h2 className="card-title">{source.name}</h2>
                <span className="badge">{source.kind}</span>
              </header>
              <p className="mono small break">{source.url}</p>
              <p className="muted small">Added {formatDateTime(source.createdAt)}</p>
              {result ? (
                <p className={result.ok ? 'success-text' : 'form-error'} role="status" data-testid="source-test-result">
                  {result.ok ? '✓ ' : '✗ '}
                  {result.message}
                </p>
              ) : null}
              <footer className="card-actions">
                <span className="card-buttons">
                  {can('operator') ? (
                    <Button small busy={testing === source.id} onClick={() => test(source)}>
                      Test connection
                    </Button>
                  ) : null}
                  {can('admin') ? (
                    <Button small variant="danger" onClick={() => setRemoving(source)}>
                      Remove
                    </Button>
                  ) : null}
                </span>
              </footer>
            </article>
          );
        })}
      </div>
      {adding ? (
        <AddSourceDialog
          onClose={() => setAdding(false)}
          onAdded={async () => {
            setAdding(false);
            await reload();
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${removing.name}?`}
          confirmLabel="Remove source"
          danger
          busy={busy === 'remove'}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            const outcome = await run('remove', () => apiSend('DELETE', `/api/sources/${removing.id}`), `${removing.name} is removed.`);
            if (outcome.ok) setRemoving(null);
            await reload();
          }}
        >
          <p>Its backups stay in the history. The API refuses while a configuration or a running backup uses it.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

const sourceName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function AddSourceDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const toast = useToast();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<string | null>(null);
  const nameProblem = !name.trim()
    ? null
    : name.trim().length > 63
      ? 'Must be at most 63 characters.'
      : !sourceName.test(name.trim())
        ? 'May hold letters, digits, ".", "_" and "-" and must start with a letter or digit.'
        : null;
  const urlProblem = url.trim() && !/^postgres(ql)?:\/\//.test(url.trim()) ? 'Must be a postgresql:// URL.' : null;
  const ready = name.trim() && url.trim() && !nameProblem && !urlProblem;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setApiError(null);
    try {
      const source = await apiSend<Source>('POST', '/api/sources', { name: name.trim(), url: url.trim() });
      toast.success(`${source.name} is added.`);
      onAdded();
    } catch (error) {
      const message = error instanceof ApiError ? error.message : (error as Error).message;
      setApiError(message);
      toast.error(message);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Add a source"
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="source-form" busy={busy} disabled={!ready}>
            Add
          </Button>
        </>
      }
    >
      <form id="source-form" className="form" onSubmit={submit} noValidate>
        <div className={`field${nameProblem ? ' field-invalid' : ''}`}>
          <label htmlFor="source-name">Name</label>
          <input id="source-name" data-autofocus value={name} onChange={(e) => setName(e.target.value)} aria-invalid={Boolean(nameProblem)} />
          {nameProblem ? <span className="field-error">{nameProblem}</span> : null}
        </div>
        <div className={`field${urlProblem ? ' field-invalid' : ''}`}>
          <label htmlFor="source-url">Connection URL</label>
          <input
            id="source-url"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="postgresql://user:password@host:5432/database"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            aria-invalid={Boolean(urlProblem)}
          />
          {urlProblem ? <span className="field-error">{urlProblem}</span> : <span className="field-hint">Stored encrypted; shown with the password masked.</span>}
        </div>
        {apiError ? (
          <p className="form-error" role="alert">
            {apiError}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
