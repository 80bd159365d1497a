// Backup configurations as cards: the schedule in words, the next run, an active switch, and the
// actions the operator's role allows (run now, edit, duplicate, delete with confirmation).
import { Suspense, lazy, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { apiSend } from '../api/client';
import type { BackupView as Backup, ConfigurationDetails as Configuration } from '@coffre/contract';
import { useAuth } from '../auth';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { Card, EditAndDelete, Switch } from '../components/Card';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { Fact } from '../components/DetailsDialog';
import { Page } from '../components/Page';
import { ListStates } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useListApi } from '../hooks/useList';
import { describeNextRun, describeRetention, formatDateTime, formatRelative } from '../lib/format';
import { ConfigurationDetailsDialog } from './ConfigurationDetailsDialog';
import { cronInWords } from '../lib/cron-words';

// The form (the contract's schemas, cron-parser) is loaded when it is first opened.
const ConfigurationFormDialog = lazy(() => import('./ConfigurationFormDialog').then((m) => ({ default: m.ConfigurationFormDialog })));

export function ConfigurationsPage() {
  const { can } = useAuth();
  const configurations = useListApi<Configuration>('/api/configurations');
  const [editing, setEditing] = useState<Configuration | 'new' | null>(null);
  const removal = useConfirmedAction<Configuration>((c) => apiSend('DELETE', `/api/configurations/${c.id}`), (c) => `${c.name} is deleted.`, configurations.reload);
  const { busy, run } = useAction();
  const { id } = useParams();
  const navigate = useNavigate();

  const act = async (key: string, action: () => Promise<unknown>, success: string) => {
    await run(key, action, success);
    await configurations.reload();
  };

  const buttonsOf = (c: Configuration) => (
    <>
      {can('operator') ? (
        <Button small variant="primary" busy={busy === `run-${c.id}`} aria-label={`Run now: ${c.name}`} onClick={() => act(`run-${c.id}`, () => apiSend<Backup>('POST', `/api/configurations/${c.id}/run`), `Backup of ${c.name} is queued.`)}>
          Run now
        </Button>
      ) : null}
      {can('admin') ? (
        <EditAndDelete name={c.name} onEdit={() => setEditing(c)} onDelete={() => removal.ask(c)}>
          <Button small busy={busy === `dup-${c.id}`} aria-label={`Duplicate ${c.name}`} onClick={() => act(`dup-${c.id}`, () => apiSend('POST', `/api/configurations/${c.id}/duplicate`), `${c.name} is duplicated (the copy is inactive).`)}>
            Duplicate
          </Button>
        </EditAndDelete>
      ) : null}
    </>
  );

  return (
    <Page title="Configurations" action={can('admin') ? { label: 'New configuration', onClick: () => setEditing('new') } : null}>
      <ListStates list={configurations} what="configurations" empty={`No configuration yet${can('admin') ? ': create one to back up on a schedule.' : '.'}`}>
        {(rows) => (
          <div className="cards">
            {rows.map((c) => (
              <Card
                key={c.id}
                testId="configuration-card"
                name={c.name}
                title={
                  <Link to={`/configurations/${c.id}`} className="card-link">
                    {c.name}
                  </Link>
                }
                badges={<TypeBadge type={c.type} />}
                inactive={!c.active}
                toggle={
                  <Switch
                    checked={c.active}
                    label={`${c.name} active`}
                    readOnly={!can('operator')}
                    disabled={busy === `active-${c.id}`}
                    onChange={() => act(`active-${c.id}`, () => apiSend('POST', `/api/configurations/${c.id}/${c.active ? 'deactivate' : 'activate'}`), `${c.name} is ${c.active ? 'inactive' : 'active'}.`)}
                  >
                    {c.active ? 'Active' : 'Inactive'}
                  </Switch>
                }
                buttons={buttonsOf(c)}
              >
                <p className="schedule">{c.scheduleDescription}</p>
                {c.schedule.kind === 'cron' && c.schedule.cron ? <p className="muted small">{cronInWords(c.schedule.cron)}</p> : null}
                <dl className="facts">
                  <Fact label="Source">{c.sourceName}</Fact>
                  <Fact label="Next run" title={formatDateTime(c.nextRunAt)}>
                    {describeNextRun(c)}
                  </Fact>
                  <Fact label="Last run">
                    {c.lastStatus ? <StatusBadge status={c.lastStatus} /> : null} {c.lastRunAt ? formatRelative(c.lastRunAt) : 'Never'}
                  </Fact>
                  <Fact label="Retention">{describeRetention(c.retention)}</Fact>
                </dl>
                {c.overdue ? <p className="warning">Overdue: no successful backup when one was due.</p> : null}
              </Card>
            ))}
          </div>
        )}
      </ListStates>
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
        <Suspense fallback={null}>
        <ConfigurationFormDialog
          configuration={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await configurations.reload();
          }}
        />
        </Suspense>
      ) : null}
      <ConfirmActionDialog action={removal} title={(c) => `Delete ${c.name}?`} confirmLabel="Delete configuration" danger>
        {() => <p>Its schedule stops. The backups it made stay in the history until you delete them.</p>}
      </ConfirmActionDialog>
    </Page>
  );
}
