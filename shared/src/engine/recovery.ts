// A private recovery instance: a base backup unpacked into a directory of this worker, the WAL it
// needs fetched beside it (each file read once, length- and SHA-256-checked, decrypted, decompressed),
// and a `postgres` of the same major version started on it with no TCP at all (a Unix socket in the
// work directory only, trust for that socket) that replays the WAL up to the target time and opens.
// When the worker runs as root, the instance runs as the `postgres` OS user (postgres refuses root).
// It dies with the worker (setpriv --pdeathsig), and stop() ends it and removes nothing: the caller
// removes the work directory whatever happened.
import { spawnSync } from 'node:child_process';
import { access, appendFile, chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform, Writable } from 'node:stream';
import pg from 'pg';
import { PermanentError } from '../infra/errors.js';
import type { AgeIdentity } from '../crypto/age.js';
import { decompressor, type CompressionKind } from './compression.js';
import { startTool, toolChain, type RunningTool } from './process.js';
import { serverBinDir } from './replication.js';
import { describeToolFailure } from './tool-failure.js';
import { openCheckedRead, type ArtifactSource } from './verify-artifact.js';

export interface CheckedObject {
  artifact: ArtifactSource;
  compression: CompressionKind;
  identities: AgeIdentity[];
}

/** Reads a stored object once, checked, decompressed, into a process's stdin: tar -x or zstd -o. */
async function readCheckedInto(object: CheckedObject, consumer: { path: string; args: string[]; name: string }, signal?: AbortSignal): Promise<void> {
  const chain = toolChain(signal);
  try {
    const sink = chain.watch(startTool(consumer.name, consumer.path, consumer.args, { stdio: ['pipe', 'ignore', 'pipe'] }));
    let stdin: Writable = sink.child.stdin!;
    const command = decompressor(object.compression);
    if (command) {
      const decompress = chain.watch(startTool(command.path, command.path, command.args, { stdio: ['pipe', stdin, 'pipe'] }));
      stdin.destroy();
      stdin = decompress.child.stdin!;
    }
    const read = await openCheckedRead(object.artifact, object.identities);
    try {
      await pipeline([...read.stages, stdin] as unknown as [Readable, Transform, Writable], { signal });
      const failed = await chain.failedExit();
      if (failed) throw describeToolFailure(failed, 'archive');
    } catch (error) {
      await chain.stop();
      throw read.explain(error);
    }
  } finally {
    chain.release();
  }
}

/** Unpacks a base backup (a tar of the data directory) into `dataDir`. */
export async function unpackBaseBackup(object: CheckedObject, dataDir: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await readCheckedInto(object, { name: 'tar', path: 'tar', args: ['-x', '--no-same-owner', '-C', dataDir, '-f', '-'] }, signal);
}

/** Fetches one WAL file into `path`. */
export async function fetchWalFile(object: CheckedObject, path: string, signal?: AbortSignal): Promise<void> {
  await readCheckedInto(object, { name: 'write', path: 'dd', args: [`of=${path}`, 'bs=1M', 'status=none'] }, signal);
}

export interface RecoveryInstanceInput {
  major: number;
  /** The work directory: data/, wal/ and the socket live in it. */
  workDir: string;
  /** Replay up to this moment; null: to the end of the fetched WAL. */
  targetTime: Date | null;
  /** promote (open for writes, to dump from) or shutdown (stop there: a directory ready to start). */
  action: 'promote' | 'shutdown';
  timeoutMs: number;
  /** Roles to reach the recovered cluster through (postgres, the source's user). */
  users: string[];
  /** The timeline to follow (its history file among the fetched WAL when it is not the base backup's). */
  timeline?: number;
}

export interface RecoveryInstance {
  socketDir: string;
  port: number;
  /** The bootstrap superuser of the recovered cluster. */
  superuser: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';
const PORT = 5432;
export const TARGET_NOT_REACHED = /recovery ended before configured recovery target was reached/;

export function recoveryPaths(workDir: string) {
  return { data: join(workDir, 'data'), wal: join(workDir, 'wal'), socket: join(workDir, 'socket'), log: join(workDir, 'recovery.log') };
}

/** Starts the instance and waits until it has replayed to the target and opened (or, for shutdown, stopped there). */
export async function startRecoveryInstance(input: RecoveryInstanceInput): Promise<RecoveryInstance> {
  const paths = recoveryPaths(input.workDir);
  if (/['\\\s]/.test(paths.wal)) throw new PermanentError(`The work directory ${input.workDir} holds a quote, backslash or space, which a restore_command cannot carry: choose another PITR_WORK_DIR.`);
  await mkdir(paths.socket, { recursive: true, mode: 0o700 });
  const confDir = join(input.workDir, 'conf');
  await mkdir(confDir, { recursive: true });
  await writeFile(join(confDir, 'postgresql.conf'), '# coffre recovery instance: every setting is on the command line\n');
  await writeFile(join(confDir, 'pg_hba.conf'), 'local all all trust\n');
  await writeFile(join(confDir, 'pg_ident.conf'), '');
  await writeFile(join(paths.data, 'recovery.signal'), '');
  await rm(join(paths.data, 'standby.signal'), { force: true });
  await rm(join(paths.data, 'postmaster.pid'), { force: true });
  await mkdir(join(paths.data, 'pg_wal', 'archive_status'), { recursive: true });
  await chmod(paths.data, 0o700);
  const owner = await instanceOwner(input.workDir);
  if (owner) spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, input.workDir], { stdio: 'ignore' });

  const settings: Record<string, string> = {
    config_file: join(confDir, 'postgresql.conf'),
    hba_file: join(confDir, 'pg_hba.conf'),
    ident_file: join(confDir, 'pg_ident.conf'),
    listen_addresses: '',
    unix_socket_directories: paths.socket,
    port: String(PORT),
    restore_command: `cp '${paths.wal}/%f' '%p'`,
    recovery_target_action: input.action,
    hot_standby: 'off',
    archive_mode: 'off',
    shared_preload_libraries: '',
    ssl: 'off',
    fsync: 'off',
    synchronous_commit: 'off',
    max_wal_senders: '0',
    max_replication_slots: '0',
    logging_collector: 'off',
    cluster_name: 'coffre-recovery',
    log_line_prefix: '%m ',
  };
  if (input.timeline) settings.recovery_target_timeline = String(input.timeline);
  if (input.targetTime) settings.recovery_target_time = input.targetTime.toISOString().replace('T', ' ').replace('Z', '+00');
  const postgres = join(serverBinDir(input.major), 'postgres');
  const args = ['-D', paths.data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const logFile = paths.log;
  await writeFile(logFile, '');
  if (owner) await chown(logFile, owner.uid, owner.gid);
  const wrapper = await access(SETPRIV, constants.X_OK).then(() => true, () => false);
  const argv = wrapper
    ? [...(owner ? ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups'] : []), '--pdeathsig', 'KILL', '--', postgres, ...args]
    : args;
  const server = startTool('postgres', wrapper ? SETPRIV : postgres, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: input.workDir });
  server.child.stderr!.on('data', (chunk: Buffer) => void appendFile(logFile, chunk).catch(() => {}));
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  const stop = () => stopServer(server);
  try {
    if (input.action === 'shutdown') {
      const exit = await waitExit(server, input.timeoutMs);
      const text = await log();
      if (!/database system is shut down|shutting down/i.test(text) || exit.code !== 0) throw recoveryFailure(text, exit.code);
      return { socketDir: paths.socket, port: PORT, superuser: '', log, stop };
    }
    const superuser = await waitOpen(server, paths.socket, input.users, input.timeoutMs, log);
    return { socketDir: paths.socket, port: PORT, superuser, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The OS user the instance runs as: postgres when this worker is root (postgres refuses root), else none. */
async function instanceOwner(workDir: string): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const owner = { uid: id('-u'), gid: id('-g') };
  if (!owner.uid) throw new PermanentError('This worker runs as root and there is no postgres OS user to run the recovery instance as: create one, or run the worker as another user.');
  const reach = spawnSync('setpriv', ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups', '--', 'test', '-x', workDir]);
  if (reach.status !== 0) {
    await chown(workDir, owner.uid, owner.gid).catch(() => {});
    const again = spawnSync('setpriv', ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups', '--', 'test', '-x', workDir]);
    if (again.status !== 0) throw new PermanentError(`The postgres OS user cannot reach ${workDir}: set PITR_WORK_DIR to a directory whose parents it may enter.`);
  }
  return owner;
}

async function waitOpen(server: RunningTool, socketDir: string, users: string[], timeoutMs: number, log: () => Promise<string>): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited: { code: number | null } | null = null;
  void server.exited.then((exit) => (exited = exit));
  while (Date.now() < deadline) {
    if (exited) throw recoveryFailure(await log(), (exited as { code: number | null }).code);
    const text = await log();
    // Connections are refused until the replay ended and the instance was promoted (hot_standby off).
    if (/database system is ready to accept connections/.test(text)) return bootstrapSuperuser(socketDir, users);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The recovery instance did not open within ${Math.round(timeoutMs / 1000)} s: ${(await log()).slice(-800)}`);
}

/** The bootstrap superuser's name (pg_roles oid 10), asked through the first role of `users` that exists. */
async function bootstrapSuperuser(socketDir: string, users: string[]): Promise<string> {
  let last: unknown = null;
  for (const user of users) {
    const client = new pg.Client({ host: socketDir, port: PORT, user, database: 'postgres' });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE oid = 10');
      return rows[0]!.rolname;
    } catch (error) {
      last = error;
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new PermanentError(`The recovered instance refused every role tried (${users.join(', ')}): ${(last as Error | null)?.message ?? ''}`);
}

function recoveryFailure(log: string, code: number | null): Error {
  const lines = log.split('\n').filter((l) => /FATAL|PANIC|ERROR/.test(l));
  const text = lines.slice(-3).join(' ').trim() || log.trim().split('\n').slice(-3).join(' ');
  if (TARGET_NOT_REACHED.test(log)) return new TargetNotReachedError(text);
  return new Error(`The recovery instance stopped (exit ${code}): ${text}`);
}

/** The stored WAL ended before a commit after the target time was seen. */
export class TargetNotReachedError extends Error {}

async function waitExit(server: RunningTool, timeoutMs: number): Promise<{ code: number | null }> {
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`The recovery did not finish within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs).unref());
  return Promise.race([server.exited, timer]);
}

async function stopServer(server: RunningTool): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGINT');
  const stopped = await Promise.race([server.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())]);
  if (!stopped) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}
