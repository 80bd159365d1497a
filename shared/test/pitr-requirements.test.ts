// Point-in-time recovery's requirements, each checked against a real cluster of the test's own and
// said with what to change: one cluster lacking all of them (wal_level minimal, no WAL senders, no
// replication line in pg_hba.conf, a role without REPLICATION), one meeting them all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { checkPitrRequirements, parsePostgresUrl } from '@coffre/shared';
import { startPostgresCluster, type PostgresCluster } from '../../test/support/postgres-cluster.js';

let lacking: PostgresCluster;
let noReplicationLine: PostgresCluster;
let ready: PostgresCluster;

beforeAll(async () => {
  [lacking, noReplicationLine, ready] = await Promise.all([
    startPostgresCluster({ settings: ['wal_level = minimal', 'max_wal_senders = 0'] }),
    startPostgresCluster({ refuseReplication: true }),
    startPostgresCluster(),
  ]);
  const client = new pg.Client({ connectionString: lacking.url('postgres') });
  await client.connect();
  await client.query('CREATE ROLE app LOGIN');
  await client.end();
});

afterAll(async () => {
  await Promise.all([lacking?.destroy(), noReplicationLine?.destroy(), ready?.destroy()]);
});

describe('point-in-time recovery requirements', () => {
  it('names every missing requirement and what to change', async () => {
    const url = lacking.url('postgres').replace('postgres@', 'app@');
    const check = await checkPitrRequirements(parsePostgresUrl(url), 'coffre_test');
    const byName = Object.fromEntries(check.requirements.map((r) => [r.name, r]));
    expect(check.ok).toBe(false);
    expect(byName.connection!.ok).toBe(true);
    expect(byName.wal_level).toMatchObject({ ok: false, message: expect.stringContaining('set wal_level = replica in postgresql.conf') });
    expect(byName.replication_role).toMatchObject({ ok: false, message: expect.stringContaining('ALTER ROLE "app" REPLICATION') });
    expect(byName.wal_senders).toMatchObject({ ok: false, message: expect.stringContaining('max_wal_senders is 0') });
    expect(byName.pg_hba!.ok).toBe(false);
    expect(byName.stream_progress).toMatchObject({ ok: false, message: expect.stringContaining('GRANT pg_monitor TO "app"') });
    expect(byName.tools!.ok).toBe(true);
  });

  it('asks a role with REPLICATION alone to be let see its stream\'s progress, and passes it once it may', async () => {
    const admin = new pg.Client({ connectionString: ready.url('postgres') });
    await admin.connect();
    try {
      await admin.query('CREATE ROLE streamer LOGIN REPLICATION');
      const url = parsePostgresUrl(ready.url('postgres').replace('postgres@', 'streamer@'));
      const before = await checkPitrRequirements(url, 'coffre_test');
      expect(before.ok).toBe(false);
      expect(before.requirements.filter((r) => !r.ok)).toEqual([
        {
          name: 'stream_progress',
          ok: false,
          message: expect.stringMatching(/^Role "streamer" cannot see its WAL stream's progress in pg_stat_replication, .* run GRANT pg_monitor TO "streamer"; as a superuser\.$/),
        },
      ]);
      await admin.query('GRANT pg_monitor TO streamer');
      const after = await checkPitrRequirements(url, 'coffre_test');
      expect(after.requirements.filter((r) => !r.ok)).toEqual([]);
      expect(after.ok).toBe(true);
    } finally {
      await admin.end();
    }
  });

  it('says which pg_hba.conf line lets replication connections in', async () => {
    const check = await checkPitrRequirements(parsePostgresUrl(noReplicationLine.url('postgres')), 'coffre_test');
    expect(check.requirements.filter((r) => !r.ok).map((r) => r.name)).toEqual(['pg_hba']);
    expect(check.requirements.find((r) => r.name === 'pg_hba')!.message).toMatch(/add a line "host replication postgres .*" to pg_hba\.conf and reload/);
  });

  it('passes a server that streams', async () => {
    const check = await checkPitrRequirements(parsePostgresUrl(ready.url('postgres')), 'coffre_test');
    expect(check.requirements.filter((r) => !r.ok)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.major).toBe(15);
  });
});
