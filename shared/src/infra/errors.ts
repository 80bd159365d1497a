// One family of errors that know their HTTP status and a sentence an operator can act on.
// The API's error handler turns them into {"error":{"code","message"}}; workers store the
// message on the history row.

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'invalid_request', message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'not_found', `${what} was not found.`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required: send Authorization: Bearer <token>.') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role does not allow this action.') {
    super(403, 'forbidden', message);
  }
}

export class UnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'unavailable', message);
  }
}

/**
 * A failure of a backup, restore or verification that no retry can fix (bad credentials, missing
 * database, corrupt artifact). Workers turn it into BullMQ's UnrecoverableError.
 */
export class PermanentError extends Error {
  constructor(message: string, readonly code = 'permanent') {
    super(message);
    this.name = 'PermanentError';
  }
}

/** The artifact does not match what was recorded; nothing was restored. */
export class IntegrityError extends PermanentError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message, 'integrity');
    this.name = 'IntegrityError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A unique-constraint violation (Prisma P2002): another process created the same row first. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
