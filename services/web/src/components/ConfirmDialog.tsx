// "Are you sure?" for a destructive or costly action; the button shows the action running.
import type { ReactNode } from 'react';
import type { ConfirmedAction } from '../hooks/useConfirmedAction';
import { Dialog, DialogButtons } from './Dialog';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy: boolean;
  disabled?: boolean;
  /** The API's refusal, shown in the dialog (it is toasted too). */
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}

export function ConfirmDialog({ title, children, confirmLabel, danger, busy, disabled, error, onConfirm, onClose }: ConfirmDialogProps) {
  return (
    <Dialog title={title} onClose={onClose} busy={busy} footer={<DialogButtons label={confirmLabel} variant={danger ? 'danger' : 'primary'} busy={busy} disabled={disabled} onClick={onConfirm} onCancel={onClose} />}>
      {children}
      {error ? (
        <p className="form-error" role="alert" data-testid="confirm-error">
          {error}
        </p>
      ) : null}
    </Dialog>
  );
}

/** The confirmation of a useConfirmedAction: shown while it asks about an item. */
export function ConfirmActionDialog<T>({ action, title, confirmLabel, danger, children }: { action: ConfirmedAction<T>; title: (target: T) => string; confirmLabel: string; danger?: boolean; children: (target: T) => ReactNode }) {
  const { target } = action;
  if (target === null) return null;
  return (
    <ConfirmDialog title={title(target)} confirmLabel={confirmLabel} danger={danger} busy={action.busy} error={action.error} onConfirm={action.confirm} onClose={action.close}>
      {children(target)}
    </ConfirmDialog>
  );
}
