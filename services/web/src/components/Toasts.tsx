// One toast per action's outcome: success and info fade after a few seconds, errors stay until
// dismissed (the operator has to read them). Announced to screen readers by the live regions.
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';

export type ToastKind = 'success' | 'error' | 'info';
/** Where to follow what the toast announces (a queued restore's page). */
export interface ToastLink {
  to: string;
  label: string;
}
interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  link?: ToastLink;
}

interface Toaster {
  success(message: string, link?: ToastLink): void;
  error(message: string): void;
  info(message: string): void;
}

const ToastContext = createContext<Toaster | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((toast) => toast.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, message: string, link?: ToastLink) => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-4), { id, kind, message, ...(link ? { link } : {}) }]);
      // One with a link stays a little longer: there is something to click.
      if (kind !== 'error') setTimeout(() => dismiss(id), link ? 12_000 : 6000);
    },
    [dismiss],
  );
  const toaster = useMemo<Toaster>(
    () => ({ success: (m, link) => push('success', m, link), error: (m) => push('error', m), info: (m) => push('info', m) }),
    [push],
  );

  return (
    <ToastContext.Provider value={toaster}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast toast-${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
            <span className="toast-message">
              {toast.message}
              {toast.link ? (
                <>
                  {' '}
                  <Link to={toast.link.to} className="toast-link" onClick={() => dismiss(toast.id)}>
                    {toast.link.label}
                  </Link>
                </>
              ) : null}
            </span>
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): Toaster {
  const toaster = useContext(ToastContext);
  if (!toaster) throw new Error('useToast outside ToastProvider');
  return toaster;
}
