// app/secrets.js: the secret store (admins). Values are write-only: the
// API lists names and dates, never values. LLMs reference a secret as
// $SECRET/<name>.
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Dialog, DialogForm, TextField, RowActions, IconButton, EmptyState,
  useAction, usePagedList, confirmDialog, toast, Notice, Chip,
} from './ui.js';
import { dateTime, ago } from './format.js';

function SecretDialog({ secret, onClose, onSaved }) {
  const [name, setName] = useState(secret ? secret.name : '');
  const [value, setValue] = useState('');
  const act = useAction();
  const save = () => act.run(async () => {
    if (!secret && !/^[A-Za-z0-9_.-]+$/.test(name.trim())) throw new Error('Use letters, digits, "_", "." and "-" in the name.');
    if (!value) throw new Error('Enter the value to store.');
    const r = secret ? await api.put(`/secrets/${encodeURIComponent(secret.name)}`, { value })
      : await api.post('/secrets', { name: name.trim(), value });
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
      ${secret && html`<${Notice} tone="warning" icon="alert">Every LLM that references <code>$SECRET/${secret.name}</code> uses the new value after the next configuration reload.<//>`}
    <//>
  <//>`;
}

export function SecretsPage() {
  const list = usePagedList((p) => api.get('/secrets', p), []);
  const [dlg, setDlg] = useState(null);
  const remove = (s) => confirmDialog({
    title: `Delete ${s.name}?`, danger: true, confirmLabel: 'Delete secret',
    text: 'A secret that an LLM still references cannot be deleted; change those LLMs first.',
    action: () => api.del(`/secrets/${encodeURIComponent(s.name)}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${s.name}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'Name', render: (s) => html`<div class="cell-main"><strong class="mono">${s.name}</strong><code class="muted small">$SECRET/${s.name}</code></div>` },
    { key: 'value', label: 'Value', render: () => html`<span class="masked" aria-label="hidden">••••••••••••</span>` },
    { key: 'version', label: 'Version', render: (s) => html`<${Chip} tone="gray">v${s.version}<//>` },
    { key: 'updated', label: 'Last changed', render: (s) => html`<span class="small" title=${dateTime(s.updated_at)}>${ago(s.updated_at)}</span>` },
    { key: 'created', label: 'Created', render: (s) => html`<span class="small muted">${dateTime(s.created_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (s) => html`<${RowActions}>
      <${IconButton} icon="refresh" label=${`Replace the value of ${s.name}`} onClick=${() => setDlg(s)} />
      <${IconButton} icon="trash" kind="danger" label=${`Delete ${s.name}`} onClick=${() => remove(s)} /><//>` },
  ];
  return html`
    <${PageHeader} title="Secrets" icon="lock" description="Vendor keys and tokens, encrypted at rest and write-only. LLMs reference them by name."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add secret<//>`} />
    <${Card} pad=${false} title="Stored secrets">
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Secrets"
        empty=${html`<${EmptyState} icon="lock" title="No secrets yet" text="Store each vendor key once and reference it from LLMs as $SECRET/NAME. Rotate it here without touching the LLMs."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add secret<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${SecretDialog} secret=${dlg.name ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}`;
}
