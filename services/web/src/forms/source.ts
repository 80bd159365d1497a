// The source form: a PostgreSQL database (its connection URL) or a bucket (S3-compatible), the
// request bodies, and their problems, found by the contract's schemas (sourceInputSchema for a new
// one, sourceUpdateSchema for a change). Secrets are never shown back: on an edit, an empty URL,
// password or key keeps the stored one.
import { sourceInputSchema, sourceUpdateSchema, type SourceView } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface SourceForm {
  name: string;
  kind: 'postgres' | 's3';
  url: string;
  /** Edits of a PostgreSQL source: a new password for the stored (or the new) URL. */
  password: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export function sourceForm(source: SourceView | null): SourceForm {
  return {
    name: source?.name ?? '',
    kind: source?.kind ?? 'postgres',
    url: '',
    password: '',
    endpoint: '',
    region: source ? '' : 'us-east-1',
    bucket: '',
    prefix: '',
    accessKeyId: '',
    secretAccessKey: '',
    forcePathStyle: false,
  };
}

export function sourceProblems(form: SourceForm, existing: SourceView | null): Problems<SourceForm> {
  return existing ? problemsOf(sourceUpdateSchema, sourceUpdateBody(form, existing), sourceFieldOfApiPath) : problemsOf(sourceInputSchema, sourceCreateBody(form), sourceFieldOfApiPath);
}

/** True when a new source has what it needs to be sent (the Add button waits until then). */
export function sourceReady(form: SourceForm): boolean {
  if (!form.name.trim()) return false;
  return form.kind === 'postgres' ? Boolean(form.url.trim()) : Boolean(form.bucket.trim() && form.accessKeyId.trim() && form.secretAccessKey);
}

/** POST /api/sources. */
export function sourceCreateBody(form: SourceForm) {
  const name = form.name.trim();
  if (form.kind === 'postgres') return { name, url: form.url.trim() };
  return {
    name,
    kind: 's3' as const,
    ...bucketSettings(form),
    accessKeyId: form.accessKeyId.trim(),
    secretAccessKey: form.secretAccessKey,
    forcePathStyle: form.forcePathStyle,
  };
}

/** PUT /api/sources/:id: only what was typed (every empty field keeps what is stored). */
export function sourceUpdateBody(form: SourceForm, existing: SourceView) {
  const name = form.name.trim() && form.name.trim() !== existing.name ? { name: form.name.trim() } : {};
  if (existing.kind === 'postgres') {
    return { ...name, ...(form.url.trim() ? { url: form.url.trim() } : {}), ...(form.password ? { password: form.password } : {}) };
  }
  return {
    ...name,
    ...bucketSettings(form),
    ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
    ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
    ...(form.forcePathStyle ? { forcePathStyle: true } : {}),
  };
}

function bucketSettings(form: SourceForm) {
  const typed = (value: string) => value.trim() || undefined;
  const settings = { endpoint: typed(form.endpoint), region: typed(form.region), bucket: typed(form.bucket), prefix: typed(form.prefix) };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<Record<keyof typeof settings, string>>;
}

export function sourceFieldOfApiPath(path: string): keyof SourceForm | null {
  const base = path.split(/[.[]/)[0] ?? '';
  const fields: readonly string[] = ['name', 'url', 'password', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey'];
  return fields.includes(base) ? (base as keyof SourceForm) : null;
}
