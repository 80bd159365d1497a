// The frame of every form in a dialog: its title, the API's refusal at the top (useForm also
// shows it under the field it names), the fields, and Cancel and the submit button, which spins
// while the form is sent. Escape, the backdrop and the focus behave as in any Dialog.
import type { ReactNode } from 'react';
import { Dialog, DialogButtons } from './Dialog';

interface FormDialogProps {
  title: string;
  /** The form's id: the footer's submit button belongs to it. */
  id: string;
  submitLabel: string;
  /** The submit button in red: the form overwrites something. */
  danger?: boolean;
  /** The form's state: whether it is being sent, the API's refusal. */
  form: { saving: boolean; apiError: string | null };
  /** False keeps the submit button disabled (the form is not complete yet). */
  ready?: boolean;
  onSubmit: () => void;
  onClose: () => void;
  wide?: boolean;
  /** "off" for forms whose fields a browser must not fill in by itself (names, secrets). */
  autoComplete?: 'off';
  children: ReactNode;
}

export function FormDialog({ title, id, submitLabel, danger, form: { saving, apiError }, ready, onSubmit, onClose, wide, autoComplete, children }: FormDialogProps) {
  return (
    <Dialog
      title={title}
      onClose={onClose}
      wide={wide}
      busy={saving}
      footer={<DialogButtons label={submitLabel} variant={danger ? 'danger' : 'primary'} busy={saving} disabled={ready === false} form={id} onCancel={onClose} />}
    >
      <form
        id={id}
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
        noValidate
        autoComplete={autoComplete}
      >
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
        {children}
      </form>
    </Dialog>
  );
}
