// A label that explains itself on hover and keyboard focus (and on tap): the explanation is its
// accessible description, so screen readers read it too.
import { useId, type ReactNode } from 'react';

export function Tooltip({ label, className, testId, children }: { label: ReactNode; className?: string; testId?: string; children: ReactNode }) {
  const id = useId();
  return (
    <span className="tooltip-wrap">
      <button type="button" className={`tooltip-trigger ${className ?? ''}`} aria-describedby={id} data-testid={testId}>
        {label}
      </button>
      <span role="tooltip" id={id} className="tooltip">
        {children}
      </span>
    </span>
  );
}
