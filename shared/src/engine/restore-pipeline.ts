// Restoring a database artifact in one read: the stored bytes are metered and hashed, decrypted
// (every chunk authenticated), and streamed through zstd/gzip (OS pipe) into pg_restore in a single
// transaction. The last bytes are held back until the whole artifact matched its recorded size and
// SHA-256 (verify-artifact.ts): when it does not, pg_restore is killed before it could commit, so
// the target is left as it was. A directory-format artifact (a tar of pg_dump -Fd's folder) cannot be
// read by pg_restore from a pipe: it is read the same way (checked) and unpacked into a private
// temporary directory first, and pg_restore reads that once the whole artifact matched.
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform, Writable } from 'node:stream';
import type { Logger } from '../infra/logger.js';
import { IntegrityError, PermanentError } from '../infra/errors.js';
import { decompressor } from './compression.js';
import { detectServerVersion, resolvePgTool, withPgClient, withPgToolAccess, type PgConnection, type PgToolAccess } from './postgres.js';
import { describeExit, lastLine, startTool, toolChain, type RunningTool, type ToolChain } from './process.js';
import { unpackDirectoryDump, withPrivateDirectory } from './directory-dump.js';
import { failpointAfterFirstBytes } from './streams.js';
import { describeToolFailure } from './tool-failure.js';
import { openCheckedRead, precheckArtifact, type ArtifactReadOptions } from './verify-artifact.js';
import type { BackupType } from './backup-pipeline.js';
import type { DumpedTable } from './counts.js';

export interface DatabaseRestoreInput extends ArtifactReadOptions {
  /** The target server and database (`database` is the one restored into). */
  target: PgConnection;
  /** Create the target database first (it must not exist). */
  createDatabase: boolean;
  /** What the artifact holds: a data-only artifact empties the tables it fills first. */
  type: BackupType;
  /** What the artifact holds: pg_dump's custom format, a tar of its directory format (parallel dumps), or an imported tar archive or plain script. */
  dumpFormat?: 'custom' | 'directory' | 'tar' | 'plain';
  /** A directory-format artifact restored into a database created for it: pg_restore --jobs (default 1: one transaction). */
  jobs?: number;
  /**
   * Server restores: `globals` feeds pg_dumpall's globals to psql, where a role that exists already
   * (the one restoring, at least) is not an error; `create` lets pg_restore create the database under
   * its own name, owner and privileges (the target connection names the maintenance database).
   */
  serverPart?: 'globals' | 'create';
  /** The tables the backup recorded (needed for data-only restores). */
  tables?: DumpedTable[];
  tmpDir: string;
  logger: Logger;
}

export interface DatabaseRestoreResult {
  durationMs: number;
  pgRestoreVersion: string;
}

export async function runDatabaseRestore(input: DatabaseRestoreInput): Promise<DatabaseRestoreResult> {
  const started = Date.now();
  const { target, logger } = input;
  await precheckArtifact(input.artifact, input.identities);
  const server = await withPgClient(target, (client) => detectServerVersion(client), 'postgres');
  const plain = input.dumpFormat === 'plain' || input.serverPart === 'globals';
  const tool = await resolvePgTool(input.type === 'data' || plain ? 'psql' : 'pg_restore', server.major);
  const pgRestore = input.type === 'data' ? await resolvePgTool('pg_restore', server.major) : tool;
  if (input.createDatabase) await createDatabase(target);
  else if (!input.serverPart) await assertDatabaseExists(target);

  try {
    if (input.dumpFormat === 'directory') await restoreFromDirectory(input, pgRestore.path, input.type === 'data' ? tool.path : null);
    else await streamIntoDatabase(input, pgRestore.path, input.type === 'data' || plain ? tool.path : null);
    logger.info({ bytes: input.artifact.sizeBytes }, 'restored: every byte read was the recorded size and SHA-256, every chunk authenticated');
  } catch (error) {
    if (input.createDatabase) await dropDatabase(target).catch((dropError: Error) => logger.warn({ err: dropError }, 'could not drop the new database'));
    throw error;
  }
  return { durationMs: Date.now() - started, pgRestoreVersion: pgRestore.version };
}

async function streamIntoDatabase(input: DatabaseRestoreInput, pgRestorePath: string, psqlPath: string | null): Promise<void> {
  await withPgToolAccess(input.target, async (access) => {
    const chain = toolChain(input.signal);
    try {
      // The chain is built from its end: each tool's stdin is the previous tool's stdout, through the OS.
      const { writer, stdin } = startDatabaseWriter(chain, access, input, pgRestorePath, psqlPath);
      let sink = stdin;
      const command = decompressor(input.compression);
      if (command) {
        const decompress = chain.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', sink, 'pipe'] }));
        sink.destroy();
        sink = decompress.child.stdin!;
      }

      const read = await openCheckedRead(input.artifact, input.identities, { onProgress: (bytes) => input.onProgress?.(bytes, 'restore') });
      const stages: (Readable | Transform | Writable)[] = [...read.stages, failpointAfterFirstBytes('restore.first-bytes'), sink];
      try {
        await pipeline(stages as unknown as [Readable, Transform, Writable], { signal: input.signal });
        const failed = await chain.failedExit();
        if (failed) throw describeToolFailure(failed, 'database restore');
      } catch (error) {
        await killFirst(writer);
        await chain.stop();
        if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.', { cause: error });
        const explained = read.explain(error);
        if (explained instanceof IntegrityError) throw explained;
        const first = chain.firstFailure('pg_restore', 'psql');
        throw first ? describeToolFailure(first, 'database restore') : error;
      }
    } finally {
      chain.release();
    }
  });
}

/**
 * A directory-format artifact: unpacked, checked, into a private directory (removed after), then
 * pg_restore from it, in one transaction; with --jobs instead into a database created for the
 * restore, which is dropped if the load fails.
 */
async function restoreFromDirectory(input: DatabaseRestoreInput, pgRestorePath: string, psqlPath: string | null): Promise<void> {
  await withPrivateDirectory(input.tmpDir, async (dir) => {
    const dumpDir = await unpackDirectoryDump(input, dir);
    await withPgToolAccess(input.target, async ({ env, dbname }) => {
      const chain = toolChain(input.signal);
      const jobs = input.createDatabase && !psqlPath ? (input.jobs ?? 1) : 1;
      try {
        if (psqlPath) {
          const psql = chain.watch(
            startTool('psql', psqlPath, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-c', truncateStatement(input.tables ?? []), '-f', '-', '-c', REFRESH_MATERIALIZED_VIEWS, dbname], {
              env,
              stdio: ['pipe', 'ignore', 'pipe'],
            }),
          );
          chain.watch(startTool('pg_restore', pgRestorePath, ['--data-only', '--no-owner', '--exit-on-error', '--file=-', dumpDir], { env, stdio: ['ignore', psql.child.stdin!, 'pipe'] }));
          psql.child.stdin!.destroy();
        } else {
          const mode = jobs > 1 ? [`--jobs=${jobs}`] : ['--single-transaction'];
          chain.watch(startTool('pg_restore', pgRestorePath, ['--clean', '--if-exists', '--no-owner', '--exit-on-error', ...mode, '--no-password', dbname, dumpDir], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
        }
        const failed = await chain.failedExit();
        if (input.signal?.aborted) throw new Error('The restore was cancelled; the target database was left as it was.');
        if (failed && jobs > 1) throw new Error(`${failed.name} failed loading the new database "${input.target.database}", which is dropped again: ${lastLine(failed.exit.stderr) || describeExit(failed.name, failed.exit)}.`);
        if (failed) throw describeToolFailure(chain.firstFailure('pg_restore', 'psql') ?? failed, 'database restore');
      } finally {
        chain.release();
      }
    });
  });
}

/**
 * Starts what writes into the database: pg_restore, or pg_restore into psql for a data-only artifact.
 * `writer` holds the transaction: on a failed check it is killed first, so that it can never take
 * the end of its input (or a broken pipe) for the end of the dump and commit.
 */
function startDatabaseWriter(
  chain: ToolChain,
  { env, dbname }: PgToolAccess,
  input: DatabaseRestoreInput,
  pgRestorePath: string,
  psqlPath: string | null,
): { writer: RunningTool; stdin: Writable } {
  if (input.serverPart === 'globals' && psqlPath) {
    const psql = chain.watch(startTool('psql', psqlPath, ['-X', '-q', '-f', '-', dbname], { env, stdio: ['pipe', 'ignore', 'pipe'] }));
    return { writer: psql, stdin: psql.child.stdin! };
  }
  if (input.serverPart === 'create') {
    const args = ['--create', '--exit-on-error', '--no-password', dbname];
    const restore = chain.watch(startTool('pg_restore', pgRestorePath, args, { env, stdio: ['pipe', 'ignore', 'pipe'] }));
    return { writer: restore, stdin: restore.child.stdin! };
  }
  if (input.dumpFormat === 'plain' && psqlPath) {
    // A plain script goes straight into psql, in one transaction that any error rolls back.
    const psql = chain.watch(startTool('psql', psqlPath, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', '-', dbname], { env, stdio: ['pipe', 'ignore', 'pipe'] }));
    return { writer: psql, stdin: psql.child.stdin! };
  }
  if (!psqlPath) {
    const args = ['--clean', '--if-exists', '--no-owner', '--exit-on-error', '--single-transaction', '--no-password', dbname];
    const restore = chain.watch(startTool('pg_restore', pgRestorePath, args, { env, stdio: ['pipe', 'ignore', 'pipe'] }));
    return { writer: restore, stdin: restore.child.stdin! };
  }
  const psql = chain.watch(
    startTool('psql', psqlPath, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-c', truncateStatement(input.tables ?? []), '-f', '-', '-c', REFRESH_MATERIALIZED_VIEWS, dbname], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    }),
  );
  const restore = chain.watch(startTool('pg_restore', pgRestorePath, ['--data-only', '--no-owner', '--exit-on-error', '--file=-'], { env, stdio: ['pipe', psql.child.stdin!, 'pipe'] }));
  psql.child.stdin!.destroy();
  return { writer: psql, stdin: restore.child.stdin! };
}

/** Kills the database writer at once and waits for it: its connection drops, its transaction rolls back. */
async function killFirst(tool: RunningTool): Promise<void> {
  if (tool.child.exitCode === null && tool.child.signalCode === null) tool.child.kill('SIGKILL');
  await tool.exited;
}

/** A data-only artifact holds no materialized view contents: they are computed again from the restored rows. */
const REFRESH_MATERIALIZED_VIEWS = `DO $$
DECLARE view record;
BEGIN
  FOR view IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'm' ORDER BY c.oid LOOP
    EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', view.nspname, view.relname);
  END LOOP;
END $$`;

/** Empties the tables a data-only artifact fills, in the same transaction as the load. */
function truncateStatement(tables: DumpedTable[]): string {
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const names = tables.map((t) => `${quote(t.schema)}.${quote(t.table)}`);
  return names.length ? `TRUNCATE TABLE ${names.join(', ')}` : 'SELECT 1';
}

export async function createDatabase(target: PgConnection): Promise<void> {
  await withPgClient(
    target,
    async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
      if (rowCount) throw new PermanentError(`Database "${target.database}" already exists: choose another name, or restore into it as an existing target.`);
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`);
    },
    'postgres',
  );
}

async function assertDatabaseExists(target: PgConnection): Promise<void> {
  await withPgClient(
    target,
    async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
      if (!rowCount) throw new PermanentError(`Database "${target.database}" does not exist on ${target.host}:${target.port}: restore into a new database instead.`);
    },
    'postgres',
  );
}

export async function dropDatabase(target: PgConnection, database = target.database): Promise<void> {
  await withPgClient(target, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`), 'postgres');
}
