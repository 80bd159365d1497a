// How far pg_restore has loaded a new database, for a restore's progress: the rows its server counted
// in loads that committed (pg_stat_user_tables.n_tup_ins of the new database, which nothing else writes
// into) plus the rows of the COPYs under way (pg_stat_progress_copy, PostgreSQL 14+), asked about once
// a second on one connection of its own. Only ordinary tables count: a materialized view refreshed at
// the end holds no rows of the backup's. A server's counters reach its statistics at most a second or
// so after a load commits, so the count may stay behind for a moment; never ahead.
// Watching never fails a restore: a connection or a query that fails ends the watch, quietly.
import pg from 'pg';
import { resolveOutboundHost } from '../infra/outbound.js';
import { pgClientConfig, type PgConnection } from './postgres.js';

const COMMITTED = `SELECT coalesce(sum(s.n_tup_ins), 0) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE c.relkind = 'r'`;
const WITH_COPIES = `SELECT ((${COMMITTED}) + (SELECT coalesce(sum(tuples_processed), 0) FROM pg_stat_progress_copy WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND command = 'COPY FROM'))::bigint AS rows`;
const COMMITTED_ONLY = `SELECT (${COMMITTED})::bigint AS rows`;

export interface LoadWatch {
  /** Stops asking; resolves once the connection is closed. */
  stop(): Promise<void>;
}

export function watchLoadedRows(target: PgConnection, onRows: (rows: number) => void, everyMs = 1000): LoadWatch {
  let stopped = false;
  let wake = () => {};
  const client = new pg.Client(pgClientConfig(target));
  client.on('error', () => {});
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const watching = (async () => {
    try {
      await resolveOutboundHost(target.host);
      await client.connect();
      // PostgreSQL 13 has no pg_stat_progress_copy: committed loads only.
      let query = WITH_COPIES;
      while (!stopped) {
        const rows = await client.query<{ rows: string }>(query).then(
          (result) => Number(result.rows[0]!.rows),
          (error: { code?: string }) => {
            if (error.code !== '42P01' || query === COMMITTED_ONLY) throw error;
            query = COMMITTED_ONLY;
            return null;
          },
        );
        if (rows !== null && !stopped) onRows(rows);
        if (!stopped && rows !== null) await pause();
      }
    } catch {
      // Progress is a courtesy: the load goes on without it.
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake();
      await watching;
    },
  };
}
