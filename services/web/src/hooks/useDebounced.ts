// A value that follows another once it stops changing: a filter applies when typing pauses.
import { useEffect, useState } from 'react';

/** `value` once it has not changed for `ms` (typing pauses), compared by its JSON. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  const key = JSON.stringify(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [key, ms]);
  return settled;
}
