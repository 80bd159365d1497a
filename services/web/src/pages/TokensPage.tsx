// API tokens (admins only): the list never holds a value, only the first characters that tell
// tokens apart. A new token's value is shown once, in the dialog that created it, with a copy
// button; revoking asks first.
import { useCallback, useRef, useState, type FormEvent } from 'react';
import { apiSend } from '../api/client';
import type { ApiToken, Role } from '../api/types';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { Empty, LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useForm } from '../hooks/useForm';
import { useApi } from '../hooks/usePolling';
import { roleDescriptions, tokenBody, validateToken, type TokenForm } from '../lib/account-rules';
import { formatDateTime, formatRelative } from '../lib/format';

export function TokensPage() {
  const { data, error, reload } = useApi<{ items: ApiToken[] }>('/api/tokens', 15_000);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const { busy, run } = useAction();
  const now = Date.now();
  const stateOf = (t: ApiToken) => (t.revokedAt ? 'revoked' : t.expiresAt && new Date(t.expiresAt).getTime() <= now ? 'expired' : 'active');
  // Tokens in use first; revoked and expired ones stay listed for the record.
  const tokens = [...(data?.items ?? [])].sort((a, b) => Number(stateOf(a) !== 'active') - Number(stateOf(b) !== 'active'));

  return (
    <section className="page">
      <header className="page-header">
        <h1>API tokens</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create a token
        </Button>
      </header>
      <p className="muted">Scripts, the CLI and CI jobs authenticate with a token: <span className="mono">Authorization: Bearer &lt;token&gt;</span>. coffre keeps only a hash of each.</p>
      {error && !data ? <LoadError error={error} what="the tokens" /> : null}
      {!data && !error ? <Loading what="tokens" /> : null}
      {data && data.items.length === 0 ? <Empty>No token yet.</Empty> : null}
      {tokens.length > 0 ? (
        <div className="table-wrap">
          <table className="table responsive" data-testid="tokens-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => {
                const state = stateOf(t);
                return (
                  <tr key={t.id} data-testid="token-row" data-name={t.name} data-state={state} className={state === 'active' ? '' : 'row-inactive'}>
                    <td data-label="Name" className="cell-name">
                      {t.name}
                      {state !== 'active' ? <span className="badge badge-inline">{state === 'revoked' ? `revoked ${formatRelative(t.revokedAt)}` : 'expired'}</span> : null}
                    </td>
                    <td data-label="Role">
                      <span className={`badge role-${t.role}`}>{t.role}</span>
                    </td>
                    <td data-label="Starts with" className="mono">
                      {t.prefix}…
                    </td>
                    <td data-label="Created">{formatDateTime(t.createdAt)}</td>
                    <td data-label="Last used">{t.lastUsedAt ? formatRelative(t.lastUsedAt) : 'Never'}</td>
                    <td data-label="Expires">{t.expiresAt ? formatDateTime(t.expiresAt) : 'Never'}</td>
                    <td className="cell-actions">
                      {state === 'active' ? (
                        <Button small variant="danger" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                          Revoke
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {creating ? <CreateTokenDialog onClose={() => setCreating(false)} onCreated={reload} /> : null}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke token"
          danger
          busy={busy === 'revoke'}
          error={revokeError}
          onClose={() => {
            setRevoking(null);
            setRevokeError(null);
          }}
          onConfirm={async () => {
            const outcome = await run('revoke', () => apiSend('DELETE', `/api/tokens/${revoking.id}`), `${revoking.name} is revoked.`);
            if (outcome.ok) setRevoking(null);
            else setRevokeError(outcome.error.message);
            await reload();
          }}
        >
          <p>
            Whatever uses the token starting with <span className="mono">{revoking.prefix}</span> is refused from its next request on. This cannot be undone: create a new token to
            replace it.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function CreateTokenDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const toast = useToast();
  const [created, setCreated] = useState<(ApiToken & { token: string }) | null>(null);
  const validate = useCallback((form: TokenForm) => validateToken(form), []);
  const { form, set, shown, apiError, saving, submit } = useForm<TokenForm>(() => ({ name: '', role: 'operator', expiresInDays: '' }), validate, (path) =>
    path === 'name' || path === 'role' || path === 'expiresInDays' ? path : null,
  );

  const create = async (event: FormEvent) => {
    event.preventDefault();
    await submit(async (values) => {
      const token = await apiSend<ApiToken & { token: string }>('POST', '/api/tokens', tokenBody(values));
      setCreated(token);
      toast.success(`${token.name} is created: copy its value now.`);
      onCreated();
    });
  };

  if (created) return <TokenValueDialog token={created} onClose={onClose} />;
  return (
    <Dialog
      title="Create an API token"
      onClose={onClose}
      busy={saving}
      footer={
        <>
          <Button onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="token-form" busy={saving}>
            Create
          </Button>
        </>
      }
    >
      <form id="token-form" className="form" onSubmit={create} noValidate autoComplete="off">
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
        <Field label="Name" id="token-name" error={shown('name')} hint="What uses it, so that you know what breaks when you revoke it.">
          <input id="token-name" data-autofocus value={form.name} placeholder="nightly CI" onChange={(e) => set('name', e.target.value)} {...invalid(shown('name'), 'token-name')} />
        </Field>
        <div className="form-row">
          <Field label="Role" id="token-role" hint={roleDescriptions[form.role]}>
            <select id="token-role" value={form.role} onChange={(e) => set('role', e.target.value as Role)}>
              <option value="viewer">viewer</option>
              <option value="operator">operator</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          <Field label="Expires after (days)" id="token-days" error={shown('expiresInDays')} hint="Empty: never.">
            <input id="token-days" inputMode="numeric" value={form.expiresInDays} onChange={(e) => set('expiresInDays', e.target.value)} {...invalid(shown('expiresInDays'), 'token-days')} />
          </Field>
        </div>
      </form>
    </Dialog>
  );
}

/** The one time a token's value is shown: closing this dialog forgets it. */
function TokenValueDialog({ token, onClose }: { token: ApiToken & { token: string }; onClose: () => void }) {
  const toast = useToast();
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);

  const copy = async () => {
    try {
      if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(token.token);
      else {
        // Plain http on another host has no clipboard API: select the text and copy it the old way.
        field.current!.select();
        if (!document.execCommand('copy')) throw new Error('the browser refused');
      }
      setCopied(true);
      toast.success('The token is copied to the clipboard.');
    } catch (error) {
      field.current?.select();
      toast.error(`Could not copy (${(error as Error).message}): select the value and copy it by hand.`);
    }
  };

  return (
    <Dialog
      title={`Token ${token.name}`}
      onClose={onClose}
      footer={
        <Button variant="primary" onClick={onClose}>
          Done
        </Button>
      }
    >
      <div className="form" data-testid="token-value">
        <p className="warning" role="alert">
          Copy this value now: coffre keeps only its hash and will never show it again. Anyone who has it acts as <strong>{token.role}</strong>.
        </p>
        <div className="field">
          <label htmlFor="token-value">Value</label>
          <div className="input-with-button">
            <input id="token-value" ref={field} className="mono" readOnly value={token.token} onFocus={(e) => e.target.select()} spellCheck={false} />
            <Button variant="primary" onClick={copy} data-autofocus>
              {copied ? 'Copied ✓' : 'Copy'}
            </Button>
          </div>
        </div>
        <p className="muted small">
          Use it as <span className="mono">Authorization: Bearer …</span>, or log in to this page with it. {token.expiresAt ? `It expires ${formatDateTime(token.expiresAt)}.` : 'It never expires.'}
        </p>
      </div>
    </Dialog>
  );
}
