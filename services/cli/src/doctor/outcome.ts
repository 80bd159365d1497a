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
