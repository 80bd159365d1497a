// The one owner of status transitions of the history tables: pending → running → completed | failed.
// Every transition is a conditional update, so that a retried, duplicated or late job can never move
// a finished row backwards or finish it twice.
import type { Db } from '../infra/db.js';

type RunModel = 'backup' | 'restore' | 'verification';

interface RunDelegate {
  updateMany(args: { where: Record<string, unknown>; data: Record<string, unknown> }): Promise<{ count: number }>;
}

function delegate(db: Db, model: RunModel): RunDelegate {
  return db[model] as unknown as RunDelegate;
}

/**
 * pending → running, or running → running for a new attempt of the same job (the previous worker
 * died or the attempt failed and is retried). Returns false when the row is already finished.
 */
export async function claimRun(db: Db, model: RunModel, id: string, workerId: string): Promise<boolean> {
  const { count } = await delegate(db, model).updateMany({
    where: { id, status: { in: ['pending', 'running'] } },
    data: {
      status: 'running',
      startedAt: new Date(),
      workerId,
      attempts: { increment: 1 },
      errorMessage: null,
      ...(model === 'verification' ? {} : { progressBytes: 0 }),
    },
  });
  return count === 1;
}

/** running → completed, with what the run measured. */
export async function completeRun(db: Db, model: RunModel, id: string, data: Record<string, unknown>): Promise<boolean> {
  const { count } = await delegate(db, model).updateMany({
    where: { id, status: 'running' },
    // A completed run may still carry a sentence (a verification that found differences).
    data: { errorMessage: null, ...data, status: 'completed', completedAt: new Date() },
  });
  return count === 1;
}

/** pending | running → failed, with a sentence an operator can act on. */
export async function failRun(db: Db, model: RunModel, id: string, errorMessage: string, data: Record<string, unknown> = {}): Promise<boolean> {
  const { count } = await delegate(db, model).updateMany({
    where: { id, status: { in: ['pending', 'running'] } },
    data: { ...data, status: 'failed', completedAt: new Date(), errorMessage: errorMessage.slice(0, 2000) },
  });
  return count === 1;
}

/** A note on a running row (for example a failed attempt that will be retried). */
export async function noteRun(db: Db, model: RunModel, id: string, data: Record<string, unknown>): Promise<void> {
  await delegate(db, model).updateMany({ where: { id, status: 'running' }, data });
}

export async function recordProgress(db: Db, model: 'backup' | 'restore', id: string, bytes: number): Promise<void> {
  await delegate(db, model).updateMany({ where: { id, status: 'running' }, data: { progressBytes: BigInt(bytes) } });
}
