// The filter bars above lists: a search form that never submits (each filter applies as it
// changes), its labelled fields, and selects whose empty choice means "any".
import type { ReactNode } from 'react';

/** `onInput` hears every keystroke, also those a field does not report yet (a date half typed). */
export function FilterBar({ children, onInput }: { children: ReactNode; onInput?: () => void }) {
  return (
    <form className="filters" role="search" onSubmit={(event) => event.preventDefault()} onInput={onInput}>
      {children}
    </form>
  );
}

export function FilterField({ label, grow, inline, children }: { label: string; grow?: boolean; inline?: boolean; children: ReactNode }) {
  return (
    <label className={`field${grow ? ' field-grow' : ''}${inline ? ' field-inline' : ''}`}>
      <span>{label}</span>
      {children}
    </label>
  );
}

interface FilterSelectProps<V extends string> {
  label: string;
  name?: string;
  value: V | '';
  /** The empty choice: "Any status". */
  any: string;
  options: readonly V[];
  onChange: (value: V | '') => void;
  inline?: boolean;
}

export function FilterSelect<V extends string>({ label, name, value, any, options, onChange, inline }: FilterSelectProps<V>) {
  return (
    <FilterField label={label} inline={inline}>
      <select name={name} value={value} onChange={(event) => onChange(event.target.value as V | '')}>
        <option value="">{any}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </FilterField>
  );
}
