// A modal dialog: focus moves into it, Tab stays inside it, Escape closes it, and focus returns to
// what had it before (usually the button that opened it).
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { Button } from './Button';

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  /** While an action runs, Escape and the backdrop do not close the dialog. */
  busy?: boolean;
}

// Open dialogs, innermost last: only the innermost one answers Escape and traps Tab, and only it is
// shown (one dialog at a time: a confirmation opened from a details panel hides the panel until it
// closes, instead of piling a second backdrop on the first).
const openDialogs: HTMLElement[] = [];

function showOnlyInnermost(): void {
  openDialogs.forEach((dialog, index) => {
    dialog.parentElement!.hidden = index !== openDialogs.length - 1;
  });
}

const focusable = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({ title, onClose, children, footer, wide, busy }: DialogProps) {
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const root = panel.current!;
    const first = root.querySelector<HTMLElement>('[data-autofocus]') ?? root.querySelector<HTMLElement>(focusable) ?? root;
    first.focus();
    openDialogs.push(root);
    showOnlyInnermost();
    const onKey = (event: KeyboardEvent) => {
      if (openDialogs[openDialogs.length - 1] !== root) return;
      if (event.key === 'Escape' && !busyRef.current) {
        event.stopPropagation();
        closeRef.current();
      } else if (event.key === 'Tab') {
        const items = [...root.querySelectorAll<HTMLElement>(focusable)].filter((el) => el.offsetParent !== null || el === document.activeElement);
        if (items.length === 0) {
          event.preventDefault();
          return;
        }
        const head = items[0]!;
        const tail = items[items.length - 1]!;
        if (event.shiftKey && (document.activeElement === head || !root.contains(document.activeElement))) {
          event.preventDefault();
          tail.focus();
        } else if (!event.shiftKey && (document.activeElement === tail || !root.contains(document.activeElement))) {
          event.preventDefault();
          head.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey, true);
    document.body.classList.add('modal-open');
    return () => {
      document.removeEventListener('keydown', onKey, true);
      openDialogs.splice(openDialogs.indexOf(root), 1);
      showOnlyInnermost();
      if (openDialogs.length === 0) document.body.classList.remove('modal-open');
      if (previous && document.contains(previous)) previous.focus();
    };
  }, []);

  return createPortal(
    <div className="backdrop" onMouseDown={(event) => event.target === event.currentTarget && !busy && onClose()}>
      <div ref={panel} className={`dialog${wide ? ' dialog-wide' : ''}`} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        {/* A div, not a header: at the top of the document (a portal) a header is a second banner landmark. */}
        <div className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose} disabled={busy}>
            ×
          </button>
        </div>
        <div className="dialog-body">{children}</div>
        {footer ? <footer className="dialog-footer">{footer}</footer> : null}
      </div>
    </div>,
    document.body,
  );
}

interface DialogButtonsProps {
  label: ReactNode;
  variant: 'primary' | 'danger';
  busy: boolean;
  disabled?: boolean;
  /** A submit button of the form with this id, or a plain button with onClick. */
  form?: string;
  onClick?: () => void;
  onCancel: () => void;
}

/** A dialog's footer: Cancel, then its action; Cancel waits while the action runs. */
export function DialogButtons({ label, variant, busy, disabled, form, onClick, onCancel }: DialogButtonsProps) {
  return (
    <>
      <Button onClick={onCancel} disabled={busy}>
        Cancel
      </Button>
      <Button variant={variant} type={form ? 'submit' : 'button'} form={form} busy={busy} disabled={disabled} onClick={onClick}>
        {label}
      </Button>
    </>
  );
}
