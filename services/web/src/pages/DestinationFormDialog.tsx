// Add or change a destination: a local directory (an absolute path on the machines that run the
// workers), an S3-compatible bucket, an SFTP server or an rclone remote. Credentials are never shown back: on an edit their fields
// start empty and an empty one keeps what is stored.
import { useCallback } from 'react';
import type { DestinationView as Destination } from '@coffre/contract';
import { FormCheck, FormInput, FormSecret, FormSelect, FormTextArea } from '../components/Field';
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
          <option value="sftp">SFTP server</option>
          <option value="rclone">rclone remote</option>
        </FormSelect>
      </div>
      {form.form.kind === 'local' ? (
        <FormInput form={form} field="path" id="dest-path" label="Directory (absolute path)" hint="On the machines that run the workers; created when missing." spellCheck={false} placeholder="/srv/backups/coffre" />
      ) : form.form.kind === 'sftp' ? (
        <SftpFields form={form} keeps={Boolean(destination?.hasCredentials)} />
      ) : form.form.kind === 'rclone' ? (
        <RcloneFields form={form} keeps={Boolean(destination?.hasCredentials)} />
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

function SftpFields({ form, keeps }: { form: FormState<rules.DestinationForm>; keeps: boolean }) {
  const kept = keeps ? 'Stored: leave empty to keep it.' : 'Stored encrypted; never shown again.';
  return (
    <fieldset className="fieldset">
      <legend>SFTP server</legend>
      <div className="form-row">
        <FormInput form={form} field="host" id="dest-host" label="Host" spellCheck={false} placeholder="backup.example.com" />
        <FormInput form={form} field="port" id="dest-port" label="Port" inputMode="numeric" spellCheck={false} />
      </div>
      <div className="form-row">
        <FormInput form={form} field="username" id="dest-username" label="User" spellCheck={false} autoComplete="off" />
        <FormInput form={form} field="remotePath" id="dest-remote-path" label="Folder (optional)" hint="Absolute, or relative to the user's home; created when missing." spellCheck={false} placeholder="/srv/backups/coffre" />
      </div>
      <FormSelect form={form} field="sftpAuth" id="dest-sftp-auth" label="Log in with">
        <option value="key">a private key</option>
        <option value="password">a password</option>
      </FormSelect>
      {form.form.sftpAuth === 'key' ? (
        <>
          <FormTextArea form={form} field="privateKey" id="dest-private-key" label="Private key" hint={kept} rows={4} spellCheck={false} placeholder={keeps ? '(kept)' : '-----BEGIN OPENSSH PRIVATE KEY-----'} />
          <FormSecret form={form} field="passphrase" id="dest-passphrase" label="Key passphrase (when it has one)" stored={false} />
        </>
      ) : (
        <FormSecret form={form} field="password" id="dest-password" label="Password" stored={keeps} hint={kept} />
      )}
      <FormInput
        form={form}
        field="hostKeySha256"
        id="dest-host-key"
        label="Host key fingerprint (optional)"
        hint="SHA256:… as ssh-keygen -lf prints it. Left empty, the key met on the first connection is pinned, and a different one is refused after."
        spellCheck={false}
      />
    </fieldset>
  );
}

function RcloneFields({ form, keeps }: { form: FormState<rules.DestinationForm>; keeps: boolean }) {
  return (
    <fieldset className="fieldset">
      <legend>rclone remote</legend>
      <div className="form-row">
        <FormInput form={form} field="remote" id="dest-remote" label="Remote" hint="The name of a [section] of the configuration below." spellCheck={false} placeholder="gdrive" />
        <FormInput form={form} field="remotePath" id="dest-remote-path" label="Folder (optional)" spellCheck={false} placeholder="backups/coffre" />
      </div>
      <FormTextArea
        form={form}
        field="rcloneConfig"
        id="dest-rclone-config"
        label="rclone configuration"
        hint={keeps ? 'Stored: leave empty to keep it.' : 'The text of an rclone.conf (rclone config show). Stored encrypted; never shown again.'}
        rows={6}
        spellCheck={false}
        placeholder={keeps ? '(kept)' : '[gdrive]\ntype = drive\n…'}
      />
    </fieldset>
  );
}
