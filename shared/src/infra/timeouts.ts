// Bounded waits. A dependency that does not answer (a database behind a dropped connection, a Redis
// that is away) must not hold a health check, a notification or a shutdown for ever.

/**
 * `work`, or a rejection with `message` once `ms` have passed. The timer never keeps the process
 * alive and is cleared when `work` settles; once the deadline has won, a late failure of `work` is
 * not an unhandled rejection.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Waits until `work` settles, but no longer than `ms`, and never fails: for what a shutdown must not hang on. */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  await withTimeout(work, ms).catch(() => {});
}
