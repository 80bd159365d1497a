// What a PostgreSQL source backs up: the one database its URL names, or the whole server (every
// database its patterns select, templates left out, plus the globals: roles, memberships,
// tablespaces). The patterns are checked by the contract as the API checks them.
import type { SourceView as Source } from '@coffre/contract';
import { FormInput } from '../components/Field';
import type { FormState } from '../hooks/useForm';
import type { SourceForm } from '../forms/source';

export function SourceScopeFields({ form }: { form: FormState<SourceForm> }) {
  const { scope } = form.form;
  return (
    <fieldset className="fieldset" data-testid="source-scope">
      <legend>What it backs up</legend>
      <label className="check">
        <input type="radio" name="source-scope" value="database" checked={scope === 'database'} onChange={() => form.set('scope', 'database')} /> One database: the one the URL names
      </label>
      <label className="check">
        <input type="radio" name="source-scope" value="server" checked={scope === 'server'} onChange={() => form.set('scope', 'server')} /> The whole server: every database and the
        globals (roles, memberships, tablespaces)
      </label>
      {scope === 'server' ? (
        <div className="nested">
          <p className="muted small">The URL's database is only where coffre connects first (often postgres). Templates are never backed up; a database created later is picked up by the next run.</p>
          <div className="form-row">
            <FormInput form={form} field="include" id="source-include" label="Databases to include (empty: all)" hint="Names or patterns, * for any characters, separated by commas." spellCheck={false} placeholder="shop, app_*" />
            <FormInput form={form} field="exclude" id="source-exclude" label="Databases to leave out" hint="Names or patterns, separated by commas." spellCheck={false} placeholder="postgres, *_scratch" />
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}

/** A source's scope in words, for its card: "whole server" with its patterns, or nothing for one database. */
export function SourceScopeSummary({ source }: { source: Source }) {
  if (source.kind !== 'postgres' || source.scope !== 'server') return null;
  const include = source.includeDatabases ?? [];
  const exclude = source.excludeDatabases ?? [];
  return (
    <p className="small" data-testid="source-scope-summary">
      Every database{include.length ? <> matching <span className="mono">{include.join(', ')}</span></> : null}
      {exclude.length ? <>, except <span className="mono">{exclude.join(', ')}</span></> : null}, and the globals.
    </p>
  );
}

/** The badge of a PostgreSQL source's scope ("whole server", "one database"); none for a bucket. */
export function sourceScopeLabel(source: Source): string | null {
  if (source.kind !== 'postgres') return null;
  return source.scope === 'server' ? 'whole server' : 'one database';
}
