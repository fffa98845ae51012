// app/edges.js: the edges of this hub (admins; docs/hub-and-edge.md). The
// list is polled every few seconds: each edge's sync status — In Sync
// (green), Pending (yellow: it runs an older configuration), Stale (orange:
// pending for longer than pg_aistudio.edge_stale_after), Unknown (gray: no
// checksum reported yet) —, whether a hub holds its connection, its last
// heartbeat, loaded vs expected checksum, version and last metrics; a
// banner (and a toast when it happens) while edges are out of sync. Enrol
// (the token shown once, with the command that starts the edge), revoke
// (confirmed), forget; the push dialog (all namespaces or one) with each
// edge's progress live; the sync trail; an edge's page (#/edges/ID) with
// its metrics chart; the namespaces that group LLMs, apps and edges.
// Every rule (status, who is pushed, tokens) is the extension's: this page
// shows what GET /api/v1/edges, /edges/events and /pushes answer.
import { html, useState, useRef, useEffect, useMemo } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Button, Chip, Dialog, DialogForm, SelectField, Notice, ErrorBanner, Spinner, Table, Pager,
  IconButton, SecretOnceDialog, useAction, useFetch, useInterval, usePagedList, useId, confirmDialog, copyText, toast,
} from './ui.js';
import { ResourcePage, ResourceCard } from './resource.js';
import { TimeChart } from './charts.js';
import { ago, dateTime, num, compact, deploymentMode, hubEndpoint, docsUrl } from './format.js';
import { navigate } from './router.js';

const POLL_MS = 5000;
const enc = encodeURIComponent;

const SYNC = {
  in_sync: { tone: 'green', label: 'In Sync', about: 'runs the current configuration' },
  pending: { tone: 'yellow', label: 'Pending', about: 'runs an older configuration until you push' },
  stale: { tone: 'orange', label: 'Stale', about: 'pending for longer than the stale limit (15 min by default)' },
  unknown: { tone: 'gray', label: 'Unknown', about: 'has not reported a configuration yet' },
};
const PHASE = {
  signalled: { tone: 'blue', label: 'Signalled' },
  pulling: { tone: 'yellow', label: 'Pulling' },
  applied: { tone: 'green', label: 'Applied' },
  failed: { tone: 'red', label: 'Failed' },
};
const EVENT = {
  enrolled: ['blue', 'Enrolled'], revoked: ['red', 'Revoked'], deleted: ['gray', 'Forgotten'],
  connected: ['green', 'Connected'], disconnected: ['gray', 'Disconnected'],
  config_changed: ['purple', 'Configuration changed'], out_of_sync: ['yellow', 'Out of sync'], stale: ['orange', 'Stale'],
  push: ['blue', 'Push'], ack: ['green', 'Applied'], push_failed: ['red', 'Push failed'], auth_failed: ['red', 'Refused'],
};

function SyncChip({ status }) {
  const s = SYNC[status] || SYNC.unknown;
  return html`<${Chip} tone=${s.tone} dot title=${s.about}><span data-status=${status}>${s.label}</span><//>`;
}

function PhaseChip({ phase }) {
  const p = PHASE[phase] || { tone: 'gray', label: phase };
  return html`<${Chip} tone=${p.tone} dot><span data-phase=${phase}>${p.label}</span><//>`;
}

function Connection({ e }) {
  return html`<span class=${`conn ${e.connected ? 'on' : 'off'}`} data-connected=${String(!!e.connected)}
    title=${e.connected ? `connected to hub ${e.hub_id}` : 'no hub holds its connection'}>
    <i class="dot" aria-hidden="true"></i>${e.connected ? 'Connected' : 'Disconnected'}</span>`;
}

const short = (sum) => (sum ? sum.slice(0, 8) : '—');

function Checksums({ e }) {
  const differ = e.loaded_checksum && e.loaded_checksum !== e.expected_checksum;
  return html`<span class="mono small" title=${`loaded   ${e.loaded_checksum || '—'}\nexpected ${e.expected_checksum || '—'}`}>
    <span class=${differ ? 'sum-differs' : ''} data-testid="loaded-checksum">${short(e.loaded_checksum)}</span> / ${short(e.expected_checksum)}</span>`;
}

function LastMetrics({ m }) {
  if (!m) return html`<span class="muted small">—</span>`;
  return html`<span class="small" title=${`since the previous heartbeat (${num(m.since_ms)} ms)`}>
    ${compact(m.requests)} req · ${compact(m.errors)} err${m.p99_ms != null ? ` · p99 ${num(m.p99_ms)} ms` : ''}</span>`;
}

function Flags({ e }) {
  return html`${e.revoked && html`<${Chip} tone="red">Revoked<//>`}
    ${!e.token_enrolled && html`<${Chip} tone="gray" title="authenticates with the shared GRPC_AUTH_TOKEN">Shared token<//>`}`;
}

// The command that starts this edge with `make run` on the hub's machine
// (its own cluster and ports next to the hub's), as docs/hub-and-edge.md has it.
function startCommand(e) {
  return ['GATEWAY_MODE=edge', `CONTROL_ENDPOINT=${hubEndpoint()}`, `EDGE_ID=${e.edge_id}`,
    `EDGE_NAMESPACE=${e.namespace}`, `EDGE_TOKEN=${e.token}`, `AISTUDIO_DATA_DIR=.data-${e.edge_id}`,
    'PGPORT=5500', 'PROXY_PORT=9091', 'SERVER_PORT=8081', 'DOCS_PORT=8990', 'make run'].join(' ');
}

function Command({ text }) {
  const copy = async () => toast(await copyText(text) ? 'Copied to the clipboard' : 'Select the command and copy it', 'success');
  return html`<div class="cmd"><pre class="code wrap" data-testid="edge-command"><code>${text}</code></pre>
    <${Button} icon="copy" onClick=${copy} data-testid="copy-command">Copy<//></div>`;
}

// The token of an edge just enrolled, once, and how to start it.
function TokenDialog({ edge, onClose }) {
  return html`<${SecretOnceDialog} open=${!!edge} title=${edge ? `Token of ${edge.edge_id}` : ''} value=${edge ? edge.token : ''}
      what="token" onClose=${onClose}>
    ${edge && html`<p class="mt">Start the edge with it (<code>EDGE_TOKEN</code>). On this machine, next to this hub:</p>
      <${Command} text=${startCommand(edge)} />
      <p class="muted small">On another machine leave out <code>PGPORT</code>, <code>PROXY_PORT</code>, <code>SERVER_PORT</code> and <code>DOCS_PORT</code>${' '}
        and set <code>CONTROL_ENDPOINT</code> to an address of this hub that machine reaches.${' '}
        See <a href=${docsUrl('hub-and-edge')} target="_blank" rel="noopener">Hub and edges</a>.</p>`}
  <//>`;
}

function revoke(e, done) {
  return confirmDialog({
    title: `Revoke ${e.edge_id}?`, danger: true, confirmLabel: 'Revoke edge',
    text: 'Its token stops working at once and hubs drop its connection: it gets no more configuration, credentials '
      + 'or budget from this hub. Enrol it again to give it a new token.',
    action: () => api.post(`/edges/${enc(e.edge_id)}/revoke`),
  }).then((ok) => { if (ok) { toast(`Revoked ${e.edge_id}`, 'success'); done(); } });
}

function enrolAgain(e, show) {
  let enrolled = null;
  return confirmDialog({
    title: `New token for ${e.edge_id}?`, confirmLabel: 'Enrol again', danger: !e.revoked,
    text: e.revoked ? 'The edge gets a new token and may connect again once it runs with it.'
      : 'The edge gets a new token; the one it runs with stops working at once.',
    action: async () => { enrolled = await api.post('/edges', { edge_id: e.edge_id, namespace: e.namespace }); },
  }).then((ok) => { if (ok && enrolled) show(enrolled); });
}

// ---- push ------------------------------------------------------------------

// Each edge a push reached and its phase, polled until every edge answered.
function PushProgress({ push }) {
  const q = useFetch(() => api.get(`/pushes/${push.push_id}`), [push.push_id]);
  const d = q.data;
  const waiting = d ? d.signalled + d.pulling : push.targets;
  useInterval(q.refresh, push.targets > 0 && waiting > 0 ? 1000 : 0);
  if (push.targets === 0) {
    const scope = push.namespace == null ? '' : html`of <code>${push.namespace || 'global'}</code> `;
    return html`<${Notice} tone="warning" icon="alert"><span><span data-testid="push-none">No edge ${scope}is connected, so no edge was signalled.</span>${' '}
      Only connected edges are pushed to: push again once they are connected. Their status shows whether they run the current configuration.</span><//>`;
  }
  if (q.error && !d) return html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`;
  if (!d) return html`<${Spinner} label="Waiting for the edges…" />`;
  return html`<div data-testid="push-progress">
    <p><strong>${d.applied} of ${d.targets}</strong> applied${d.failed ? html`, <strong class="text-red">${d.failed} failed</strong>` : ''}
      ${waiting > 0 ? html` · ${waiting} waiting <span class="spinner sm" aria-hidden="true"></span>` : ' · done'}</p>
    <${Table} caption="Push progress" rowKey=${(t) => t.edge_id} rows=${d.edges} columns=${[
      { key: 'edge', label: 'Edge', render: (t) => html`<strong class="mono">${t.edge_id}</strong>` },
      { key: 'ns', label: 'Namespace', render: (t) => (t.namespace ? html`<code>${t.namespace}</code>` : html`<span class="muted">Global</span>`) },
      { key: 'phase', label: 'Phase', render: (t) => html`<${PhaseChip} phase=${t.phase} />` },
      { key: 'what', label: '', render: (t) => (t.phase === 'failed' ? html`<span class="small">${t.reason || 'no reason given'}</span>`
        : t.checksum ? html`<span class="mono small">${short(t.checksum)}</span>` : '') },
      { key: 'at', label: 'Updated', render: (t) => html`<span class="small muted" title=${dateTime(t.updated_at)}>${ago(t.updated_at)}</span>` },
    ]} />
  </div>`;
}

function PushDialog({ namespaces, onClose, onPushed }) {
  const id = useId('push');
  const [scope, setScope] = useState('all');
  const [ns, setNs] = useState(namespaces[0] ? namespaces[0].name : '');
  const [push, setPush] = useState(null);
  const act = useAction();
  const send = () => act.run(async () => {
    const r = await api.post('/edges/push', scope === 'all' ? {} : { namespace: ns });
    setPush(r);
    toast(r.targets ? `Push sent to ${r.targets} ${r.targets === 1 ? 'edge' : 'edges'}` : 'No connected edge to push to',
      r.targets ? 'success' : 'info');
    onPushed(r);
  }).catch(() => {});
  if (push) {
    return html`<${Dialog} open title="Push progress" size="lg" onClose=${onClose}
        description=${`Push ${push.push_id} to ${push.namespace == null ? 'all namespaces' : `namespace ${push.namespace || 'global'}`}.`}>
      <div class="dialog-body"><${PushProgress} push=${push} /></div>
      <footer class="dialog-foot"><${Button} kind="primary" onClick=${onClose}>Close<//></footer>
    <//>`;
  }
  return html`<${Dialog} open title="Push configuration" onClose=${onClose}
      description="Asks the connected edges to load this hub's current configuration now.">
    <${DialogForm} onSubmit=${send} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Push now">
      <fieldset class="field">
        <legend>Edges to push to</legend>
        <label class="radio-card"><input type="radio" name=${id} checked=${scope === 'all'} onChange=${() => setScope('all')} />
          <span><strong>All namespaces</strong><small class="muted">Every connected edge.</small></span></label>
        <label class="radio-card"><input type="radio" name=${id} checked=${scope === 'one'} onChange=${() => setScope('one')} />
          <span><strong>One namespace</strong><small class="muted">Only the connected edges that serve it.</small></span></label>
      </fieldset>
      ${scope === 'one' && html`<${SelectField} label="Namespace" value=${ns} onChange=${setNs}
        options=${namespaces.map((n) => [n.name, n.name || 'Global (no namespace)'])} />`}
      <${Notice}>Each edge pulls its namespace's snapshot from the hub, checks it and applies it whole, then reports back: you see each one's progress here. Until then it keeps serving the configuration it has.<//>
    <//>
  <//>`;
}

// ---- the sync trail ----------------------------------------------------------

// An event's detail in words: checksums shortened, times as dates, empty values left out.
function detailText(d) {
  const show = (v) => {
    if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) return v.slice(0, 8);
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return dateTime(v);
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  return Object.entries(d || {}).filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${show(v)}`).join(' · ');
}

function SyncTrail({ edge, pageSize = 10 }) {
  const list = usePagedList((p) => api.get('/edges/events', { ...p, edge }), [edge], pageSize);
  useInterval(list.refresh, POLL_MS);
  const rows = list.data && list.data.data;
  return html`<${Card} pad=${false} title="Sync trail" subtitle="what happened between the hub and its edges, newest first">
    <${Table} rows=${rows} loading=${list.loading} error=${list.error} onRetry=${list.reload} caption="Sync trail"
      empty=${html`<p class="muted empty-inline card-pad">Nothing yet.</p>`} columns=${[
      { key: 'at', label: 'When', render: (x) => html`<span class="small" title=${dateTime(x.at)}>${ago(x.at)}</span>` },
      ...(edge ? [] : [{ key: 'edge', label: 'Edge', render: (x) => (x.edge_id ? html`<a class="mono" href=${`#/edges/${enc(x.edge_id)}`}>${x.edge_id}</a>`
        : html`<span class="muted">${x.namespace != null ? `namespace ${x.namespace || 'global'}` : '—'}</span>`) }]),
      { key: 'event', label: 'Event', render: (x) => { const [tone, label] = EVENT[x.event] || ['gray', x.event]; return html`<${Chip} tone=${tone}>${label}<//>`; } },
      { key: 'detail', label: 'Detail', render: (x) => html`<span class="small muted">${detailText(x.detail)}</span>` },
    ]} />
    <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
  <//>`;
}

// ---- the list ----------------------------------------------------------------

const EDGES = {
  path: '/edges',
  label: (e) => e.edge_id,
  rowKey: (e) => e.edge_id,
  itemPath: (e) => `/edges/${enc(e.edge_id)}`,
  title: 'Edges',
  icon: 'server',
  description: "Gateways in other places that serve a namespace's configuration from this hub.",
  pollMs: POLL_MS,
  listTitle: (ctx) => (ctx.query.status ? `${SYNC[ctx.query.status].label} edges` : 'All edges'),
  filters: [{ name: 'namespace', label: 'Namespace', id: 'edge-ns', all: 'All namespaces',
    options: (ctx) => ctx.namespaces.filter((n) => n.name).map((n) => [n.name, n.name]) }],
  cardActions: (ctx) => ctx.query.status && html`<${Button} size="sm" kind="ghost" icon="x" onClick=${ctx.clearStatus}>Clear filter<//>`,
  headerActions: (ctx) => html`<${Button} icon="upload" onClick=${ctx.openPush} data-testid="push-config">Push configuration<//>`,
  create: { label: 'Enrol edge', icon: 'plus', testid: 'enrol-edge' },
  canEdit: () => false,
  form: {
    add: 'Enrol an edge',
    create: 'Enrol edge',
    size: 'sm',
    description: 'The edge gets a token of its own, shown once: it connects to this hub with it and serves the namespace you choose.',
    fields: [
      { name: 'edge_id', label: 'Edge id', required: true, autofocus: true, mono: true, placeholder: 'edge-eu-1',
        hint: 'Its EDGE_ID: letters, digits, "_", "." and "-".', aliases: ['edge id'] },
      { name: 'namespace', label: 'Namespace', type: 'namespace', global: 'Global (no namespace)',
        hint: "What it serves: the namespace's LLMs and the global ones." },
    ],
    toast: (r) => `Enrolled ${r.edge_id}`,
  },
  saved: (r, row, ctx) => { ctx.showToken(r); ctx.reload(); },
  columns: [
    { key: 'edge_id', label: 'Edge', render: (e) => html`<div class="cell-main"><a class="strong mono" href=${`#/edges/${enc(e.edge_id)}`}>${e.edge_id}</a>
      <span class="muted small">${e.version ? `version ${e.version}` : 'version not reported'} <${Flags} e=${e} /></span></div>` },
    { key: 'ns', label: 'Namespace', render: (e) => (e.namespace ? html`<code>${e.namespace}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'status', label: 'Sync status', render: (e) => html`<${SyncChip} status=${e.status} />` },
    { key: 'conn', label: 'Connection', render: (e) => html`<${Connection} e=${e} />` },
    { key: 'checksum', label: 'Loaded / expected', render: (e) => html`<${Checksums} e=${e} />` },
    { key: 'hb', label: 'Last heartbeat', render: (e) => html`<span class="small" title=${dateTime(e.last_heartbeat)}>${ago(e.last_heartbeat)}</span>` },
    { key: 'metrics', label: 'Last metrics', render: (e) => html`<${LastMetrics} m=${e.last_metrics} />` },
  ],
  rowActions: (e, ctx) => (e.revoked
    ? html`<${IconButton} icon="refresh" label=${`Enrol ${e.edge_id} again`} onClick=${() => enrolAgain(e, ctx.showToken).then(ctx.reload)} />`
    : html`<${IconButton} icon="lock" label=${`Revoke ${e.edge_id}`} onClick=${() => revoke(e, ctx.reload)} />`),
  remove: {
    title: (e) => `Forget ${e.edge_id}?`, label: (e) => `Forget ${e.edge_id}`, confirmLabel: 'Forget edge',
    text: 'The edge and its state (budget leases, metrics, push progress) are removed; its events stay in the sync trail. '
      + 'A running edge with a token of its own cannot connect any more; one using the shared token registers again when it reconnects.',
    done: (e) => `Forgot ${e.edge_id}`,
  },
  empty: (ctx) => ({
    title: ctx.query.status ? 'No edge has this status' : 'No edges yet',
    text: ctx.query.status ? 'Clear the filter to see every edge.'
      : 'Enrol an edge: you get its token and the command that starts it.',
    action: !ctx.query.status,
  }),
};

const NAMESPACES = {
  path: '/namespaces',
  paged: false,
  rowKey: (n) => n.name,
  itemPath: (n) => `/namespaces/${enc(n.name)}`,
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

// What this server is, when it is not a hub: only a hub's edges connect.
function ModeNotice() {
  const mode = deploymentMode();
  if (mode === 'control') return null;
  const what = mode === 'edge'
    ? 'This server is an edge: its configuration comes from its hub. Enrol, watch and push to edges on the hub.'
    : html`This server runs standalone (<code>GATEWAY_MODE=standalone</code>): it runs no gRPC server, so edges cannot connect to it.${' '}
      Start it with <code>GATEWAY_MODE=control</code> to make it a hub.`;
  return html`<${Notice} tone="info" icon="info"><span><span data-testid="mode-notice">${what}</span>${' '}
    See <a href=${docsUrl('hub-and-edge')} target="_blank" rel="noopener">Hub and edges</a>.</span><//>`;
}

function OutOfSync({ counts, onPush }) {
  const n = counts.pending + counts.stale;
  if (!n) return null;
  const they = n === 1 ? 'it runs' : 'they run';
  return html`<div data-testid="out-of-sync"><${Notice} tone="warning" icon="alert">
    <span><strong>${n} ${n === 1 ? 'edge is' : 'edges are'} out of sync</strong> (${counts.pending} pending, ${counts.stale} stale): ${they} an older configuration than this hub's. Changes never reach edges by themselves: push them when you are ready.</span>
    <${Button} size="sm" kind="ghost" icon="upload" onClick=${onPush}>Push configuration<//>
  <//></div>`;
}

// A toast when more edges are out of sync than at the last poll.
function useOutOfSyncToast(counts) {
  const last = useRef(null);
  useEffect(() => {
    if (!counts) return;
    const n = counts.pending + counts.stale;
    if (last.current !== null && n > last.current) {
      toast(`${n - last.current} more ${n - last.current === 1 ? 'edge is' : 'edges are'} out of sync`, 'info');
    }
    last.current = n;
  }, [counts]);
}

async function statusCounts() {
  const out = {};
  await Promise.all(Object.keys(SYNC).map(async (s) => { out[s] = (await api.get('/edges', { status: s, page_size: 1 })).total; }));
  return out;
}

export function EdgesPage({ me }) {
  const [status, setStatus] = useState('');
  const [pushing, setPushing] = useState(false);
  const [shown, setShown] = useState(null);
  const nss = useFetch(() => listAll('/namespaces'), []);
  const counts = useFetch(statusCounts, []);
  useOutOfSyncToast(counts.data);
  const namespaces = [{ name: '' }, ...(nss.data || []).filter((n) => n.name)];
  const tiles = html`<div class="sync-summary">
    ${Object.entries(SYNC).map(([k, s]) => html`<button type="button" class=${`sync-tile ${status === k ? 'on' : ''}`}
      onClick=${() => setStatus(status === k ? '' : k)} aria-pressed=${status === k} data-tile=${k}>
      <${SyncChip} status=${k} /><strong>${counts.data ? counts.data[k] : '…'}</strong><small class="muted">${s.about}</small></button>`)}
  </div>`;
  const before = html`<${ModeNotice} />${counts.data && html`<${OutOfSync} counts=${counts.data} onPush=${() => setPushing(true)} />`}${tiles}`;
  return html`<${ResourcePage} res=${EDGES} me=${me} query=${status ? { status } : {}} before=${before}
      extra=${{
        namespaces, clearStatus: () => setStatus(''), onChanged: counts.reload, onPoll: counts.refresh,
        openPush: () => setPushing(true), showToken: setShown,
      }}
      after=${html`<div class="stack section-gap"><${SyncTrail} />
        <${ResourceCard} res=${NAMESPACES} me=${me} extra=${{ onChanged: nss.reload }} /></div>`} />
    ${pushing && html`<${PushDialog} namespaces=${namespaces} onClose=${() => setPushing(false)} onPushed=${counts.refresh} />`}
    <${TokenDialog} edge=${shown} onClose=${() => setShown(null)} />`;
}

// ---- one edge ----------------------------------------------------------------

function MetricsChart({ rows }) {
  const { x, traffic, latency } = useMemo(() => ({
    x: rows.map((r) => Date.parse(r.at) / 1000),
    traffic: [{ label: 'Requests', values: rows.map((r) => r.requests), color: '#6366f1' },
      { label: 'Errors', values: rows.map((r) => r.errors), color: '#ef4444' }],
    latency: [{ label: 'p50 ms', values: rows.map((r) => r.p50_ms), color: '#0ea5e9' },
      { label: 'p99 ms', values: rows.map((r) => r.p99_ms), color: '#f59e0b' }],
  }), [rows]);
  if (rows.length === 0) return html`<p class="muted empty-inline">No heartbeat has reported metrics yet.</p>`;
  const last = rows[rows.length - 1];
  return html`<div class="mini-stats" data-testid="edge-last-metrics">
      <div><span class="muted small">Requests</span><strong>${num(last.requests)}</strong></div>
      <div><span class="muted small">Errors</span><strong>${num(last.errors)}</strong></div>
      <div><span class="muted small">p50 / p99</span><strong>${num(last.p50_ms)} / ${num(last.p99_ms)} ms</strong></div>
      <div><span class="muted small">Tokens in / out</span><strong>${compact(last.prompt_tokens)} / ${compact(last.response_tokens)}</strong></div>
    </div>
    <p class="muted small">Per heartbeat (each covers the time since the previous one).</p>
    <${TimeChart} x=${x} series=${traffic} fmt=${compact} height=${150} step=${60} label="Requests and errors per heartbeat" />
    <${TimeChart} x=${x} series=${latency} fmt=${(v) => `${num(v)} ms`} height=${150} step=${60} label="Latency per heartbeat" />`;
}

export function EdgeDetail({ params }) {
  const id = params.id;
  const q = useFetch(() => api.get(`/edges/${enc(id)}`), [id]);
  const m = useFetch(() => api.get(`/edges/${enc(id)}/metrics`), [id]);
  const [shown, setShown] = useState(null);
  useInterval(() => { q.refresh(); m.refresh(); }, POLL_MS);
  const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="#/edges">Edges</a><span aria-hidden="true">/</span><span>${id}</span></nav>`;
  if (!q.data) {
    return html`${crumbs}<${PageHeader} title=${id} icon="server" />
      ${q.error ? html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} />` : html`<${Spinner} label="Loading the edge…" />`}`;
  }
  const e = q.data;
  const forget = () => confirmDialog({
    title: `Forget ${e.edge_id}?`, danger: true, confirmLabel: 'Forget edge', text: EDGES.remove.text,
    action: () => api.del(`/edges/${enc(e.edge_id)}`),
  }).then((ok) => { if (ok) { toast(`Forgot ${e.edge_id}`, 'success'); navigate('/edges'); } });
  return html`${crumbs}
    <${PageHeader} title=${e.edge_id} icon="server" description=${`Serves ${e.namespace ? `namespace ${e.namespace}` : 'the global namespace'}.`}
      actions=${html`${!e.revoked && html`<${Button} icon="lock" onClick=${() => revoke(e, q.reload)}>Revoke<//>`}
        <${Button} icon="refresh" onClick=${() => enrolAgain(e, setShown).then(q.reload)}>${e.revoked ? 'Enrol again' : 'New token'}<//>
        <${Button} icon="trash" kind="danger-ghost" onClick=${forget}>Forget<//>`} />
    ${e.revoked && html`<${Notice} tone="warning" icon="alert">This edge is revoked: its tokens are refused.<//>`}
    ${q.error && html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`}
    <div class="grid-2-1">
      <div class="stack">
        <${Card} title="Metrics" subtitle="its last heartbeats">
          ${m.data ? html`<${MetricsChart} rows=${m.data.data} />` : m.error ? html`<${ErrorBanner} error=${m.error} onRetry=${m.reload} />` : html`<${Spinner} />`}
        <//>
        <${SyncTrail} edge=${e.edge_id} />
      </div>
      <${Card} title="Sync">
        <dl class="kv" data-testid="edge-sync">
          <dt>Status</dt><dd><${SyncChip} status=${e.status} /> <span class="muted small">${(SYNC[e.status] || SYNC.unknown).about}</span></dd>
          <dt>Connection</dt><dd><${Connection} e=${e} />${e.connected && html` <span class="muted small">to hub <code>${e.hub_id}</code></span>`}</dd>
          <dt>Last heartbeat</dt><dd title=${dateTime(e.last_heartbeat)}>${ago(e.last_heartbeat)}</dd>
          ${e.pending_since && html`<dt>Pending since</dt><dd title=${dateTime(e.pending_since)}>${ago(e.pending_since)}</dd>`}
          <dt>Loaded</dt><dd class="mono small">${e.loaded_checksum || '—'}</dd>
          <dt>Expected</dt><dd class="mono small">${e.expected_checksum || '—'}</dd>
          <dt>Version</dt><dd>${e.version || html`<span class="muted">not reported</span>`}</dd>
          <dt>Last push</dt><dd>${e.last_push_at ? ago(e.last_push_at) : 'never'}</dd>
          <dt>Token</dt><dd>${e.token_enrolled ? 'its own' : 'the shared GRPC_AUTH_TOKEN'}${e.revoked ? ', revoked' : ''}</dd>
          <dt>Enrolled</dt><dd>${dateTime(e.registered_at)}</dd>
        </dl>
      <//>
    </div>
    <${TokenDialog} edge=${shown} onClose=${() => setShown(null)} />`;
}
