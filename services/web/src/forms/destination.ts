// The destination form: a local directory or an S3-compatible bucket, the request bodies, and its
// problems, found by the contract's schemas (destinationInputSchema for a new one,
// destinationUpdateSchema for a change). Credentials are never shown back: on an edit, empty
// credential fields keep the stored ones.
import { destinationInputSchema, destinationUpdateSchema, type DestinationView } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

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
  return {
    ...common,
    ...bucketSettings(form),
    prefix: form.prefix.trim(),
    ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
    ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
  };
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
  const fields: readonly string[] = ['name', 'path', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'serverSideEncryption'];
  return fields.includes(base) ? (base as DestinationField) : null;
}
