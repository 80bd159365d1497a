// The databases coffre backs up: a connection test for operators; add and remove for admins.
import { useCallback, useState } from 'react';
import { apiSend } from '../api/client';
import type { SourceView as Source } from '@coffre/contract';
import { useAuth } from '../auth';
import { Button } from '../components/Button';
import { Card, ProbeButton, ProbeResult } from '../components/Card';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { FormInput } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { Page } from '../components/Page';
import { ListStates } from '../components/States';
import { useToast } from '../components/Toasts';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useForm } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { useProbe } from '../hooks/useProbe';
import { formatDateTime } from '../lib/format';

interface TestOutcome {
  ok: boolean;
  serverVersion?: string;
  message: string;
}

export function SourcesPage() {
  const { can } = useAuth();
  const sources = useListApi<Source>('/api/sources');
  const [adding, setAdding] = useState(false);
  const removal = useConfirmedAction<Source>((source) => apiSend('DELETE', `/api/sources/${source.id}`), (source) => `${source.name} is removed.`, sources.reload);
  const connection = useProbe((source: Source) => apiSend<TestOutcome>('POST', `/api/sources/${source.id}/test`), (outcome) => outcome);

  return (
    <Page title="Sources" action={can('admin') ? { label: 'Add a source', onClick: () => setAdding(true) } : null}>
      <ListStates list={sources} what="sources" empty="No source yet.">
        {(rows) => (
          <div className="cards">
            {rows.map((source) => {
              return (
                <Card
                  key={source.id}
                  testId="source-card"
                  name={source.name}
                  badges={<span className="badge">{source.kind}</span>}
                  buttons={
                    <>
                      {can('operator') ? <ProbeButton probe={connection} item={source} /> : null}
                      {can('admin') ? (
                        <Button small variant="danger" aria-label={`Remove ${source.name}`} onClick={() => removal.ask(source)}>
                          Remove
                        </Button>
                      ) : null}
                    </>
                  }
                >
                  <p className="mono small break">{source.url}</p>
                  <p className="muted small">Added {formatDateTime(source.createdAt)}</p>
                  <ProbeResult verdict={connection.verdicts[source.id]} testId="source-test-result" />
                </Card>
              );
            })}
          </div>
        )}
      </ListStates>
      {adding ? (
        <AddSourceDialog
          onClose={() => setAdding(false)}
          onAdded={async () => {
            setAdding(false);
            await sources.reload();
          }}
        />
      ) : null}
      <ConfirmActionDialog action={removal} title={(source) => `Remove ${source.name}?`} confirmLabel="Remove source" danger>
        {() => <p>Its backups stay in the history. The API refuses while a configuration or a running backup uses it.</p>}
      </ConfirmActionDialog>
    </Page>
  );
}

interface SourceForm {
  name: string;
  url: string;
}

const sourceName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Problems of what is typed; an empty field has none yet (the Add button waits for both). */
function validateSource(form: SourceForm): Partial<SourceForm> {
  const name = form.name.trim();
  const url = form.url.trim();
  const problems: Partial<SourceForm> = {};
  if (name.length > 63) problems.name = 'Must be at most 63 characters.';
  else if (name && !sourceName.test(name)) problems.name = 'May hold letters, digits, ".", "_" and "-" and must start with a letter or digit.';
  if (url && !/^postgres(ql)?:\/\//.test(url)) problems.url = 'Must be a postgresql:// URL.';
  return problems;
}

function AddSourceDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const toast = useToast();
  const validate = useCallback(validateSource, []);
  const form = useForm<SourceForm>(() => ({ name: '', url: '' }), validate, (path) => (path === 'name' || path === 'url' ? path : null));
  const ready = Boolean(form.form.name.trim() && form.form.url.trim() && Object.keys(validate(form.form)).length === 0);

  const add = async () => {
    if (!ready) return;
    const ok = await form.submit(async (values) => {
      const source = await apiSend<Source>('POST', '/api/sources', { name: values.name.trim(), url: values.url.trim() });
      toast.success(`${source.name} is added.`);
    });
    if (ok) onAdded();
  };

  return (
    <FormDialog title="Add a source" id="source-form" submitLabel="Add" form={form} ready={ready} onSubmit={add} onClose={onClose}>
      <FormInput form={form} field="name" id="source-name" label="Name" data-autofocus />
      <FormInput
        form={form}
        field="url"
        id="source-url"
        label="Connection URL"
        hint="Stored encrypted; shown with the password masked."
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="postgresql://user:password@host:5432/database"
      />
    </FormDialog>
  );
}
