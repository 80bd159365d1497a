// Users of the web UI (admins only): who can log in with a password, and with which role. The
// logged-in user cannot delete themselves here; the API refuses to delete the last admin.
import { useCallback, useState, type FormEvent } from 'react';
import { apiSend } from '../api/client';
import type { Role, User } from '../api/types';
import { useAuth } from '../auth';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { Field, invalid } from '../components/Field';
import { Empty, LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useForm } from '../hooks/useForm';
import { useApi } from '../hooks/usePolling';
import { MIN_PASSWORD, roleDescriptions, userBody, validateUser, type UserForm } from '../lib/account-rules';
import { formatDateTime } from '../lib/format';

export function UsersPage() {
  const { actor } = useAuth();
  const { data, error, reload } = useApi<{ items: User[] }>('/api/users', 15_000);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const { busy, run } = useAction();
  const isMe = (user: User) => actor?.type === 'user' && actor.name === user.username;

  return (
    <section className="page">
      <header className="page-header">
        <h1>Users</h1>
        <Button variant="primary" onClick={() => setAdding(true)}>
          Add a user
        </Button>
      </header>
      <p className="muted">People log in to this page with a username and password; scripts use API tokens.</p>
      {error && !data ? <LoadError error={error} what="the users" /> : null}
      {!data && !error ? <Loading what="users" /> : null}
      {data && data.items.length === 0 ? <Empty>No user yet: until one is added, log in with an API token.</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className="table responsive" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((user) => (
                <tr key={user.id} data-testid="user-row" data-name={user.username}>
                  <td data-label="Username" className="cell-name">
                    {user.username}
                    {isMe(user) ? <span className="badge badge-inline">you</span> : null}
                    {user.disabledAt ? <span className="badge badge-inline">disabled</span> : null}
                  </td>
                  <td data-label="Role">
                    <span className={`badge role-${user.role}`}>{user.role}</span>
                  </td>
                  <td data-label="Created">{formatDateTime(user.createdAt)}</td>
                  <td className="cell-actions">
                    {isMe(user) ? null : (
                      <Button small variant="danger" onClick={() => setDeleting(user)} aria-label={`Delete ${user.username}`}>
                        Delete
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {adding ? (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onAdded={async () => {
            setAdding(false);
            await reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.username}?`}
          confirmLabel="Delete user"
          danger
          busy={busy === 'delete'}
          error={deleteError}
          onClose={() => {
            setDeleting(null);
            setDeleteError(null);
          }}
          onConfirm={async () => {
            const outcome = await run('delete', () => apiSend('DELETE', `/api/users/${deleting.id}`), `${deleting.username} is deleted.`);
            if (outcome.ok) setDeleting(null);
            else setDeleteError(outcome.error.message);
            await reload();
          }}
        >
          <p>
            {deleting.username} can no longer log in. What they did stays in the audit log.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const toast = useToast();
  const validate = useCallback((form: UserForm) => validateUser(form), []);
  const { form, set, shown, apiError, saving, submit } = useForm<UserForm>(() => ({ username: '', password: '', role: 'viewer' }), validate, (path) =>
    path === 'username' || path === 'password' || path === 'role' ? path : null,
  );

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await submit(async (values) => {
      const user = await apiSend<User>('POST', '/api/users', userBody(values));
      toast.success(`${user.username} is added.`);
    });
    if (ok) onAdded();
  };

  return (
    <Dialog
      title="Add a user"
      onClose={onClose}
      busy={saving}
      footer={
        <>
          <Button onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="user-form" busy={saving}>
            Add
          </Button>
        </>
      }
    >
      <form id="user-form" className="form" onSubmit={add} noValidate>
        {apiError ? (
          <p className="form-error" role="alert" data-testid="api-error">
            {apiError}
          </p>
        ) : null}
        <Field label="Username" id="user-name" error={shown('username')}>
          <input id="user-name" data-autofocus autoComplete="off" spellCheck={false} value={form.username} onChange={(e) => set('username', e.target.value)} {...invalid(shown('username'), 'user-name')} />
        </Field>
        <Field label={`Password (${MIN_PASSWORD} characters or more)`} id="user-password" error={shown('password')}>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={form.password}
            onChange={(e) => set('password', e.target.value)}
            {...invalid(shown('password'), 'user-password')}
          />
        </Field>
        <Field label="Role" id="user-role" hint={roleDescriptions[form.role]}>
          <select id="user-role" value={form.role} onChange={(e) => set('role', e.target.value as Role)}>
            <option value="viewer">viewer</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
          </select>
        </Field>
      </form>
    </Dialog>
  );
}
