// app/account.js: the signed-in user's own account — profile, password,
// and personal API tokens for scripts (shown once).
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Button, Chip, Dialog, DialogForm, TextField, IconButton, EmptyState, SecretOnceDialog,
  useAction, usePagedList, confirmDialog, toast, Pager,
} from './ui.js';
import { dateTime, ago, initials } from './format.js';
import { RoleChip } from './users.js';

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

function TokenDialog({ onClose, onCreated }) {
  const [name, setName] = useState('');
  const act = useAction();
  const save = () => act.run(async () => {
    if (!name.trim()) throw new Error('Name the token after what uses it.');
    onCreated(await api.post('/me/tokens', { name: name.trim() }));
  }).catch(() => {});
  return html`<${Dialog} open title="Create a personal API token" size="sm" onClose=${onClose}
      description="Scripts use it as Authorization: Bearer against the REST API, acting as you.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Create token">
      <${TextField} label="Name" value=${name} onInput=${setName} required autofocus placeholder="ci-deploy" />
    <//>
  <//>`;
}

export function AccountPage({ me }) {
  const tokens = usePagedList((p) => api.get('/me/tokens', p), [], 10);
  const [dlg, setDlg] = useState(false);
  const [shown, setShown] = useState(null);
  const revoke = (t) => confirmDialog({
    title: `Revoke ${t.name}?`, danger: true, confirmLabel: 'Revoke token', text: 'Scripts using it stop working at once.',
    action: () => api.del(`/me/tokens/${t.id}`),
  }).then((ok) => ok && tokens.reload());
  return html`
    <${PageHeader} title="Account" icon="user" description="Your profile, password and API tokens." />
    <div class="grid-2-1">
      <div class="stack">
        <${Card} title="Personal API tokens" subtitle="for scripts and CI" pad=${false}
          actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg(true)}>New token<//>`}>
          <${Table} rows=${tokens.data && tokens.data.data} loading=${tokens.loading} error=${tokens.error} onRetry=${tokens.reload} caption="API tokens"
            columns=${[
              { key: 'name', label: 'Name', render: (t) => html`<strong>${t.name}</strong>` },
              { key: 'prefix', label: 'Token', render: (t) => html`<code>${t.token_prefix}…</code>` },
              { key: 'used', label: 'Last used', render: (t) => html`<span class="small">${ago(t.last_used_at)}</span>` },
              { key: 'created', label: 'Created', render: (t) => html`<span class="small muted">${dateTime(t.created_at)}</span>` },
              { key: 'state', label: 'Status', render: (t) => html`<${Chip} tone=${t.active ? 'green' : 'gray'} dot>${t.active ? 'Active' : 'Revoked'}<//>` },
              { key: 'x', label: '', class: 'cell-actions', render: (t) => t.active && html`<${IconButton} icon="trash" kind="danger" label=${`Revoke ${t.name}`} onClick=${() => revoke(t)} />` },
            ]}
            empty=${html`<${EmptyState} icon="key" title="No tokens" text="Create a token to call the REST API from a script." />`} />
          <${Pager} page=${tokens.page} pageSize=${tokens.pageSize} total=${tokens.data && tokens.data.total} onPage=${tokens.setPage} />
        <//>
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
    ${dlg && html`<${TokenDialog} onClose=${() => setDlg(false)} onCreated=${(t) => { setDlg(false); setShown(t); tokens.reload(); }} />`}
    <${SecretOnceDialog} open=${!!shown} title="Your new API token" value=${shown ? shown.token : ''} what="token" onClose=${() => setShown(null)} />`;
}
