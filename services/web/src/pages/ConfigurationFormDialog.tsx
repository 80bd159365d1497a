// Create or edit a configuration. Every field is checked as it is typed, by the contract's schema
// the API validates with; the API's own 400 sentence shows at the top and under the field it names.
import { useEffect } from 'react';
import type { ConfigurationDetails as Configuration, DestinationView as Destination, SourceView as Source } from '@coffre/contract';
import { useOptionalRoute } from '../capabilities';
import { CheckList, Field, FormInput, FormSelect, FormTextArea, PickOptions } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { useForm, useSaver, type FormState } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { compressionLevelRange } from '@coffre/contract';
import { configurationBody, configurationProblems, emptyForm, fieldOfApiPath, formFromConfiguration, type ConfigurationForm } from '../forms/configuration';
import { ScheduleFields } from './ScheduleFields';

interface Props {
  configuration: Configuration | null;
  onClose: () => void;
  onSaved: () => void;
}

type Form = FormState<ConfigurationForm>;

export function ConfigurationFormDialog({ configuration, onClose, onSaved }: Props) {
  const saveConfiguration = useSaver<Configuration>('/api/configurations', configuration, 'created');
  const sources = useListApi<Source>('/api/sources', null);
  const form = useForm(() => (configuration ? formFromConfiguration(configuration) : emptyForm()), configurationProblems, (path, values) => fieldOfApiPath(path, values.scheduleKind));

  // The only source is picked for the operator.
  const sourceList = sources.rows ?? [];
  const onlySource = sourceList.length === 1 ? sourceList[0]!.id : null;
  useEffect(() => {
    if (onlySource && !form.form.sourceId) form.set('sourceId', onlySource);
  }, [onlySource]);

  const save = async () => {
    if (await form.submit((values) => saveConfiguration(configurationBody(values)))) onSaved();
  };

  return (
    <FormDialog title={configuration ? `Edit ${configuration.name}` : 'New configuration'} id="configuration-form" submitLabel={configuration ? 'Save' : 'Create'} form={form} onSubmit={save} onClose={onClose} wide>
      <FormInput form={form} field="name" id="cfg-name" label="Name" data-autofocus maxLength={120} />
      <div className="form-row">
        <FormSelect form={form} field="sourceId" id="cfg-source" label="Source">
          <PickOptions items={sourceList} none="Pick a source…" />
        </FormSelect>
        <FormSelect form={form} field="type" id="cfg-type" label="Type">
          <option value="full">Full (schema and data)</option>
          <option value="schema">Schema only</option>
          <option value="data">Data only</option>
        </FormSelect>
      </div>
      <ScheduleFields form={form} />
      <RetentionFields form={form} />
      <StorageFields form={form} />
      <fieldset className="fieldset">
        <legend>Files beside the database</legend>
        <FormTextArea
          form={form}
          field="includePaths"
          id="cfg-paths"
          label="Paths to archive (absolute, one per line)"
          hint="Only under the directories the server allows (FILES_ROOTS), never coffre's own files."
          rows={3}
          spellCheck={false}
        />
        <FormTextArea form={form} field="excludePatterns" id="cfg-exclude" label="Patterns to leave out (one per line)" rows={2} spellCheck={false} />
      </fieldset>
    </FormDialog>
  );
}

const retention = [
  ['keepLast', 'Keep the last'],
  ['maxAgeDays', 'Max age (days, 1–365)'],
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['yearly', 'Yearly'],
  ['minKeep', 'Always keep the newest'],
  ['maxTotalGb', 'Max total size (GB)'],
] as const;

function RetentionFields({ form }: { form: Form }) {
  return (
    <fieldset className="fieldset">
      <legend>Retention and limits (empty or 0 turns a rule off; past the total size the oldest go first, never the newest kept ones)</legend>
      <div className="form-grid">
        {retention.map(([field, label]) => (
          <FormInput key={field} form={form} field={field} id={`cfg-${field}`} label={label} inputMode="numeric" />
        ))}
      </div>
      <div className="form-row">
        <FormInput form={form} field="maxBackupGb" id="cfg-maxBackupGb" label="Stop a backup past (GB)" inputMode="decimal" />
        <FormInput form={form} field="timeLimitMinutes" id="cfg-timeLimitMinutes" label="Time limit (minutes, empty: the server's)" inputMode="decimal" />
      </div>
    </fieldset>
  );
}

function StorageFields({ form }: { form: Form }) {
  const destinationsListed = useOptionalRoute('get', '/api/destinations');
  const destinations = useListApi<Destination>(destinationsListed ? '/api/destinations' : null, null);
  const { compression } = form.form;
  const levelRange = compression === 'none' ? null : compressionLevelRange[compression];
  return (
    <fieldset className="fieldset">
      <legend>Storage</legend>
      <div className="form-row">
        <Field label="Compression" id="cfg-compression">
          <select
            id="cfg-compression"
            value={compression}
            onChange={(e) => {
              const next = e.target.value as ConfigurationForm['compression'];
              form.set('compression', next);
              // No compression has no level; another compressor has other levels.
              if (next === 'none' || compression !== next) form.set('compressionLevel', '');
            }}
          >
            <option value="zstd">zstd</option>
            <option value="gzip">gzip</option>
            <option value="none">none</option>
          </select>
        </Field>
        <FormInput
          form={form}
          field="compressionLevel"
          id="cfg-level"
          label={levelRange ? `Level (${levelRange[0]}–${levelRange[1]}, empty for the default)` : 'Level'}
          inputMode="numeric"
          disabled={compression === 'none'}
        />
        <FormInput form={form} field="dumpJobs" id="cfg-dumpJobs" label="Parallel pg_dump jobs (1: custom format; 2–32: directory format)" inputMode="numeric" />
      </div>
      <FormSelect form={form} field="encrypt" id="cfg-encrypt" label="Encryption (age)">
        <option value="installation">As the server says: encrypted when AGE_RECIPIENTS is set</option>
        <option value="on">Always encrypt (needs AGE_RECIPIENTS)</option>
        <option value="off">Never encrypt: artifacts are stored in plaintext</option>
      </FormSelect>
      <FormSelect form={form} field="verifySchedule" id="cfg-verify" label="Verify by a test restore">
        <option value="none">Never</option>
        <option value="daily">Daily</option>
        <option value="weekly">Weekly</option>
        <option value="monthly">Monthly</option>
      </FormSelect>
      {destinations.rows && destinations.rows.length > 0 ? (
        <fieldset className="fieldset-inner">
          <legend>Destinations (none: the local backup directory)</legend>
          <CheckList
            values={form.form.destinationIds}
            options={destinations.rows.map((d) => ({
              value: d.id,
              label: (
                <>
                  {d.name} <span className="muted small">({d.kind})</span>
                </>
              ),
            }))}
            onChange={(ids) => form.set('destinationIds', ids)}
          />
          {form.shown('destinationIds') ? <span className="field-error">{form.shown('destinationIds')}</span> : null}
        </fieldset>
      ) : null}
    </fieldset>
  );
}
