// A form checked as it is typed: a field shows its problem once touched (or after a submit), the
// API's own 400 sentence shows at the top and under the field it names, and nothing is sent while
// the browser already knows the form is wrong.
import { useState } from 'react';
import { ApiError, saveResource } from '../api/client';
import { useToast } from '../components/Toasts';

export type Errors<F> = Partial<Record<keyof F, string>>;

export interface FormState<F> {
  form: F;
  set<K extends keyof F>(field: K, value: F[K]): void;
  /** The problem to show under a field now. */
  shown(field: keyof F): string | undefined;
  apiError: string | null;
  saving: boolean;
  /** Validates, then runs `send` (which throws ApiError on refusal); true when it succeeded. */
  submit(send: (form: F) => Promise<unknown>): Promise<boolean>;
}

export function useForm<F extends object>(initial: () => F, validate: (form: F) => Errors<F>, fieldOfApiPath: (path: string, form: F) => keyof F | null): FormState<F> {
  const toast = useToast();
  const [form, setForm] = useState(initial);
  const [touched, setTouched] = useState<Set<keyof F>>(() => new Set());
  const [submitted, setSubmitted] = useState(false);
  const [apiError, setApiError] = useState<{ message: string; fields: Errors<F> } | null>(null);
  const [saving, setSaving] = useState(false);
  const errors = validate(form);

  const set = <K extends keyof F>(field: K, value: F[K]) => {
    setForm((current) => ({ ...current, [field]: value }));
    setTouched((current) => new Set(current).add(field));
    setApiError((current) => (current?.fields[field] ? { ...current, fields: { ...current.fields, [field]: undefined } } : current));
  };

  const shown = (field: keyof F) => (submitted || touched.has(field) ? errors[field] : undefined) ?? apiError?.fields[field];

  const submit = async (send: (form: F) => Promise<unknown>) => {
    setSubmitted(true);
    setApiError(null);
    if (Object.values(errors).some(Boolean)) {
      // After React shows the messages, the first field in trouble gets the focus.
      setTimeout(() => document.querySelector<HTMLElement>('[role=dialog] [aria-invalid="true"]')?.focus(), 0);
      return false;
    }
    setSaving(true);
    try {
      await send(form);
      return true;
    } catch (error) {
      if (error instanceof ApiError) {
        const fields: Errors<F> = {};
        for (const detail of error.details) {
          const field = fieldOfApiPath(detail.path, form);
          if (field && !fields[field]) fields[field] = detail.message;
        }
        setApiError({ message: error.message, fields });
        toast.error(error.message);
      } else {
        toast.error(`Saving failed: ${(error as Error).message}`);
      }
      return false;
    } finally {
      setSaving(false);
    }
  };

  return { form, set, shown, apiError: apiError?.message ?? null, saving, submit };
}

/**
 * Saves a resource of `collection` (PUT when `existing`, POST when new) and toasts
 * "<name> is saved." or "<name> is <created>.".
 */
export function useSaver<T extends { name: string }>(collection: string, existing: { id: string } | null, created = 'added'): (body: unknown) => Promise<T> {
  const toast = useToast();
  return async (body) => {
    const saved = await saveResource<T>(collection, existing?.id, body);
    toast.success(existing ? `${saved.name} is saved.` : `${saved.name} is ${created}.`);
    return saved;
  };
}
