// The WAL stream of one server: pg_receivewal of the server's major version writing into a spool
// directory of this worker, resumed at a given LSN. pg_receivewal starts where the newest file of its
// directory ends, so the spool is seeded with an empty (sparse) `.partial` file of the segment to
// resume in: it streams that segment again from its start, which the slot kept on the server.
// It dies with the worker (setpriv --pdeathsig): a worker killed outright leaves no stream behind to
// hold the server's WAL sender, and the worker that takes over starts its own.
import { access, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { conninfo, preparePgToolEnvironment, type PgConnection } from './postgres.js';
import { startTool, type RunningTool } from './process.js';
import { serverBinDir } from './replication.js';
import { segmentName } from './wal.js';

export interface WalReceiverInput {
  connection: PgConnection;
  major: number;
  spoolDir: string;
  timeline: number;
  resumeLsn: bigint;
  segmentSize: number;
  /** The application_name of the stream on the server (pg_stat_replication shows its flush position). */
  applicationName: string;
}

export interface WalReceiver {
  tool: RunningTool;
  /** The seed file's name: not WAL of the server until pg_receivewal has written it. */
  seed: string;
  stop(): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';

export async function startWalReceiver(input: WalReceiverInput): Promise<WalReceiver> {
  const seed = `${segmentName(input.timeline, input.resumeLsn, input.segmentSize)}.partial`;
  const file = await open(join(input.spoolDir, seed), 'wx', 0o600);
  await file.truncate(input.segmentSize);
  await file.close();

  const toolEnv = await preparePgToolEnvironment(input.connection);
  const path = join(serverBinDir(input.major), 'pg_receivewal');
  const info = `${conninfo(input.connection)} application_name='${input.applicationName}'`;
  const args = ['--directory', input.spoolDir, '--no-loop', '--synchronous', '--status-interval=1', '--no-password', '--verbose', `--dbname=${info}`];
  const wrapped = (await access(SETPRIV, constants.X_OK).then(() => true, () => false))
    ? startTool('pg_receivewal', SETPRIV, ['--pdeathsig', 'KILL', '--', path, ...args], { env: toolEnv.env })
    : startTool('pg_receivewal', path, args, { env: toolEnv.env });
  // The passfile is read once, at the connection.
  void wrapped.exited.finally(() => toolEnv.cleanup());
  return {
    tool: wrapped,
    seed,
    async stop() {
      wrapped.child.kill('SIGTERM');
      await wrapped.exited;
      await toolEnv.cleanup();
    },
  };
}
