// The storage driver of each destination row: its settings read from `config`, its credentials
// opened from `secretEncrypted`. The AWS SDK and ssh2 are loaded on first use, so that processes that
// never touch a bucket or an SFTP server do not pay for them.
import type { Destination } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { createLocalStorage } from '../../storage/local.js';
import { describeS3Location } from '../../storage/s3-location.js';
import type { S3StorageOptions } from '../../storage/s3.js';
import type { StorageDriver } from '../../storage/driver.js';
import { createRcloneStorage, describeRcloneLocation } from '../../storage/rclone.js';
import type { SftpStorageOptions } from '../../storage/sftp.js';
import { writeSecretFile } from '../../engine/secret-files.js';
import { tracingEnabled } from '../../infra/tracing.js';
import { tracedDriver } from '../../storage/traced-driver.js';
import { PermanentError, errorMessage } from '../../infra/errors.js';
import { checkRcloneConfig } from './rclone-config.js';

export interface LocalDestinationConfig {
  path: string;
}

export interface S3DestinationConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  forcePathStyle?: boolean;
  serverSideEncryption?: 'AES256' | 'aws:kms';
}

export interface SftpDestinationConfig {
  host: string;
  port: number;
  username: string;
  remotePath: string;
  /** The server's host key, pinned on first use (SHA256:…). */
  hostKeySha256?: string | null;
}

export interface RcloneDestinationConfig {
  remote: string;
  remotePath: string;
}

export interface S3Secret {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SftpSecret {
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface RcloneSecret {
  rcloneConfig: string;
}

/** Where a destination writes, for people (never with credentials). */
export function locationOf(destination: Pick<Destination, 'kind' | 'config'>): string {
  const config = destination.config as unknown;
  switch (destination.kind) {
    case 'local':
      return (config as LocalDestinationConfig).path;
    case 's3':
      return describeS3Location(config as S3DestinationConfig);
    case 'sftp': {
      const sftp = config as SftpDestinationConfig;
      const path = sftp.remotePath.replace(/\/+$/, '');
      const host = sftp.host.includes(':') && !sftp.host.startsWith('[') ? `[${sftp.host}]` : sftp.host;
      return `sftp://${sftp.username}@${host}:${sftp.port}${path.startsWith('/') ? `${path}/` : `/~/${path ? `${path}/` : ''}`}`;
    }
    case 'rclone':
      return describeRcloneLocation(config as RcloneDestinationConfig);
  }
}

export function openSecret<T>(ctx: AppContext, destination: Destination): T {
  if (!destination.secretEncrypted) throw new Error(`Destination "${destination.name}" has no credentials.`);
  return JSON.parse(ctx.secrets.open(destination.secretEncrypted)) as T;
}

const drivers = new Map<string, { updatedAt: number; driver: StorageDriver }>();

/** The storage driver of a destination (cached until the row changes). */
export function destinationDriver(ctx: AppContext, destination: Destination): StorageDriver {
  const cached = drivers.get(destination.id);
  if (cached && cached.updatedAt === destination.updatedAt.getTime()) return cached.driver;
  let driver: StorageDriver;
  switch (destination.kind) {
    case 'local':
      driver = createLocalStorage((destination.config as unknown as LocalDestinationConfig).path);
      break;
    case 's3':
      driver = lazyS3Driver({ ...(destination.config as unknown as S3DestinationConfig), ...openSecret<S3Secret>(ctx, destination), logger: ctx.logger });
      break;
    case 'sftp': {
      const config = destination.config as unknown as SftpDestinationConfig;
      driver = lazyDriver('sftp', locationOf(destination), async () =>
        (await import('../../storage/sftp.js')).createSftpStorage({
          ...config,
          ...openSecret<SftpSecret>(ctx, destination),
          hostKeySha256: config.hostKeySha256 ?? null,
          pinHostKey: (fingerprint) => pinHostKey(ctx, destination.id, fingerprint),
        } satisfies SftpStorageOptions),
      );
      break;
    }
    case 'rclone': {
      const config = destination.config as unknown as RcloneDestinationConfig;
      const text = openSecret<RcloneSecret>(ctx, destination).rcloneConfig;
      driver = lazyDriver('rclone', locationOf(destination), async () => {
        try {
          checkRcloneConfig(text, config.remote);
        } catch (error) {
          throw new PermanentError(`Destination "${destination.name}" is not used: ${errorMessage(error)} Edit its rclone configuration.`, 'rclone-config-refused');
        }
        return createRcloneStorage({ ...config, config: text, writeSecretFile });
      });
      break;
    }
  }
  if (tracingEnabled()) driver = tracedDriver(driver);
  drivers.set(destination.id, { updatedAt: destination.updatedAt.getTime(), driver });
  return driver;
}

export function forgetDriver(id: string): void {
  drivers.delete(id);
}

/**
 * Pins the first host key met for an SFTP destination, unless another process pinned one first:
 * resolves with the fingerprint pinned now, which the caller compares with the one it met.
 */
async function pinHostKey(ctx: AppContext, id: string, fingerprint: string): Promise<string> {
  await ctx.db.$executeRaw`
    UPDATE "Destination" SET config = jsonb_set(config::jsonb, '{hostKeySha256}', to_jsonb(${fingerprint}::text)), "updatedAt" = now()
    WHERE id = ${id}::uuid AND coalesce(config::jsonb ->> 'hostKeySha256', '') = ''`;
  const row = await ctx.db.destination.findUnique({ where: { id } });
  const pinned = (row?.config as unknown as SftpDestinationConfig | undefined)?.hostKeySha256;
  if (!pinned) throw new Error('The destination was removed while connecting to it.');
  if (pinned === fingerprint) ctx.logger.info({ destinationId: id, hostKeySha256: fingerprint }, 'pinned the SSH host key of an SFTP destination on first use');
  return pinned;
}

/**
 * An S3 driver that loads the AWS SDK on first use: processes that never touch a bucket do not pay
 * for it (about 20 MB of memory per process).
 */
export function lazyS3Driver(options: S3StorageOptions): StorageDriver {
  return lazyDriver('s3', describeS3Location(options), async () => (await import('../../storage/s3.js')).createS3Storage(options));
}

function lazyDriver(kind: StorageDriver['kind'], description: string, load: () => Promise<StorageDriver>): StorageDriver {
  let loaded: Promise<StorageDriver> | null = null;
  const driver = () => (loaded ??= load());
  return {
    kind,
    description,
    put: async (key, body, putOptions) => (await driver()).put(key, body, putOptions),
    get: async (key, range) => (await driver()).get(key, range),
    stat: async (key) => (await driver()).stat(key),
    delete: async (key) => (await driver()).delete(key),
    list: async function* (prefix) {
      yield* (await driver()).list(prefix);
    },
    checkWritable: async () => (await driver()).checkWritable(),
    removeStaleTemporaries: async (olderThanMs) => (await (await driver()).removeStaleTemporaries?.(olderThanMs)) ?? 0,
  };
}
