// app/users.js: users (admins). Admins manage the roles below their own
// rank; only a super admin sees the admin roles in the role picker and
// edits admins (the database refuses the rest anyway). Passwords are set
// here and never shown.
import { html } from './deps.js';
import { Button, Notice, Field, RoleChip, StatusChip, Chip, useId } from './ui.js';
import { ResourcePage, fieldError } from './resource.js';
import { roles, options, atLeast, rankOf } from './lookups.js';
import { dateTime, initials } from './format.js';

// The roles this admin may give and accounts they may edit: a super admin
// any; an admin those below the admin rank.
const manages = (me, role) => atLeast(me.role, 'super_admin') || rankOf(role) < rankOf('admin');

function randomPassword() {
  const a = new Uint8Array(15);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/[+/=]/g, '').slice(0, 18);
}

function PasswordField({ values: f, set, row, error }) {
  const id = useId('pw');
  return html`<${Field} label=${row ? 'New password' : 'Password'} id=${id} error=${error}
      hint=${row ? 'Leave empty to keep the current password.' : 'At least 12 characters. Share it over a safe channel.'}>
    <div class="input-row">
      <input id=${id} class=${`input ${f.generated ? 'mono' : ''}`} type=${f.generated ? 'text' : 'password'} value=${f.password}
        autocomplete="new-password" aria-describedby=${error ? `${id}-error ${id}-hint` : `${id}-hint`}
        aria-invalid=${error ? 'true' : undefined}
        onInput=${(e) => set({ generated: false, password: e.currentTarget.value })} />
      <${Button} icon="key" onClick=${() => set({ generated: true, password: randomPassword() })}>Generate<//>
    </div>
  <//>`;
}

const self = (u, ctx) => !!u && u.id === ctx.me.id;

// A user's groups by name (GET /users returns group_ids; the names come
// from the page's refs).
function groupChips(ids, ctx) {
  if (!ids || ids.length === 0) return html`<span class="muted">None</span>`;
  const name = (id) => { const g = (ctx.refs.groups || []).find((x) => x.id === id); return g ? g.name : `#${id}`; };
  return html`<div class="chips" data-testid="user-groups">${ids.map((id) => html`<${Chip} tone="blue">${name(id)}<//>`)}</div>`;
}

const USERS = {
  path: '/users',
  label: (u) => u.email,
  title: 'Users',
  icon: 'user',
  description: 'Everyone who signs in: administrators, developers and chat users.',
  listTitle: 'Directory',
  filters: [
    { name: 'search', kind: 'search', label: 'Search users', placeholder: 'Search name or email…' },
    { name: 'role', label: 'Role', id: 'user-role', all: 'All roles', options: () => options('roles') },
  ],
  create: { label: 'Add user' },
  refs: () => ['groups'],
  columns: (ctx) => [
    { key: 'name', label: 'User', sort: 'name', render: (u) => html`<div class="user-cell"><span class="avatar sm">${initials(u.name, u.email)}</span>
      <div class="cell-main"><strong>${u.name}</strong><span class="muted small">${u.email}</span></div></div>` },
    { key: 'role', label: 'Role', sort: 'role', render: (u) => html`<${RoleChip} role=${u.role} />` },
    { key: 'groups', label: 'Groups', render: (u) => groupChips(u.group_ids, ctx) },
    { key: 'active', label: 'Status', sort: 'active', render: (u) => html`<${StatusChip} on=${u.active} />` },
    { key: 'created', label: 'Created', sort: 'created_at', render: (u) => html`<span class="small muted">${dateTime(u.created_at)}</span>` },
  ],
  canEdit: (u, ctx) => manages(ctx.me, u.role),
  canRemove: (u, ctx) => manages(ctx.me, u.role) && !self(u, ctx),
  empty: () => ({ title: 'No users match', text: 'Try another search or role.' }),
  remove: { confirmLabel: 'Delete user', text: 'They can no longer sign in. Their apps must be moved or deleted first.' },
  form: {
    add: 'Add a user',
    description: (u) => (u ? null : 'They sign in with their email and the password you set here.'),
    create: 'Create user',
    init: () => ({ password: '', generated: false }),
    check: (f) => {
      if (!f.email.trim()) throw fieldError('email', 'Enter an email and a name.');
      if (!f.name.trim()) throw fieldError('name', 'Enter an email and a name.');
    },
    fields: [
      [
        { name: 'email', label: 'Email', input: 'email', required: true, autofocus: true, attrs: { autocomplete: 'off' } },
        { name: 'name', label: 'Name', required: true },
        { name: 'role', label: 'Role', type: 'select', default: 'developer',
          // the roles this admin may give (and the user's own, when it is not one of them)
          options: (ctx, f) => roles().filter((r) => manages(ctx.me, r.name) || r.name === f.role).map((r) => [r.name, r.label]),
          disabled: (f, u, ctx) => self(u, ctx),
          hint: (f, u, ctx) => (self(u, ctx) ? 'You cannot change your own role.' : 'Developers build apps; chat users only chat.') },
        { name: 'password', type: 'custom', ownsError: true, render: (p) => html`<${PasswordField} ...${p} />`, out: (v, f) => f.password || undefined },
      ],
      { name: 'active', label: 'Active', type: 'toggle', editOnly: true, show: (f, u, ctx) => !self(u, ctx),
        hint: 'Inactive users cannot sign in; their sessions and tokens stop working.' },
      { type: 'custom', render: ({ values }) => values.generated
        && html`<${Notice} tone="warning" icon="alert">Copy the generated password before saving; it is not shown again.<//>` },
    ],
  },
};

export function UsersPage({ me }) {
  return html`<${ResourcePage} res=${USERS} me=${me} />`;
}
