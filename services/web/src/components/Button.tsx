import type { ButtonHTMLAttributes } from 'react';

interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'primary' | 'danger' | 'plain' | 'ghost';
  /** The action runs: the button is disabled and shows a spinner. */
  busy?: boolean;
  small?: boolean;
}

export function Button({ variant = 'plain', busy, small, disabled, className, children, type = 'button', ...rest }: ButtonProps) {
  const classes = ['button', `button-${variant}`, small ? 'button-small' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button type={type} className={classes} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}
