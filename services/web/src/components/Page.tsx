// The frame of a page: its title, what stands beside it (a count, the page's main button), and a
// sentence saying what the page is for.
import type { ReactNode } from 'react';
import { Button } from './Button';

interface PageProps {
  title: string;
  /** The page's main action ("Add a user"), left out where the role may not take it. */
  action?: { label: string; onClick: () => void } | null;
  /** Beside the title, before the action. */
  aside?: ReactNode;
  intro?: ReactNode;
  children: ReactNode;
}

export function Page({ title, action, aside, intro, children }: PageProps) {
  return (
    <section className="page">
      <header className="page-header">
        <h1>{title}</h1>
        {aside}
        {action ? (
          <Button variant="primary" onClick={action.onClick}>
            {action.label}
          </Button>
        ) : null}
      </header>
      {intro ? <p className="muted">{intro}</p> : null}
      {children}
    </section>
  );
}
