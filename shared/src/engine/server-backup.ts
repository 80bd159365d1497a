// Whole servers: which databases a server source backs up (every one that accepts connections,
// templates excluded, filtered by include/exclude patterns), and its globals (roles, their
// memberships and settings, tablespaces) written by pg_dumpall --globals-only through the artifact
// chain. A role that may not read pg_authid gets --no-role-passwords, and the result says so.
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection } from './postgres.js';
import { startTool } from './process.js';
import { writeArtifact, type ArtifactWriteOptions, type WrittenArtifact } from './write-artifact.js';

/** The databases of a server to back up, in name order. Patterns: `*` stands for any characters; no include means all. */
export async function listServerDatabases(connection: PgConnection, include: string[], exclude: string[]): Promise<string[]> {
  const { rows } = await withPgClient(connection, (client) =>
    client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY datname COLLATE "C"'),
  );
  const matches = (name: string, patterns: string[]) => patterns.some((pattern) => patternRegExp(pattern).test(name));
  return rows.map((r) => r.datname).filter((name) => (include.length === 0 || matches(name, include)) && !matches(name, exclude));
}

/** A database name pattern: `*` any characters, everything else itself. */
export function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'u');
}

export interface GlobalsResult extends WrittenArtifact {
  /** pg_dumpall ran with --no-role-passwords: the role may not read pg_authid. */
  noRolePasswords: boolean;
  pgDumpallVersion: string;
}

export async function dumpGlobals(options: ArtifactWriteOptions & { connection: PgConnection }): Promise<GlobalsResult> {
  const { connection } = options;
  const { server, readsPasswords } = await withPgClient(connection, async (client) => ({
    server: await detectServerVersion(client),
    readsPasswords: (await client.query<{ ok: boolean }>("SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS ok")).rows[0]!.ok,
  }));
  const tool = await resolvePgTool('pg_dumpall', server.major);
  const written = await withPgToolAccess(connection, ({ env, dbname }) => {
    const args = ['--globals-only', '--no-password', ...(readsPasswords ? [] : ['--no-role-passwords']), dbname];
    return writeArtifact(options, { kind: 'dump', start: (stdout) => startTool('pg_dumpall', tool.path, args, { env, stdio: ['ignore', stdout, 'pipe'] }) });
  });
  return { ...written, noRolePasswords: !readsPasswords, pgDumpallVersion: tool.version };
}
