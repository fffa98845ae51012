// app/secrets.js: the secret store (admins). Values are write-only: the
// API lists names, dates and allowed hosts, never values. LLMs reference a
// secret as $SECRET/<name>, and only with an endpoint on one of its allowed
// hosts; a secret without hosts is bound to the endpoint of the first LLM
// that uses it. Super admins edit the hosts (PUT /secrets/{name}/hosts).
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Dialog, DialogForm, TextField, TagsInput, RowActions, IconButton, EmptyState,
  useAction, usePagedList, confirmDialog, toast, Notice, Chip,
} from './ui.js';
import { dateTime, ago } from './format.js';

const HOSTS_HINT = 'A host name or IP address, optionally with :port (e.g. api.openai.com, 10.0.0.5:8443, [::1]:8080); a host alone allows every port.';

function HostList({ hosts }) {
  if (!hosts || hosts.length === 0) {
    return html`<${Chip} tone="yellow" title="The first LLM that uses it binds it to its endpoint's host">Unbound<//>`;
  }
  return html`<div class="chips">${hosts.map((h) => html`<${Chip} tone="gray"><span class="mono">${h}</span><//>`)}</div>`;
}

function SecretDialog({ secret, onClose, onSaved }) {
  const [name, setName] = useState(secret ? secret.name : '');
  const [value, setValue] = useState('');
  const [hosts, setHosts] = useState([]);
  const act = useAction();
  const save = () => act.run(async () => {
    if (!secret && !/^[A-Za-z0-9_.-]+$/.test(name.trim())) throw new Error('Use letters, digits, "_", "." and "-" in the name.');
    if (!value) throw new Error('Enter the value to store.');
    const body = { value };
    if (!secret && hosts.length) body.allowed_hosts = hosts;
    const r = secret ? await api.put(`/secrets/${encodeURIComponent(secret.name)}`, body)
      : await api.post('/secrets', { name: name.trim(), ...body });
    toast(secret ? `Replaced the value of ${r.name}` : `Stored ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  return html`<${Dialog} open title=${secret ? `New value for ${secret.name}` : 'Add a secret'} onClose=${onClose}
      description="Encrypted with AES-256-GCM. Nobody can read the value back, not even administrators.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel=${secret ? 'Replace value' : 'Store secret'}>
      ${!secret && html`<${TextField} label="Name" value=${name} onInput=${setName} required autofocus mono placeholder="OPENAI_KEY"
        hint=${name ? html`Reference it as <code>$SECRET/${name.trim()}</code>` : 'Letters, digits, "_", "." and "-".'} />`}
      <${TextField} label="Value" type="password" value=${value} onInput=${setValue} required autofocus=${!!secret} mono autocomplete="off"
        hint="Paste the API key or token. It is never displayed again." />
      ${!secret && html`<${TagsInput} label="Allowed hosts" values=${hosts} onChange=${setHosts} placeholder="api.openai.com"
        hint=${`${HOSTS_HINT} Leave empty to bind it to the endpoint of the first LLM that uses it (you or a super admin).`} />`}
      ${secret && html`<${Notice} tone="warning" icon="alert">Every LLM that references <code>$SECRET/${secret.name}</code> uses the new value after the next configuration reload. Its allowed hosts stay as they are.<//>`}
    <//>
  <//>`;
}

function HostsDialog({ secret, onClose, onSaved }) {
  const [hosts, setHosts] = useState(secret.allowed_hosts || []);
  const act = useAction();
  const save = () => act.run(async () => {
    if (!hosts.length) throw new Error('Name at least one host.');
    const r = await api.put(`/secrets/${encodeURIComponent(secret.name)}/hosts`, { allowed_hosts: hosts });
    toast(`Saved the hosts of ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  return html`<${Dialog} open title=${`Allowed hosts of ${secret.name}`} onClose=${onClose}
      description="The value is sent only to these hosts: an LLM that references the secret must point at one of them.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Save hosts">
      <${TagsInput} label="Allowed hosts" values=${hosts} onChange=${setHosts} placeholder="api.openai.com" hint=${HOSTS_HINT} />
      <${Notice} tone="info" icon="info">LLMs that use the secret must keep an allowed endpoint; the change is written to the audit log.<//>
    <//>
  <//>`;
}

export function SecretsPage({ me }) {
  const list = usePagedList((p) => api.get('/secrets', p), []);
  const [dlg, setDlg] = useState(null);
  const [hostsDlg, setHostsDlg] = useState(null);
  const superAdmin = me && me.role === 'super_admin';
  const remove = (s) => confirmDialog({
    title: `Delete ${s.name}?`, danger: true, confirmLabel: 'Delete secret',
    text: 'A secret that an LLM still references cannot be deleted; change those LLMs first.',
    action: () => api.del(`/secrets/${encodeURIComponent(s.name)}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${s.name}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'Name', render: (s) => html`<div class="cell-main"><strong class="mono">${s.name}</strong><code class="muted small">$SECRET/${s.name}</code></div>` },
    { key: 'value', label: 'Value', render: () => html`<span class="masked" aria-label="hidden">••••••••••••</span>` },
    { key: 'hosts', label: 'Allowed hosts', render: (s) => html`<${HostList} hosts=${s.allowed_hosts} />` },
    { key: 'version', label: 'Version', render: (s) => html`<${Chip} tone="gray">v${s.version}<//>` },
    { key: 'updated', label: 'Last changed', render: (s) => html`<span class="small" title=${dateTime(s.updated_at)}>${ago(s.updated_at)}</span>` },
    { key: 'created', label: 'Created', render: (s) => html`<span class="small muted">${dateTime(s.created_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (s) => html`<${RowActions}>
      ${superAdmin && html`<${IconButton} icon="shield" label=${`Edit the allowed hosts of ${s.name}`} onClick=${() => setHostsDlg(s)} />`}
      <${IconButton} icon="refresh" label=${`Replace the value of ${s.name}`} onClick=${() => setDlg(s)} />
      <${IconButton} icon="trash" kind="danger" label=${`Delete ${s.name}`} onClick=${() => remove(s)} /><//>` },
  ];
  return html`
    <${PageHeader} title="Secrets" icon="lock" description="Vendor keys and tokens, encrypted at rest and write-only. LLMs reference them by name, and only on their allowed hosts."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add secret<//>`} />
    <${Card} pad=${false} title="Stored secrets">
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Secrets"
        empty=${html`<${EmptyState} icon="lock" title="No secrets yet" text="Store each vendor key once and reference it from LLMs as $SECRET/NAME. Rotate it here without touching the LLMs."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add secret<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${SecretDialog} secret=${dlg.name ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}
    ${hostsDlg && html`<${HostsDialog} secret=${hostsDlg} onClose=${() => setHostsDlg(null)} onSaved=${() => { setHostsDlg(null); list.reload(); }} />`}`;
}
