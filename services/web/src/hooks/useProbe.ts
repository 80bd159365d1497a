// A check an operator runs on one item of a list (test a connection, send a test notification):
// which item it runs on, each item's last verdict, and a toast that says how it went.
import { useState } from 'react';
import { ApiError } from '../api/client';
import { useToast } from '../components/Toasts';

export interface Verdict {
  ok: boolean;
  message: string;
}

export interface Probe<T> {
  /** The id of the item being checked. */
  probing: string | null;
  verdicts: Record<string, Verdict>;
  run: (item: T) => Promise<void>;
}

export function useProbe<T extends { id: string; name: string }, R>(probe: (item: T) => Promise<R>, verdictOf: (outcome: R) => Verdict): Probe<T> {
  const toast = useToast();
  const [probing, setProbing] = useState<string | null>(null);
  const [verdicts, setVerdicts] = useState<Record<string, Verdict>>({});

  const run = async (item: T) => {
    setProbing(item.id);
    try {
      const verdict = verdictOf(await probe(item));
      setVerdicts((all) => ({ ...all, [item.id]: verdict }));
      if (verdict.ok) toast.success(`${item.name}: ${verdict.message}`);
      else toast.error(`${item.name}: ${verdict.message}`);
    } catch (caught) {
      toast.error(caught instanceof ApiError ? caught.message : (caught as Error).message);
    } finally {
      setProbing(null);
    }
  };

  return { probing, verdicts, run };
}
