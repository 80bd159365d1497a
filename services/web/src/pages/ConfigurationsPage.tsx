// Backup configurations as cards: the schedule in words, the next run, an active switch, and the
// actions the operator's role allows (run now, edit, duplicate, delete with confirmation).
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { apiSend } from '../api/client';
import type { Backup, Configuration } from '../api/types';
import { useAuth } from '../auth';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Empty, LoadError, Loading } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { describeRetention, formatDateTime, formatRelative } from '../lib/format';
import { ConfigurationFormDialog } from './ConfigurationFormDialog';
import { ConfigurationDetailsDialog } from './ConfigurationDetailsDialog';

export function ConfigurationsPage() {
  const { can } = useAuth();
  const { data, error, reload } = useApi<{ items: Configuration[] }>('/api/configurations');
  const [editing, setEditing] = useState<Configuration | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Configuration | null>(null);
  const { busy, run } = useAction();
  const { id } = useParams();
  const navigate = useNavigate();

  const act = async (key: string, action: () => Promise<unknown>, success: string) => {
    const outcome = await run(key, action, success);
    await reload();
    return outcome;
  };

  return (
    <section className="page">
      <header className="page-header">
        <h1>Configurations</h1>
        {can('admin') ? (
          <Button variant="primary" onClick={() => setEditing('new')}>
            New configuration
          </Button>
        ) : null}
      </header>
      {error && !data ? <LoadError error={error} what="the configurations" /> : null}
      {!data && !error ? <Loading what="configurations" /> : null}
      {data && data.items.length === 0 ? <Empty>No configuration yet{can('admin') ? ': create one to back up on a schedule.' : '.'}</Empty> : null}
      <div className="cards">
        {data?.items.map((c) => (
          <article key={c.id} className={`card${c.active ? '' : ' card-inactive'}`} data-testid="configuration-card" data-name={c.name}>
            <header className="card-header">
              <h2 className="card-title">
                <Link to={`/configurations/${c.id}`} className="card-link">
                  {c.name}
                </Link>
              </h2>
              <TypeBadge type={c.type} />
            </header>
            <p className="schedule">{c.scheduleDescription}</p>
            <dl className="facts">
              <dt>Source</dt>
              <dd>{c.sourceName}</dd>
              <dt>Next run</dt>
              <dd title={formatDateTime(c.nextRunAt)}>{c.nextRunAt ? `${formatRelative(c.nextRunAt)} (${formatDateTime(c.nextRunAt)})` : c.active ? 'Only when run by hand' : 'Inactive'}</dd>
              <dt>Last run</dt>
              <dd>
                {c.lastStatus ? <StatusBadge status={c.lastStatus} /> : null} {c.lastRunAt ? formatRelative(c.lastRunAt) : 'Never'}
              </dd>
              <dt>Retention</dt>
              <dd>{describeRetention(c.retention)}</dd>
            </dl>
            {c.overdue ? <p className="warning">Overdue: no successful backup when one was due.</p> : null}
            <footer className="card-actions">
              <label className={`switch${can('operator') ? '' : ' switch-readonly'}`}>
                <input
                  type="checkbox"
                  role="switch"
                  checked={c.active}
                  disabled={!can('operator') || busy === `active-${c.id}`}
                  aria-label={`${c.name} active`}
                  onChange={() =>
                    act(`active-${c.id}`, () => apiSend('POST', `/api/configurations/${c.id}/${c.active ? 'deactivate' : 'activate'}`), `${c.name} is ${c.active ? 'inactive' : 'active'}.`)
                  }
                />
                <span className="switch-track" aria-hidden="true" />
                <span>{c.active ? 'Active' : 'Inactive'}</span>
              </label>
              <span className="card-buttons">
                {can('operator') ? (
                  <Button
                    small
                    variant="primary"
                    busy={busy === `run-${c.id}`}
                    onClick={() => act(`run-${c.id}`, () => apiSend<Backup>('POST', `/api/configurations/${c.id}/run`), `Backup of ${c.name} is queued.`)}
                  >
                    Run now
                  </Button>
                ) : null}
                {can('admin') ? (
                  <>
                    <Button small onClick={() => setEditing(c)}>
                      Edit
                    </Button>
                    <Button
                      small
                      busy={busy === `dup-${c.id}`}
                      onClick={() => act(`dup-${c.id}`, () => apiSend('POST', `/api/configurations/${c.id}/duplicate`), `${c.name} is duplicated (the copy is inactive).`)}
                    >
                      Duplicate
                    </Button>
                    <Button small variant="danger" onClick={() => setDeleting(c)}>
                      Delete
                    </Button>
                  </>
                ) : null}
              </span>
            </footer>
          </article>
        ))}
      </div>
      {id ? (
        <ConfigurationDetailsDialog
          id={id}
          onClose={() => navigate('/configurations')}
          onEdit={(c) => {
            navigate('/configurations');
            setEditing(c);
          }}
        />
      ) : null}
      {editing ? (
        <ConfigurationFormDialog
          configuration={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete configuration"
          danger
          busy={busy === 'delete'}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            const outcome = await act('delete', () => apiSend('DELETE', `/api/configurations/${deleting.id}`), `${deleting.name} is deleted.`);
            if (outcome.ok) setDeleting(null);
          }}
        >
          <p>Its schedule stops. The backups it made stay in the history until you delete them.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
