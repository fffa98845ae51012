// app/edges.js: edge gateways (admins) with their sync status — In Sync
// (green), Pending (yellow: a change not loaded yet), Stale (orange: no
// heartbeat for 90 s), Unknown (gray: never heartbeated) — the Push
// Configuration dialog (POST /api/v1/edges/push, all namespaces or one),
// and the namespaces that group LLMs, apps and edges.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import { Button, Chip, Dialog, DialogForm, SelectField, useAction, useFetch, toast, Notice, useId } from './ui.js';
import { ResourcePage, ResourceCard } from './resource.js';
import { ago, dateTime } from './format.js';

const SYNC = {
  in_sync: { tone: 'green', label: 'In Sync', about: 'running the current configuration' },
  pending: { tone: 'yellow', label: 'Pending', about: 'a change has not been loaded yet' },
  stale: { tone: 'orange', label: 'Stale', about: 'no heartbeat for more than 90 seconds' },
  unknown: { tone: 'gray', label: 'Unknown', about: 'has never reported' },
};

function SyncChip({ status }) {
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

function PushButton({ ctx }) {
  const [open, setOpen] = useState(false);
  return html`<${Button} kind="primary" icon="upload" onClick=${() => setOpen(true)} data-testid="push-config">Push configuration<//>
    ${open && html`<${PushDialog} namespaces=${ctx.namespaces} onClose=${() => setOpen(false)}
      onDone=${() => { setOpen(false); ctx.reload(); }} />`}`;
}

const EDGES = {
  path: '/edges',
  label: (e) => e.edge_id,
  rowKey: (e) => e.edge_id,
  itemPath: (e) => `/edges/${encodeURIComponent(e.edge_id)}`,
  title: 'Edges',
  icon: 'server',
  description: "Gateways in other regions that run a namespace's configuration from this hub.",
  listTitle: (ctx) => (ctx.query.status ? `${SYNC[ctx.query.status].label} edges` : 'All edges'),
  filters: [{ name: 'namespace', label: 'Namespace', id: 'edge-ns', all: 'All namespaces',
    options: (ctx) => ctx.namespaces.filter((n) => n.name).map((n) => [n.name, n.name]) }],
  cardActions: (ctx) => ctx.query.status && html`<${Button} size="sm" kind="ghost" icon="x" onClick=${ctx.clearStatus}>Clear filter<//>`,
  headerActions: (ctx) => html`<${PushButton} ctx=${ctx} />`,
  columns: [
    { key: 'edge_id', label: 'Edge', render: (e) => html`<div class="cell-main"><strong class="mono">${e.edge_id}</strong>${e.version && html`<span class="muted small">version ${e.version}</span>`}</div>` },
    { key: 'ns', label: 'Namespace', render: (e) => (e.namespace ? html`<code>${e.namespace}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'status', label: 'Sync status', render: (e) => html`<${SyncChip} status=${e.status} />` },
    { key: 'checksum', label: 'Loaded / expected', render: (e) => html`<span class="mono small" title=${`loaded ${e.loaded_checksum || '—'}\nexpected ${e.expected_checksum}`}>
      ${e.loaded_checksum ? e.loaded_checksum.slice(0, 8) : '—'} / ${e.expected_checksum ? e.expected_checksum.slice(0, 8) : '—'}</span>` },
    { key: 'hb', label: 'Last heartbeat', render: (e) => html`<span class="small" title=${dateTime(e.last_heartbeat)}>${ago(e.last_heartbeat)}</span>` },
    { key: 'push', label: 'Last push', render: (e) => html`<span class="small muted">${e.last_push_at ? ago(e.last_push_at) : 'never'}</span>` },
  ],
  remove: {
    title: (e) => `Forget ${e.edge_id}?`, label: (e) => `Forget ${e.edge_id}`, confirmLabel: 'Forget edge',
    text: 'It disappears from this list until it registers again.', done: (e) => `Forgot ${e.edge_id}`,
  },
  empty: (ctx) => ({
    title: ctx.query.status ? 'No edge has this status' : 'No edges registered',
    text: 'Start gatewayd with GATEWAY_MODE=edge, CONTROL_ENDPOINT pointing at this hub and an EDGE_ID; it registers itself.',
  }),
};

const NAMESPACES = {
  path: '/namespaces',
  paged: false,
  rowKey: (n) => n.name,
  itemPath: (n) => `/namespaces/${encodeURIComponent(n.name)}`,
  icon: 'layers',
  listTitle: 'Namespaces',
  subtitle: 'sets of LLMs, apps and edges',
  create: { label: 'New namespace', size: 'sm' },
  columns: [
    { key: 'name', label: 'Name', render: (n) => (n.name ? html`<code class="strong">${n.name}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'description', label: 'Description', render: (n) => n.description || html`<span class="muted">—</span>` },
    { key: 'llms', label: 'LLMs', class: 'num', render: (n) => n.llms ?? '—' },
    { key: 'apps', label: 'Apps', class: 'num', render: (n) => n.apps ?? '—' },
    { key: 'edges', label: 'Edges', class: 'num', render: (n) => n.edges ?? '—' },
  ],
  canRemove: (n) => !!n.name,
  remove: {
    title: (n) => `Delete namespace ${n.name}?`, confirmLabel: 'Delete namespace',
    text: 'Only an empty namespace (no LLMs, apps or edges) can be deleted.',
  },
  empty: () => ({ title: 'Only the global namespace', text: 'Everything runs everywhere until you create namespaces.' }),
  form: {
    title: 'Create a namespace',
    description: 'A namespace is a set of LLMs, apps and edges, e.g. a region.',
    size: 'sm',
    submitLabel: 'Create namespace',
    toast: (r) => `Created namespace ${r.name}`,
    fields: [
      { name: 'name', label: 'Name', required: true, autofocus: true, mono: true, placeholder: 'eu-west' },
      { name: 'description', label: 'Description', placeholder: 'European edges' },
    ],
  },
};

export function EdgesPage({ me }) {
  const [status, setStatus] = useState('');
  const nss = useFetch(() => listAll('/namespaces'), []);
  const counts = useFetch(async () => {
    const out = {};
    await Promise.all(Object.keys(SYNC).map(async (s) => { out[s] = (await api.get('/edges', { status: s, page_size: 1 })).total; }));
    return out;
  }, []);
  const namespaces = [{ name: '' }, ...(nss.data || []).filter((n) => n.name)];
  const tiles = html`<div class="sync-summary">
    ${Object.entries(SYNC).map(([k, s]) => html`<button type="button" class=${`sync-tile ${status === k ? 'on' : ''}`}
      onClick=${() => setStatus(status === k ? '' : k)} aria-pressed=${status === k}>
      <${SyncChip} status=${k} /><strong>${counts.data ? counts.data[k] : '…'}</strong><small class="muted">${s.about}</small></button>`)}
  </div>`;
  return html`<${ResourcePage} res=${EDGES} me=${me} query=${status ? { status } : {}} before=${tiles}
    extra=${{ namespaces, clearStatus: () => setStatus(''), onChanged: counts.reload }}
    after=${html`<${ResourceCard} res=${NAMESPACES} me=${me} extra=${{ onChanged: nss.reload }} />`} />`;
}
