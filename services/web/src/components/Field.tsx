// A labelled form field with its problem under it (linked by aria-describedby), or a hint.
import type { ReactNode } from 'react';

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
