// What `coffre` answers to scripts: one exit code per kind of outcome, documented in `coffre --help`.

export const ExitCode = {
  ok: 0,
  /** The run failed, the API answered an error, or something could not be reached. */
  failure: 1,
  /** Bad flags or arguments, no API URL, or input the API refused as invalid (400). */
  usage: 2,
  /** The backup, restore, source or configuration named does not exist (404). */
  notFound: 3,
  /** A verification ran and its result is failed: the backup does not restore as recorded. */
  verificationFailed: 4,
  /** Refused: the confirmation was not given or did not match, or the API answered 409. */
  refused: 5,
  /** The token is missing, invalid, or its role does not allow the action (401/403). */
  notAllowed: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodeHelp = `Exit codes:
  0  success
  1  failure: the run failed, the API answered an error, or it could not be reached
  2  usage: bad flags or arguments, no API URL, or input refused as invalid
  3  not found: no such backup, restore, source or configuration
  4  verification failed: the backup did not restore as recorded
  5  refused: confirmation missing or wrong, or a conflict (409, e.g. a run in progress)
  6  not allowed: token missing, invalid or without the role for this action`;

/** An outcome to report to the operator in one sentence, with the exit code that says what kind it is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 400 || status === 422) return ExitCode.usage;
  if (status === 401 || status === 403) return ExitCode.notAllowed;
  if (status === 404) return ExitCode.notFound;
  if (status === 409) return ExitCode.refused;
  return ExitCode.failure;
}
