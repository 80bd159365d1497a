// A restore over an existing database loads the backup beside it, checks it, and swaps it in. What
// must hold: afterwards the target is exactly the backup (objects created after it are gone); a
// failure at any step (during the load, after the check, between the two renames, a killed worker)
// leaves the target usable under its own name with its old content (a worker killed after the swap
// committed leaves the new content, and the restore is completed by reconciliation); an undo brings the previous
// content back exactly; the target's connections are ended only at the swap, which takes under a
// second. Where the role may not create databases, the restore falls back to the in-place path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import request from 'supertest';
import { createSource, dropExpiredRestoreCopies, failRun, onFailpoint, reconcile, requestBackup, systemActor } from '@coffre/shared';
import { adminQuery, createDatabase, dropDatabase, withClient } from '../support/pg.js';
import { dataChecksums } from '../support/fixtures.js';
import { createTestStack, eventually, type TestStack } from '../support/stack.js';
import { databaseUrl, uniqueName } from '../support/env.js';
import { startWorkerProcess } from '../support/worker-process.js';
import type { RunningWorkers } from '../../services/worker/src/workers.js';

let stack: TestStack;
let workers: RunningWorkers;
let auth: { Authorization: string };
let target: { name: string; url: string };
let backup: { id: string; name: string };
let backupState: Record<string, string>;
const figures: Record<string, unknown> = {};
const roles: string[] = [];

const ROWS = 60_000;

beforeAll(async () => {
  target = await createDatabase('coffre_swap');
  await withClient(target.url, (c) =>
    c.query(`CREATE TABLE items (id int PRIMARY KEY, word text NOT NULL);
             INSERT INTO items SELECT g, 'word-' || g FROM generate_series(1, ${ROWS}) g;
             CREATE INDEX items_word ON items (word);
             CREATE TABLE notes AS SELECT g AS id, repeat('n', 200) AS body FROM generate_series(1, 2000) g;`),
  );
  stack = await createTestStack({ sourceUrl: target.url, env: { RESTORE_JOBS: '2' } });
  auth = { Authorization: `Bearer ${stack.adminToken}` };
  workers = stack.startWorkers({ concurrency: 1 });
  const sourceId = (await stack.ctx.db.source.findFirstOrThrow({ where: { name: 'default' } })).id;
  const requested = await requestBackup(stack.ctx, { sourceId }, systemActor);
  const done = await finished(`/api/backups/${requested.id}`);
  expect(done.status).toBe('completed');
  backup = { id: done.id, name: done.name };
  backupState = await dataChecksums(target.url);
});

afterAll(async () => {
  console.info(`restore swap: ${JSON.stringify(figures)}`);
  await workers?.close(1000).catch(() => {});
  const left = await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${target.name}\\_\\_%`]);
  for (const { datname } of left.rows) await dropDatabase(datname);
  await stack?.close();
  for (const role of roles) await adminQuery(`DROP ROLE IF EXISTS ${role}`).catch((error: Error) => console.warn(`role ${role} left: ${error.message}`));
});

async function finished(path: string) {
  return eventually(async () => {
    const res = await request(stack.app).get(path).set(auth);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 120_000, path);
}

async function restore(body: Record<string, unknown> = {}) {
  const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return finished(`/api/restores/${res.body.id}`);
}

/** Changes the target after the backup: rows edited, a table the backup never saw. */
async function changeTarget(tag: string): Promise<Record<string, string>> {
  await withClient(target.url, (c) =>
    c.query(`UPDATE items SET word = 'changed-${tag}' WHERE id <= 100; CREATE TABLE after_backup_${tag} (v text); INSERT INTO after_backup_${tag} VALUES ('${tag}')`),
  );
  return dataChecksums(target.url);
}

async function databasesOf(name: string): Promise<string[]> {
  const { rows } = await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1', [`${name}\\_\\_%`]);
  return rows.map((r) => r.datname);
}

describe('restore over an existing database: load beside, check, swap', () => {
  let swapped: { id: string; keptDatabase: string };
  let changed: Record<string, string>;

  it('leaves exactly the backup (objects created after it are gone), keeps the old database, and ends connections only at the swap', async () => {
    changed = await changeTarget('a');
    const held = new (await import('pg')).default.Client({ connectionString: target.url });
    held.on('error', () => {});
    await held.connect();
    let aliveAfterCheck = false;
    const off = onFailpoint('restore.after-check', async () => {
      aliveAfterCheck = (await held.query('SELECT 1 AS one')).rows[0]?.one === 1;
    });
    try {
      const done = await restore();
      expect(done.status, done.errorMessage).toBe('completed');
      expect(done.method).toBe('swap');
      expect(done.safetyBackupId).toBeNull();
      expect(await dataChecksums(target.url)).toEqual(backupState);
      expect(done.keptDatabase).toMatch(new RegExp(`^${target.name}__before_restore_\\d{8}T\\d{6}$`));
      expect(await dataChecksums(databaseUrl(done.keptDatabase))).toEqual(changed);
      expect(aliveAfterCheck).toBe(true);
      await expect(held.query('SELECT 1')).rejects.toThrow();
      expect(done.swapMs).toBeLessThan(1000);
      expect(done.log).toMatch(/unavailable for [\d.]+ ms/);
      expect(done.undoable).toBe(true);
      figures.swapMs = done.swapMs;
      figures.durationMs = done.durationMs;
      swapped = done;
    } finally {
      off();
      await held.end().catch(() => {});
    }
  });

  it('undo brings the replaced content back exactly, and keeps the restored one', async () => {
    const res = await request(stack.app).post(`/api/restores/${swapped.id}/undo`).set(auth).send();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await dataChecksums(target.url)).toEqual(changed);
    expect(res.body.undoneDatabase).toMatch(new RegExp(`^${target.name}__undone_`));
    expect(await dataChecksums(databaseUrl(res.body.undoneDatabase))).toEqual(backupState);
    expect(await databasesOf(target.name)).not.toContain(swapped.keptDatabase);
    const again = await request(stack.app).post(`/api/restores/${swapped.id}/undo`).set(auth).send();
    expect(again.status).toBe(409);
    expect(again.body.message ?? again.body.error?.message ?? JSON.stringify(again.body)).toMatch(/undone already/);
    const audit = await stack.ctx.db.auditEvent.findFirst({ where: { action: 'restore.undo', targetId: swapped.id } });
    expect(audit).not.toBeNull();
  });

  it('undo is for admins only', async () => {
    const operator = await stack.token('operator');
    const res = await request(stack.app).post(`/api/restores/${swapped.id}/undo`).set({ Authorization: `Bearer ${operator}` }).send();
    expect(res.status).toBe(403);
  });

  for (const point of ['restore.create-database', 'restore.during-load', 'restore.after-check', 'restore.between-renames']) {
    it(`a failure at ${point} leaves the target as it was, under its own name, and no load database behind`, async () => {
      const before = await changeTarget(point.replace(/\W/g, '_'));
      const off = onFailpoint(point, () => {
        throw new Error(`injected failure at ${point}`);
      });
      try {
        const done = await restore();
        expect(done.status).toBe('failed');
        expect(done.errorMessage).toContain(`injected failure at ${point}`);
      } finally {
        off();
      }
      expect(await dataChecksums(target.url)).toEqual(before);
      expect((await databasesOf(target.name)).filter((d) => d.includes('__restoring_'))).toEqual([]);
    });
  }

  it('the swapped-in database keeps the target\'s privileges, settings, connection limit and comment', async () => {
    const role = uniqueName('coffre_swap_app').toLowerCase();
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    try {
      await adminQuery(`REVOKE ALL ON DATABASE ${target.name} FROM PUBLIC`);
      await adminQuery(`GRANT CONNECT, TEMPORARY ON DATABASE ${target.name} TO ${role}`);
      await adminQuery(`ALTER DATABASE ${target.name} SET work_mem = '7MB'`);
      await adminQuery(`ALTER DATABASE ${target.name} SET search_path = "$user", public, "Odd, name"`);
      await adminQuery(`ALTER ROLE ${role} IN DATABASE ${target.name} SET statement_timeout = '5s'`);
      await adminQuery(`ALTER DATABASE ${target.name} CONNECTION LIMIT 40`);
      await adminQuery(`COMMENT ON DATABASE ${target.name} IS 'the shop''s data'`);
      const describe = async () =>
        (
          await adminQuery<{ acl: string; settings: string; limit: number; comment: string }>(
            `SELECT d.datacl::text AS acl, d.datconnlimit AS limit, shobj_description(d.oid, 'pg_database') AS comment,
                    (SELECT string_agg(coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*') || ':' || array_to_string(s.setconfig, ';'), ' | ' ORDER BY s.setrole)
                       FROM pg_db_role_setting s WHERE s.setdatabase = d.oid) AS settings
               FROM pg_database d WHERE d.datname = $1`,
            [target.name],
          )
        ).rows[0];
      const before = await describe();
      const done = await restore();
      expect(done.status, done.errorMessage).toBe('completed');
      expect(done.method).toBe('swap');
      const after = await describe();
      expect(after).toEqual(before);
      expect(after!.settings).toContain('search_path="$user", public, "Odd, name"');
    } finally {
      await adminQuery(`ALTER DATABASE ${target.name} RESET ALL`).catch(() => {});
      await adminQuery(`GRANT ALL ON DATABASE ${target.name} TO PUBLIC`).catch(() => {});
      for (const { datname } of (await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${target.name}%`])).rows) {
        await adminQuery(`ALTER ROLE ${role} IN DATABASE ${datname} RESET ALL`).catch(() => {});
        await adminQuery(`REVOKE ALL ON DATABASE ${datname} FROM ${role}`).catch(() => {});
      }
      // Dropped in afterAll, once the kept databases that carry its grants are gone.
      roles.push(role);
    }
  });

  it('a restore into a database that does not exist creates it and loads it with pg_restore --jobs', async () => {
    const name = uniqueName('coffre_swap_new').toLowerCase();
    try {
      const done = await restore({ targetDatabase: name });
      expect(done.status, done.errorMessage).toBe('completed');
      expect(done.method).toBe('new-database');
      expect(await dataChecksums(databaseUrl(name))).toEqual(backupState);
      expect(done.log).toMatch(/pg_restore --jobs=2/);
    } finally {
      await dropDatabase(name);
    }
  });

  it('a database of the same name created by someone else while the artifact is read: the restore fails saying so, and leaves that database alone', async () => {
    const name = uniqueName('coffre_swap_raced').toLowerCase();
    // The target is created while the artifact is read: someone else's CREATE DATABASE gets there first.
    const off = onFailpoint('restore.create-database', async (detail) => {
      if (detail === name) await adminQuery(`CREATE DATABASE ${name}`).then(() => withClient(databaseUrl(name), (c) => c.query("CREATE TABLE theirs AS SELECT 'kept' AS v")));
    });
    try {
      const done = await restore({ targetDatabase: name });
      expect(done.status).toBe('failed');
      expect(done.errorMessage).toMatch(new RegExp(`Database "${name}" could not be created: .*already exists`));
      expect(await withClient(databaseUrl(name), async (c) => (await c.query('SELECT v FROM theirs')).rows)).toEqual([{ v: 'kept' }]);
    } finally {
      off();
      await dropDatabase(name);
    }
  });

  it('maintenance drops the kept databases once RESTORE_KEEP_DAYS have passed; undo is refused then', async () => {
    const kept = await stack.ctx.db.restore.findMany({ where: { method: 'swap', status: 'completed' } });
    expect(kept.length).toBeGreaterThan(0);
    const fresh = await dropExpiredRestoreCopies(stack.ctx);
    expect(fresh.dropped.filter((d) => d.includes('__before_restore_') || d.includes('__undone_'))).toEqual([]);
    await stack.ctx.db.restore.updateMany({ where: { method: 'swap' }, data: { completedAt: new Date(Date.now() - 8 * 86_400_000) } });
    const report = await dropExpiredRestoreCopies(stack.ctx);
    expect(report.failures).toEqual([]);
    expect(await databasesOf(target.name)).toEqual([]);
    const res = await request(stack.app).post(`/api/restores/${swapped.id}/undo`).set(auth).send();
    expect(res.status).toBe(409);
  });
});

describe('a worker killed during a swap restore', () => {
  for (const point of ['restore.during-load', 'restore.between-renames']) {
    it(`killed at ${point}: the target keeps its name and its old content; maintenance drops the load database`, async () => {
      await workers.close(1000);
      const victim = await startWorkerProcess(stack, { COFFRE_FAILPOINTS: `${point}=30000`, WORKER_CONCURRENCY: '1', RESTORE_JOBS: '2' });
      try {
        const before = await changeTarget(`kill_${point.replace(/\W/g, '_')}`);
        const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name });
        expect(res.status).toBe(202);
        const seen = victim.failpoints.length;
        const event = await victim.failpoint(seen + 1, 120_000);
        expect(event.failpoint).toBe(point);
        await victim.crash();
        // The target answers under its own name, with what it held before.
        expect(await dataChecksums(target.url)).toEqual(before);
        const row = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: res.body.id } });
        expect(row.loadDatabase).toMatch(/__restoring_/);
        // What reconciliation does to a run whose worker is gone, without waiting for its window.
        await failRun(stack.ctx, 'restore', row.id, 'the worker was lost');
        await eventually(async () => {
          await dropExpiredRestoreCopies(stack.ctx);
          return !(await databasesOf(target.name)).includes(row.loadDatabase!);
        }, 30_000, 'the load database to be dropped');
        expect(await dataChecksums(target.url)).toEqual(before);
      } finally {
        await victim.crash();
        workers = stack.startWorkers({ concurrency: 1 });
      }
    });
  }
});

describe('a worker killed right after the swap commits', () => {
  it('leaves the target holding the backup, and reconciliation completes the restore (undo possible) instead of failing it', async () => {
    await workers.close(1000);
    const victim = await startWorkerProcess(stack, { COFFRE_FAILPOINTS: 'restore.after-swap=30000', WORKER_CONCURRENCY: '1', RESTORE_JOBS: '2' });
    try {
      const before = await changeTarget('kill_after_swap');
      const res = await request(stack.app).post(`/api/backups/${backup.id}/restore`).set(auth).send({ confirm: backup.name });
      expect(res.status).toBe(202);
      const event = await victim.failpoint(victim.failpoints.length + 1, 120_000);
      expect(event.failpoint).toBe('restore.after-swap');
      await victim.crash();
      expect(await dataChecksums(target.url)).toEqual(backupState);
      // Once the dead worker's heartbeat has expired, maintenance finds the run lost.
      const report = await eventually(async () => {
        const seen = await reconcile(stack.ctx, { pendingGraceMs: 0 });
        return seen.completedAfterSwap.includes(res.body.id) ? seen : null;
      }, 60_000, 'reconciliation to find the restore lost');
      expect(report.failedRunning.map((r) => r.id)).not.toContain(res.body.id);
      const row = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(row.status).toBe('completed');
      expect(row.errorMessage).toContain('The swap had committed before');
      const undo = await request(stack.app).post(`/api/restores/${row.id}/undo`).set(auth).send();
      expect(undo.status, JSON.stringify(undo.body)).toBe(200);
      expect(await dataChecksums(target.url)).toEqual(before);
    } finally {
      await victim.crash();
      workers = stack.startWorkers({ concurrency: 1 });
    }
  });
});

describe('a role that may not create databases', () => {
  it('restores in place instead, after a safety backup, and says why in the log', async () => {
    const role = uniqueName('coffre_swap_role').toLowerCase();
    await adminQuery(`CREATE ROLE ${role} LOGIN NOCREATEDB`);
    const db = await createDatabase('coffre_swap_nocreate');
    try {
      await adminQuery(`ALTER DATABASE ${db.name} OWNER TO ${role}`);
      await withClient(databaseUrl(db.name), (c) => c.query(`ALTER SCHEMA public OWNER TO ${role}`));
      const url = databaseUrl(db.name).replace('postgres@', `${role}@`);
      const source = await createSource(stack.ctx, { name: uniqueName('nocreate'), url }, systemActor);
      const done = await restore({ targetSourceId: source.id });
      expect(done.status, done.errorMessage).toBe('completed');
      expect(done.method).toBe('in-place');
      expect(done.safetyBackupId).not.toBeNull();
      expect(done.log).toMatch(/may not create databases \(it lacks CREATEDB\)/);
      expect(await dataChecksums(databaseUrl(db.name))).toEqual(backupState);
    } finally {
      await dropDatabase(db.name);
      await adminQuery(`DROP OWNED BY ${role}`).catch(() => {});
      await adminQuery(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    }
  });
});

describe('a role that may create and rename the target but not end every session on it', () => {
  it('refuses the swap with a sentence naming whose sessions are in the way, leaves the target as it was, and swaps once the role may end them', async () => {
    const owner = uniqueName('coffre_swap_owner').toLowerCase();
    const other = uniqueName('coffre_swap_other').toLowerCase();
    roles.push(owner, other);
    await adminQuery(`CREATE ROLE ${owner} LOGIN CREATEDB`);
    await adminQuery(`CREATE ROLE ${other} LOGIN`);
    const db = await createDatabase('coffre_swap_sessions');
    const otherSession = new pg.Client({ connectionString: databaseUrl(db.name).replace('postgres@', `${other}@`) });
    try {
      await adminQuery(`ALTER DATABASE ${db.name} OWNER TO ${owner}`);
      await withClient(databaseUrl(db.name), (c) => c.query(`ALTER SCHEMA public OWNER TO ${owner}; CREATE TABLE before_restore (v int); ALTER TABLE before_restore OWNER TO ${owner}`));
      const before = await dataChecksums(databaseUrl(db.name));
      await otherSession.connect();
      otherSession.on('error', () => {});
      const source = await createSource(stack.ctx, { name: uniqueName('sessions'), url: databaseUrl(db.name).replace('postgres@', `${owner}@`) }, systemActor);

      const refused = await restore({ targetSourceId: source.id });
      expect(refused.status).toBe('failed');
      expect(refused.errorMessage).toContain(`it is in use by sessions this role may not end (1 of "${other}")`);
      expect(refused.errorMessage).toContain('GRANT pg_signal_backend');
      expect(await dataChecksums(databaseUrl(db.name))).toEqual(before);
      const left = await stack.ctx.db.restore.findUniqueOrThrow({ where: { id: refused.id } });
      expect((await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [left.loadDatabase])).rowCount).toBe(0);
      expect((await otherSession.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);

      await adminQuery(`GRANT pg_signal_backend TO ${owner}`);
      const done = await restore({ targetSourceId: source.id });
      expect(done.status, done.errorMessage).toBe('completed');
      expect(done.method).toBe('swap');
      expect(await dataChecksums(databaseUrl(db.name))).toEqual(backupState);
      await expect(otherSession.query('SELECT 1')).rejects.toThrow();
    } finally {
      await otherSession.end().catch(() => {});
      // The kept database's name may be cut to fit 63 bytes: the rows say what it is.
      for (const row of await stack.ctx.db.restore.findMany({ where: { targetDatabase: db.name } })) {
        for (const name of [row.keptDatabase, row.loadDatabase]) if (name) await dropDatabase(name);
      }
      await dropDatabase(db.name);
      for (const role of [owner, other]) await adminQuery(`DROP OWNED BY ${role}`).catch(() => {});
    }
  });
});
