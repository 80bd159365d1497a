// What point-in-time recovery needs from a PostgreSQL server, each requirement checked on its own and
// said in a sentence naming what to change: wal_level, a role with REPLICATION, WAL senders and slots,
// a `replication` line in pg_hba.conf (tried with a real replication connection), and
// pg_receivewal/pg_basebackup of the server's major version on this machine. Also the replication
// slot coffre creates, advances (to what is stored) and measures.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PermanentError } from '../infra/errors.js';
import { detectServerVersion, describeConnectionError, pgClientConfig, withPgClient, type PgConnection } from './postgres.js';

export interface PitrRequirement {
  name: 'connection' | 'wal_level' | 'replication_role' | 'stream_progress' | 'wal_senders' | 'replication_slots' | 'pg_hba' | 'tools';
  ok: boolean;
  message: string;
}

export interface PitrCheck {
  ok: boolean;
  serverVersion?: string;
  major?: number;
  requirements: PitrRequirement[];
}

export const PG_ROOT = '/usr/lib/postgresql';

/** The directory of the server tools of one major version (pg_receivewal, pg_basebackup, postgres). */
export function serverBinDir(major: number, root = PG_ROOT): string {
  return join(root, String(major), 'bin');
}

export async function checkPitrRequirements(connection: PgConnection, slot: string | null): Promise<PitrCheck> {
  const requirements: PitrRequirement[] = [];
  let server;
  try {
    server = await withPgClient(connection, async (client) => {
      const version = await detectServerVersion(client);
      const { rows } = await client.query<{ wal_level: string; senders: string; slots: string; used: string; replication: boolean; stats: boolean; ours: boolean }>(
        `SELECT current_setting('wal_level') AS wal_level, current_setting('max_wal_senders') AS senders,
                current_setting('max_replication_slots') AS slots, (SELECT count(*) FROM pg_replication_slots) AS used,
                (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication,
                pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS stats,
                EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS ours`,
        [slot ?? ''],
      );
      return { version, settings: rows[0]! };
    });
  } catch (error) {
    requirements.push({ name: 'connection', ok: false, message: (error as Error).message });
    return { ok: false, requirements };
  }
  const { version, settings } = server;
  const user = connection.user;
  requirements.push({ name: 'connection', ok: true, message: `Connected to PostgreSQL ${version.version}.` });
  requirements.push(
    settings.wal_level === 'minimal'
      ? { name: 'wal_level', ok: false, message: `wal_level is minimal: set wal_level = replica in postgresql.conf and restart the server.` }
      : { name: 'wal_level', ok: true, message: `wal_level is ${settings.wal_level}.` },
  );
  requirements.push(
    settings.replication
      ? { name: 'replication_role', ok: true, message: `Role "${user}" may open replication connections.` }
      : { name: 'replication_role', ok: false, message: `Role "${user}" lacks REPLICATION: run ALTER ROLE "${user}" REPLICATION; as a superuser.` },
  );
  // The stream stores the segment being written up to where pg_receivewal has flushed it, which only
  // pg_stat_replication tells, and only to members of pg_read_all_stats (pg_monitor is one).
  requirements.push(
    settings.stats
      ? { name: 'stream_progress', ok: true, message: `Role "${user}" may see its WAL stream's progress (pg_read_all_stats).` }
      : {
          name: 'stream_progress',
          ok: false,
          message:
            `Role "${user}" cannot see its WAL stream's progress in pg_stat_replication, so the segment being written could not be stored every WAL_FLUSH_SECONDS, ` +
            `only once full: run GRANT pg_monitor TO "${user}"; as a superuser.`,
        },
  );
  const senders = Number(settings.senders);
  requirements.push(
    senders >= 2
      ? { name: 'wal_senders', ok: true, message: `max_wal_senders is ${senders}.` }
      : { name: 'wal_senders', ok: false, message: `max_wal_senders is ${senders}: set it to at least 2 (the WAL stream and a base backup) in postgresql.conf and restart the server.` },
  );
  const freeSlots = Number(settings.slots) - Number(settings.used);
  requirements.push(
    settings.ours || freeSlots >= 1
      ? { name: 'replication_slots', ok: true, message: settings.ours ? `The replication slot ${slot} exists.` : `${freeSlots} replication slot(s) free.` }
      : { name: 'replication_slots', ok: false, message: `max_replication_slots is ${settings.slots} and all are used: raise it in postgresql.conf and restart the server.` },
  );
  requirements.push(await checkReplicationConnection(connection));
  requirements.push(await checkServerTools(version.major));
  return { ok: requirements.every((r) => r.ok), serverVersion: version.version, major: version.major, requirements };
}

async function checkReplicationConnection(connection: PgConnection): Promise<PitrRequirement> {
  try {
    await identifySystem(connection);
    return { name: 'pg_hba', ok: true, message: 'A replication connection was accepted.' };
  } catch (error) {
    const text = (error as Error).message;
    if (/pg_hba\.conf|replication connection/i.test(text)) {
      return {
        name: 'pg_hba',
        ok: false,
        message: `The server refused a replication connection: add a line "host replication ${connection.user} <this worker's address>/32 scram-sha-256" to pg_hba.conf and reload the server (${text}).`,
      };
    }
    return { name: 'pg_hba', ok: false, message: `A replication connection failed: ${text}` };
  }
}

async function checkServerTools(major: number): Promise<PitrRequirement> {
  const dir = serverBinDir(major);
  const missing: string[] = [];
  for (const tool of ['pg_receivewal', 'pg_basebackup', 'postgres']) {
    if (!(await access(join(dir, tool), constants.X_OK).then(() => true, () => false))) missing.push(tool);
  }
  return missing.length
    ? { name: 'tools', ok: false, message: `${missing.join(', ')} of PostgreSQL ${major} missing in ${dir}: install postgresql-${major} on the worker machines.` }
    : { name: 'tools', ok: true, message: `pg_receivewal, pg_basebackup and postgres ${major} are installed.` };
}

export interface SystemIdentity {
  systemId: string;
  timeline: number;
  xlogpos: string;
}

/** IDENTIFY_SYSTEM over a replication connection. */
export async function identifySystem(connection: PgConnection): Promise<SystemIdentity> {
  return withReplicationClient(connection, async (client) => {
    const { rows } = await client.query<{ systemid: string; timeline: number; xlogpos: string }>('IDENTIFY_SYSTEM');
    return { systemId: rows[0]!.systemid, timeline: Number(rows[0]!.timeline), xlogpos: rows[0]!.xlogpos };
  });
}

/** A replication connection (physical: replication commands only) for `use`, closed after it. */
async function withReplicationClient<T>(connection: PgConnection, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const config = { ...pgClientConfig(connection), replication: 'true', options: undefined } as pg.ClientConfig & { replication: string };
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    const described = describeConnectionError(error, connection);
    throw (error as { code?: string }).code === '28000' ? new Error((error as Error).message) : described;
  }
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** TIMELINE_HISTORY over a replication connection: the history file of `timeline` (above 1) as the server has it. */
export async function timelineHistory(connection: PgConnection, timeline: number): Promise<string> {
  return withReplicationClient(connection, async (client) => {
    const { rows } = await client.query<{ content: Buffer | string }>(`TIMELINE_HISTORY ${Math.trunc(timeline)}`);
    const content = rows[0]?.content;
    return Buffer.isBuffer(content) ? content.toString('utf8') : String(content ?? '');
  });
}

/** The slot's name for a source: coffre_ and the source id's hex digits. */
export function slotNameFor(sourceId: string): string {
  return `coffre_${sourceId.replace(/-/g, '')}`;
}

/** Creates the physical slot (reserving WAL at once) unless it exists. */
export async function ensureSlot(connection: PgConnection, slot: string): Promise<{ created: boolean; restartLsn: string | null }> {
  return withPgClient(connection, async (client) => {
    const existing = await client.query<{ restart_lsn: string | null; slot_type: string }>('SELECT restart_lsn, slot_type FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (existing.rows[0]) {
      if (existing.rows[0].slot_type !== 'physical') throw new PermanentError(`The replication slot ${slot} exists but is not a physical slot: drop it on the server.`);
      return { created: false, restartLsn: existing.rows[0].restart_lsn };
    }
    const { rows } = await client.query<{ lsn: string }>('SELECT lsn FROM pg_create_physical_replication_slot($1, true)', [slot]);
    return { created: true, restartLsn: rows[0]!.lsn };
  });
}

export async function dropSlot(connection: PgConnection, slot: string): Promise<void> {
  await withPgClient(connection, (client) => client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]));
}

/**
 * Moves the slot forward to `lsn` (never back): the server may then recycle the WAL before it. On a
 * standby (pg_current_wal_flush_lsn() is an error there) the bound is what it has replayed.
 */
export async function advanceSlot(client: pg.Client, slot: string, lsn: string): Promise<void> {
  await client.query(
    `SELECT pg_replication_slot_advance(slot_name, $2::pg_lsn) FROM pg_replication_slots
      WHERE slot_name = $1 AND restart_lsn < $2::pg_lsn
        AND $2::pg_lsn <= (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END)`,
    [slot, lsn],
  );
}

/** How many bytes of WAL the slot holds on the server. */
export async function slotRetainedBytes(client: pg.Client, slot: string): Promise<number | null> {
  const { rows } = await client.query<{ bytes: string | null }>(`SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::bigint AS bytes
       FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  return rows[0]?.bytes == null ? null : Number(rows[0].bytes);
}
