// The destination form: a local directory or an S3-compatible bucket, the rules the API applies
// (shared/src/app/destinations.ts) field by field, and the request bodies. Credentials are never
// shown back: on an edit, empty credential fields keep the stored ones.
import type { Destination } from '../api/types';

export interface DestinationForm {
  name: string;
  kind: 'local' | 's3';
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
}

export type DestinationField = keyof DestinationForm;
export type DestinationErrors = Partial<Record<DestinationField, string>>;

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
  };
}

export function formFromDestination(destination: Destination): DestinationForm {
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
  };
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Every problem of the form, by field; `existing` is the destination being edited. */
export function validateDestination(form: DestinationForm, existing?: Destination | null): DestinationErrors {
  const errors: DestinationErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Name must not be empty.';
  else if (name.length > 63) errors.name = 'Name must be at most 63 characters.';
  else if (!namePattern.test(name)) errors.name = 'Name may hold letters, digits, ".", "_" and "-", starting with a letter or digit.';

  if (form.kind === 'local') {
    const path = form.path.trim();
    if (!path) errors.path = 'The directory is required.';
    else if (path.length > 1000) errors.path = 'The path must be at most 1000 characters.';
    else if (!path.startsWith('/') || path.includes('\0')) errors.path = 'Must be an absolute directory path, starting with "/".';
    return errors;
  }

  const endpoint = form.endpoint.trim();
  if (endpoint && !isHttpUrl(endpoint)) errors.endpoint = 'Must be a URL such as https://minio.example.com:9000.';
  else if (!endpoint && existing && typeof existing.config.endpoint === 'string' && existing.config.endpoint)
    errors.endpoint = 'An endpoint cannot be removed once set: give the one to use.';
  const region = form.region.trim();
  if (!region) errors.region = 'The region is required (us-east-1 when the service has none).';
  else if (region.length > 64) errors.region = 'The region must be at most 64 characters.';
  if (!bucketPattern.test(form.bucket.trim())) errors.bucket = 'Must be a bucket name: 3–63 lower-case letters, digits, "." and "-".';
  const prefix = form.prefix.trim();
  if (prefix.length > 200) errors.prefix = 'The prefix must be at most 200 characters.';
  else if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) errors.prefix = 'The prefix must not contain "." or ".." segments.';
  const keepsCredentials = Boolean(existing?.hasCredentials);
  if (!form.accessKeyId.trim() && !keepsCredentials) errors.accessKeyId = 'The access key id is required.';
  else if (form.accessKeyId.trim().length > 200) errors.accessKeyId = 'The access key id must be at most 200 characters.';
  if (!form.secretAccessKey && !keepsCredentials) errors.secretAccessKey = 'The secret access key is required.';
  else if (form.secretAccessKey.length > 500) errors.secretAccessKey = 'The secret access key must be at most 500 characters.';
  if (!form.serverSideEncryption && existing && typeof existing.config.serverSideEncryption === 'string')
    errors.serverSideEncryption = 'Server-side encryption cannot be turned off once on: pick AES256 or aws:kms.';
  return errors;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** POST /api/destinations. */
export function destinationCreateBody(form: DestinationForm): Record<string, unknown> {
  const common = { name: form.name.trim(), kind: form.kind, isDefault: form.isDefault };
  if (form.kind === 'local') return { ...common, path: form.path.trim() };
  return {
    ...common,
    ...(form.endpoint.trim() ? { endpoint: form.endpoint.trim() } : {}),
    region: form.region.trim(),
    bucket: form.bucket.trim(),
    ...(form.prefix.trim() ? { prefix: form.prefix.trim() } : {}),
    accessKeyId: form.accessKeyId.trim(),
    secretAccessKey: form.secretAccessKey,
    forcePathStyle: form.forcePathStyle,
    ...(form.serverSideEncryption ? { serverSideEncryption: form.serverSideEncryption } : {}),
  };
}

/** PUT /api/destinations/:id: the settings of its kind; credentials only when typed (kept otherwise). */
export function destinationUpdateBody(form: DestinationForm): Record<string, unknown> {
  const common = { name: form.name.trim(), isDefault: form.isDefault };
  if (form.kind === 'local') return { ...common, path: form.path.trim() };
  return {
    ...common,
    ...(form.endpoint.trim() ? { endpoint: form.endpoint.trim() } : {}),
    region: form.region.trim(),
    bucket: form.bucket.trim(),
    prefix: form.prefix.trim(),
    ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
    ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
    forcePathStyle: form.forcePathStyle,
    ...(form.serverSideEncryption ? { serverSideEncryption: form.serverSideEncryption } : {}),
  };
}

export function destinationFieldOfApiPath(path: string): DestinationField | null {
  const base = path.split(/[.[]/)[0] ?? '';
  const fields: readonly string[] = ['name', 'path', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'serverSideEncryption'];
  return fields.includes(base) ? (base as DestinationField) : null;
}
