// When a configuration runs: a preset (every hour, day, week, month) with its time, or a cron
// expression, in a time zone; and whether the schedule runs at all.
import { FormCheck, FormInput, FormSelect } from '../components/Field';
import type { FormState } from '../hooks/useForm';
import { configurationBody, type ConfigurationForm } from '../forms/configuration';
import type { Schedule } from '@coffre/contract';
import { SchedulePreview } from './SchedulePreview';

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const timezones = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

export function ScheduleFields({ form }: { form: FormState<ConfigurationForm> }) {
  const kind = form.form.scheduleKind;
  return (
    <fieldset className="fieldset">
      <legend>Schedule</legend>
      <div className="form-row">
        <FormSelect form={form} field="scheduleKind" id="cfg-kind" label="Runs">
          <option value="manual">Only when run by hand</option>
          <option value="hourly">Every hour</option>
          <option value="daily">Every day</option>
          <option value="weekly">Every week</option>
          <option value="monthly">Every month</option>
          <option value="cron">Cron expression</option>
        </FormSelect>
        {kind === 'hourly' ? <FormInput form={form} field="minute" id="cfg-minute" label="Minute past the hour" inputMode="numeric" /> : null}
        {kind === 'daily' || kind === 'weekly' || kind === 'monthly' ? <FormInput form={form} field="time" id="cfg-time" label="Time (HH:MM)" inputMode="numeric" placeholder="02:30" /> : null}
        {kind === 'weekly' ? (
          <FormSelect form={form} field="weekday" id="cfg-weekday" label="Day of the week">
            {weekdays.map((day, index) => (
              <option key={day} value={index}>
                {day}
              </option>
            ))}
          </FormSelect>
        ) : null}
        {kind === 'monthly' ? <FormInput form={form} field="dayOfMonth" id="cfg-dom" label="Day of the month (1–28)" inputMode="numeric" /> : null}
        {kind === 'cron' ? <FormInput form={form} field="cron" id="cfg-cron" label="Cron (minute hour day month weekday)" spellCheck={false} placeholder="30 2 * * 1-5" /> : null}
      </div>
      <FormInput form={form} field="timezone" id="cfg-tz" label="Time zone" list="timezones" spellCheck={false} />
      <datalist id="timezones">
        {timezones.map((zone) => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
      <SchedulePreview schedule={configurationBody(form.form).schedule as unknown as Schedule} />
      <FormCheck form={form} field="active">
        Active (the schedule runs)
      </FormCheck>
    </fieldset>
  );
}
