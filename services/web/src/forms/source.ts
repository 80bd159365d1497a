// The source form: a PostgreSQL database (its connection URL) or a bucket (S3-compatible), the
// request bodies, and their problems, found by the contract's schemas (sourceInputSchema for a new
// one, sourceUpdateSchema for a change). Secrets are never shown back: on an edit, an empty URL,
// password or key keeps the stored one.
import { sourceInputSchema, sourceUpdateSchema, type SourceView } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface SourceForm {
  name: string;
  kind: 'postgres' | 's3';
  /** PostgreSQL: one database (the URL's), or the whole server (every database plus the globals). */
  scope: 'database' | 'server';
  /** A server source: database name patterns (`*` any characters), separated by commas or lines. */
  include: string;
  exclude: string;
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
    scope: source?.scope ?? 'database',
    include: (source?.includeDatabases ?? []).join(', '),
    exclude: (source?.excludeDatabases ?? []).join(', '),
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
  if (form.kind === 'postgres') return { name, url: form.url.trim(), ...scopeSettings(form) };
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
    return { ...name, ...(form.url.trim() ? { url: form.url.trim() } : {}), ...(form.password ? { password: form.password } : {}), ...scopeChanges(form, existing) };
  }
  return {
    ...name,
    ...bucketSettings(form),
    ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
    ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
    ...(form.forcePathStyle ? { forcePathStyle: true } : {}),
  };
}

/** The patterns typed, one per comma or line, blanks left out. */
export function patternsOf(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((pattern) => pattern.trim())
    .filter(Boolean);
}

/** A new PostgreSQL source: a whole server with its patterns, or nothing (one database is the default). */
function scopeSettings(form: SourceForm) {
  if (form.scope !== 'server') return {};
  const include = patternsOf(form.include);
  const exclude = patternsOf(form.exclude);
  return { scope: 'server' as const, ...(include.length ? { includeDatabases: include } : {}), ...(exclude.length ? { excludeDatabases: exclude } : {}) };
}

/** An edit: the scope and the patterns when they changed (an emptied list is sent empty, so that it clears). */
function scopeChanges(form: SourceForm, existing: SourceView) {
  const changes: { scope?: 'database' | 'server'; includeDatabases?: string[]; excludeDatabases?: string[] } = {};
  if (form.scope !== (existing.scope ?? 'database')) changes.scope = form.scope;
  if (form.scope !== 'server') return changes;
  const include = patternsOf(form.include);
  const exclude = patternsOf(form.exclude);
  if (include.join('\n') !== (existing.includeDatabases ?? []).join('\n')) changes.includeDatabases = include;
  if (exclude.join('\n') !== (existing.excludeDatabases ?? []).join('\n')) changes.excludeDatabases = exclude;
  return changes;
}

function bucketSettings(form: SourceForm) {
  const typed = (value: string) => value.trim() || undefined;
  const settings = { endpoint: typed(form.endpoint), region: typed(form.region), bucket: typed(form.bucket), prefix: typed(form.prefix) };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<Record<keyof typeof settings, string>>;
}

export function sourceFieldOfApiPath(path: string): keyof SourceForm | null {
  const base = path.split(/[.[]/)[0] ?? '';
  if (base === 'includeDatabases') return 'include';
  if (base === 'excludeDatabases') return 'exclude';
  const fields: readonly string[] = ['name', 'url', 'password', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey'];
  return fields.includes(base) ? (base as keyof SourceForm) : null;
}
