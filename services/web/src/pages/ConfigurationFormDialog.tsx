// Create or edit a configuration. Every field is checked as it is typed, by the rules the API
// applies; the API's own 400 sentence shows at the top and under the field it names.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { Configuration, Destination, Source } from '../api/types';
import { Button } from '../components/Button';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { useToast } from '../components/Toasts';
import { useApi } from '../hooks/usePolling';
import { useOptionalRoute } from '../capabilities';
import {
  compressionLevels,
  configurationBody,
  emptyForm,
  fieldOfApiPath,
  formFromConfiguration,
  validateConfiguration,
  type ConfigurationForm,
  type FormErrors,
  type FormField,
} from '../lib/configuration-rules';

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const timezones = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

interface Props {
  configuration: Configuration | null;
  onClose: () => void;
  onSaved: () => void;
}

export function ConfigurationFormDialog({ configuration, onClose, onSaved }: Props) {
  const toast = useToast();
  const sources = useApi<{ items: Source[] }>('/api/sources', null);
  const destinationsListed = useOptionalRoute('get', '/api/destinations');
  const destinations = useApi<{ items: Destination[] }>(destinationsListed ? '/api/destinations' : null, null);
  const [form, setForm] = useState<ConfigurationForm>(() => (configuration ? formFromConfiguration(configuration) : emptyForm()));
  const [touched, setTouched] = useState<Set<FormField>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [apiError, setApiError] = useState<{ message: string; fields: FormErrors } | null>(null);
  const [saving, setSaving] = useState(false);

  const sourceList = sources.data?.items ?? [];
  // The only source is picked for the operator.
  const onlySource = sourceList.length === 1 ? sourceList[0]!.id : null;
  useEffect(() => {
    if (onlySource) setForm((f) => (f.sourceId ? f : { ...f, sourceId: onlySource }));
  }, [onlySource]);

  const errors = useMemo(() => validateConfiguration(form), [form]);
  const shown = (field: FormField): string | undefined => (submitted || touched.has(field) ? errors[field] : undefined) ?? apiError?.fields[field];

  const set = <K extends FormField>(field: K, value: ConfigurationForm[K]) => {
    setForm((f) => ({ ...f, [field]: value }));
    setTouched((t) => new Set(t).add(field));
    if (apiError?.fields[field]) setApiError((e) => (e ? { ...e, fields: { ...e.fields, [field]: undefined } } : e));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setApiError(null);
    if (Object.keys(errors).length > 0) {
      const first = document.querySelector<HTMLElement>('.dialog [aria-invalid="true"]');
      first?.focus();
      return;
    }
    setSaving(true);
    try {
      const body = configurationBody(form);
      const saved = configuration
        ? await apiSend<Configuration>('PUT', `/api/configurations/${configuration.id}`, body)
        : await apiSend<Configuration>('POST', '/api/configurations', body);
      toast.success(configuration ? `${saved.name} is saved.` : `${saved.name} is created.`);
      onSaved();
    } catch (error) {
      if (error instanceof ApiError) {
        const fields: FormErrors = {};
        for (const detail of error.details) {
          const field = fieldOfApiPath(detail.path, form.scheduleKind);
          if (field && !fields[field]) fields[field] = detail.message;
        }
        setApiError({ message: error.message, fields });
        toast.error(error.message);
      } else {
        toast.error(`Saving failed: ${(error as Error).message}`);
      }
      setSaving(false);
    }
  };

  const kind = form.scheduleKind;
  const levelRange = form.compression === 'none' ? null : compressionLevels[form.compression];
  return (
    <Dialog
      title={configuration ? `Edit ${configuration.name}` : 'New configuration'}
      onClose={onClose}
      wide
      busy={saving}
      footer={
        <>
          <Button onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="configuration-form" busy={saving}>
            {configuration ? 'Save' : 'Create'}
          </Button>
        </>
      }
    >
      <form id="configuration-form" className="form" onSubmit={submit} noValidate>
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError.message}
          </p>
        ) : null}
        <Field label="Name" error={shown('name')} id="cfg-name">
          <input id="cfg-name" data-autofocus value={form.name} maxLength={120} onChange={(e) => set('name', e.target.value)} {...invalid(shown('name'), 'cfg-name')} />
        </Field>
        <div className="form-row">
          <Field label="Source" error={shown('sourceId')} id="cfg-source">
            <select id="cfg-source" value={form.sourceId} onChange={(e) => set('sourceId', e.target.value)} {...invalid(shown('sourceId'), 'cfg-source')}>
              <option value="">Pick a source…</option>
              {sourceList.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Type" id="cfg-type">
            <select id="cfg-type" value={form.type} onChange={(e) => set('type', e.target.value as ConfigurationForm['type'])}>
              <option value="full">Full (schema and data)</option>
              <option value="schema">Schema only</option>
              <option value="data">Data only</option>
            </select>
          </Field>
        </div>

        <fieldset className="fieldset">
          <legend>Schedule</legend>
          <div className="form-row">
            <Field label="Runs" id="cfg-kind" error={shown('scheduleKind')}>
              <select id="cfg-kind" value={kind} onChange={(e) => set('scheduleKind', e.target.value as ConfigurationForm['scheduleKind'])}>
                <option value="manual">Only when run by hand</option>
                <option value="hourly">Every hour</option>
                <option value="daily">Every day</option>
                <option value="weekly">Every week</option>
                <option value="monthly">Every month</option>
                <option value="cron">Cron expression</option>
              </select>
            </Field>
            {kind === 'hourly' ? (
              <Field label="Minute past the hour" id="cfg-minute" error={shown('minute')}>
                <input id="cfg-minute" inputMode="numeric" value={form.minute} onChange={(e) => set('minute', e.target.value)} {...invalid(shown('minute'), 'cfg-minute')} />
              </Field>
            ) : null}
            {kind === 'daily' || kind === 'weekly' || kind === 'monthly' ? (
              <Field label="Time (HH:MM)" id="cfg-time" error={shown('time')}>
                <input id="cfg-time" inputMode="numeric" placeholder="02:30" value={form.time} onChange={(e) => set('time', e.target.value)} {...invalid(shown('time'), 'cfg-time')} />
              </Field>
            ) : null}
            {kind === 'weekly' ? (
              <Field label="Day of the week" id="cfg-weekday" error={shown('weekday')}>
                <select id="cfg-weekday" value={form.weekday} onChange={(e) => set('weekday', e.target.value)}>
                  {weekdays.map((day, index) => (
                    <option key={day} value={index}>
                      {day}
                    </option>
                  ))}
                </select>
              </Field>
            ) : null}
            {kind === 'monthly' ? (
              <Field label="Day of the month (1–28)" id="cfg-dom" error={shown('dayOfMonth')}>
                <input id="cfg-dom" inputMode="numeric" value={form.dayOfMonth} onChange={(e) => set('dayOfMonth', e.target.value)} {...invalid(shown('dayOfMonth'), 'cfg-dom')} />
              </Field>
            ) : null}
            {kind === 'cron' ? (
              <Field label="Cron (minute hour day month weekday)" id="cfg-cron" error={shown('cron')}>
                <input id="cfg-cron" spellCheck={false} placeholder="30 2 * * 1-5" value={form.cron} onChange={(e) => set('cron', e.target.value)} {...invalid(shown('cron'), 'cfg-cron')} />
              </Field>
            ) : null}
          </div>
          <Field label="Time zone" id="cfg-tz" error={shown('timezone')}>
            <input id="cfg-tz" list="timezones" spellCheck={false} value={form.timezone} onChange={(e) => set('timezone', e.target.value)} {...invalid(shown('timezone'), 'cfg-tz')} />
            <datalist id="timezones">
              {timezones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </Field>
          <label className="check">
            <input type="checkbox" checked={form.active} onChange={(e) => set('active', e.target.checked)} /> Active (the schedule runs)
          </label>
        </fieldset>

        <fieldset className="fieldset">
          <legend>Retention (empty or 0 turns a rule off)</legend>
          <div className="form-grid">
            {(
              [
                ['keepLast', 'Keep the last'],
                ['maxAgeDays', 'Max age (days, 1–365)'],
                ['daily', 'Daily'],
                ['weekly', 'Weekly'],
                ['monthly', 'Monthly'],
                ['yearly', 'Yearly'],
              ] as const
            ).map(([field, label]) => (
              <Field key={field} label={label} id={`cfg-${field}`} error={shown(field)}>
                <input id={`cfg-${field}`} inputMode="numeric" value={form[field]} onChange={(e) => set(field, e.target.value)} {...invalid(shown(field), `cfg-${field}`)} />
              </Field>
            ))}
          </div>
        </fieldset>

        <fieldset className="fieldset">
          <legend>Storage</legend>
          <div className="form-row">
            <Field label="Compression" id="cfg-compression">
              <select
                id="cfg-compression"
                value={form.compression}
                onChange={(e) => {
                  const compression = e.target.value as ConfigurationForm['compression'];
                  set('compression', compression);
                  // No compression has no level; another compressor has other levels.
                  if (compression === 'none' || form.compression !== compression) set('compressionLevel', '');
                }}
              >
                <option value="zstd">zstd</option>
                <option value="gzip">gzip</option>
                <option value="none">none</option>
              </select>
            </Field>
            <Field label={levelRange ? `Level (${levelRange[0]}–${levelRange[1]}, empty for the default)` : 'Level'} id="cfg-level" error={shown('compressionLevel')}>
              <input
                id="cfg-level"
                inputMode="numeric"
                value={form.compressionLevel}
                disabled={form.compression === 'none'}
                onChange={(e) => set('compressionLevel', e.target.value)}
                {...invalid(shown('compressionLevel'), 'cfg-level')}
              />
            </Field>
          </div>
          <Field label="Encryption (age)" id="cfg-encrypt" error={shown('encrypt')}>
            <select id="cfg-encrypt" value={form.encrypt} onChange={(e) => set('encrypt', e.target.value as ConfigurationForm['encrypt'])}>
              <option value="installation">As the server says: encrypted when AGE_RECIPIENTS is set</option>
              <option value="on">Always encrypt (needs AGE_RECIPIENTS)</option>
              <option value="off">Never encrypt: artifacts are stored in plaintext</option>
            </select>
          </Field>
          <Field label="Verify by a test restore" id="cfg-verify">
            <select id="cfg-verify" value={form.verifySchedule} onChange={(e) => set('verifySchedule', e.target.value as ConfigurationForm['verifySchedule'])}>
              <option value="none">Never</option>
              <option value="daily">Daily</option>
              <option value="weekly">Weekly</option>
              <option value="monthly">Monthly</option>
            </select>
          </Field>
          {destinations.data && destinations.data.items.length > 0 ? (
            <fieldset className="fieldset-inner">
              <legend>Destinations (none: the local backup directory)</legend>
              {destinations.data.items.map((d) => (
                <label key={d.id} className="check">
                  <input
                    type="checkbox"
                    checked={form.destinationIds.includes(d.id)}
                    onChange={(e) => set('destinationIds', e.target.checked ? [...form.destinationIds, d.id] : form.destinationIds.filter((id) => id !== d.id))}
                  />{' '}
                  {d.name} <span className="muted small">({d.kind})</span>
                </label>
              ))}
              {shown('destinationIds') ? <span className="field-error">{shown('destinationIds')}</span> : null}
            </fieldset>
          ) : null}
        </fieldset>

        <fieldset className="fieldset">
          <legend>Files beside the database</legend>
          <Field label="Paths to archive (absolute, one per line)" id="cfg-paths" error={shown('includePaths')} hint="Only under the directories the server allows (FILES_ROOTS), never coffre's own files.">
            <textarea id="cfg-paths" rows={3} spellCheck={false} value={form.includePaths} onChange={(e) => set('includePaths', e.target.value)} {...invalid(shown('includePaths'), 'cfg-paths')} />
          </Field>
          <Field label="Patterns to leave out (one per line)" id="cfg-exclude" error={shown('excludePatterns')}>
            <textarea id="cfg-exclude" rows={2} spellCheck={false} value={form.excludePatterns} onChange={(e) => set('excludePatterns', e.target.value)} {...invalid(shown('excludePatterns'), 'cfg-exclude')} />
          </Field>
        </fieldset>
      </form>
    </Dialog>
  );
}
