// What a destination keeps in the clear (`config`, shown by the API) and what it seals with
// SECRET_KEY (`secretEncrypted`, never shown): for a new destination, and for a change to one, where
// a credential is replaced only when given.
import type { DestinationInput, DestinationUpdate } from '@coffre/contract';
import type { Destination } from '../../infra/db.js';
import type { AppContext } from '../../infra/context.js';
import { ValidationError } from '../../infra/errors.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';
import { openSecret, type RcloneSecret, type S3Secret, type SftpSecret } from './drivers.js';
import { checkRcloneConfig } from './rclone-config.js';

/** The settings each kind accepts in an update, beyond name and isDefault. */
const settingsOf: Record<Destination['kind'], string[]> = {
  local: ['path'],
  s3: ['endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'forcePathStyle', 'serverSideEncryption'],
  sftp: ['host', 'port', 'username', 'remotePath', 'password', 'privateKey', 'passphrase', 'hostKeySha256'],
  rclone: ['remote', 'remotePath', 'rcloneConfig'],
};
const secretKeys = ['accessKeyId', 'secretAccessKey', 'password', 'privateKey', 'passphrase', 'rcloneConfig'];

/** Splits a new destination into its clear settings and its secret. */
export function splitSecret(input: DestinationInput): { config: Record<string, unknown>; secret: object | null } {
  checkOutbound(input as { endpoint?: string; host?: string });
  switch (input.kind) {
    case 'local':
      return { config: { path: input.path }, secret: null };
    case 's3': {
      const { name: _n, isDefault: _d, kind: _k, accessKeyId, secretAccessKey, ...config } = input;
      return { config, secret: { accessKeyId, secretAccessKey } satisfies S3Secret };
    }
    case 'sftp': {
      const { host, port, username, remotePath, hostKeySha256, password, privateKey, passphrase } = input;
      return { config: { host, port, username, remotePath, hostKeySha256: hostKeySha256 ?? null }, secret: { password, privateKey, passphrase } satisfies SftpSecret };
    }
    case 'rclone': {
      checkRcloneConfig(input.rcloneConfig, input.remote);
      return { config: { remote: input.remote, remotePath: input.remotePath }, secret: { rcloneConfig: input.rcloneConfig } satisfies RcloneSecret };
    }
  }
}

/** The row's new config and sealed secret after a change; refuses settings of another kind. */
export function applyChanges(ctx: AppContext, before: Destination, changes: DestinationUpdate): { config: object; secretEncrypted: string | null; credentialsChanged: boolean } {
  const allowed = settingsOf[before.kind];
  const wrong = Object.keys(changes).filter((k) => k !== 'name' && k !== 'isDefault' && !allowed.includes(k));
  if (wrong.length) throw new ValidationError(`${wrong.join(', ')}: not a setting of ${['s3', 'sftp'].includes(before.kind) ? 'an' : 'a'} ${before.kind} destination.`);
  checkOutbound(changes);
  const { name: _n, isDefault: _d, ...rest } = changes;
  const settings = Object.fromEntries(Object.entries(rest).filter(([key]) => !secretKeys.includes(key)));
  const given = Object.fromEntries(Object.entries(rest).filter(([key, value]) => secretKeys.includes(key) && value !== undefined));
  const config: Record<string, unknown> = { ...(before.config as Record<string, unknown>), ...settings };
  // A server moved elsewhere presents another key: the pin follows the move unless a new one is given.
  if (before.kind === 'sftp' && (changes.host !== undefined || changes.port !== undefined) && changes.hostKeySha256 === undefined) {
    const old = before.config as Record<string, unknown>;
    if (config.host !== old.host || config.port !== old.port) config.hostKeySha256 = null;
  }
  const credentialsChanged = Object.keys(given).length > 0;
  let secretEncrypted = before.secretEncrypted;
  if (credentialsChanged) {
    const old = before.secretEncrypted ? openSecret<Record<string, unknown>>(ctx, before) : {};
    let secret: Record<string, unknown> = { ...old, ...given };
    // An SFTP login is a password or a key: giving one replaces the other.
    if (before.kind === 'sftp' && given.password) secret = { password: given.password };
    if (before.kind === 'sftp' && given.privateKey) secret = { privateKey: given.privateKey, passphrase: given.passphrase };
    secretEncrypted = ctx.secrets.seal(JSON.stringify(secret));
  }
  if (before.kind === 'rclone') {
    const rclone = openSecretText(ctx, before, given.rcloneConfig as string | undefined);
    checkRcloneConfig(rclone, config.remote as string);
  }
  return { config, secretEncrypted, credentialsChanged };
}

function openSecretText(ctx: AppContext, before: Destination, given: string | undefined): string {
  return given ?? openSecret<RcloneSecret>(ctx, before).rcloneConfig;
}

function checkOutbound(settings: { endpoint?: string; host?: string }): void {
  if (settings.endpoint) checkOutboundUrl(settings.endpoint, 'endpoint');
  if (settings.host) checkOutboundHost(settings.host, 'host');
}
