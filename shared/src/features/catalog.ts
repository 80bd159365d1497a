// Every job coffre runs, put together from the features that declare them (features/<feature>/jobs.ts),
// and the only typed ways in: enqueue() and schedule() check a payload against its job's schema at
// compile time and at run time, and give every job its definition's options; JobHandlers types each
// handler's payload from its job, so a handler reading a field its payload lacks does not compile.
import type { z } from 'zod';
import type { Job } from 'bullmq';
import type { AppContext } from '../infra/context.js';
import type { JobsOptions } from 'bullmq';
import type { ScheduleRepeat } from '../infra/jobs/queues.js';
import type { JobDefinition, QueueName } from '../infra/jobs/definition.js';
import type { RunHooks, RunOutcome } from '../runs/life-cycle.js';
import { withoutTraceparent } from '../infra/tracing.js';
import { backupJobs } from './backups/jobs.js';
import { configurationJobs } from './configurations/jobs.js';
import { restoreJobs } from './restores/jobs.js';
import { verificationJobs } from './verifications/jobs.js';
import { maintenanceJobs } from './maintenance/jobs.js';
import { notificationJobs } from './notifications/jobs.js';
import { pitrJobs } from './pitr/jobs.js';

export const jobCatalog = {
  ...backupJobs,
  ...configurationJobs,
  ...restoreJobs,
  ...verificationJobs,
  ...maintenanceJobs,
  ...notificationJobs,
  ...pitrJobs,
};

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['payload']>;

export const jobNames = Object.keys(jobCatalog) as JobName[];

/** The definition of a job by its name as it comes from Redis, or undefined for a name coffre does not know. */
export function definitionOf(name: string): JobDefinition | undefined {
  return Object.hasOwn(jobCatalog, name) ? (jobCatalog[name as JobName] as JobDefinition) : undefined;
}

export function jobsOfQueue(queue: QueueName): JobName[] {
  return jobNames.filter((name) => jobCatalog[name].queue === queue);
}

/** Queues a job (a no-op when a job with its id exists). */
export function enqueue<N extends JobName>(ctx: Pick<AppContext, 'queues'>, name: N, payload: JobPayload<N>, options?: Pick<JobsOptions, 'delay' | 'priority'>): Promise<Job> {
  return ctx.queues.add(name, jobCatalog[name] as JobDefinition, payload, options);
}

/** Creates or updates a job scheduler firing `name` with `payload` on `repeat`, with the job's options. */
export function scheduleJob<N extends JobName>(ctx: Pick<AppContext, 'queues'>, name: N, schedulerId: string, repeat: ScheduleRepeat, payload: JobPayload<N>): Promise<void> {
  return ctx.queues.schedule(name, jobCatalog[name] as JobDefinition, schedulerId, repeat, payload);
}

/** The history row a job works on, when its payload names one. */
export function runOfJob(name: string, data: unknown): { model: 'backup' | 'restore' | 'verification'; id: string } | null {
  const definition = definitionOf(name);
  if (!definition?.run) return null;
  const parsed = definition.payload.safeParse(withoutTraceparent(data));
  return parsed.success ? definition.run(parsed.data) : null;
}

/** A job's handler: its payload typed from the job's schema. */
export type JobHandler<N extends JobName> = (ctx: AppContext, payload: JobPayload<N>, hooks: RunHooks, job: Job) => Promise<RunOutcome | object | void>;

/** One handler per job of the catalog, keyed by the job's name. */
export type JobHandlers = { [N in JobName]: JobHandler<N> };
