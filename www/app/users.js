// app/users.js: users (admins). Admins manage developers and chat users;
// only a super admin sees the admin roles in the role picker (the database
// refuses the rest anyway). Passwords are set here and never shown.
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, SelectField, Toggle, RowActions,
  IconButton, EmptyState, SearchBox, useAction, usePagedList, useDebounced, confirmDialog, toast, Notice, Field, useId,
} from './ui.js';
import { ROLES, roleName, dateTime, initials } from './format.js';

export const ROLE_TONE = { super_admin: 'purple', admin: 'blue', developer: 'green', chat_user: 'gray' };

export function RoleChip({ role }) {
  return html`<${Chip} tone=${ROLE_TONE[role] || 'gray'}>${roleName(role)}<//>`;
}

function assignable(me) {
  return me.role === 'super_admin' ? Object.keys(ROLES) : ['developer', 'chat_user'];
}

function randomPassword() {
  const a = new Uint8Array(15);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/[+/=]/g, '').slice(0, 18);
}

function UserDialog({ me, user, onClose, onSaved }) {
  const editing = !!user;
  const [f, setF] = useState(() => ({
    email: user ? user.email : '', name: user ? user.name : '', role: user ? user.role : 'developer',
    password: '', active: user ? user.active : true,
  }));
  const [generated, setGenerated] = useState(false);
  const set = (p) => setF((x) => ({ ...x, ...p }));
  const act = useAction();
  const self = editing && user.id === me.id;
  const pwId = useId('pw');
  const save = () => act.run(async () => {
    if (!f.email.trim() || !f.name.trim()) throw new Error('Enter an email and a name.');
    let r;
    if (editing) {
      const b = {};
      if (f.email.trim() !== user.email) b.email = f.email.trim();
      if (f.name.trim() !== user.name) b.name = f.name.trim();
      if (f.role !== user.role) b.role = f.role;
      if (f.active !== user.active) b.active = f.active;
      if (f.password) b.password = f.password;
      r = Object.keys(b).length ? await api.patch(`/users/${user.id}`, b) : user;
    } else {
      const b = { email: f.email.trim(), name: f.name.trim(), role: f.role };
      if (f.password) b.password = f.password;
      r = await api.post('/users', b);
    }
    toast(editing ? `Saved ${r.email}` : `Created ${r.email}`, 'success');
    onSaved(r);
  }).catch(() => {});
  const roles = assignable(me);
  const roleOptions = (roles.includes(f.role) ? roles : [f.role, ...roles]).map((r) => [r, roleName(r)]);
  return html`<${Dialog} open title=${editing ? `Edit ${user.email}` : 'Add a user'} onClose=${onClose}
      description=${editing ? null : 'They sign in with their email and the password you set here.'}>
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel=${editing ? 'Save changes' : 'Create user'}>
      <div class="form-grid">
        <${TextField} label="Email" type="email" value=${f.email} onInput=${(v) => set({ email: v })} required autofocus autocomplete="off" />
        <${TextField} label="Name" value=${f.name} onInput=${(v) => set({ name: v })} required />
        <${SelectField} label="Role" value=${f.role} onChange=${(v) => set({ role: v })} options=${roleOptions} disabled=${self}
          hint=${self ? 'You cannot change your own role.' : 'Developers build apps; chat users only chat.'} />
        <${Field} label=${editing ? 'New password' : 'Password'} id=${pwId}
            hint=${editing ? 'Leave empty to keep the current password.' : 'At least 12 characters. Share it over a safe channel.'}>
          <div class="input-row">
            <input id=${pwId} class=${`input ${generated ? 'mono' : ''}`} type=${generated ? 'text' : 'password'} value=${f.password}
              autocomplete="new-password" aria-describedby=${`${pwId}-hint`}
              onInput=${(e) => { setGenerated(false); set({ password: e.currentTarget.value }); }} />
            <${Button} icon="key" onClick=${() => { setGenerated(true); set({ password: randomPassword() }); }}>Generate<//>
          </div>
        <//>
      </div>
      ${editing && !self && html`<${Toggle} label="Active" checked=${f.active} onChange=${(v) => set({ active: v })}
        hint="Inactive users cannot sign in; their sessions and tokens stop working." />`}
      ${generated && html`<${Notice} tone="warning" icon="alert">Copy the generated password before saving; it is not shown again.<//>`}
    <//>
  <//>`;
}

export function UsersPage({ me }) {
  const [search, setSearch] = useState('');
  const [role, setRole] = useState('');
  const q = useDebounced(search);
  const list = usePagedList((p) => api.get('/users', { ...p, search: q || undefined, role: role || undefined }), [q, role]);
  const [dlg, setDlg] = useState(null);
  const mayEdit = (u) => me.role === 'super_admin' || !['admin', 'super_admin'].includes(u.role);
  const remove = (u) => confirmDialog({
    title: `Delete ${u.email}?`, danger: true, confirmLabel: 'Delete user',
    text: 'They can no longer sign in. Their apps must be moved or deleted first.',
    action: () => api.del(`/users/${u.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${u.email}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'User', render: (u) => html`<div class="user-cell"><span class="avatar sm">${initials(u.name, u.email)}</span>
      <div class="cell-main"><strong>${u.name}</strong><span class="muted small">${u.email}</span></div></div>` },
    { key: 'role', label: 'Role', render: (u) => html`<${RoleChip} role=${u.role} />` },
    { key: 'groups', label: 'Groups', class: 'num', render: (u) => (u.group_ids ? u.group_ids.length : 0) },
    { key: 'active', label: 'Status', render: (u) => html`<${Chip} tone=${u.active ? 'green' : 'gray'} dot>${u.active ? 'Active' : 'Inactive'}<//>` },
    { key: 'created', label: 'Created', render: (u) => html`<span class="small muted">${dateTime(u.created_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (u) => mayEdit(u) && html`<${RowActions}>
      <${IconButton} icon="edit" label=${`Edit ${u.email}`} onClick=${() => setDlg(u)} />
      ${u.id !== me.id && html`<${IconButton} icon="trash" kind="danger" label=${`Delete ${u.email}`} onClick=${() => remove(u)} />`}<//>` },
  ];
  return html`
    <${PageHeader} title="Users" icon="user" description="Everyone who signs in: administrators, developers and chat users."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add user<//>`} />
    <${Card} pad=${false} title="Directory" actions=${html`<${SearchBox} value=${search} onInput=${setSearch} placeholder="Search name or email…" label="Search users" />
      <label class="sr-only" for="user-role">Role</label>
      <select id="user-role" class="input input-inline" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
        <option value="">All roles</option>${Object.entries(ROLES).map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Users"
        empty=${html`<${EmptyState} icon="user" title="No users match" text="Try another search or role." />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${UserDialog} me=${me} user=${dlg.id ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}`;
}
