// Runs one action of the operator's: marks it busy (buttons disable and spin), toasts its outcome
// with the API's own sentence on failure, and says whether it succeeded.
import { useCallback, useState } from 'react';
import { ApiError } from '../api/client';
import { useToast } from '../components/Toasts';

export type ActionOutcome<T> = { ok: true; result: T } | { ok: false; error: Error };

export function useAction() {
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const run = useCallback(
    async <T,>(key: string, action: () => Promise<T>, success: string | ((result: T) => string)): Promise<ActionOutcome<T>> => {
      setBusy(key);
      try {
        const result = await action();
        toast.success(typeof success === 'function' ? success(result) : success);
        return { ok: true, result };
      } catch (error) {
        toast.error(error instanceof ApiError ? error.message : `Something went wrong: ${(error as Error).message}`);
        return { ok: false, error: error as Error };
      } finally {
        setBusy(null);
      }
    },
    [toast],
  );
  return { busy, run };
}
