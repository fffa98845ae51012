// app/account.js: the signed-in user's own account — profile, password,
// and personal API tokens for scripts (shown once; expiry and rotation as
// for app keys, keys.js).
import { html, useState } from './deps.js';
import { api } from './api.js';
import { PageHeader, Card, TextField, SecretOnceDialog, RoleChip, IconButton, useAction, toast } from './ui.js';
import { ResourceCard, fieldError } from './resource.js';
import { dateTime, ago, initials } from './format.js';
import { expiryCreateFields, expiryCreateBody, checkExpiryCreate, overlapField, rotateBody, expiryCell, keyStatus } from './keys.js';

function PasswordCard({ me }) {
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const act = useAction();
  const save = (e) => {
    e.preventDefault();
    act.run(async () => {
      if (pw.length < 12) throw new Error('Use at least 12 characters.');
      if (pw !== pw2) throw new Error('The two passwords differ.');
      await api.patch(`/users/${me.id}`, { password: pw });
      setPw(''); setPw2('');
      toast('Password changed', 'success');
    }).catch(() => {});
  };
  return html`<${Card} title="Password">
    <form onSubmit=${save} class="stack-sm" novalidate>
      ${act.error && html`<div class="alert alert-error" role="alert"><div class="alert-body"><strong>${act.error.message}</strong></div></div>`}
      <${TextField} label="New password" type="password" value=${pw} onInput=${setPw} autocomplete="new-password" hint="At least 12 characters." />
      <${TextField} label="Repeat it" type="password" value=${pw2} onInput=${setPw2} autocomplete="new-password" />
      <div><button type="submit" class="btn btn-primary" disabled=${act.busy}>Change password</button></div>
    </form>
  <//>`;
}

// Personal API tokens: created with a name and an optional expiry and shown
// once, rotated (the old token working on for a chosen overlap), revoked.
const TOKENS = {
  path: '/me/tokens',
  icon: 'key',
  listTitle: 'Personal API tokens',
  subtitle: 'for scripts and CI',
  caption: 'API tokens',
  pageSize: 10,
  create: { label: 'New token' },
  columns: [
    { key: 'name', label: 'Name', render: (t) => html`<strong>${t.name}</strong>` },
    { key: 'prefix', label: 'Token', render: (t) => html`<code>${t.token_prefix}…</code>` },
    { key: 'used', label: 'Last used', render: (t) => html`<span class="small">${ago(t.last_used_at)}</span>` },
    { key: 'created', label: 'Created', render: (t) => html`<span class="small muted">${dateTime(t.created_at)}</span>` },
    { key: 'expires', label: 'Expires', render: expiryCell },
    { key: 'state', label: 'Status', render: keyStatus },
  ],
  canEdit: () => false,
  rowActions: (t, ctx) => t.active && !t.expired && html`<${IconButton} icon="refresh" label=${`Rotate ${t.name}`}
    onClick=${() => ctx.open(t, 'rotate')} />`,
  canRemove: (t) => t.active,
  remove: {
    title: (t) => `Revoke ${t.name}?`, label: (t) => `Revoke ${t.name}`, confirmLabel: 'Revoke token',
    text: 'Scripts using it stop working at once.', done: (t) => `Revoked ${t.name}`,
  },
  empty: () => ({ title: 'No tokens', text: 'Create a token to call the REST API from a script.' }),
  saved: (t, row, ctx) => { ctx.show(t); ctx.reload(); },
  form: {
    title: 'Create a personal API token',
    description: 'Scripts use it as Authorization: Bearer against the REST API, acting as you.',
    size: 'sm',
    submitLabel: 'Create token',
    toast: () => null,
    check: (f) => {
      if (!f.name.trim()) throw fieldError('name', 'Name the token after what uses it.');
      checkExpiryCreate(f, fieldError);
    },
    extra: (f) => expiryCreateBody(f),
    fields: [{ name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'ci-deploy' }, ...expiryCreateFields],
  },
  forms: {
    rotate: {
      title: (t) => `Rotate ${t.name}`,
      description: 'A new token replaces this one. Update the scripts that use it before the old one stops.',
      size: 'sm',
      submitLabel: 'Rotate token',
      toast: () => null,
      fields: [overlapField],
      save: (body, row, values) => api.post(`/me/tokens/${row.id}/rotate`, rotateBody(values)),
    },
  },
};

export function AccountPage({ me }) {
  const [shown, setShown] = useState(null);
  return html`
    <${PageHeader} title="Account" icon="user" description="Your profile, password and API tokens." />
    <div class="grid-2-1">
      <div class="stack">
        <${ResourceCard} res=${TOKENS} me=${me} extra=${{ show: setShown }} />
      </div>
      <div class="stack">
        <${Card} title="Profile">
          <div class="profile">
            <span class="avatar lg">${initials(me.name, me.email)}</span>
            <div><strong>${me.name}</strong><div class="muted">${me.email}</div><div style="margin-top:6px"><${RoleChip} role=${me.role} /></div></div>
          </div>
        <//>
        <${PasswordCard} me=${me} />
      </div>
    </div>
    <${SecretOnceDialog} open=${!!shown} title="Your new API token" value=${shown ? shown.token : ''} what="token" onClose=${() => setShown(null)} />`;
}
