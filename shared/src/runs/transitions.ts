// The one owner of status transitions of the history tables: pending → running → completed | failed.
// Every transition is a conditional update, so that a retried, duplicated or late job can never move
// a finished row backwards or finish it twice. A run that ends (completed or failed) is announced
// once, by the transition that ended it, to whoever listens (ctx.events).
import type { Db, Prisma } from '../infra/db.js';
import type { Events } from '../infra/events.js';

export type RunModel = 'backup' | 'restore' | 'verification';

/** The columns a transition may write on each history table: a wrong column name does not compile. */
export interface RunColumns {
  backup: Prisma.BackupUncheckedUpdateManyInput;
  restore: Prisma.RestoreUncheckedUpdateManyInput;
  verification: Prisma.VerificationUncheckedUpdateManyInput;
}

/** What a transition needs: coffre's database, and where to announce that a run ended. */
export interface RunStore {
  db: Db;
  events: Events;
}

type RunWhere = { id: string; status: 'running' | { in: ('pending' | 'running')[] }; progressBytes?: { lt: bigint }; OR?: { loadedRows: null | { lt: bigint } }[] };

/** One conditional update of one history table; the only place that names the tables' delegates. */
async function update<M extends RunModel>(db: Db, model: M, where: RunWhere, data: RunColumns[M]): Promise<number> {
  const args = { where, data } as never;
  const result = model === 'backup' ? await db.backup.updateMany(args) : model === 'restore' ? await db.restore.updateMany(args) : await db.verification.updateMany(args);
  return result.count;
}

const startable: RunWhere['status'] = { in: ['pending', 'running'] };

/**
 * pending → running, or running → running for a new attempt of the same job (the previous worker
 * died or the attempt failed and is retried). Returns false when the row is already finished.
 */
export async function claimRun<M extends RunModel>(store: RunStore, model: M, id: string, workerId: string): Promise<boolean> {
  const data = { status: 'running', startedAt: new Date(), workerId, attempts: { increment: 1 }, errorMessage: null } as const;
  const progress = model === 'verification' ? {} : model === 'restore' ? { progressBytes: 0, loadedRows: null } : { progressBytes: 0 };
  const count = await update(store.db, model, { id, status: startable }, { ...data, ...progress } as RunColumns[M]);
  return count === 1;
}

/** running → completed, with what the run measured. */
export async function completeRun<M extends RunModel>(store: RunStore, model: M, id: string, data: RunColumns[M]): Promise<boolean> {
  // A completed run may still carry a sentence (a verification that found differences).
  const count = await update(store.db, model, { id, status: 'running' }, { errorMessage: null, ...data, status: 'completed', completedAt: new Date() });
  if (count === 1) await store.events.emit({ type: 'run.ended', model, id });
  return count === 1;
}

/** pending | running → failed, with a sentence an operator can act on. */
export async function failRun<M extends RunModel>(store: RunStore, model: M, id: string, errorMessage: string, data?: RunColumns[M]): Promise<boolean> {
  const count = await update(store.db, model, { id, status: startable }, { ...data, status: 'failed', completedAt: new Date(), errorMessage: errorMessage.slice(0, 2000) });
  if (count === 1) await store.events.emit({ type: 'run.ended', model, id });
  return count === 1;
}

/** A note on a running row (for example a failed attempt that will be retried). */
export async function noteRun<M extends RunModel>(store: RunStore, model: M, id: string, data: RunColumns[M]): Promise<void> {
  await update(store.db, model, { id, status: 'running' }, data);
}

/**
 * The bytes a running run has read or written so far. Writers do not wait for each other (progress
 * is reported many times a second), so an older count may land after a newer one: only a larger
 * count is written, and the counter on screen never goes backwards.
 */
export async function recordProgress(store: RunStore, model: 'backup' | 'restore', id: string, bytes: number): Promise<void> {
  const count = BigInt(bytes);
  await update(store.db, model, { id, status: 'running', progressBytes: { lt: count } }, { progressBytes: count });
}

/** The rows a database restore has loaded so far: only a larger count is written, as for bytes. */
export async function recordLoadedRows(store: RunStore, id: string, rows: number): Promise<void> {
  const count = BigInt(rows);
  await update(store.db, 'restore', { id, status: 'running', OR: [{ loadedRows: null }, { loadedRows: { lt: count } }] }, { loadedRows: count });
}
