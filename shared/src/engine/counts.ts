// Tables and row counts as pg_dump sees them, counted inside the snapshot the dump reads: one
// sequential scan of every table, on the server beside the dump. An uncompressed backup reads its
// counts from the dump's own stream instead (dump-row-counter.ts) and falls back to this.
import type pg from 'pg';
import { withPgClient, type PgConnection } from './postgres.js';

export interface DumpedTable {
  schema: string;
  table: string;
  /** r: a table with its own rows; p: a partitioned table (its rows live in its partitions). */
  kind: 'r' | 'p';
}

export interface TableCount extends DumpedTable {
  /** -1 when rows were not counted. */
  rows: number;
  /** When rows were not counted: pg_class's estimate (as of the table's last VACUUM or ANALYZE), if it has one. */
  estimatedRows?: number;
}

/** User tables whose rows pg_dump writes (extension members and system schemas excluded). */
export async function listDumpedTables(client: pg.Client): Promise<DumpedTable[]> {
  const { rows } = await client.query<{ schema: string; table: string; kind: 'r' | 'p' }>(`
    SELECT n.nspname AS schema, c.relname AS table, c.relkind AS kind
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND c.relpersistence <> 't'
       AND n.nspname <> 'information_schema'
       AND n.nspname !~ '^pg_'
       AND NOT EXISTS (
             SELECT 1 FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  return rows;
}

/** Counts each table's own rows (not its children's, as pg_dump writes them) in the current transaction. */
export async function countRowsInSnapshot(client: pg.Client, tables: DumpedTable[], signal?: AbortSignal): Promise<TableCount[]> {
  const counts: TableCount[] = [];
  for (const table of tables) {
    signal?.throwIfAborted();
    if (table.kind === 'p') {
      counts.push({ ...table, rows: 0 });
      continue;
    }
    const name = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.table)}`;
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${name}`);
    counts.push({ ...table, rows: Number(rows[0]!.n) });
  }
  return counts;
}

/**
 * The counts of `tables` from rows counted per schema.table (in the dump's stream); a partitioned
 * table's own rows are 0. Throws when a table with rows of its own was not counted.
 */
export function countsForTables(tables: DumpedTable[], rows: Map<string, number>): TableCount[] {
  return tables.map((table) => {
    if (table.kind === 'p') return { ...table, rows: 0 };
    const counted = rows.get(tableKey(table));
    if (counted === undefined) throw new Error(`The dump has no data for ${tableKey(table)}.`);
    return { ...table, rows: counted };
  });
}

/**
 * When exact counts are off: -1 rows, with pg_class's estimate beside it. It reads the catalog only,
 * where counting scans every table (about 5% of a dump's CPU, server side, on the reference machine).
 */
export async function estimateRowsFromCatalog(client: pg.Client, tables: DumpedTable[]): Promise<TableCount[]> {
  const { rows } = await client.query<{ schema: string; table: string; estimate: number }>(`
    SELECT n.nspname AS schema, c.relname AS table, c.reltuples::float8 AS estimate
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')`);
  const estimates = new Map(rows.map((r) => [`${r.schema}.${r.table}`, r.estimate]));
  return tables.map((table) => {
    // reltuples is -1 for a table never vacuumed or analyzed: no estimate then.
    const estimate = table.kind === 'p' ? 0 : (estimates.get(tableKey(table)) ?? -1);
    return estimate >= 0 ? { ...table, rows: -1, estimatedRows: Math.round(estimate) } : { ...table, rows: -1 };
  });
}

/**
 * Counts rows in a session of its own that imports an exported snapshot: a count that fails (or is
 * cancelled) cannot abort the transaction that exported the snapshot, which pg_dump still needs.
 * Aborting `signal` cancels the count running on the server.
 */
export async function countRowsInExportedSnapshot(
  connection: PgConnection,
  snapshot: string,
  tables: DumpedTable[],
  signal: AbortSignal,
): Promise<TableCount[]> {
  return withPgClient(connection, async (client) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const cancel = () => {
      void withPgClient(connection, (other) => other.query('SELECT pg_cancel_backend($1)', [rows[0]!.pid])).catch(() => {});
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`);
      const counts = await countRowsInSnapshot(client, tables, signal);
      await client.query('COMMIT');
      return counts;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  });
}

/** Keys a count as people read it: schema.table. */
export function tableKey(table: DumpedTable): string {
  return `${table.schema}.${table.table}`;
}
