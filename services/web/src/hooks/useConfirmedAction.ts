// An action the operator confirms first (delete a user, revoke a token…): which item it is asked
// for, the action running, and the API's refusal to show in the dialog (useAction toasts it too).
import { useState } from 'react';
import { useAction } from './useAction';

export interface ConfirmedAction<T> {
  /** The item the dialog asks about; null while it is closed. */
  target: T | null;
  ask: (target: T) => void;
  busy: boolean;
  error: string | null;
  confirm: () => Promise<void>;
  close: () => void;
}

export function useConfirmedAction<T>(action: (target: T) => Promise<unknown>, success: (target: T) => string, after: () => Promise<unknown>): ConfirmedAction<T> {
  const { busy, run } = useAction();
  const [target, setTarget] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setTarget(null);
    setError(null);
  };
  const confirm = async () => {
    if (target === null) return;
    const outcome = await run('confirm', () => action(target), success(target));
    if (outcome.ok) close();
    else setError(outcome.error.message);
    await after();
  };
  return { target, ask: setTarget, busy: busy !== null, error, confirm, close };
}
