// app/apps.js: apps and their API keys. Admins see every app (with its
// owner); developers see their own ("My apps") and may use only the LLMs
// their groups grant. A new or rotated key is shown once, with a copy button;
// keys have a name, an expiry and a rotation overlap (keys.js).
import { html, useState, useMemo } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Button, Chip, StatusChip, VendorChip, IconButton, ErrorBanner, Spinner, SecretOnceDialog, Progress,
  useFetch, confirmDialog, toast, Notice,
} from './ui.js';
import { ResourcePage, ResourceCard, ResourceDialog, fieldError } from './resource.js';
import { TimeChart } from './charts.js';
import { navigate } from './router.js';
import { isAdmin } from './lookups.js';
import { money, num, compact, dateTime, ago, pct, budgetLeft, gatewayBase } from './format.js';
import {
  expiryCreateFields, expiryCreateBody, checkExpiryCreate, expiryEditField, overlapField, rotateBody, expiryCell, keyStatus,
} from './keys.js';

const nameOf = (list, id, key = 'name') => {
  const x = list && list.find((i) => i.id === id);
  return x ? x[key] : `#${id}`;
};

const isAdminCtx = (ctx) => isAdmin(ctx.me);

const APPS = {
  path: '/apps',
  title: (ctx) => (isAdmin(ctx.me) ? 'Apps' : 'My apps'),
  icon: 'grid',
  description: (ctx) => (isAdmin(ctx.me) ? 'Every application that calls the gateway, its keys, LLMs and budget.'
    : 'Your applications, their API keys and budgets.'),
  listTitle: (ctx) => (isAdmin(ctx.me) ? 'All apps' : 'Your apps'),
  caption: 'Apps',
  filters: [{ name: 'search', kind: 'search', label: 'Search apps', placeholder: 'Search apps…' }],
  refs: (ctx) => (isAdmin(ctx.me) ? ['users', 'llms'] : ['llms']),
  create: { label: 'Create app' },
  columns: (ctx) => [
    { key: 'name', label: 'App', sort: 'name', render: (a) => html`<div class="cell-main"><a href=${`#/apps/${a.id}`} class="strong">${a.name}</a>
      ${a.description && html`<span class="muted small clamp">${a.description}</span>`}</div>` },
    isAdmin(ctx.me) && { key: 'owner', label: 'Owner', render: (a) => nameOf(ctx.refs.users, a.owner_id, 'email') },
    { key: 'llms', label: 'LLMs', render: (a) => (a.llm_ids.length ? html`<div class="chips">${a.llm_ids.slice(0, 3).map((id) => html`<${Chip} tone="blue">${nameOf(ctx.refs.llms, id)}<//>`)}
      ${a.llm_ids.length > 3 && html`<span class="muted">+${a.llm_ids.length - 3}</span>`}</div>` : html`<span class="muted">None</span>`) },
    { key: 'budget', label: 'Budget', sort: 'monthly_budget', render: (a) => (a.monthly_budget == null ? html`<span class="muted">No limit</span>` : `${money(a.monthly_budget)}/mo`) },
    isAdmin(ctx.me) && { key: 'ns', label: 'Namespace', sort: 'namespace', render: (a) => (a.namespace ? html`<code>${a.namespace}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'active', label: 'Status', sort: 'active', render: (a) => html`<${StatusChip} on=${a.active} />` },
  ],
  canEdit: () => false,
  rowActions: (a) => html`<${Button} size="sm" onClick=${() => navigate(`/apps/${a.id}`)}>Open<//>`,
  empty: (ctx) => (ctx.query.search ? { title: 'No app matches', text: 'Try another name.' }
    : { title: 'No apps yet', text: 'Create an app to get an API key for the gateway.', action: true }),
  saved: (a, row, ctx) => (row ? ctx.reload() : navigate(`/apps/${a.id}`)),
  form: {
    add: 'Create an app',
    description: 'An app is what calls the gateway: it gets its own API keys, LLMs and budget.',
    size: 'lg',
    create: 'Create app',
    check: (f) => { if (!f.name.trim()) throw fieldError('name', 'Give the app a name.'); },
    fields: [
      [
        { name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'support-bot' },
        { name: 'monthly_budget', label: 'Monthly budget (USD)', type: 'number', omitEmpty: true, attrs: { min: '0', step: '0.01' },
          hint: 'Optional. Requests are refused once it is spent.' },
        { name: 'rate_limit_rpm', label: 'Requests / minute', type: 'number', omitEmpty: true, attrs: { min: '1', max: '1000000000', step: '1' },
          hint: 'Optional. Each gateway refuses more (429).' },
        { name: 'rate_limit_tpm', label: 'Tokens / minute', type: 'number', omitEmpty: true, attrs: { min: '1', max: '1000000000', step: '1' },
          hint: 'Optional. Prompt + completion tokens, per gateway.' },
        { name: 'description', label: 'Description', type: 'textarea', rows: 2, span2: true },
        { name: 'owner_id', label: 'Owner', type: 'select', refs: 'users', when: isAdminCtx,
          value: (a, ctx) => String(a ? a.owner_id : ctx.me.id), out: Number,
          options: (ctx, f, refs) => (refs.users || [ctx.me]).map((u) => [String(u.id), `${u.name} <${u.email}>`]) },
        { name: 'namespace', label: 'Namespace', type: 'namespace', when: isAdminCtx },
      ],
      { name: 'llm_ids', label: 'LLMs this app may call', type: 'checklist', refs: 'llms', loading: 'Loading LLMs…',
        items: (refs) => (refs.llms || []).map((l) => ({ id: l.id, label: l.name, sub: `/ai/${l.slug}/v1` })),
        empty: (ctx) => (isAdmin(ctx.me) ? 'No LLMs yet: add one on the LLMs page.' : 'Your groups grant no LLMs yet. Ask an administrator for access.') },
      { name: 'active', label: 'Active', type: 'toggle', editOnly: true, hint: "Inactive apps' keys are refused." },
    ],
  },
};

export function AppsPage({ me }) {
  return html`<${ResourcePage} res=${APPS} me=${me} />`;
}

// The app's API keys: created with an optional name and expiry, renamed or
// given another expiry, rotated (the old key working on for a chosen
// overlap) with the new key shown once, revoked with a confirmation.
function credentials(app) {
  const base = `/apps/${app.id}/credentials`;
  const label = (c) => (c.name ? `${c.name} (${c.key_prefix}…)` : `${c.key_prefix}…`);
  return {
    path: base,
    label,
    icon: 'key',
    listTitle: 'API keys',
    subtitle: 'Only a hash is stored; a key is shown once.',
    pageSize: 10,
    create: { label: 'Create key', icon: 'key', testid: 'create-key' },
    columns: [
      { key: 'name', label: 'Name', render: (c) => (c.name ? html`<strong>${c.name}</strong>` : html`<span class="muted">—</span>`) },
      { key: 'key_prefix', label: 'Key', render: (c) => html`<code>${c.key_prefix}…</code>` },
      { key: 'created', label: 'Created', render: (c) => html`<span class="small">${dateTime(c.created_at)}</span>` },
      { key: 'used', label: 'Last used', render: (c) => html`<span class="small">${ago(c.last_used_at)}</span>` },
      { key: 'expires', label: 'Expires', render: expiryCell },
      { key: 'state', label: 'Status', render: keyStatus },
    ],
    canEdit: (c) => c.active && !c.expired,
    editLabel: (c) => `Edit ${label(c)}`,
    rowActions: (c, ctx) => c.active && !c.expired && html`<${IconButton} icon="refresh" label=${`Rotate ${label(c)}`}
      onClick=${() => ctx.open(c, 'rotate')} />`,
    canRemove: (c) => c.active,
    remove: {
      title: (c) => `Revoke key ${label(c)}?`, label: (c) => `Revoke ${label(c)}`, confirmLabel: 'Revoke key',
      text: 'Requests with this key are refused from now on. This cannot be undone.', done: () => 'Key revoked',
    },
    empty: () => ({ title: 'No keys yet', text: 'Create a key and give it to your application.', action: true }),
    // a new or rotated key: shown once; an edit: the list again
    saved: (c, row, ctx) => { if (c && c.key) ctx.show({ ...c, title: row ? 'Your rotated API key' : 'Your new API key' }); ctx.reload(); },
    form: {
      add: 'Create an API key',
      description: 'A name says where the key is used; an expiry makes it stop working on its own.',
      size: 'sm',
      create: 'Create key',
      toast: (c, row) => (row ? 'Key saved' : null),
      check: (f) => checkExpiryCreate(f, fieldError),
      extra: (f, row) => (row ? {} : expiryCreateBody(f)),
      fields: [
        { name: 'name', label: 'Name', autofocus: true, placeholder: 'production', omitEmpty: true, hint: 'Optional.' },
        ...expiryCreateFields.map((f) => ({ ...f, createOnly: true })),
        { ...expiryEditField, editOnly: true },
      ],
    },
    forms: {
      rotate: {
        title: (c) => `Rotate key ${label(c)}`,
        description: 'A new key replaces this one. Update the application with the new key before the old one stops.',
        size: 'sm',
        submitLabel: 'Rotate key',
        toast: () => null,
        fields: [overlapField],
        save: (body, row, values) => api.post(`${base}/${row.id}/rotate`, rotateBody(values)),
      },
    },
  };
}

function Credentials({ app, me }) {
  const res = useMemo(() => credentials(app), [app.id]);
  const [shown, setShown] = useState(null);
  return html`<${ResourceCard} res=${res} me=${me} extra=${{ show: setShown }} />
    <${SecretOnceDialog} open=${!!shown} title=${shown ? shown.title : ''} value=${shown ? shown.key : ''} what="key" onClose=${() => setShown(null)}>
      <p class="muted small">Use it as <code>Authorization: Bearer …</code> (or <code>x-api-key</code>) against the gateway.</p>
    <//>`;
}

function QuickStart({ llms }) {
  const l = llms[0];
  if (!l) return html`<p class="muted">Choose at least one LLM for this app to call the gateway.</p>`;
  const model = l.default_model || 'your-model';
  const code = `import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: process.env.AISTUDIO_KEY,
  baseURL: '${gatewayBase(l.slug)}',
});
const r = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Hello!' }],
});`;
  return html`<div>
    <p class="muted small">Any OpenAI SDK works: point it at the gateway and use the app's key. Vendor SDKs work too, through <code>/llm/rest/${l.slug}/…</code>.</p>
    <pre class="code"><code>${code}</code></pre>
  </div>`;
}

function AppUsage({ app }) {
  const q = useFetch(async () => {
    const now = new Date();
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
    const from = new Date(to.getTime() - 30 * 86400e3);
    const r = await api.get('/analytics/usage', { from: from.toISOString(), to: to.toISOString(), group_by: 'day', app_id: app.id });
    const x = [];
    for (let t = from.getTime() / 1000; t < to.getTime() / 1000; t += 86400) x.push(t);
    const cost = x.map(() => 0);
    for (const row of r.data) {
      const i = x.indexOf(Date.parse(`${row.key}T00:00:00Z`) / 1000);
      if (i >= 0) cost[i] += Number(row.cost) || 0;
    }
    const sum = (k) => r.data.reduce((a, row) => a + (Number(row[k]) || 0), 0);
    return { x, series: [{ label: 'Cost', values: cost, color: '#6366f1', bars: true }], requests: sum('requests'), tokens: sum('total_tokens'), cost: sum('cost') };
  }, [app.id]);
  if (q.error) return html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`;
  if (!q.data) return html`<${Spinner} />`;
  const d = q.data;
  return html`<div class="mini-stats">
      <div><span class="muted small">Cost</span><strong data-testid="app-cost">${money(d.cost)}</strong></div>
      <div><span class="muted small">Requests</span><strong>${num(d.requests)}</strong></div>
      <div><span class="muted small">Tokens</span><strong data-testid="app-tokens">${compact(d.tokens)}</strong></div>
    </div>
    ${d.requests === 0 ? html`<p class="muted empty-inline">No calls in the last 30 days.</p>`
      : html`<${TimeChart} x=${d.x} series=${d.series} fmt=${(v) => money(v)} height=${160} label="Cost per day" />`}`;
}

export function AppDetail({ me, params }) {
  const id = Number(params.id);
  const q = useFetch(async () => {
    const [app, llms, budget] = await Promise.all([
      api.get(`/apps/${id}`), listAll('/llms').catch(() => []), api.get(`/apps/${id}/budget`).catch(() => null)]);
    return { app, llms, budget };
  }, [id]);
  const [edit, setEdit] = useState(false);
  if (q.error) {
    return html`<${PageHeader} title="App" icon="grid" /><${ErrorBanner} error=${q.error} onRetry=${q.reload} />
      <p><a href="#/apps">← Back to apps</a></p>`;
  }
  if (!q.data) return html`<${Spinner} label="Loading the app…" />`;
  const { app, budget } = q.data;
  const llms = q.data.llms.filter((l) => app.llm_ids.includes(l.id));
  const remove = () => confirmDialog({
    title: `Delete ${app.name}?`, danger: true, confirmLabel: 'Delete app',
    text: 'The app and all of its keys are deleted; requests with its keys are refused from now on.',
    action: () => api.del(`/apps/${app.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${app.name}`, 'success'); navigate('/apps'); } });
  return html`
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/apps">${isAdmin(me) ? 'Apps' : 'My apps'}</a><span aria-hidden="true">/</span><span>${app.name}</span></nav>
    <${PageHeader} title=${app.name} icon="grid" description=${app.description || 'No description.'}
      actions=${html`<${StatusChip} on=${app.active} />
        <${Button} icon="edit" onClick=${() => setEdit(true)}>Edit<//>
        <${Button} icon="trash" kind="danger-ghost" onClick=${remove}>Delete<//>`} />
    ${!app.active && html`<${Notice} tone="warning" icon="alert">This app is inactive: the gateway refuses its keys.<//>`}
    <div class="grid-2-1">
      <div class="stack">
        <${Credentials} app=${app} me=${me} />
        <${Card} title="Usage" subtitle="last 30 days"><${AppUsage} app=${app} /><//>
        <${Card} title="Quick start"><${QuickStart} llms=${llms} /><//>
      </div>
      <div class="stack">
        <${Card} title="Budget" subtitle=${budget ? `${budget.period_start} – ${budget.period_end}` : 'this month'}>
          ${budget ? html`<div class="budget-big">
              <strong>${money(budget.spent)}</strong><span class="muted"> of ${budget.monthly_budget == null ? 'no limit' : money(budget.monthly_budget)}</span>
            </div>
            ${budget.monthly_budget != null && html`<${Progress} value=${budget.percent_used} label="Budget used" />
              <p class="muted small" data-testid="budget-left">${pct(budget.percent_used)} used · ${budgetLeft(budget.remaining)}</p>`}`
            : html`<p class="muted">No budget information.</p>`}
        <//>
        <${Card} title="Rate limits" subtitle="per gateway">
          <dl class="kv" data-testid="rate-limits">
            <dt>Requests / minute</dt><dd>${app.rate_limit_rpm == null ? html`<span class="muted">No limit</span>` : num(app.rate_limit_rpm)}</dd>
            <dt>Tokens / minute</dt><dd>${app.rate_limit_tpm == null ? html`<span class="muted">No limit</span>` : num(app.rate_limit_tpm)}</dd>
          </dl>
        <//>
        <${Card} title="LLMs" subtitle="what this app may call">
          ${llms.length === 0 ? html`<p class="muted">None yet. Edit the app to choose LLMs.</p>` : html`<ul class="plain-list">
            ${llms.map((l) => html`<li><div><strong>${l.name}</strong> <${VendorChip} vendor=${l.vendor} /></div>
              <code class="small muted">${gatewayBase(l.slug)}</code></li>`)}</ul>`}
        <//>
      </div>
    </div>
    ${edit && html`<${ResourceDialog} res=${APPS} row=${app} ctx=${{ me }} onClose=${() => setEdit(false)}
      onSaved=${() => { setEdit(false); q.reload(); }} />`}`;
}
