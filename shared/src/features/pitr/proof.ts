// The proof of point-in-time recovery, run by a verification of a base backup: the base backup and
// the stored WAL after it recovered to a moment picked at random (a whole second) in the span it
// starts, in a private instance of this worker, timed from the start to a database that answers a query (the RTO an operator can quote),
// the moment the replay reached (the last transaction replayed), and the rows of every table of the
// source's database counted there. The instance and its directory go whatever happens.
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backup, Source } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { PermanentError } from '../../infra/errors.js';
import type { RunLog } from '../../runs/run-log.js';
import type { RunHooks } from '../../runs/life-cycle.js';
import { countRowsInSnapshot, listDumpedTables, type TableCount } from '../../engine/counts.js';
import { withPgClient, type PgConnection } from '../../engine/postgres.js';
import { sourceConnection } from '../sources/sources.js';
import { recoverToMoment } from './recover.js';
import { recoveryWindow } from './window.js';

export interface PointInTimeProof {
  /** The moment picked in the base backup's span when the proof started: what it recovered to. */
  target: Date;
  /** The commit time of the last transaction the replay reached (null: none after the base backup). */
  reached: Date | null;
  /** From the start to a database answering a query: fetch, unpack, replay, open. */
  rtoMs: number;
  fetchMs: number;
  replayMs: number;
  walFiles: number;
  tables: TableCount[];
}

export async function provePointInTime(ctx: AppContext, base: Backup, source: Source, hooks: RunHooks, log: RunLog): Promise<PointInTimeProof> {
  if (!source.pitrEnabled) throw new PermanentError(`Point-in-time recovery is off for source "${source.name}": base backup "${base.name}" has no WAL after it to prove.`);
  const started = Date.now();
  const window = await recoveryWindow(ctx, source.id, { checkStorage: true });
  const span = window.spans.find((s) => s.baseBackups.some((b) => b.id === base.id));
  if (!span) {
    throw new PermanentError(`Base backup "${base.name}" starts no restorable span (its WAL is not all stored, or a break follows it): restores from it are impossible.`, 'wal_gap');
  }
  const target = randomMomentIn(span);
  const database = sourceConnection(ctx, source).database;
  log.phase('recovering to a moment');
  log.info(`recovering base backup "${base.name}" to ${target.toISOString()}, a moment picked at random between ${span.from.toISOString()} and ${span.to.toISOString()}, in a private instance`);
  const root = ctx.config.PITR_WORK_DIR ?? ctx.config.TMP_DIR;
  await mkdir(root, { recursive: true });
  const workDir = await mkdtemp(join(root, 'pitr-proof-'));
  try {
    const recovered = await recoverToMoment(ctx, base, target, { workDir, users: ['postgres', sourceConnection(ctx, source).user], action: 'promote', log, signal: hooks.signal });
    try {
      const connection: PgConnection = { host: recovered.instance.socketDir, port: recovered.instance.port, user: recovered.instance.superuser, database };
      const reached = await withPgClient(connection, async (client) => (await client.query<{ at: Date | null }>('SELECT pg_last_xact_replay_timestamp() AS at')).rows[0]!.at);
      const rtoMs = Date.now() - started;
      log.info(`RTO ${(rtoMs / 1000).toFixed(1)} s: "${database}" answered a query (fetch ${recovered.timings.fetchMs} ms, replay ${recovered.timings.replayMs} ms, ${recovered.timings.walFiles} WAL file(s)); recovery point reached ${reached ? reached.toISOString() : 'the end of the base backup'}`);
      log.phase('counting rows');
      const tables = await withPgClient(connection, async (client) => countRowsInSnapshot(client, await listDumpedTables(client), hooks.signal));
      return { target, reached, rtoMs, fetchMs: recovered.timings.fetchMs, replayMs: recovered.timings.replayMs, walFiles: recovered.timings.walFiles, tables };
    } finally {
      await recovered.instance.stop();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** A whole second of the span, uniformly (its end when the span is shorter than a second). */
export function randomMomentIn(span: { from: Date; to: Date }): Date {
  const first = Math.ceil(span.from.getTime() / 1000);
  const last = Math.floor(span.to.getTime() / 1000);
  return last < first ? span.to : new Date(randomInt(first, last + 1) * 1000);
}
