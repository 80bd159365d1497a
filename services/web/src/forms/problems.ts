// A form's problems, field by field, found by the contract's own schema (the one the API validates
// with): the body the form would send is parsed, and each refusal shows under the form field its
// path points at, in the contract's words ("Name must not be empty."). A form may word a refusal its
// own way where the field is a picker or a hint reads better as typed ("Pick the source to back
// up."); what is refused is always the contract's decision.
import { formatPath, issueSentence } from '@coffre/contract';
import type { z } from 'zod';

export type Problems<F> = Partial<Record<keyof F, string>>;

export function problemsOf<F>(schema: z.ZodType, body: unknown, fieldOf: (path: string) => keyof F | null, words: NoInfer<Problems<F>> = {}): Problems<F> {
  const parsed = schema.safeParse(body, { reportInput: true });
  const problems: Problems<F> = {};
  if (parsed.success) return problems;
  for (const issue of parsed.error.issues) {
    const field = fieldOf(formatPath(issue.path));
    if (field === null || problems[field]) continue;
    problems[field] = words[field] ?? sentenceOf(issue, String(field));
  }
  return problems;
}

/** "maxAgeDays" → "Max age days", the field named as the form shows it. */
function label(field: string): string {
  const words = field.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function sentenceOf(issue: z.core.$ZodIssue, field: string): string {
  // An empty field is plain to see: "(got '')" says nothing more.
  const clause = issueSentence(issue, label(field)).replace(/ \(got ''\)$/, '');
  // A secret is never quoted back: say how long it is so far instead.
  const typed = issue.code === 'too_small' && issue.origin === 'string' && typeof issue.input === 'string' && issue.input !== '' && !clause.includes('(got ');
  return `${clause}${typed ? ` (${(issue.input as string).length} so far)` : ''}.`;
}
