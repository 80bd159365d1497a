// Users of the web UI (admins only): who can log in with a password, and with which role (Edit
// changes it and resets a password). The logged-in user cannot edit or delete themselves here; the
// API refuses to demote or delete the last admin.
import { useState } from 'react';
import { apiSend } from '../api/client';
import type { UserView as User } from '@coffre/contract';
import { useAuth } from '../auth';
import { Button } from '../components/Button';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { DataTable, actionsColumn, type Column } from '../components/DataTable';
import { FormInput } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { Page } from '../components/Page';
import { useToast } from '../components/Toasts';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useForm } from '../hooks/useForm';
import { useListApi } from '../hooks/useList';
import { MIN_PASSWORD, userBody, userFieldOfApiPath, userProblems, userUpdateBody, userUpdateProblems, type UserForm } from '../forms/account';
import { formatDateTime } from '../lib/format';
import { RoleBadge, RoleField } from './RoleField';

export function UsersPage() {
  const { actor } = useAuth();
  const users = useListApi<User>('/api/users');
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<User | null>(null);
  const removal = useConfirmedAction<User>((user) => apiSend('DELETE', `/api/users/${user.id}`), (user) => `${user.username} is deleted.`, users.reload);
  const reset = useConfirmedAction<User>((user) => apiSend('DELETE', `/api/users/${user.id}/totp`), (user) => `Two-factor authentication of ${user.username} is off.`, users.reload);
  const isMe = (user: User) => actor?.type === 'user' && actor.name === user.username;

  const columns: Column<User>[] = [
    {
      header: 'Username',
      className: 'cell-name',
      cell: (user) => (
        <>
          {user.username}
          {isMe(user) ? <span className="badge badge-inline">you</span> : null}
          {user.disabledAt ? <span className="badge badge-inline">disabled</span> : null}
          {user.twoFactor ? <span className="badge badge-inline">2FA</span> : null}
          {user.sso ? <span className="badge badge-inline">single sign-on</span> : null}
        </>
      ),
    },
    { header: 'Role', cell: (user) => <RoleBadge role={user.role} /> },
    { header: 'Created', cell: (user) => formatDateTime(user.createdAt) },
    actionsColumn('Actions', (user) =>
      isMe(user) ? null : (
        <>
          <Button small onClick={() => setEditing(user)} aria-label={`Edit ${user.username}`}>
            Edit
          </Button>
          {user.twoFactor ? (
            <Button small onClick={() => reset.ask(user)} aria-label={`Reset two-factor authentication of ${user.username}`}>
              Reset 2FA
            </Button>
          ) : null}
          <Button small variant="danger" onClick={() => removal.ask(user)} aria-label={`Delete ${user.username}`}>
            Delete
          </Button>
        </>
      ),
    ),
  ];

  return (
    <Page title="Users" action={{ label: 'Add a user', onClick: () => setAdding(true) }} intro="People log in to this page with a username and password; scripts use API tokens.">
      <DataTable list={users} columns={columns} rowKey={(user) => user.id} rowProps={(user) => ({ 'data-testid': 'user-row', 'data-name': user.username })} what="users" empty="No user yet: until one is added, log in with an API token." testId="users-table" />
      {adding ? (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onAdded={async () => {
            setAdding(false);
            await users.reload();
          }}
        />
      ) : null}
      {editing ? (
        <EditUserDialog
          user={editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await users.reload();
          }}
        />
      ) : null}
      <ConfirmActionDialog action={reset} title={(user) => `Reset the two-factor authentication of ${user.username}?`} confirmLabel="Reset 2FA" danger>
        {(user) => <p>{user.username} will log in with the password alone until turning it on again (for a lost authenticator).</p>}
      </ConfirmActionDialog>
      <ConfirmActionDialog action={removal} title={(user) => `Delete ${user.username}?`} confirmLabel="Delete user" danger>
        {(user) => <p>{user.username} can no longer log in. What they did stays in the audit log.</p>}
      </ConfirmActionDialog>
    </Page>
  );
}

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const toast = useToast();
  const form = useForm<UserForm>(() => ({ username: '', password: '', role: 'viewer' }), userProblems, userFieldOfApiPath);

  const add = async () => {
    const ok = await form.submit(async (values) => {
      const user = await apiSend<User>('POST', '/api/users', userBody(values));
      toast.success(`${user.username} is added.`);
    });
    if (ok) onAdded();
  };

  return (
    <FormDialog title="Add a user" id="user-form" submitLabel="Add" form={form} onSubmit={add} onClose={onClose}>
      <FormInput form={form} field="username" id="user-name" label="Username" data-autofocus autoComplete="off" spellCheck={false} />
      <FormInput form={form} field="password" id="user-password" label={`Password (${MIN_PASSWORD} characters or more)`} type="password" autoComplete="new-password" />
      <RoleField form={form} id="user-role" />
    </FormDialog>
  );
}

/** Another role, a new password (their open sessions end), or both. */
function EditUserDialog({ user, onClose, onSaved }: { user: User; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const form = useForm<UserForm>(() => ({ username: user.username, password: '', role: user.role }), userUpdateProblems, userFieldOfApiPath);

  const save = async () => {
    const ok = await form.submit(async (values) => {
      const saved = await apiSend<User>('PUT', `/api/users/${user.id}`, userUpdateBody(values));
      toast.success(values.password ? `${saved.username} is ${saved.role}; the new password is set and their sessions ended.` : `${saved.username} is ${saved.role}.`);
    });
    if (ok) onSaved();
  };

  return (
    <FormDialog title={`Edit ${user.username}`} id="user-edit-form" submitLabel="Save" form={form} onSubmit={save} onClose={onClose} autoComplete="off">
      <RoleField form={form} id="user-edit-role" />
      <FormInput
        form={form}
        field="password"
        id="user-edit-password"
        label={`New password (optional, ${MIN_PASSWORD} characters or more)`}
        hint="Leave empty to keep theirs. A new password logs them out everywhere."
        type="password"
        autoComplete="new-password"
      />
    </FormDialog>
  );
}
