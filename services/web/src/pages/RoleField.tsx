// The role picker of the user and token forms, with what the picked role may do under it.
import type { Role } from '@coffre/contract';
import { FormSelect, type TextField } from '../components/Field';
import type { FormState } from '../hooks/useForm';
import { roleDescriptions } from '../forms/account';

export function RoleField<F extends { role: Role }>({ form, id }: { form: FormState<F>; id: string }) {
  return (
    <FormSelect form={form} field={'role' as TextField<F>} id={id} label="Role" hint={roleDescriptions[form.form.role]}>
      <option value="viewer">viewer</option>
      <option value="operator">operator</option>
      <option value="admin">admin</option>
    </FormSelect>
  );
}

/** A role as a badge. */
export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge role-${role}`}>{role}</span>;
}
