// A labelled form field with its problem under it (linked by aria-describedby), or a hint; and the
// same bound to a field of a useForm, so that a form declares each field once.
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import type { FormState } from '../hooks/useForm';

export function Field({ label, id, error, hint, children }: { label: ReactNode; id: string; error?: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error ? (
        <span className="field-error" id={`${id}-error`}>
          {error}
        </span>
      ) : hint ? (
        <span className="field-hint">{hint}</span>
      ) : null}
    </div>
  );
}

/** The ARIA attributes of an input whose field shows `error`. */
export function invalid(error: string | undefined, id: string) {
  return error ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {};
}

/** The fields of a form whose value is text. */
export type TextField<F> = { [K in keyof F]: F[K] extends string ? K : never }[keyof F];

interface Bound<F> {
  form: FormState<F>;
  field: TextField<F>;
  id: string;
  label: ReactNode;
  hint?: ReactNode;
}

/** The field's value, its change and its problem, for an input, a textarea or a select. */
function binding<F>({ form, field, id }: Pick<Bound<F>, 'form' | 'field' | 'id'>) {
  const error = form.shown(field);
  return {
    error,
    control: {
      id,
      value: form.form[field] as string,
      onChange: (event: { target: { value: string } }) => form.set(field, event.target.value as F[TextField<F>]),
      ...invalid(error, id),
    },
  };
}

export function FormInput<F>({ form, field, id, label, hint, ...input }: Bound<F> & Omit<InputHTMLAttributes<HTMLInputElement>, 'form' | 'id'>) {
  const { error, control } = binding({ form, field, id });
  return (
    <Field label={label} id={id} error={error} hint={hint}>
      <input {...input} {...control} />
    </Field>
  );
}

/**
 * The typed confirmation of a destructive action: `expected` must be typed (shown as `shown` when it is
 * not known yet), and the hint says so until it matches.
 */
export function FormConfirmInput<F>({
  expected,
  shown,
  ...input
}: Omit<Bound<F>, 'label' | 'hint'> & Omit<InputHTMLAttributes<HTMLInputElement>, 'form' | 'id'> & { expected: string; shown?: string }) {
  const typed = String(input.form.form[input.field] ?? '');
  return (
    <FormInput
      {...input}
      label={
        <>
          Type <strong className="mono break">{shown ?? expected}</strong> to confirm
        </>
      }
      hint={typed && typed !== expected ? 'The name does not match yet.' : undefined}
      spellCheck={false}
    />
  );
}

export function FormTextArea<F>({ form, field, id, label, hint, ...textarea }: Bound<F> & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'form' | 'id'>) {
  const { error, control } = binding({ form, field, id });
  return (
    <Field label={label} id={id} error={error} hint={hint}>
      <textarea {...textarea} {...control} />
    </Field>
  );
}

export function FormSelect<F>({ form, field, id, label, hint, children, ...select }: Bound<F> & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'form' | 'id'>) {
  const { error, control } = binding({ form, field, id });
  return (
    <Field label={label} id={id} error={error} hint={hint}>
      <select {...select} {...control}>
        {children}
      </select>
    </Field>
  );
}

/** A secret input (a password, a key): never filled in by the browser; on an edit the stored one is kept when left empty. */
export function FormSecret<F>({ stored, ...props }: Bound<F> & { stored: boolean } & Omit<InputHTMLAttributes<HTMLInputElement>, 'form' | 'id'>) {
  return <FormInput type="password" autoComplete="new-password" placeholder={stored ? '•••••••• (kept)' : ''} {...props} />;
}

/** The fields of a form whose value is yes or no. */
export type FlagField<F> = { [K in keyof F]: F[K] extends boolean ? K : never }[keyof F];

/** A checkbox with its sentence after it. */
export function FormCheck<F>({ form, field, children }: { form: FormState<F>; field: FlagField<F>; children: ReactNode }) {
  return (
    <label className="check">
      <input type="checkbox" checked={form.form[field] as boolean} onChange={(event) => form.set(field, event.target.checked as F[FlagField<F>])} /> {children}
    </label>
  );
}

/** Checkboxes that pick some of `options`; `values` are the picked ones, in the order they were picked. */
export function CheckList<V extends string>({ name, values, options, onChange }: { name?: string; values: V[]; options: { value: V; label: ReactNode }[]; onChange: (values: V[]) => void }) {
  return options.map(({ value, label }) => (
    <label key={value} className="check">
      <input type="checkbox" name={name} value={value} checked={values.includes(value)} onChange={(event) => onChange(event.target.checked ? [...values, value] : values.filter((v) => v !== value))} /> {label}
    </label>
  ));
}

/** A select's options that pick one of `items` by id, after the empty choice `none` ("Pick a source…"). */
export function PickOptions<T extends { id: string; name: string }>({ items, none, note }: { items: T[]; none: string; note?: (item: T) => string }) {
  return (
    <>
      <option value="">{none}</option>
      {items.map((item) => (
        <option key={item.id} value={item.id}>
          {item.name}
          {note?.(item)}
        </option>
      ))}
    </>
  );
}
