// The frame of a panel that shows one thing in full (a backup, a restore, a configuration…): it
// says it loads, or why it could not (an id that does not exist says so), then shows the thing.
import type { HTMLAttributes, ReactNode } from 'react';
import { ApiError } from '../api/client';
import { Dialog } from './Dialog';
import { LoadError, Loading } from './States';

interface DetailsDialogProps<T> {
  /** What it shows, in a few words: "backup", "restore". */
  what: string;
  data: T | undefined;
  error: Error | undefined;
  title: (data: T) => string;
  onClose: () => void;
  /** While an action runs, Escape and the backdrop do not close the panel. */
  busy?: boolean;
  children: (data: T) => ReactNode;
}

export function DetailsDialog<T>({ what, data, error, title, onClose, busy, children }: DetailsDialogProps<T>) {
  const missing = error instanceof ApiError && error.status === 404;
  return (
    <Dialog title={data ? title(data) : what.charAt(0).toUpperCase() + what.slice(1)} onClose={onClose} wide busy={busy}>
      {error && !data ? <LoadError error={error} what={missing ? `this ${what} (it does not exist)` : `the ${what}`} /> : null}
      {!data && !error ? <Loading what={`the ${what}`} /> : null}
      {data ? children(data) : null}
    </Dialog>
  );
}

/** One line of a details panel's facts (a <dl className="facts">): its name, then its value. */
export function Fact({ label, children, ...value }: { label: string; children: ReactNode } & HTMLAttributes<HTMLElement> & Record<`data-${string}`, string>) {
  return (
    <>
      <dt>{label}</dt>
      <dd {...value}>{children}</dd>
    </>
  );
}
