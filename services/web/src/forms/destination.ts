// The destination form: a local directory, an S3-compatible bucket, an SFTP server or an rclone
// remote, the request bodies, and its
// problems, found by the contract's schemas (destinationInputSchema for a new one,
// destinationUpdateSchema for a change). Credentials are never shown back: on an edit, empty
// credential fields keep the stored ones.
import { destinationInputSchema, destinationUpdateSchema, type DestinationView } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface DestinationForm {
  name: string;
  kind: 'local' | 's3' | 'sftp' | 'rclone';
  isDefault: boolean;
  path: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  serverSideEncryption: '' | 'AES256' | 'aws:kms';
  host: string;
  port: string;
  username: string;
  remotePath: string;
  sftpAuth: 'key' | 'password';
  password: string;
  privateKey: string;
  passphrase: string;
  hostKeySha256: string;
  remote: string;
  rcloneConfig: string;
}

export type DestinationField = keyof DestinationForm;

export function emptyDestinationForm(): DestinationForm {
  return {
    name: '',
    kind: 'local',
    isDefault: false,
    path: '',
    endpoint: '',
    region: 'us-east-1',
    bucket: '',
    prefix: '',
    accessKeyId: '',
    secretAccessKey: '',
    forcePathStyle: false,
    serverSideEncryption: '',
    host: '',
    port: '22',
    username: '',
    remotePath: '',
    sftpAuth: 'key',
    password: '',
    privateKey: '',
    passphrase: '',
    hostKeySha256: '',
    remote: '',
    rcloneConfig: '',
  };
}

export function formFromDestination(destination: DestinationView): DestinationForm {
  const config = destination.config;
  const text = (key: string) => (typeof config[key] === 'string' ? (config[key] as string) : '');
  const sse = text('serverSideEncryption');
  return {
    ...emptyDestinationForm(),
    name: destination.name,
    kind: destination.kind,
    isDefault: destination.isDefault,
    path: text('path'),
    endpoint: text('endpoint'),
    region: text('region') || 'us-east-1',
    bucket: text('bucket'),
    prefix: text('prefix'),
    forcePathStyle: config.forcePathStyle === true,
    serverSideEncryption: sse === 'AES256' || sse === 'aws:kms' ? sse : '',
    host: text('host'),
    port: typeof config.port === 'number' ? String(config.port) : '22',
    username: text('username'),
    remotePath: text('remotePath'),
    hostKeySha256: text('hostKeySha256'),
    remote: text('remote'),
  };
}

/** Every problem of the form, by field; `existing` is the destination being edited. */
export function destinationProblems(form: DestinationForm, existing?: DestinationView | null): Problems<DestinationForm> {
  const [schema, body] = existing ? [destinationUpdateSchema, destinationUpdateBody(form)] : [destinationInputSchema, destinationCreateBody(form)];
  const problems = problemsOf(schema, body, destinationFieldOfApiPath);
  // What an edit cannot say in a body: a setting left empty keeps the stored one, so it cannot be cleared.
  if (existing && !form.endpoint.trim() && typeof existing.config.endpoint === 'string' && existing.config.endpoint) {
    problems.endpoint ??= 'An endpoint cannot be removed once set: give the one to use.';
  }
  if (existing && !form.serverSideEncryption && typeof existing.config.serverSideEncryption === 'string') {
    problems.serverSideEncryption ??= 'Server-side encryption cannot be turned off once on: pick AES256 or aws:kms.';
  }
  return problems;
}

/** POST /api/destinations. */
export function destinationCreateBody(form: DestinationForm) {
  const common = { name: form.name.trim(), kind: form.kind, isDefault: form.isDefault };
  if (form.kind === 'local') return { ...common, path: form.path.trim() };
  if (form.kind === 'sftp') {
    return {
      ...common,
      ...serverSettings(form),
      ...(form.hostKeySha256.trim() ? { hostKeySha256: form.hostKeySha256.trim() } : {}),
      ...(form.sftpAuth === 'password' ? { password: form.password } : { privateKey: form.privateKey.trim(), ...(form.passphrase ? { passphrase: form.passphrase } : {}) }),
    };
  }
  if (form.kind === 'rclone') return { ...common, remote: form.remote.trim(), remotePath: form.remotePath.trim(), rcloneConfig: form.rcloneConfig };
  return {
    ...common,
    ...bucketSettings(form),
    ...(form.prefix.trim() ? { prefix: form.prefix.trim() } : {}),
    accessKeyId: form.accessKeyId.trim(),
    secretAccessKey: form.secretAccessKey,
  };
}

/** PUT /api/destinations/:id: the settings of its kind; credentials only when typed (kept otherwise). */
export function destinationUpdateBody(form: DestinationForm) {
  const common = { name: form.name.trim(), isDefault: form.isDefault };
  if (form.kind === 'local') return { ...common, path: form.path.trim() };
  if (form.kind === 'sftp') {
    return {
      ...common,
      ...serverSettings(form),
      // An emptied fingerprint forgets the pinned key: the next connection pins the one it meets.
      hostKeySha256: form.hostKeySha256.trim() || null,
      ...(form.sftpAuth === 'password' && form.password ? { password: form.password } : {}),
      ...(form.sftpAuth === 'key' && form.privateKey.trim() ? { privateKey: form.privateKey.trim(), ...(form.passphrase ? { passphrase: form.passphrase } : {}) } : {}),
    };
  }
  if (form.kind === 'rclone') return { ...common, remote: form.remote.trim(), remotePath: form.remotePath.trim(), ...(form.rcloneConfig ? { rcloneConfig: form.rcloneConfig } : {}) };
  return {
    ...common,
    ...bucketSettings(form),
    prefix: form.prefix.trim(),
    ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
    ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
  };
}

/** Where an SFTP destination writes; a port that is not a number is sent as typed, for the schema to refuse. */
function serverSettings(form: DestinationForm) {
  const port = /^\d+$/.test(form.port.trim()) ? Number(form.port.trim()) : form.port;
  return { host: form.host.trim(), port: port as number, username: form.username.trim(), remotePath: form.remotePath.trim() };
}

/** Where a bucket destination writes, as typed (an empty endpoint or encryption is left out). */
function bucketSettings(form: DestinationForm) {
  return {
    ...(form.endpoint.trim() ? { endpoint: form.endpoint.trim() } : {}),
    region: form.region.trim(),
    bucket: form.bucket.trim(),
    forcePathStyle: form.forcePathStyle,
    ...(form.serverSideEncryption ? { serverSideEncryption: form.serverSideEncryption } : {}),
  };
}

export function destinationFieldOfApiPath(path: string): DestinationField | null {
  const base = path.split(/[.[]/)[0] ?? '';
  const fields: readonly string[] = [
    ...['name', 'path', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'serverSideEncryption'],
    ...['host', 'port', 'username', 'remotePath', 'password', 'privateKey', 'passphrase', 'hostKeySha256', 'remote', 'rcloneConfig'],
  ];
  return fields.includes(base) ? (base as DestinationField) : null;
}
