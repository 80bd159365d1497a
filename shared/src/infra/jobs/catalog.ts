// Every job coffre runs, in one place: its queue, its payload (ids only: nothing secret ever
// reaches Redis), how it is retried, and the id that makes a duplicate enqueue a no-op.
import { z } from 'zod';

export const queueNames = ['backup', 'restore', 'maintenance', 'notifications'] as const;
export type QueueName = (typeof queueNames)[number];

const id = z.string().uuid();

interface JobDefinition<P extends z.ZodType> {
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

/** What a scheduler's firing keeps in Redis: enough to read the last few in Bull Board. */
const keepFirings = { completed: 20, failed: 50 };

function job<P extends z.ZodType>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

export const jobCatalog = {
  /** Takes the backup of a Backup row (pending → running → completed | failed). */
  'backup.run': job({
    queue: 'backup',
    payload: z.object({ backupId: id }).strict(),
    attempts: 3,
    backoffMs: 15_000,
    jobId: (p) => `backup-${p.backupId}`,
    run: (p) => ({ model: 'backup', id: p.backupId }),
  }),
  /** Fired by a configuration's job scheduler: creates a Backup row (trigger `schedule`) and queues it. */
  'configuration.scheduled': job({
    queue: 'backup',
    payload: z.object({ configurationId: id }).strict(),
    attempts: 3,
    backoffMs: 5_000,
    keep: keepFirings,
  }),
  /** Restores a Restore row's backup into its target, after a safety backup of the target. */
  'restore.run': job({
    queue: 'restore',
    payload: z.object({ restoreId: id }).strict(),
    // A restore is not retried on its own: the operator decides after reading the error.
    attempts: 1,
    backoffMs: 0,
    jobId: (p) => `restore-${p.restoreId}`,
    run: (p) => ({ model: 'restore', id: p.restoreId }),
  }),
  /** A test restore of a backup into a scratch database. */
  'verification.run': job({
    queue: 'restore',
    payload: z.object({ verificationId: id }).strict(),
    attempts: 2,
    backoffMs: 30_000,
    jobId: (p) => `verification-${p.verificationId}`,
    run: (p) => ({ model: 'verification', id: p.verificationId }),
  }),
  /** Fired by a configuration's verify schedule: verifies its newest completed backup. */
  'configuration.verify': job({
    queue: 'restore',
    payload: z.object({ configurationId: id }).strict(),
    attempts: 1,
    backoffMs: 0,
    keep: keepFirings,
  }),
  /** Retention, reconciliation, overdue and disk checks. */
  'maintenance.run': job({
    queue: 'maintenance',
    payload: z.object({ fixMissing: z.boolean().optional() }).strict(),
    attempts: 1,
    backoffMs: 0,
    keep: keepFirings,
  }),
  /** Delivers one notification to one channel. */
  'notification.deliver': job({
    queue: 'notifications',
    payload: z.object({ deliveryId: id }).strict(),
    attempts: 6,
    backoffMs: 2_000,
    jobId: (p) => `delivery-${p.deliveryId}`,
  }),
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['payload']>;

export const jobNames = Object.keys(jobCatalog) as JobName[];

export function jobsOfQueue(queue: QueueName): JobName[] {
  return jobNames.filter((name) => jobCatalog[name].queue === queue);
}

/** The history row a job works on, when its payload names one. */
export function runOfJob(name: string, data: unknown): { model: 'backup' | 'restore' | 'verification'; id: string } | null {
  const definition = (jobCatalog as Record<string, JobDefinition<z.ZodType>>)[name];
  if (!definition?.run) return null;
  const parsed = definition.payload.safeParse(data);
  return parsed.success ? definition.run(parsed.data) : null;
}
