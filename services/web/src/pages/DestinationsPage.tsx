// Where artifacts go: local directories and S3 buckets, what each holds, how full its disk is, a
// write test for operators, and for admins: add, edit, delete (refused by the API while artifacts
// remain: its sentence is shown) and set as default. Shown when the API has the destinations routes.
import { useState } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { Destination, SystemInfo } from '../api/types';
import { useAuth } from '../auth';
import { useCapabilities, useOptionalRoute } from '../capabilities';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Empty, LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { DestinationUsageItem } from '../components/DestinationUsage';
import { DestinationFormDialog } from './DestinationFormDialog';

export function DestinationsPage() {
  const { can } = useAuth();
  const toast = useToast();
  const { loaded } = useCapabilities();
  const available = useOptionalRoute('get', '/api/destinations');
  const testable = useOptionalRoute('post', '/api/destinations/{id}/test');
  const withSystem = useOptionalRoute('get', '/api/system');
  const { data, error, reload } = useApi<{ items: Destination[] }>(available ? '/api/destinations' : null, 10_000);
  const system = useApi<SystemInfo>(withSystem ? '/api/system' : null, 15_000);
  const [testing, setTesting] = useState<string | null>(null);
  const [results, setResults] = useState<Record<string, { ok: boolean; message: string }>>({});
  const [editing, setEditing] = useState<Destination | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Destination | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const { busy, run } = useAction();
  const missing = (loaded && !available) || (error instanceof ApiError && error.status === 404);
  const admin = can('admin');

  const test = async (destination: Destination) => {
    setTesting(destination.id);
    try {
      const outcome = await apiSend<{ ok: boolean; message: string }>('POST', `/api/destinations/${destination.id}/test`);
      setResults((all) => ({ ...all, [destination.id]: outcome }));
      if (outcome.ok) toast.success(`${destination.name}: ${outcome.message}`);
      else toast.error(`${destination.name}: ${outcome.message}`);
    } catch (caught) {
      toast.error(caught instanceof ApiError ? caught.message : (caught as Error).message);
    } finally {
      setTesting(null);
    }
  };

  // The API keeps a flag per destination; "the default" here means the only one flagged. The new
  // default is flagged before the others are cleared, so that there is never none.
  const makeDefault = async (destination: Destination) => {
    await run(
      `default-${destination.id}`,
      async () => {
        await apiSend('PUT', `/api/destinations/${destination.id}`, { isDefault: true });
        const others = (data?.items ?? []).filter((d) => d.isDefault && d.id !== destination.id);
        for (const other of others) await apiSend('PUT', `/api/destinations/${other.id}`, { isDefault: false });
      },
      `${destination.name} is the default destination: backups whose configuration names none go there.`,
    );
    await reload();
  };

  return (
    <section className="page">
      <header className="page-header">
        <h1>Destinations</h1>
        {admin && !missing ? (
          <Button variant="primary" onClick={() => setEditing('new')}>
            Add a destination
          </Button>
        ) : null}
      </header>
      {missing ? <Empty>This coffre stores backups in its local backup directory; its API does not list destinations.</Empty> : null}
      {error && !missing && !data ? <LoadError error={error} what="the destinations" /> : null}
      {!data && !error && !missing ? <Loading what="destinations" /> : null}
      {data && data.items.length === 0 ? <Empty>No destination yet.</Empty> : null}
      <div className="cards">
        {data?.items.map((d) => {
          const usage = system.data?.destinations.find((u) => u.id === d.id);
          const result = results[d.id];
          return (
            <article key={d.id} className="card" data-testid="destination-card" data-name={d.name} data-default={d.isDefault}>
              <header className="card-header">
                <h2 className="card-title">{d.name}</h2>
                <span className="card-badges">
                  {d.isDefault ? <span className="badge status-completed">default</span> : null}
                  <span className="badge">{d.kind}</span>
                </span>
              </header>
              <p className="mono small break">{d.location}</p>
              <dl className="facts">
                {Object.entries(d.config)
                  .filter(([field, value]) => field !== 'path' && value !== null && value !== undefined && typeof value !== 'object')
                  .map(([field, value]) => (
                    <Fact key={field} label={field} value={String(value)} />
                  ))}
                {d.kind === 's3' ? <Fact label="credentials" value={d.hasCredentials ? 'stored, sealed' : 'none (from the environment)'} /> : null}
              </dl>
              {usage ? (
                <ul className="plain-list">
                  <DestinationUsageItem destination={usage} inCard />
                </ul>
              ) : null}
              {result ? (
                <p className={result.ok ? 'success-text' : 'form-error'} role="status" data-testid="destination-test-result">
                  {result.ok ? '✓ ' : '✗ '}
                  {result.message}
                </p>
              ) : null}
              {(can('operator') && testable) || admin ? (
                <footer className="card-actions">
                  <span className="card-buttons">
                    {can('operator') && testable ? (
                      <Button small busy={testing === d.id} onClick={() => test(d)}>
                        Test connection
                      </Button>
                    ) : null}
                    {admin && !d.isDefault ? (
                      <Button small busy={busy === `default-${d.id}`} onClick={() => makeDefault(d)}>
                        Set as default
                      </Button>
                    ) : null}
                    {admin ? (
                      <>
                        <Button small onClick={() => setEditing(d)}>
                          Edit
                        </Button>
                        <Button small variant="danger" onClick={() => setDeleting(d)}>
                          Delete
                        </Button>
                      </>
                    ) : null}
                  </span>
                </footer>
              ) : null}
            </article>
          );
        })}
      </div>
      {editing ? (
        <DestinationFormDialog
          destination={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async (saved, asDefault) => {
            setEditing(null);
            if (asDefault) await makeDefault(saved);
            else await reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete destination"
          danger
          busy={busy === 'delete'}
          error={deleteError}
          onClose={() => {
            setDeleting(null);
            setDeleteError(null);
          }}
          onConfirm={async () => {
            const outcome = await run('delete', () => apiSend('DELETE', `/api/destinations/${deleting.id}`), `${deleting.name} is deleted.`);
            if (outcome.ok) {
              setDeleting(null);
              setDeleteError(null);
            } else setDeleteError(outcome.error.message);
            await reload();
          }}
        >
          <p>
            coffre forgets <span className="mono break">{deleting.location}</span>; nothing stored there is touched. The API refuses while backups still keep artifacts there or a
            configuration writes there.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="break">{value}</dd>
    </>
  );
}
