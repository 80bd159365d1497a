// What one doctor check answers, before it becomes a CheckResult of the report.
import type { CheckResult, CheckStatus } from './report.js';

export type Shared = typeof import('@coffre/shared');

export interface Outcome {
  status: Exclude<CheckStatus, 'skip'>;
  message: string;
  fix?: string;
  details?: CheckResult['details'];
  /** Present when --fix can repair what was found; returns what it did, in one sentence. */
  repair?: () => Promise<string>;
}

/** A reason (an error, or what a health check said) in one line, without its closing period: the sentence around it has its own. */
export function firstLine(reason: unknown): string {
  const text = typeof reason === 'string' ? reason : ((reason as Error)?.message ?? String(reason));
  return text.split('\n')[0]!.replace(/\.$/, '');
}
