// Add or change a destination: a local directory (an absolute path on the machines that run the
// workers) or an S3-compatible bucket. Credentials are never shown back: on an edit their fields
// start empty and an empty one keeps what is stored.
import { useCallback, type FormEvent } from 'react';
import { apiSend } from '../api/client';
import type { Destination } from '../api/types';
import { Button } from '../components/Button';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { useToast } from '../components/Toasts';
import { useForm } from '../hooks/useForm';
import {
  destinationCreateBody,
  destinationFieldOfApiPath,
  destinationUpdateBody,
  emptyDestinationForm,
  formFromDestination,
  validateDestination,
  type DestinationForm,
} from '../lib/destination-rules';

interface Props {
  destination: Destination | null;
  onClose: () => void;
  /** Called with the saved destination (the page makes it the only default when asked). */
  onSaved: (saved: Destination, makeDefault: boolean) => void;
}

export function DestinationFormDialog({ destination, onClose, onSaved }: Props) {
  const toast = useToast();
  const validate = useCallback((form: DestinationForm) => validateDestination(form, destination), [destination]);
  const { form, set, shown, apiError, saving, submit } = useForm(
    () => (destination ? formFromDestination(destination) : emptyDestinationForm()),
    validate,
    destinationFieldOfApiPath,
  );
  const save = async (event: FormEvent) => {
    event.preventDefault();
    let saved = null as Destination | null;
    const ok = await submit(async (values) => {
      // The default flag is the page's business (it keeps a single default); here it is left as it is.
      const body = destination ? { ...destinationUpdateBody(values), isDefault: destination.isDefault } : { ...destinationCreateBody(values), isDefault: false };
      saved = destination
        ? await apiSend<Destination>('PUT', `/api/destinations/${destination.id}`, body)
        : await apiSend<Destination>('POST', '/api/destinations', body);
      toast.success(destination ? `${saved.name} is saved.` : `${saved.name} is added.`);
    });
    if (ok && saved) onSaved(saved, !destination?.isDefault && form.isDefault);
  };

  const keeps = Boolean(destination?.hasCredentials);
  return (
    <Dialog
      title={destination ? `Edit ${destination.name}` : 'Add a destination'}
      onClose={onClose}
      wide
      busy={saving}
      footer={
        <>
          <Button onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="destination-form" busy={saving}>
            {destination ? 'Save' : 'Add destination'}
          </Button>
        </>
      }
    >
      <form id="destination-form" className="form" onSubmit={save} noValidate autoComplete="off">
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
        <div className="form-row">
          <Field label="Name" id="dest-name" error={shown('name')}>
            <input id="dest-name" data-autofocus spellCheck={false} value={form.name} onChange={(e) => set('name', e.target.value)} {...invalid(shown('name'), 'dest-name')} />
          </Field>
          <Field label="Kind" id="dest-kind" hint={destination ? 'The kind of a destination cannot change.' : undefined}>
            <select id="dest-kind" value={form.kind} disabled={Boolean(destination)} onChange={(e) => set('kind', e.target.value as DestinationForm['kind'])}>
              <option value="local">Local directory</option>
              <option value="s3">S3-compatible bucket</option>
            </select>
          </Field>
        </div>
        {form.kind === 'local' ? (
          <Field label="Directory (absolute path)" id="dest-path" error={shown('path')} hint="On the machines that run the workers; created when missing.">
            <input id="dest-path" spellCheck={false} placeholder="/srv/backups/coffre" value={form.path} onChange={(e) => set('path', e.target.value)} {...invalid(shown('path'), 'dest-path')} />
          </Field>
        ) : (
          <fieldset className="fieldset">
            <legend>Bucket</legend>
            <div className="form-row">
              <Field label="Endpoint (empty for AWS)" id="dest-endpoint" error={shown('endpoint')}>
                <input
                  id="dest-endpoint"
                  type="url"
                  spellCheck={false}
                  placeholder="https://minio.example.com:9000"
                  value={form.endpoint}
                  onChange={(e) => set('endpoint', e.target.value)}
                  {...invalid(shown('endpoint'), 'dest-endpoint')}
                />
              </Field>
              <Field label="Region" id="dest-region" error={shown('region')}>
                <input id="dest-region" spellCheck={false} value={form.region} onChange={(e) => set('region', e.target.value)} {...invalid(shown('region'), 'dest-region')} />
              </Field>
            </div>
            <div className="form-row">
              <Field label="Bucket" id="dest-bucket" error={shown('bucket')}>
                <input id="dest-bucket" spellCheck={false} value={form.bucket} onChange={(e) => set('bucket', e.target.value)} {...invalid(shown('bucket'), 'dest-bucket')} />
              </Field>
              <Field label="Prefix (optional)" id="dest-prefix" error={shown('prefix')}>
                <input id="dest-prefix" spellCheck={false} placeholder="coffre/" value={form.prefix} onChange={(e) => set('prefix', e.target.value)} {...invalid(shown('prefix'), 'dest-prefix')} />
              </Field>
            </div>
            <div className="form-row">
              <Field label="Access key id" id="dest-key" error={shown('accessKeyId')} hint={keeps ? 'Stored: leave empty to keep it.' : undefined}>
                <input
                  id="dest-key"
                  spellCheck={false}
                  placeholder={keeps ? '(kept)' : ''}
                  value={form.accessKeyId}
                  onChange={(e) => set('accessKeyId', e.target.value)}
                  {...invalid(shown('accessKeyId'), 'dest-key')}
                />
              </Field>
              <Field label="Secret access key" id="dest-secret" error={shown('secretAccessKey')} hint={keeps ? 'Stored: leave empty to keep it.' : 'Stored encrypted; never shown again.'}>
                <input
                  id="dest-secret"
                  type="password"
                  autoComplete="new-password"
                  placeholder={keeps ? '•••••••• (kept)' : ''}
                  value={form.secretAccessKey}
                  onChange={(e) => set('secretAccessKey', e.target.value)}
                  {...invalid(shown('secretAccessKey'), 'dest-secret')}
                />
              </Field>
            </div>
            <div className="form-row">
              <Field label="Server-side encryption" id="dest-sse" error={shown('serverSideEncryption')}>
                <select
                  id="dest-sse"
                  value={form.serverSideEncryption}
                  onChange={(e) => set('serverSideEncryption', e.target.value as DestinationForm['serverSideEncryption'])}
                  {...invalid(shown('serverSideEncryption'), 'dest-sse')}
                >
                  <option value="">None asked</option>
                  <option value="AES256">AES256 (keys managed by the service)</option>
                  <option value="aws:kms">aws:kms</option>
                </select>
              </Field>
            </div>
            <label className="check">
              <input type="checkbox" checked={form.forcePathStyle} onChange={(e) => set('forcePathStyle', e.target.checked)} />
              <span>Path-style addressing (MinIO and most self-hosted services)</span>
            </label>
          </fieldset>
        )}
        {destination?.isDefault ? null : (
          <label className="check">
            <input type="checkbox" checked={form.isDefault} onChange={(e) => set('isDefault', e.target.checked)} /> Make it the default destination (of backups whose
            configuration names none)
          </label>
        )}
      </form>
    </Dialog>
  );
}
