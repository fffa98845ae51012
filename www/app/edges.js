// app/edges.js: edge gateways (admins) with their sync status — In Sync
// (green), Pending (yellow: a change not loaded yet), Stale (orange: no
// heartbeat for 90 s), Unknown (gray: never heartbeated) — the Push
// Configuration dialog (POST /api/v1/edges/push, all namespaces or one),
// and the namespaces that group LLMs, apps and edges.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, SelectField, RowActions, IconButton,
  EmptyState, useAction, usePagedList, useFetch, confirmDialog, toast, Notice, useId,
} from './ui.js';
import { ago, dateTime } from './format.js';

export const SYNC = {
  in_sync: { tone: 'green', label: 'In Sync', about: 'running the current configuration' },
  pending: { tone: 'yellow', label: 'Pending', about: 'a change has not been loaded yet' },
  stale: { tone: 'orange', label: 'Stale', about: 'no heartbeat for more than 90 seconds' },
  unknown: { tone: 'gray', label: 'Unknown', about: 'has never reported' },
};

export function SyncChip({ status }) {
  const s = SYNC[status] || SYNC.unknown;
  return html`<${Chip} tone=${s.tone} dot title=${s.about}><span data-status=${status}>${s.label}</span><//>`;
}

function PushDialog({ namespaces, onClose, onDone }) {
  const id = useId('push');
  const [scope, setScope] = useState('all');
  const [ns, setNs] = useState(namespaces[0] ? namespaces[0].name : '');
  const act = useAction();
  const push = () => act.run(async () => {
    const r = await api.post('/edges/push', scope === 'all' ? {} : { namespace: ns });
    toast(`Configuration pushed to ${r.pushed} ${r.pushed === 1 ? 'edge' : 'edges'}`, 'success');
    onDone(r);
  }).catch(() => {});
  return html`<${Dialog} open title="Push configuration" onClose=${onClose}
      description="Tells edges to reload their namespace's configuration from the hub now.">
    <${DialogForm} onSubmit=${push} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Push now">
      <fieldset class="field">
        <legend>Edges to push to</legend>
        <label class="radio-card"><input type="radio" name=${id} checked=${scope === 'all'} onChange=${() => setScope('all')} />
          <span><strong>All namespaces</strong><small class="muted">Every registered edge.</small></span></label>
        <label class="radio-card"><input type="radio" name=${id} checked=${scope === 'one'} onChange=${() => setScope('one')} />
          <span><strong>One namespace</strong><small class="muted">Only the edges that serve it.</small></span></label>
      </fieldset>
      ${scope === 'one' && html`<${SelectField} label="Namespace" value=${ns} onChange=${setNs}
        options=${namespaces.map((n) => [n.name, n.name || 'Global (no namespace)'])} />`}
      <${Notice}>Edges keep serving their last configuration until the new one has loaded; the status turns In Sync once they report it.<//>
    <//>
  <//>`;
}

function NamespaceDialog({ onClose, onSaved }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const act = useAction();
  const save = () => act.run(async () => {
    const r = await api.post('/namespaces', { name: name.trim(), description });
    toast(`Created namespace ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  return html`<${Dialog} open title="Create a namespace" size="sm" onClose=${onClose}
      description="A namespace is a set of LLMs, apps and edges, e.g. a region.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Create namespace">
      <${TextField} label="Name" value=${name} onInput=${setName} required autofocus mono placeholder="eu-west" />
      <${TextField} label="Description" value=${description} onInput=${setDescription} placeholder="European edges" />
    <//>
  <//>`;
}

export function EdgesPage() {
  const [status, setStatus] = useState('');
  const [namespace, setNamespace] = useState('');
  const list = usePagedList((p) => api.get('/edges', { ...p, status: status || undefined, namespace: namespace === '' ? undefined : namespace }), [status, namespace]);
  const nss = useFetch(() => listAll('/namespaces'), []);
  const counts = useFetch(async () => {
    const out = {};
    await Promise.all(Object.keys(SYNC).map(async (s) => { out[s] = (await api.get('/edges', { status: s, page_size: 1 })).total; }));
    return out;
  }, [list.data]);
  const [push, setPush] = useState(false);
  const [nsDlg, setNsDlg] = useState(false);
  const namespaces = [{ name: '' }, ...(nss.data || []).filter((n) => n.name)];
  const forget = (e) => confirmDialog({
    title: `Forget ${e.edge_id}?`, danger: true, confirmLabel: 'Forget edge',
    text: 'It disappears from this list until it registers again.', action: () => api.del(`/edges/${encodeURIComponent(e.edge_id)}`),
  }).then((ok) => { if (ok) { toast(`Forgot ${e.edge_id}`, 'success'); list.reload(); } });
  const removeNs = (n) => confirmDialog({
    title: `Delete namespace ${n.name}?`, danger: true, confirmLabel: 'Delete namespace',
    text: 'Only an empty namespace (no LLMs, apps or edges) can be deleted.', action: () => api.del(`/namespaces/${encodeURIComponent(n.name)}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${n.name}`, 'success'); nss.reload(); } });
  const cols = [
    { key: 'edge_id', label: 'Edge', render: (e) => html`<div class="cell-main"><strong class="mono">${e.edge_id}</strong>${e.version && html`<span class="muted small">version ${e.version}</span>`}</div>` },
    { key: 'ns', label: 'Namespace', render: (e) => (e.namespace ? html`<code>${e.namespace}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'status', label: 'Sync status', render: (e) => html`<${SyncChip} status=${e.status} />` },
    { key: 'checksum', label: 'Loaded / expected', render: (e) => html`<span class="mono small" title=${`loaded ${e.loaded_checksum || '—'}\nexpected ${e.expected_checksum}`}>
      ${e.loaded_checksum ? e.loaded_checksum.slice(0, 8) : '—'} / ${e.expected_checksum ? e.expected_checksum.slice(0, 8) : '—'}</span>` },
    { key: 'hb', label: 'Last heartbeat', render: (e) => html`<span class="small" title=${dateTime(e.last_heartbeat)}>${ago(e.last_heartbeat)}</span>` },
    { key: 'push', label: 'Last push', render: (e) => html`<span class="small muted">${e.last_push_at ? ago(e.last_push_at) : 'never'}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (e) => html`<${IconButton} icon="trash" kind="danger" label=${`Forget ${e.edge_id}`} onClick=${() => forget(e)} />` },
  ];
  return html`
    <${PageHeader} title="Edges" icon="server" description="Gateways in other regions that run a namespace's configuration from this hub."
      actions=${html`<${Button} kind="primary" icon="upload" onClick=${() => setPush(true)} data-testid="push-config">Push configuration<//>`} />
    <div class="sync-summary">
      ${Object.entries(SYNC).map(([k, s]) => html`<button type="button" class=${`sync-tile ${status === k ? 'on' : ''}`}
        onClick=${() => setStatus(status === k ? '' : k)} aria-pressed=${status === k}>
        <${SyncChip} status=${k} /><strong>${counts.data ? counts.data[k] : '…'}</strong><small class="muted">${s.about}</small></button>`)}
    </div>
    <${Card} pad=${false} title=${status ? `${SYNC[status].label} edges` : 'All edges'} actions=${html`
      <label class="sr-only" for="edge-ns">Namespace</label>
      <select id="edge-ns" class="input input-inline" value=${namespace} onChange=${(e) => setNamespace(e.currentTarget.value)}>
        <option value="">All namespaces</option>${namespaces.filter((n) => n.name).map((n) => html`<option value=${n.name}>${n.name}</option>`)}</select>
      ${status && html`<${Button} size="sm" kind="ghost" icon="x" onClick=${() => setStatus('')}>Clear filter<//>`}`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        rowKey=${(e) => e.edge_id} caption="Edges"
        empty=${html`<${EmptyState} icon="server" title=${status ? 'No edge has this status' : 'No edges registered'}
          text="Start gatewayd with GATEWAY_MODE=edge, CONTROL_ENDPOINT pointing at this hub and an EDGE_ID; it registers itself." />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    <${Card} title="Namespaces" subtitle="sets of LLMs, apps and edges" pad=${false}
      actions=${html`<${Button} size="sm" icon="plus" onClick=${() => setNsDlg(true)}>New namespace<//>`}>
      <${Table} rows=${nss.data} loading=${nss.loading} error=${nss.error} onRetry=${nss.reload} rowKey=${(n) => n.name} caption="Namespaces"
        columns=${[
          { key: 'name', label: 'Name', render: (n) => (n.name ? html`<code class="strong">${n.name}</code>` : html`<span class="muted">Global</span>`) },
          { key: 'description', label: 'Description', render: (n) => n.description || html`<span class="muted">—</span>` },
          { key: 'llms', label: 'LLMs', class: 'num', render: (n) => n.llms ?? '—' },
          { key: 'apps', label: 'Apps', class: 'num', render: (n) => n.apps ?? '—' },
          { key: 'edges', label: 'Edges', class: 'num', render: (n) => n.edges ?? '—' },
          { key: 'x', label: '', class: 'cell-actions', render: (n) => n.name && html`<${IconButton} icon="trash" kind="danger" label=${`Delete ${n.name}`} onClick=${() => removeNs(n)} />` },
        ]}
        empty=${html`<${EmptyState} icon="layers" title="Only the global namespace" text="Everything runs everywhere until you create namespaces." />`} />
    <//>
    ${push && html`<${PushDialog} namespaces=${namespaces} onClose=${() => setPush(false)} onDone=${() => { setPush(false); list.reload(); }} />`}
    ${nsDlg && html`<${NamespaceDialog} onClose=${() => setNsDlg(false)} onSaved=${() => { setNsDlg(false); nss.reload(); }} />`}`;
}
