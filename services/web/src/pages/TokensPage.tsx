// API tokens (admins only): the list never holds a value, only the first characters that tell
// tokens apart. A new token's value is shown once, in the dialog that created it, with a copy
// button; revoking asks first.
import { useRef, useState } from 'react';
import { apiSend } from '../api/client';
import type { TokenView as ApiToken } from '@coffre/contract';
import { Button } from '../components/Button';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { DataTable, actionsColumn, type Column } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { FormInput } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { Page } from '../components/Page';
import { useToast } from '../components/Toasts';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useForm } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { tokenBody, tokenFieldOfApiPath, tokenProblems, type TokenForm } from '../forms/account';
import { formatDateTime, formatRelative } from '../lib/format';
import { RoleBadge, RoleField } from './RoleField';

type TokenState = 'active' | 'revoked' | 'expired';

export function TokensPage() {
  const tokens = useListApi<ApiToken>('/api/tokens');
  const [creating, setCreating] = useState(false);
  const revocation = useConfirmedAction<ApiToken>((token) => apiSend('DELETE', `/api/tokens/${token.id}`), (token) => `${token.name} is revoked.`, tokens.reload);
  const now = Date.now();
  const stateOf = (t: ApiToken): TokenState => (t.revokedAt ? 'revoked' : t.expiresAt && new Date(t.expiresAt).getTime() <= now ? 'expired' : 'active');
  // Tokens in use first; revoked and expired ones stay listed for the record.
  const rows = tokens.rows && [...tokens.rows].sort((a, b) => Number(stateOf(a) !== 'active') - Number(stateOf(b) !== 'active'));

  const columns: Column<ApiToken>[] = [
    {
      header: 'Name',
      className: 'cell-name',
      cell: (t) => (
        <>
          {t.name}
          {stateOf(t) !== 'active' ? <span className="badge badge-inline">{stateOf(t) === 'revoked' ? `revoked ${formatRelative(t.revokedAt)}` : 'expired'}</span> : null}
        </>
      ),
    },
    { header: 'Role', cell: (t) => <RoleBadge role={t.role} /> },
    { header: 'Starts with', className: 'mono', cell: (t) => `${t.prefix}…` },
    { header: 'Created', cell: (t) => formatDateTime(t.createdAt) },
    { header: 'Last used', cell: (t) => (t.lastUsedAt ? formatRelative(t.lastUsedAt) : 'Never') },
    { header: 'Expires', cell: (t) => (t.expiresAt ? formatDateTime(t.expiresAt) : 'Never') },
    actionsColumn('Actions', (t) =>
      stateOf(t) === 'active' ? (
        <Button small variant="danger" onClick={() => revocation.ask(t)} aria-label={`Revoke ${t.name}`}>
          Revoke
        </Button>
      ) : null,
    ),
  ];

  return (
    <Page
      title="API tokens"
      action={{ label: 'Create a token', onClick: () => setCreating(true) }}
      intro={
        <>
          Scripts, the CLI and CI jobs authenticate with a token: <span className="mono">Authorization: Bearer &lt;token&gt;</span>. coffre keeps only a hash of each.
        </>
      }
    >
      <DataTable
        list={{ ...tokens, rows }}
        columns={columns}
        rowKey={(t) => t.id}
        rowProps={(t) => ({ 'data-testid': 'token-row', 'data-name': t.name, 'data-state': stateOf(t), className: stateOf(t) === 'active' ? '' : 'row-inactive' })}
        what="tokens"
        empty="No token yet."
        testId="tokens-table"
      />
      {creating ? <CreateTokenDialog onClose={() => setCreating(false)} onCreated={tokens.reload} /> : null}
      <ConfirmActionDialog action={revocation} title={(t) => `Revoke ${t.name}?`} confirmLabel="Revoke token" danger>
        {(t) => (
          <p>
            Whatever uses the token starting with <span className="mono">{t.prefix}</span> is refused from its next request on. This cannot be undone: create a new token to replace it.
          </p>
        )}
      </ConfirmActionDialog>
    </Page>
  );
}

function CreateTokenDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const toast = useToast();
  const [created, setCreated] = useState<(ApiToken & { token: string }) | null>(null);
    const form = useForm<TokenForm>(() => ({ name: '', role: 'operator', expiresInDays: '' }), tokenProblems, tokenFieldOfApiPath);

  const create = () =>
    form.submit(async (values) => {
      const token = await apiSend<ApiToken & { token: string }>('POST', '/api/tokens', tokenBody(values));
      setCreated(token);
      toast.success(`${token.name} is created: copy its value now.`);
      onCreated();
    });

  if (created) return <TokenValueDialog token={created} onClose={onClose} />;
  return (
    <FormDialog title="Create an API token" id="token-form" submitLabel="Create" form={form} onSubmit={create} onClose={onClose} autoComplete="off">
      <FormInput form={form} field="name" id="token-name" label="Name" hint="What uses it, so that you know what breaks when you revoke it." data-autofocus placeholder="nightly CI" />
      <div className="form-row">
        <RoleField form={form} id="token-role" />
        <FormInput form={form} field="expiresInDays" id="token-days" label="Expires after (days)" hint="Empty: never." inputMode="numeric" />
      </div>
    </FormDialog>
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
