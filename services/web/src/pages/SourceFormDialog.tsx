// Add or change a source: a PostgreSQL database or whole server (a connection URL) or a bucket (S3-compatible).
// Secrets are never shown back: on an edit the URL shows masked, and an empty URL, password or key
// keeps what is stored.
import { useCallback } from 'react';
import type { SourceView as Source } from '@coffre/contract';
import { FormCheck, FormInput, FormSecret, FormSelect } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, useSaver, type FormState } from '../hooks/useForm';
import * as rules from '../forms/source';
import { SourceScopeFields } from './SourceScopeFields';

interface Props {
  source: Source | null;
  onClose: () => void;
  onSaved: () => void;
}

export function SourceFormDialog({ source, onClose, onSaved }: Props) {
  const save = useSaver<Source>('/api/sources', source);
  const validate = useCallback((form: rules.SourceForm) => rules.sourceProblems(form, source), [source]);
  const form = useForm(() => rules.sourceForm(source), validate, rules.sourceFieldOfApiPath);
  const ready = source ? true : rules.sourceReady(form.form);

  const submit = async () => {
    if (!ready) return;
    const ok = await form.submit((values) => save(source ? rules.sourceUpdateBody(values, source) : rules.sourceCreateBody(values)));
    if (ok) onSaved();
  };

  return (
    <FormDialog title={source ? `Edit ${source.name}` : 'Add a source'} id="source-form" submitLabel={source ? 'Save' : 'Add'} form={form} ready={ready} onSubmit={submit} onClose={onClose} wide autoComplete="off">
      <div className="form-row">
        <FormInput form={form} field="name" id="source-name" label="Name" data-autofocus spellCheck={false} />
        <FormSelect form={form} field="kind" id="source-kind" label="Kind" hint={source ? 'The kind of a source cannot change.' : undefined} disabled={Boolean(source)}>
          <option value="postgres">PostgreSQL database</option>
          <option value="s3">Bucket (S3-compatible)</option>
        </FormSelect>
      </div>
      {form.form.kind === 'postgres' ? <DatabaseFields form={form} source={source} /> : <BucketFields form={form} source={source} />}
    </FormDialog>
  );
}

function DatabaseFields({ form, source }: { form: FormState<rules.SourceForm>; source: Source | null }) {
  return (
    <>
      <FormInput
        form={form}
        field="url"
        id="source-url"
        label={source ? 'New connection URL (optional)' : 'Connection URL'}
        hint={source ? <>Now <span className="mono break" data-testid="source-url-now">{source.url}</span>; leave empty to keep it.</> : 'Stored encrypted; shown with the password masked.'}
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="postgresql://user:password@host:5432/database"
      />
      {source ? <FormSecret form={form} field="password" id="source-password" label="New password (optional)" stored hint="Leave empty to keep the stored password; a new one goes into the URL." /> : null}
      <SourceScopeFields form={form} />
    </>
  );
}

function BucketFields({ form, source }: { form: FormState<rules.SourceForm>; source: Source | null }) {
  const keep = source ? 'Leave empty to keep it.' : undefined;
  return (
    <fieldset className="fieldset">
      <legend>Bucket{source ? <span className="muted small"> (now {source.url}; empty fields keep what is stored)</span> : null}</legend>
      <div className="form-row">
        <FormInput form={form} field="endpoint" id="source-endpoint" label="Endpoint (empty for AWS)" type="url" spellCheck={false} placeholder="https://minio.example.com:9000" />
        <FormInput form={form} field="region" id="source-region" label="Region" spellCheck={false} placeholder={source ? '(kept)' : ''} />
      </div>
      <div className="form-row">
        <FormInput form={form} field="bucket" id="source-bucket" label="Bucket" spellCheck={false} placeholder={source ? '(kept)' : ''} />
        <FormInput form={form} field="prefix" id="source-prefix" label="Prefix (optional)" spellCheck={false} placeholder="uploads/" />
      </div>
      <div className="form-row">
        <FormInput form={form} field="accessKeyId" id="source-key" label="Access key id" hint={keep} spellCheck={false} placeholder={source ? '(kept)' : ''} />
        <FormSecret form={form} field="secretAccessKey" id="source-secret" label="Secret access key" stored={Boolean(source)} hint={keep ?? 'Stored encrypted; never shown again.'} />
      </div>
      <FormCheck form={form} field="forcePathStyle">
        <span>Path-style addressing (MinIO and most self-hosted services)</span>
      </FormCheck>
    </fieldset>
  );
}
