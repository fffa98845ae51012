// app/requests.js: the request log (GET /api/v1/requests): every request
// the gateway and the chat served, newest first, filtered by time range,
// app, user, LLM, model, status, error code and request id, paged by
// cursor (Older / Newer), exported as CSV with the same filters; and one
// request in detail (#/requests/<request id>, the x-request-id a client
// sees: the link works when pasted; its captured request and response
// bodies when the LLM captures them). The filters live in the page's URL
// (#/requests?app_id=3&status=500), so a filtered view can be shared.
// Who sees which request is decided by the database (admins: all;
// developers: their apps and their own chat; chat users: their own chat).
import { html, useState, useEffect } from './deps.js';
import { api, qs } from './api.js';
import {
  PageHeader, Card, Table, Button, Chip, EmptyState, ErrorBanner, Spinner, useFetch, CopyField,
} from './ui.js';
import { currentQuery, navigate } from './router.js';
import { atLeast } from './lookups.js';
import { loadRefs } from './resource.js';
import { dateTime, money, num } from './format.js';

const PAGE = 50;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILTERS = ['from', 'to', 'app_id', 'user_id', 'llm_id', 'model', 'status', 'errors', 'error_code', 'request_id', 'interaction_type'];

function statusTone(s) {
  if (s === 0 || s >= 500) return 'red';
  if (s >= 400) return 'orange';
  return 'green';
}

export function StatusBadge({ code }) {
  return html`<${Chip} tone=${statusTone(code)}>${code === 0 ? 'no response' : code}<//>`;
}

// <input type="datetime-local"> works in local time; the API takes instants.
const toLocalInput = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : '');

function readFilters() {
  const q = currentQuery();
  return Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || '']));
}

function FilterBar({ me, values, set, refs }) {
  const f = (name, label, input) => html`<label class="filter-field"><span class="filter-label">${label}</span>${input}</label>`;
  const select = (name, label, options, all) => f(name, label, html`<select class="input input-inline" data-testid=${`filter-${name}`}
    value=${values[name]} onChange=${(e) => set(name, e.currentTarget.value)}>
    <option value="">${all}</option>${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`);
  const text = (name, label, placeholder, attrs = {}) => f(name, label, html`<input class="input input-inline" data-testid=${`filter-${name}`}
    value=${values[name]} placeholder=${placeholder} onChange=${(e) => set(name, e.currentTarget.value.trim())} ...${attrs} />`);
  return html`<div class="filter-grid" role="group" aria-label="Filters">
    ${f('from', 'From', html`<input type="datetime-local" class="input input-inline" data-testid="filter-from"
      value=${toLocalInput(values.from)} onChange=${(e) => set('from', fromLocalInput(e.currentTarget.value))} />`)}
    ${f('to', 'To', html`<input type="datetime-local" class="input input-inline" data-testid="filter-to"
      value=${toLocalInput(values.to)} onChange=${(e) => set('to', fromLocalInput(e.currentTarget.value))} />`)}
    ${refs.apps && select('app_id', 'App', refs.apps.map((a) => [String(a.id), a.name]), 'All apps')}
    ${refs.users && select('user_id', 'User', refs.users.map((u) => [String(u.id), u.email]), 'All users')}
    ${refs.llms && select('llm_id', 'LLM', refs.llms.map((l) => [String(l.id), l.name]), 'All LLMs')}
    ${text('model', 'Model', 'e.g. gpt-4o')}
    ${text('status', 'Status', 'e.g. 429', { inputmode: 'numeric' })}
    ${select('errors', 'Outcome', [['true', 'Errors only']], 'All outcomes')}
    ${text('error_code', 'Error code', 'e.g. upstream_error')}
    ${select('interaction_type', 'Type', [['proxy', 'Gateway'], ['chat', 'Chat']], 'All types')}
  </div>`;
}

function OpenById() {
  const [id, setId] = useState('');
  const [err, setErr] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    const v = id.trim();
    if (!UUID_RE.test(v)) { setErr('A request id looks like 0195d2c4-7b1e-7c3a-9f00-2b6d8e4a1c55 (the x-request-id header).'); return; }
    navigate(`/requests/${v.toLowerCase()}`);
  };
  return html`<form class="open-by-id" onSubmit=${submit} aria-label="Open a request by id">
    <label class="sr-only" for="open-request-id">Request id</label>
    <input id="open-request-id" class="input input-inline mono" placeholder="Paste an x-request-id…" value=${id}
      data-testid="open-request-id" onInput=${(e) => { setId(e.currentTarget.value); setErr(null); }}
      aria-invalid=${err ? 'true' : undefined} aria-describedby=${err ? 'open-request-id-err' : undefined} />
    <${Button} type="submit" size="sm" icon="search">Open<//>
    ${err && html`<span id="open-request-id-err" class="field-error" role="alert">${err}</span>`}
  </form>`;
}

export function RequestsPage({ me }) {
  const [values, setValues] = useState(readFilters);
  const [cursors, setCursors] = useState([null]); // cursors[i]: "after" of page i
  const set = (k, v) => { setValues((x) => ({ ...x, [k]: v })); setCursors([null]); };
  const params = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
  const key = JSON.stringify(params);
  // a link to the page (the menu, a shared URL) sets the filters it names
  useEffect(() => {
    const on = () => { if (location.hash.startsWith('#/requests') && !location.hash.startsWith('#/requests/')) { setValues(readFilters()); setCursors([null]); } };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  // the filters go to the URL (without a history entry per change)
  useEffect(() => {
    const s = qs(params);
    const want = `#/requests${s}`;
    if (location.hash !== want) history.replaceState(null, '', want);
  }, [key]);
  const refs = useFetch(() => loadRefs([
    ...(atLeast(me.role, 'developer') ? ['apps'] : []),
    ...(atLeast(me.role, 'admin') ? ['users'] : []),
    'llms',
  ]).catch(() => ({})), []);
  const page = cursors.length - 1;
  const list = useFetch(() => api.get('/requests', { ...params, limit: PAGE, after: cursors[page] || undefined }), [key, page]);
  const rows = list.data ? list.data.data : null;
  const next = list.data ? list.data.next : null;
  const exportHref = `/api/v1/requests${qs({ ...params, format: 'csv' })}`;
  const anyFilter = Object.keys(params).length > 0;

  const columns = [
    { key: 'timestamp', label: 'Time', render: (r) => html`<a href=${`#/requests/${r.request_id}`} class="nowrap" data-testid="request-link">${dateTime(r.timestamp)}</a>` },
    { key: 'status', label: 'Status', render: (r) => html`<${StatusBadge} code=${r.status_code} />${r.error_code ? html` <code class="small">${r.error_code}</code>` : ''}` },
    { key: 'who', label: 'App / user', render: (r) => html`<div class="cell-main"><span>${r.app_name || (r.interaction_type === 'chat' ? 'Chat' : 'No app')}</span><span class="muted small">${r.user_email || ''}</span></div>` },
    { key: 'llm', label: 'LLM / model', render: (r) => html`<div class="cell-main"><span>${r.llm_name || '—'}</span><span class="muted small mono">${r.model_name || 'unknown model'}</span></div>` },
    { key: 'tokens', label: 'Tokens', class: 'num', render: (r) => num(r.total_tokens) },
    { key: 'cost', label: 'Cost', class: 'num', render: (r) => money(r.cost, r.currency) },
    { key: 'latency', label: 'Latency', class: 'num', render: (r) => `${num(r.latency_ms)} ms` },
  ];

  return html`
    <${PageHeader} title="Request log" icon="activity"
      description="Every request through the gateway and the chat, newest first. Open one to see its timings, tokens, cost and error; a client finds its request by the x-request-id header of the answer."
      actions=${html`<a class="btn btn-secondary" href=${exportHref} download="requests.csv" data-testid="export-csv">Export CSV</a>`} />
    <${Card} title="Find requests" actions=${html`<${OpenById} />`}>
      <${FilterBar} me=${me} values=${values} set=${set} refs=${refs.data || {}} />
      ${anyFilter && html`<div class="filter-actions"><${Button} size="sm" kind="ghost" icon="x" data-testid="clear-filters"
        onClick=${() => { setValues(Object.fromEntries(FILTERS.map((k) => [k, '']))); setCursors([null]); }}>Clear filters<//></div>`}
    <//>
    <${Card} pad=${false} title="Requests" subtitle=${page > 0 ? `Page ${page + 1}` : 'Newest first'}
      actions=${html`<${Button} size="sm" icon="refresh" onClick=${list.reload}>Refresh<//>`}>
      <${Table} columns=${columns} rows=${rows} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Requests" rowKey=${(r) => `${r.request_id}|${r.timestamp}`}
        empty=${html`<${EmptyState} icon="activity" title=${anyFilter ? 'No request matches these filters' : 'No requests yet'}
          text=${anyFilter ? 'Widen the time range or clear a filter.' : 'Requests appear here a moment after the gateway or the chat served them.'} />`} />
      ${(page > 0 || next) && html`<nav class="pager" aria-label="Pages">
        <span class="muted">Page ${page + 1}</span>
        <div class="pager-buttons">
          <${Button} size="sm" disabled=${page === 0} data-testid="page-newer" onClick=${() => setCursors((c) => c.slice(0, -1))}>Newer<//>
          <${Button} size="sm" disabled=${!next} data-testid="page-older" onClick=${() => setCursors((c) => [...c, next])}>Older<//>
        </div>
      </nav>`}
    <//>`;
}

// A captured body: pre-formatted, JSON pretty-printed when it parses (a
// truncated or streamed body is shown as it is).
function Body({ title, text, truncated, testid }) {
  if (text == null) {
    return html`<${Card} title=${title}><p class="muted" data-testid=${`${testid}-none`}>Not captured.</p><//>`;
  }
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: as it is */ }
  return html`<${Card} title=${title}>
    ${truncated && html`<p class="muted small" data-testid=${`${testid}-truncated`}>Truncated at the LLM's capture limit.</p>`}
    <pre class="mono body-capture" data-testid=${testid}>${shown}</pre>
  <//>`;
}

function Row({ label, children }) {
  return html`<dt>${label}</dt><dd>${children}</dd>`;
}

export function RequestDetail({ params }) {
  const id = params.id;
  const valid = UUID_RE.test(id);
  const q = useFetch(() => (valid ? api.get(`/requests/${encodeURIComponent(id)}`) : Promise.resolve(null)), [id]);
  const back = html`<a href="#/requests" class="link-btn">← All requests</a>`;
  if (!valid) {
    return html`<${EmptyState} icon="compass" title="Not a request id"
      text=${`"${id}" is not a request id. A request id looks like 0195d2c4-7b1e-7c3a-9f00-2b6d8e4a1c55 (the x-request-id header of an answer).`}
      action=${back} />`;
  }
  if (q.error && q.error.status === 404) {
    return html`<${EmptyState} icon="compass" title="Request not found"
      text="There is no request with this id that you may see. Its record reaches the log a moment after the answer; try again shortly."
      action=${html`${back} <${Button} size="sm" icon="refresh" onClick=${q.reload}>Try again<//>`} />`;
  }
  if (q.error) return html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`;
  if (!q.data || q.data.request_id !== id.toLowerCase()) return html`<${Spinner} />`;
  const r = q.data;
  return html`
    <${PageHeader} title="Request" icon="activity" description=${html`<code data-testid="request-id">${r.request_id}</code>`}
      actions=${back} />
    <div class="grid-2">
      <${Card} title="Outcome">
        <dl class="kv" data-testid="request-detail">
          <${Row} label="Status"><${StatusBadge} code=${r.status_code} /><//>
          <${Row} label="Error code">${r.error_code ? html`<code>${r.error_code}</code>` : html`<span class="muted">none</span>`}<//>
          <${Row} label="Error">${r.error ? html`<span data-testid="request-error">${r.error}</span>` : html`<span class="muted">none</span>`}<//>
          <${Row} label="Time">${dateTime(r.timestamp)} <span class="muted small">(${r.timestamp})</span><//>
          <${Row} label="Latency">${num(r.latency_ms)} ms<//>
          <${Row} label="Type">${r.interaction_type === 'chat' ? 'Chat' : 'Gateway'}<//>
        <//>
      <//>
      <${Card} title="Who and what">
        <dl class="kv">
          <${Row} label="App">${r.app_id != null ? html`<a href=${`#/apps/${r.app_id}`}>${r.app_name || `App #${r.app_id}`}</a>` : html`<span class="muted">${r.interaction_type === 'chat' ? 'chat (no app)' : 'no app'}</span>`}<//>
          <${Row} label="User">${r.user_email || (r.user_id != null ? `User #${r.user_id}` : html`<span class="muted">unknown</span>`)}<//>
          <${Row} label="LLM">${r.llm_name || (r.llm_id != null ? `LLM #${r.llm_id}` : html`<span class="muted">unknown</span>`)}<//>
          <${Row} label="Vendor / model"><span class="mono">${r.vendor} / ${r.model_name || 'unknown model'}</span><//>
          <${Row} label="Namespace">${r.namespace || html`<span class="muted">default</span>`}<//>
          <${Row} label="Served by">${r.edge_id ? html`edge <code>${r.edge_id}</code>` : 'this gateway'}<//>
        <//>
      <//>
      <${Card} title="Tokens and cost">
        <dl class="kv">
          <${Row} label="Prompt tokens">${num(r.prompt_tokens)}<//>
          <${Row} label="Response tokens">${num(r.response_tokens)}<//>
          <${Row} label="Cache write / read">${num(r.cache_write_tokens)} / ${num(r.cache_read_tokens)}<//>
          <${Row} label="Total tokens">${num(r.total_tokens)}<//>
          <${Row} label="Cost">${money(r.cost, r.currency)}${r.priced ? '' : html` <span class="muted small">(no price for this model)</span>`}<//>
        <//>
      <//>
      <${Card} title="Link to this request">
        <${CopyField} label="Link" value=${`${location.origin}${location.pathname}#/requests/${r.request_id}`} id="request-link" />
      <//>
      <${Body} title="Request body" text=${r.request_body} truncated=${r.request_truncated} testid="request-body" />
      <${Body} title="Response body" text=${r.response_body} truncated=${r.response_truncated} testid="response-body" />
    </div>`;
}
