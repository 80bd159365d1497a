// The databases and buckets coffre backs up: a connection test for operators; add, edit and remove for admins.
import { useState } from 'react';
import { apiSend } from '../api/client';
import type { SourceView as Source } from '@coffre/contract';
import { useAuth } from '../auth';
import { Button } from '../components/Button';
import { Card, ProbeButton, ProbeResult } from '../components/Card';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { Page } from '../components/Page';
import { ListStates } from '../components/States';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useListApi } from '../hooks/useList';
import { useProbe } from '../hooks/useProbe';
import { formatDateTime } from '../lib/format';
import { SourceFormDialog } from './SourceFormDialog';
import { SourceScopeSummary, sourceScopeLabel } from './SourceScopeFields';
import { PitrDialog } from './pitr/PitrDialog';

interface TestOutcome {
  ok: boolean;
  serverVersion?: string;
  message: string;
}

export function SourcesPage() {
  const { can } = useAuth();
  const sources = useListApi<Source>('/api/sources');
  // null: the add form; a source: its edit form.
  const [editing, setEditing] = useState<Source | null | undefined>(undefined);
  const [pitrOf, setPitrOf] = useState<Source | null>(null);
  const removal = useConfirmedAction<Source>((source) => apiSend('DELETE', `/api/sources/${source.id}`), (source) => `${source.name} is removed.`, sources.reload);
  const connection = useProbe((source: Source) => apiSend<TestOutcome>('POST', `/api/sources/${source.id}/test`), (outcome) => outcome);

  return (
    <Page title="Sources" action={can('admin') ? { label: 'Add a source', onClick: () => setEditing(null) } : null}>
      <ListStates list={sources} what="sources" empty="No source yet.">
        {(rows) => (
          <div className="cards">
            {rows.map((source) => {
              return (
                <Card
                  key={source.id}
                  testId="source-card"
                  name={source.name}
                  badges={
                    <>
                      <span className="badge">{source.kind}</span>
                      {sourceScopeLabel(source) ? <span className="badge" data-testid="source-scope-badge">{sourceScopeLabel(source)}</span> : null}
                    </>
                  }
                  buttons={
                    <>
                      {can('operator') ? <ProbeButton probe={connection} item={source} /> : null}
                      {source.kind === 'postgres' ? (
                        <Button small aria-label={`Point-in-time recovery of ${source.name}`} onClick={() => setPitrOf(source)}>
                          Point-in-time recovery
                        </Button>
                      ) : null}
                      {can('admin') ? (
                        <>
                          <Button small aria-label={`Edit ${source.name}`} onClick={() => setEditing(source)}>
                            Edit
                          </Button>
                          <Button small variant="danger" aria-label={`Remove ${source.name}`} onClick={() => removal.ask(source)}>
                            Remove
                          </Button>
                        </>
                      ) : null}
                    </>
                  }
                >
                  <p className="mono small break">{source.url}</p>
                  <SourceScopeSummary source={source} />
                  <p className="muted small">Added {formatDateTime(source.createdAt)}</p>
                  <ProbeResult verdict={connection.verdicts[source.id]} testId="source-test-result" />
                </Card>
              );
            })}
          </div>
        )}
      </ListStates>
      {editing !== undefined ? (
        <SourceFormDialog
          source={editing}
          onClose={() => setEditing(undefined)}
          onSaved={async () => {
            setEditing(undefined);
            await sources.reload();
          }}
        />
      ) : null}
      {pitrOf ? <PitrDialog source={pitrOf} onClose={() => setPitrOf(null)} /> : null}
      <ConfirmActionDialog action={removal} title={(source) => `Remove ${source.name}?`} confirmLabel="Remove source" danger>
        {() => <p>Its backups stay in the history. The API refuses while a configuration or a running backup uses it.</p>}
      </ConfirmActionDialog>
    </Page>
  );
}
