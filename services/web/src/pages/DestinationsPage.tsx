// Where artifacts go: local directories and S3 buckets, what each holds, how full its disk is, a
// write test for operators, and for admins: add, edit, delete (refused by the API while artifacts
// remain: its sentence is shown) and set as default. Shown when the API has the destinations routes.
import { useState } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { DestinationView as Destination, SystemReport as SystemInfo } from '@coffre/contract';
import { useAuth } from '../auth';
import { useCapabilities, useOptionalRoute } from '../capabilities';
import { Button } from '../components/Button';
import { Card, EditAndDelete, ProbeButton, ProbeResult } from '../components/Card';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { Fact } from '../components/DetailsDialog';
import { DestinationUsageItem } from '../components/DestinationUsage';
import { Page } from '../components/Page';
import { ListStates } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useListApi } from '../hooks/useList';
import { useApi } from '../hooks/usePolling';
import { useProbe } from '../hooks/useProbe';
import { DestinationFormDialog } from './DestinationFormDialog';

export function DestinationsPage() {
  const { can } = useAuth();
  const { loaded } = useCapabilities();
  const available = useOptionalRoute('get', '/api/destinations');
  const testable = useOptionalRoute('post', '/api/destinations/{id}/test');
  const withSystem = useOptionalRoute('get', '/api/system');
  const destinations = useListApi<Destination>(available ? '/api/destinations' : null);
  const system = useApi<SystemInfo>(withSystem ? '/api/system' : null);
  const [editing, setEditing] = useState<Destination | 'new' | null>(null);
  const removal = useConfirmedAction<Destination>((d) => apiSend('DELETE', `/api/destinations/${d.id}`), (d) => `${d.name} is deleted.`, destinations.reload);
  const connection = useProbe((d: Destination) => apiSend<{ ok: boolean; message: string }>('POST', `/api/destinations/${d.id}/test`), (outcome) => outcome);
  const { busy, run } = useAction();
  const missing = (loaded && !available) || (destinations.error instanceof ApiError && destinations.error.status === 404);
  const admin = can('admin');
  const tester = can('operator') && testable;

  // The API keeps a flag per destination; "the default" here means the only one flagged. The new
  // default is flagged before the others are cleared, so that there is never none.
  const makeDefault = async (destination: Destination) => {
    await run(
      `default-${destination.id}`,
      async () => {
        await apiSend('PUT', `/api/destinations/${destination.id}`, { isDefault: true });
        const others = (destinations.rows ?? []).filter((d) => d.isDefault && d.id !== destination.id);
        for (const other of others) await apiSend('PUT', `/api/destinations/${other.id}`, { isDefault: false });
      },
      `${destination.name} is the default destination: backups whose configuration names none go there.`,
    );
    await destinations.reload();
  };

  const buttonsOf = (d: Destination) =>
    tester || admin ? (
      <>
        {tester ? <ProbeButton probe={connection} item={d} /> : null}
        {admin && !d.isDefault ? (
          <Button small busy={busy === `default-${d.id}`} onClick={() => makeDefault(d)}>
            Set as default
          </Button>
        ) : null}
        {admin ? <EditAndDelete name={d.name} onEdit={() => setEditing(d)} onDelete={() => removal.ask(d)} /> : null}
      </>
    ) : null;

  return (
    <Page title="Destinations" action={admin && !missing ? { label: 'Add a destination', onClick: () => setEditing('new') } : null}>
      <ListStates
        list={missing ? { rows: [] } : destinations}
        what="destinations"
        empty={missing ? 'This coffre stores backups in its local backup directory; its API does not list destinations.' : 'No destination yet.'}
      >
        {(rows) => (
          <div className="cards">
            {rows.map((d) => {
              const usage = system.data?.destinations.find((u) => u.id === d.id);
              return (
                <Card
                  key={d.id}
                  testId="destination-card"
                  name={d.name}
                  data={{ 'data-default': d.isDefault }}
                  badges={
                    <span className="card-badges">
                      {d.isDefault ? <span className="badge status-completed">default</span> : null}
                      <span className="badge">{d.kind}</span>
                    </span>
                  }
                  buttons={buttonsOf(d)}
                >
                  <p className="mono small break">{d.location}</p>
                  <dl className="facts">
                    {Object.entries(d.config)
                      .filter(([field, value]) => field !== 'path' && value !== null && value !== undefined && typeof value !== 'object')
                      .map(([field, value]) => (
                        <Fact key={field} label={field} className="break">
                          {String(value)}
                        </Fact>
                      ))}
                    {d.kind !== 'local' ? (
                      <Fact label="credentials" className="break">
                        {d.hasCredentials ? 'stored, sealed' : 'none (from the environment)'}
                      </Fact>
                    ) : null}
                  </dl>
                  {usage ? (
                    <ul className="plain-list">
                      <DestinationUsageItem destination={usage} inCard />
                    </ul>
                  ) : null}
                  <ProbeResult verdict={connection.verdicts[d.id]} testId="destination-test-result" />
                </Card>
              );
            })}
          </div>
        )}
      </ListStates>
      {editing ? (
        <DestinationFormDialog
          destination={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async (saved, asDefault) => {
            setEditing(null);
            if (asDefault) await makeDefault(saved);
            else await destinations.reload();
          }}
        />
      ) : null}
      <ConfirmActionDialog action={removal} title={(d) => `Delete ${d.name}?`} confirmLabel="Delete destination" danger>
        {(d) => (
          <p>
            coffre forgets <span className="mono break">{d.location}</span>; nothing stored there is touched. The API refuses while backups still keep artifacts there or a configuration
            writes there.
          </p>
        )}
      </ConfirmActionDialog>
    </Page>
  );
}

