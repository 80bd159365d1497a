// Drives the engine the way the worker does, with a local destination in a temporary directory.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createLocalStorage,
  createLogger,
  parsePostgresUrl,
  runDatabaseBackup,
  runDatabaseRestore,
  generateIdentity,
  parseIdentity,
  type BackupType,
  type CompressionKind,
  type DatabaseBackupResult,
  type StorageDriver,
  type Logger,
} from '@coffre/shared';

export interface Workspace {
  dir: string;
  storage: StorageDriver;
  identity: string;
  recipient: string;
  identityFile: string;
  logs: string[];
  logger: Logger;
  cleanup(): Promise<void>;
}

export async function createWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-test-'));
  const { identity, recipient } = generateIdentity();
  const identityFile = join(dir, 'key.txt');
  await writeFile(identityFile, `# test identity\n${identity}\n`, { mode: 0o600 });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  return {
    dir,
    storage: createLocalStorage(join(dir, 'backups')),
    identity,
    recipient,
    identityFile,
    logs,
    logger: createLogger({ level: 'debug', destination: sink }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface BackupOptions {
  type?: BackupType;
  compression?: CompressionKind;
  encrypt?: boolean;
  key?: string;
  signal?: AbortSignal;
  /** pg_dump --jobs: more than 1 dumps in the directory format. */
  dumpJobs?: number;
  /** Where the backup logs (the workspace's logger otherwise). */
  logger?: Logger;
}

export async function backup(ws: Workspace, url: string, options: BackupOptions = {}): Promise<DatabaseBackupResult & { key: string }> {
  const compression = options.compression ?? 'zstd';
  const key = options.key ?? `db-${Math.random().toString(36).slice(2)}.dump`;
  const result = await runDatabaseBackup({
    connection: parsePostgresUrl(url),
    type: options.type ?? 'full',
    compression,
    recipients: options.encrypt ? [ws.recipient] : [],
    targets: [{ driver: ws.storage, key }],
    tmpDir: join(ws.dir, 'tmp'),
    signal: options.signal,
    dumpJobs: options.dumpJobs,
    logger: options.logger ?? ws.logger,
  });
  return { ...result, key };
}

export interface RestoreOptions {
  type?: BackupType;
  compression?: CompressionKind;
  encrypted?: boolean;
  createDatabase?: boolean;
  identity?: string;
  tables?: DatabaseBackupResult['tableCounts'];
  dumpFormat?: 'custom' | 'directory';
  /** pg_restore --jobs for a directory-format artifact restored into a database it creates. */
  jobs?: number;
}

export async function restore(
  ws: Workspace,
  recorded: { key: string; sizeBytes: number; checksumSha256: string },
  targetUrl: string,
  options: RestoreOptions = {},
): Promise<void> {
  const stat = await ws.storage.stat(recorded.key);
  await runDatabaseRestore({
    artifact: {
      open: () => ws.storage.get(recorded.key),
      storedSizeBytes: stat?.sizeBytes,
      sizeBytes: recorded.sizeBytes,
      checksumSha256: recorded.checksumSha256,
      encrypted: options.encrypted ?? false,
    },
    compression: options.compression ?? 'zstd',
    identities: [parseIdentity(options.identity ?? ws.identity)],
    target: parsePostgresUrl(targetUrl),
    createDatabase: options.createDatabase ?? false,
    type: options.type ?? 'full',
    tables: options.tables,
    dumpFormat: options.dumpFormat,
    jobs: options.jobs,
    tmpDir: join(ws.dir, 'tmp'),
    logger: ws.logger,
  });
}

export async function artifactPath(ws: Workspace, key: string): Promise<string> {
  return join(ws.storage.description, key);
}

export async function readArtifact(ws: Workspace, key: string): Promise<Buffer> {
  return readFile(join(ws.storage.description, key));
}
