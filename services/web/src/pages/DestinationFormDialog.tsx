// Add or change a destination: a local directory (an absolute path on the machines that run the
// workers) or an S3-compatible bucket. Credentials are never shown back: on an edit their fields
// start empty and an empty one keeps what is stored.
import { useCallback } from 'react';
import type { DestinationView as Destination } from '@coffre/contract';
import { FormCheck, FormInput, FormSecret, FormSelect } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, useSaver, type FormState } from '../hooks/useForm';
import * as rules from '../forms/destination';

interface Props {
  destination: Destination | null;
  onClose: () => void;
  /** Called with the saved destination (the page makes it the only default when asked). */
  onSaved: (saved: Destination, makeDefault: boolean) => void;
}

export function DestinationFormDialog({ destination, onClose, onSaved }: Props) {
  const saveDestination = useSaver<Destination>('/api/destinations', destination);
  const validate = useCallback((form: rules.DestinationForm) => rules.destinationProblems(form, destination), [destination]);
  const form = useForm(() => (destination ? rules.formFromDestination(destination) : rules.emptyDestinationForm()), validate, rules.destinationFieldOfApiPath);

  const save = async () => {
    let saved = null as Destination | null;
    const ok = await form.submit(async (values) => {
      // The default flag is the page's business (it keeps a single default); here it is left as it is.
      const body = destination ? { ...rules.destinationUpdateBody(values), isDefault: destination.isDefault } : { ...rules.destinationCreateBody(values), isDefault: false };
      saved = await saveDestination(body);
    });
    if (ok && saved) onSaved(saved, !destination?.isDefault && form.form.isDefault);
  };

  return (
    <FormDialog title={destination ? `Edit ${destination.name}` : 'Add a destination'} id="destination-form" submitLabel={destination ? 'Save' : 'Add destination'} form={form} onSubmit={save} onClose={onClose} wide autoComplete="off">
      <div className="form-row">
        <FormInput form={form} field="name" id="dest-name" label="Name" data-autofocus spellCheck={false} />
        <FormSelect form={form} field="kind" id="dest-kind" label="Kind" hint={destination ? 'The kind of a destination cannot change.' : undefined} disabled={Boolean(destination)}>
          <option value="local">Local directory</option>
          <option value="s3">S3-compatible bucket</option>
        </FormSelect>
      </div>
      {form.form.kind === 'local' ? (
        <FormInput form={form} field="path" id="dest-path" label="Directory (absolute path)" hint="On the machines that run the workers; created when missing." spellCheck={false} placeholder="/srv/backups/coffre" />
      ) : (
        <BucketFields form={form} keeps={Boolean(destination?.hasCredentials)} />
      )}
      {destination?.isDefault ? null : (
        <FormCheck form={form} field="isDefault">
          Make it the default destination (of backups whose configuration names none)
        </FormCheck>
      )}
    </FormDialog>
  );
}

function BucketFields({ form, keeps }: { form: FormState<rules.DestinationForm>; keeps: boolean }) {
  return (
    <fieldset className="fieldset">
      <legend>Bucket</legend>
      <div className="form-row">
        <FormInput form={form} field="endpoint" id="dest-endpoint" label="Endpoint (empty for AWS)" type="url" spellCheck={false} placeholder="https://minio.example.com:9000" />
        <FormInput form={form} field="region" id="dest-region" label="Region" spellCheck={false} />
      </div>
      <div className="form-row">
        <FormInput form={form} field="bucket" id="dest-bucket" label="Bucket" spellCheck={false} />
        <FormInput form={form} field="prefix" id="dest-prefix" label="Prefix (optional)" spellCheck={false} placeholder="coffre/" />
      </div>
      <div className="form-row">
        <FormInput form={form} field="accessKeyId" id="dest-key" label="Access key id" hint={keeps ? 'Stored: leave empty to keep it.' : undefined} spellCheck={false} placeholder={keeps ? '(kept)' : ''} />
        <FormSecret form={form} field="secretAccessKey" id="dest-secret" label="Secret access key" stored={keeps} hint={keeps ? 'Stored: leave empty to keep it.' : 'Stored encrypted; never shown again.'} />
      </div>
      <div className="form-row">
        <FormSelect form={form} field="serverSideEncryption" id="dest-sse" label="Server-side encryption">
          <option value="">None asked</option>
          <option value="AES256">AES256 (keys managed by the service)</option>
          <option value="aws:kms">aws:kms</option>
        </FormSelect>
      </div>
      <FormCheck form={form} field="forcePathStyle">
        <span>Path-style addressing (MinIO and most self-hosted services)</span>
      </FormCheck>
    </fieldset>
  );
}
