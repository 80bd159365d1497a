// What a job is, whatever it does: the queue it runs on, its payload (ids only: nothing secret ever
// reaches Redis), how it is retried, how many finished ones Redis keeps, the id that makes a duplicate
// enqueue a no-op, and the history row it moves. Each feature declares its own jobs with defineJob
// (features/<feature>/jobs.ts); features/catalog.ts puts them together.
import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

export const queueNames = ['backup', 'restore', 'maintenance', 'notifications', 'wal'] as const;
export type QueueName = (typeof queueNames)[number];

/** A row id in a payload. */
export const rowId = z.string().uuid();

export interface JobDefinition<P extends z.ZodType = z.ZodType> {
  queue: QueueName;
  payload: P;
  attempts: number;
  /** Exponential backoff base, in milliseconds. */
  backoffMs: number;
  /** The BullMQ job id, derived from the row the job works on (no ':' allowed by BullMQ). */
  jobId?: (payload: z.infer<P>) => string;
  /**
   * How many finished jobs Redis keeps (completed, failed). A job scheduler fires its job forever,
   * and a firing's outcome lives on in the rows it made: only the last few are worth keeping.
   */
  keep?: { completed: number; failed: number };
  /** The history row the job moves through pending → running → completed | failed, if any. */
  run?: (payload: z.infer<P>) => { model: 'backup' | 'restore' | 'verification'; id: string };
}

export function defineJob<P extends z.ZodType>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

/** What a scheduler's firing keeps in Redis: enough to read the last few in Bull Board. */
export const keepFirings = { completed: 20, failed: 50 };

/** The BullMQ options every job of a definition gets, enqueued or fired by a scheduler. */
export function jobOptions(definition: Pick<JobDefinition, 'attempts' | 'backoffMs' | 'keep'>): JobsOptions {
  return {
    attempts: definition.attempts,
    backoff: definition.backoffMs ? { type: 'exponential', delay: definition.backoffMs } : undefined,
    removeOnComplete: { age: 7 * 24 * 3600, count: definition.keep?.completed ?? 5000 },
    removeOnFail: { age: 30 * 24 * 3600, count: definition.keep?.failed ?? 5000 },
  };
}
