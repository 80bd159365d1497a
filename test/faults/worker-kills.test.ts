// A worker process SIGKILLed at random moments of a backup: during the dump, inside the window
// between an artifact's fsync and its rename, and around the completed status write (failpoints
// widen the two short windows so that a kill can land in them). After each kill the stall window
// hands the job to another worker; the row must leave `running` within the bound, end completed or
// failed with a reason, and no completed row may ever point at a partial or different object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createSource, reconcile, requestBackup, storagePrefix, systemActor } from '@coffre/shared';
import { createDatabase, withClient } from '../support/pg.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { auditArtifacts } from '../support/artifact-audit.js';
import { childrenNamed, listProcesses, quickly, sleep, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { seededRandom } from '../support/random.js';
import type { RunningWorkers } from '../../services/worker/src/workers.js';

const TRIALS_PER_PHASE = Number(process.env.FAULT_TRIALS ?? 10);
const STALL_SECONDS = 2;
/** How long after a kill a row may still say running: the locks lapse, the stall check runs, the job runs again. */
const RECONCILIATION_BOUND_MS = 30_000;
const PAUSE_MS = 600;

type Phase = 'dump' | 'rename' | 'status';

const failpointsOf: Record<Phase, string> = {
  dump: '',
  rename: `storage.before-rename=${PAUSE_MS}`,
  status: `backup.before-complete=${PAUSE_MS}`,
};

const random = seededRandom();
let stack: TestStack;
let bigSource: { id: string; database: string };
let smallSourceId: string;
let recovery: RunningWorkers | null = null;
let dumpMs = 0;
/** The next victim, started while the previous trial recovers. */
let nextVictim: Promise<WorkerProcess> | null = null;

const figures = {
  seed: random.seed,
  trials: 0,
  completed: 0,
  failed: 0,
  killedWhilePgDumpRan: 0,
  killedAfterDatabaseObjectPublished: 0,
  maxMsRunningAfterKill: 0,
  temporariesRemovedByReconcile: 0,
  objectsChecked: 0,
  bytesChecked: 0,
};

beforeAll(async () => {
  if (!existsSync('services/worker/dist/main.js')) throw new Error('build first: npx tsc -b (the test runs the built worker)');
  const big = await createDatabase('coffre_kill_big');
  // ~50 MB of table: pg_dump lives for most of a second, long enough to be killed at a random moment of it.
  await withClient(big.url, (c) => c.query('CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS body FROM generate_series(1, 600000) g'));
  const small = await createDatabase('coffre_kill_small');
  await withClient(small.url, (c) => c.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 2000) g'));
  stack = await createTestStack({ sourceUrl: big.url, env: { STALL_SECONDS: String(STALL_SECONDS) } });
  bigSource = { id: (await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } })).id, database: big.name };
  smallSourceId = (await createSource(stack.ctx, { name: 'small', url: small.url }, systemActor)).id;
  // The worker that takes over after each kill; stopped while a victim takes the next job.
  resumeRecovery();
  const calibration = await requestBackup(stack.ctx, { sourceId: bigSource.id }, systemActor);
  // Generous: the first job of a run that starts beside other suites can wait on a busy machine.
  await quickly(async () => (await childrenNamed(process.pid, 'pg_dump'))[0], 120_000, 'pg_dump to start');
  const started = Date.now();
  await quickly(async () => (await childrenNamed(process.pid, 'pg_dump')).length === 0, 60_000, 'pg_dump to exit');
  dumpMs = Date.now() - started;
  const done = await finished(calibration.id, 60_000);
  expect(done.status).toBe('completed');
  await pauseRecovery();
  console.info(`worker kills: seed ${random.seed}; pg_dump of the big source lives ${dumpMs} ms, its whole backup takes ${done.durationMs} ms`);
});

afterAll(async () => {
  console.info(`worker kills: ${JSON.stringify(figures)}`);
  await (await nextVictim?.catch(() => null))?.crash();
  await stack?.close();
});

/**
 * Stops the recovery worker while a victim takes the next job. Closed, not paused: a BullMQ worker
 * paused while it blocks waiting for a job still takes the next job that arrives (its wait returns
 * into moveToActive without looking at the pause again), and then the victim never got its job.
 */
async function pauseRecovery() {
  await recovery?.close(30_000);
  recovery = null;
}

/** A new recovery worker: on starting it also takes back the stalled job of the victim just killed. */
function resumeRecovery() {
  recovery = stack.startWorkers({ concurrency: 1 });
}

async function finished(id: string, timeoutMs: number) {
  return eventually(async () => {
    const row = await stack.ctx.db.backup.findUniqueOrThrow({ where: { id } });
    return row.status === 'completed' || row.status === 'failed' ? row : undefined;
  }, timeoutMs, `backup ${id} to leave pending/running`);
}

async function jobState(backupId: string): Promise<string> {
  const job = await stack.ctx.queues.queue('backup').getJob(`backup-${backupId}`);
  return job ? job.getState() : 'missing';
}

/** A worker process with every failpoint of the trials armed (a pause is harmless where no kill follows). */
function startVictim(): Promise<WorkerProcess> {
  return startWorkerProcess(stack, { COFFRE_FAILPOINTS: [failpointsOf.rename, failpointsOf.status].join(','), WORKER_CONCURRENCY: '1' });
}

/** Lets a victim take a backup and kills it at a random moment of `phase`; says what the kill hit. */
async function killDuring(phase: Phase, victim: WorkerProcess) {
  const backup = await requestBackup(stack.ctx, { sourceId: phase === 'dump' ? bigSource.id : smallSourceId }, systemActor);
  const databaseFile = join(stack.config.BACKUP_DIR, storagePrefix(backup), 'database.dump.zst');
  const seen = victim.failpoints.length;
  // The n-th failpoint of this backup (the victim may have reached others while recovering a previous one).
  const reach = async (name: string, n: number) => {
    for (let i = seen + 1; ; i++) {
      const event = await victim.failpoint(i);
      if (event.failpoint === name && event.detail?.includes(backup.id) && --n === 0) return event;
    }
  };
  let what: string;
  if (phase === 'dump') {
    await quickly(async () => (await childrenNamed(victim.pid, 'pg_dump'))[0], 30_000, 'pg_dump to start');
    await sleep(random() * dumpMs * 0.8);
    const dumping = (await childrenNamed(victim.pid, 'pg_dump')).length > 0;
    await victim.crash();
    what = dumping ? 'while pg_dump ran' : 'after pg_dump exited';
    if (dumping) figures.killedWhilePgDumpRan += 1;
  } else if (phase === 'rename') {
    // The database artifact, manifest.json or RESTORE.md: each is fsynced, then renamed into place.
    const event = await reach('storage.before-rename', 1 + Math.floor(random() * 3));
    await sleep(random() * PAUSE_MS * 0.9);
    await victim.crash();
    what = `before the rename of ${event.detail?.split('/').pop()}`;
  } else {
    await reach('backup.before-complete', 1);
    // Up to a little past the pause: some kills land during or just after the UPDATE itself.
    await sleep(random() * (PAUSE_MS + 300));
    await victim.crash();
    what = 'around the completed status write';
  }
  if (existsSync(databaseFile)) figures.killedAfterDatabaseObjectPublished += 1;
  return { backup, killedAt: Date.now(), what };
}

describe.each(['dump', 'rename', 'status'] as Phase[])('SIGKILL %s', (phase) => {
  it(`${TRIALS_PER_PHASE} kills at random moments: every row finishes within the bound, and completed rows hold exactly their objects`, async () => {
    for (let trial = 1; trial <= TRIALS_PER_PHASE; trial++) {
      const victim = await (nextVictim ?? startVictim());
      // Before the victim takes a backup, whatever it took over from the last trial is done.
      await eventually(async () => (await stack.ctx.queues.queue('backup').getActiveCount()) === 0, 30_000, 'the queue to be idle');
      const { backup, killedAt, what } = await killDuring(phase, victim);
      const killedStatus = (await stack.ctx.db.backup.findUniqueOrThrow({ where: { id: backup.id } })).status;
      nextVictim = startVictim();
      resumeRecovery();
      const row = await finished(backup.id, RECONCILIATION_BOUND_MS + 10_000);
      const runningMs = Date.now() - killedAt;
      await pauseRecovery();
      figures.trials += 1;
      figures.maxMsRunningAfterKill = Math.max(figures.maxMsRunningAfterKill, runningMs);
      figures[row.status === 'completed' ? 'completed' : 'failed'] += 1;
      const context = JSON.stringify({ phase, trial, what, killedStatus, status: row.status, error: row.errorMessage, attempts: row.attempts, runningMs });

      expect(runningMs, context).toBeLessThan(RECONCILIATION_BOUND_MS);
      if (row.status === 'failed') expect(row.errorMessage, context).toMatch(/\w{10,}/);
      // The queue agrees: the job is finished too, not left active or stalled (a job whose row was already
      // completed when its worker died waits for the stall check, within the same bound as the rows).
      await eventually(async () => ['completed', 'failed'].includes(await jobState(backup.id)), RECONCILIATION_BOUND_MS, `the job of ${context} to finish`);
      const audit = await auditArtifacts(stack.ctx, stack.config.BACKUP_DIR);
      expect({ context, mismatches: audit.mismatches, stray: audit.strayFiles }).toEqual({ context, mismatches: [], stray: [] });
      // The killed worker's pg_dump does not outlive it.
      await eventually(
        async () => !(await listProcesses()).some((p) => p.comm === 'pg_dump' && p.ppid === victim.pid),
        10_000,
        'the killed worker’s pg_dump to exit',
      );
    }
  });
});

it('afterwards nothing is stuck, reconciliation finds nothing to fix, and unfinished writes are cleared', async () => {
  await (await nextVictim)?.stop();
  nextVictim = null;
  expect(await stack.ctx.db.backup.count({ where: { status: { in: ['pending', 'running'] } } })).toBe(0);
  const report = await reconcile(stack.ctx, { checkStorage: true, temporariesOlderThanMs: 0 });
  expect(report.failedRunning).toEqual([]);
  expect(report.requeuedPending).toEqual([]);
  expect(report.orphanObjects).toEqual([]);
  expect(report.missingObjects).toEqual([]);
  figures.temporariesRemovedByReconcile = report.removedTemporaries;
  const audit = await auditArtifacts(stack.ctx, stack.config.BACKUP_DIR);
  expect(audit.mismatches).toEqual([]);
  expect(audit.strayFiles).toEqual([]);
  expect(audit.temporaryFiles).toEqual([]);
  expect(audit.completedRows).toBe(figures.completed + 1);
  figures.objectsChecked = audit.objectsChecked;
  figures.bytesChecked = audit.bytesChecked;
});
