// The card pages' items (configurations, sources, destinations, channels): a title with its
// badges, facts, and a footer with an on/off switch and the buttons the role allows.
import type { ReactNode } from 'react';
import type { Probe, Verdict } from '../hooks/useProbe';
import { Button } from './Button';

interface CardProps {
  /** The browser tests find a card by its test id and data-name. */
  testId: string;
  name: string;
  /** The title when it is more than the name (a link). */
  title?: ReactNode;
  badges?: ReactNode;
  inactive?: boolean;
  data?: Record<`data-${string}`, string | boolean>;
  toggle?: ReactNode;
  /** The card's buttons; the footer is left out when there are none and no toggle. */
  buttons?: ReactNode;
  children: ReactNode;
}

export function Card({ testId, name, title, badges, inactive, data, toggle, buttons, children }: CardProps) {
  return (
    <article className={`card${inactive ? ' card-inactive' : ''}`} data-testid={testId} data-name={name} {...data}>
      <header className="card-header">
        <h2 className="card-title">{title ?? name}</h2>
        {badges}
      </header>
      {children}
      {toggle || buttons ? (
        <footer className="card-actions">
          {toggle}
          <span className="card-buttons">{buttons}</span>
        </footer>
      ) : null}
    </article>
  );
}

interface SwitchProps {
  checked: boolean;
  /** What the switch turns on and off, for screen readers: "nightly active". */
  label: string;
  disabled?: boolean;
  /** Shown but not for this role to change. */
  readOnly?: boolean;
  onChange: () => void;
  children: ReactNode;
}

export function Switch({ checked, label, disabled, readOnly, onChange, children }: SwitchProps) {
  return (
    <label className={`switch${readOnly ? ' switch-readonly' : ''}`}>
      <input type="checkbox" role="switch" checked={checked} disabled={disabled || readOnly} aria-label={label} onChange={onChange} />
      <span className="switch-track" aria-hidden="true" />
      <span>{children}</span>
    </label>
  );
}

/** A check's button on a card: it spins while the check runs. */
export function ProbeButton<T extends { id: string; name: string }>({ probe, item, primary, children = 'Test connection' }: { probe: Probe<T>; item: T; primary?: boolean; children?: string }) {
  // Repeated on every card: the accessible name says which item ("Test connection of shop").
  return (
    <Button small variant={primary ? 'primary' : 'plain'} busy={probe.probing === item.id} aria-label={`${children} of ${item.name}`} onClick={() => probe.run(item)}>
      {children}
    </Button>
  );
}

/** A check's last verdict on its card: a connection that works, or what went wrong. */
export function ProbeResult({ verdict, testId }: { verdict: Verdict | undefined; testId: string }) {
  if (!verdict) return null;
  return (
    <p className={verdict.ok ? 'success-text' : 'form-error'} role="status" data-testid={testId}>
      {verdict.ok ? '✓ ' : '✗ '}
      {verdict.message}
    </p>
  );
}

/** Edit, what else the page puts between, and Delete: the buttons of a card an admin manages. */
export function EditAndDelete({ name, onEdit, onDelete, children }: { name: string; onEdit: () => void; onDelete: () => void; children?: ReactNode }) {
  return (
    <>
      <Button small aria-label={`Edit ${name}`} onClick={onEdit}>
        Edit
      </Button>
      {children}
      <Button small variant="danger" aria-label={`Delete ${name}`} onClick={onDelete}>
        Delete
      </Button>
    </>
  );
}
