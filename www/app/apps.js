// app/apps.js: apps and their API keys. Admins see every app (with its
// owner); developers see their own ("My apps") and may use only the LLMs
// their groups grant. A new or rotated key is shown once, with a copy button.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, TextArea, SelectField, Toggle, CheckList,
  RowActions, IconButton, EmptyState, ErrorBanner, Spinner, SecretOnceDialog, Progress, SearchBox, useAction,
  usePagedList, useFetch, useDebounced, confirmDialog, toast, Notice,
} from './ui.js';
import { TimeChart } from './charts.js';
import { navigate } from './router.js';
import { money, num, compact, dateTime, ago, pct, gatewayBase } from './format.js';
import { VendorChip } from './llms.js';

const isAdmin = (me) => me.role === 'admin' || me.role === 'super_admin';

function AppDialog({ me, app, onClose, onSaved }) {
  const admin = isAdmin(me);
  const editing = !!app;
  const [f, setF] = useState(() => ({
    name: app ? app.name : '', description: app ? app.description || '' : '', llm_ids: app ? [...app.llm_ids] : [],
    monthly_budget: app && app.monthly_budget != null ? String(app.monthly_budget) : '', active: app ? app.active : true,
    owner_id: app ? String(app.owner_id) : String(me.id), namespace: app ? app.namespace : '',
  }));
  const set = (p) => setF((x) => ({ ...x, ...p }));
  const refs = useFetch(async () => {
    const [llms, users, namespaces] = await Promise.all([
      listAll('/llms'),
      admin ? listAll('/users') : Promise.resolve([]),
      admin ? listAll('/namespaces').catch(() => []) : Promise.resolve([]),
    ]);
    return { llms, users, namespaces };
  }, []);
  const act = useAction();
  const save = () => act.run(async () => {
    if (!f.name.trim()) throw new Error('Give the app a name.');
    const b = {
      name: f.name.trim(), description: f.description, llm_ids: f.llm_ids,
      monthly_budget: f.monthly_budget === '' ? null : Number(f.monthly_budget),
    };
    if (editing) b.active = f.active;
    if (admin) { b.owner_id = Number(f.owner_id); b.namespace = f.namespace; }
    if (!editing && b.monthly_budget === null) delete b.monthly_budget;
    const r = editing ? await api.patch(`/apps/${app.id}`, b) : await api.post('/apps', b);
    toast(editing ? `Saved ${r.name}` : `Created ${r.name}`, 'success');
    onSaved(r, !editing);
  }).catch(() => {});
  const llms = refs.data ? refs.data.llms : [];
  return html`<${Dialog} open title=${editing ? `Edit ${app.name}` : 'Create an app'} size="lg" onClose=${onClose}
      description="An app is what calls the gateway: it gets its own API keys, LLMs and budget.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error || refs.error}
        submitLabel=${editing ? 'Save changes' : 'Create app'}>
      <div class="form-grid">
        <${TextField} label="Name" value=${f.name} onInput=${(v) => set({ name: v })} required autofocus placeholder="support-bot" />
        <${TextField} label="Monthly budget (USD)" type="number" min="0" step="0.01" value=${f.monthly_budget}
          onInput=${(v) => set({ monthly_budget: v })} hint="Optional. Requests are refused once it is spent." />
        <${TextArea} class="span-2" label="Description" rows=${2} value=${f.description} onInput=${(v) => set({ description: v })} />
        ${admin && html`<${SelectField} label="Owner" value=${f.owner_id} onChange=${(v) => set({ owner_id: v })}
          options=${(refs.data ? refs.data.users : [me]).map((u) => [String(u.id), `${u.name} <${u.email}>`])} />`}
        ${admin && html`<${SelectField} label="Namespace" value=${f.namespace} onChange=${(v) => set({ namespace: v })}
          options=${[['', 'Global'], ...(refs.data ? refs.data.namespaces : []).filter((n) => n.name).map((n) => [n.name, n.name])]} />`}
      </div>
      ${refs.loading ? html`<${Spinner} label="Loading LLMs…" />` : html`<${CheckList} label="LLMs this app may call" items=${llms.map((l) => ({
        id: l.id, label: l.name, sub: `/ai/${l.slug}/v1`,
      }))} selected=${f.llm_ids} onChange=${(v) => set({ llm_ids: v })}
        empty=${admin ? 'No LLMs yet: add one on the LLMs page.' : 'Your groups grant no LLMs yet. Ask an administrator for access.'} />`}
      ${editing && html`<${Toggle} label="Active" checked=${f.active} onChange=${(v) => set({ active: v })} hint="Inactive apps' keys are refused." />`}
    <//>
  <//>`;
}

export function AppsPage({ me }) {
  const admin = isAdmin(me);
  const [search, setSearch] = useState('');
  const q = useDebounced(search);
  const list = usePagedList((p) => api.get('/apps', { ...p, search: q || undefined }), [q]);
  const users = useFetch(() => (admin ? listAll('/users') : Promise.resolve([])), []);
  const llms = useFetch(() => listAll('/llms'), []);
  const [dlg, setDlg] = useState(false);
  const owner = (id) => {
    const u = users.data && users.data.find((x) => x.id === id);
    return u ? u.email : `#${id}`;
  };
  const llmName = (id) => {
    const l = llms.data && llms.data.find((x) => x.id === id);
    return l ? l.name : `#${id}`;
  };
  const cols = [
    { key: 'name', label: 'App', render: (a) => html`<div class="cell-main"><a href=${`#/apps/${a.id}`} class="strong">${a.name}</a>
      ${a.description && html`<span class="muted small clamp">${a.description}</span>`}</div>` },
    admin && { key: 'owner', label: 'Owner', render: (a) => owner(a.owner_id) },
    { key: 'llms', label: 'LLMs', render: (a) => (a.llm_ids.length ? html`<div class="chips">${a.llm_ids.slice(0, 3).map((id) => html`<${Chip} tone="blue">${llmName(id)}<//>`)}
      ${a.llm_ids.length > 3 && html`<span class="muted">+${a.llm_ids.length - 3}</span>`}</div>` : html`<span class="muted">None</span>`) },
    { key: 'budget', label: 'Budget', render: (a) => (a.monthly_budget == null ? html`<span class="muted">No limit</span>` : `${money(a.monthly_budget)}/mo`) },
    admin && { key: 'ns', label: 'Namespace', render: (a) => (a.namespace ? html`<code>${a.namespace}</code>` : html`<span class="muted">Global</span>`) },
    { key: 'active', label: 'Status', render: (a) => html`<${Chip} tone=${a.active ? 'green' : 'gray'} dot>${a.active ? 'Active' : 'Inactive'}<//>` },
    { key: 'x', label: '', class: 'cell-actions', render: (a) => html`<${Button} size="sm" onClick=${() => navigate(`/apps/${a.id}`)}>Open<//>` },
  ].filter(Boolean);
  return html`
    <${PageHeader} title=${admin ? 'Apps' : 'My apps'} icon="grid"
      description=${admin ? 'Every application that calls the gateway, its keys, LLMs and budget.' : 'Your applications, their API keys and budgets.'}
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg(true)}>Create app<//>`} />
    <${Card} pad=${false} title=${admin ? 'All apps' : 'Your apps'} actions=${html`<${SearchBox} value=${search} onInput=${setSearch} placeholder="Search apps…" label="Search apps" />`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Apps"
        empty=${html`<${EmptyState} icon="grid" title=${q ? 'No app matches' : 'No apps yet'}
          text=${q ? 'Try another name.' : 'Create an app to get an API key for the gateway.'}
          action=${!q && html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg(true)}>Create app<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${AppDialog} me=${me} onClose=${() => setDlg(false)}
      onSaved=${(a) => { setDlg(false); list.reload(); navigate(`/apps/${a.id}`); }} />`}`;
}

function Credentials({ app }) {
  const list = usePagedList((p) => api.get(`/apps/${app.id}/credentials`, p), [app.id], 10);
  const [shown, setShown] = useState(null);
  const act = useAction();
  const issue = () => act.run(async () => {
    const r = await api.post(`/apps/${app.id}/credentials`);
    setShown({ ...r, title: 'Your new API key' });
    list.reload();
  }).catch((e) => toast(e.message, 'error'));
  const rotate = (c) => confirmDialog({
    title: `Rotate key ${c.key_prefix}…?`, confirmLabel: 'Rotate key',
    text: 'A new key replaces this one, which stops working at once. Update the app with the new key.',
    action: async () => {
      const r = await api.post(`/apps/${app.id}/credentials/${c.id}/rotate`);
      setShown({ ...r, title: 'Your rotated API key' });
    },
  }).then((ok) => ok && list.reload());
  const revoke = (c) => confirmDialog({
    title: `Revoke key ${c.key_prefix}…?`, danger: true, confirmLabel: 'Revoke key',
    text: 'Requests with this key are refused from now on. This cannot be undone.',
    action: () => api.del(`/apps/${app.id}/credentials/${c.id}`),
  }).then((ok) => { if (ok) { toast('Key revoked', 'success'); list.reload(); } });
  const rows = list.data && list.data.data;
  const cols = [
    { key: 'key_prefix', label: 'Key', render: (c) => html`<code>${c.key_prefix}…</code>` },
    { key: 'created', label: 'Created', render: (c) => html`<span class="small">${dateTime(c.created_at)}</span>` },
    { key: 'used', label: 'Last used', render: (c) => html`<span class="small">${ago(c.last_used_at)}</span>` },
    { key: 'state', label: 'Status', render: (c) => html`<${Chip} tone=${c.active ? 'green' : 'gray'} dot>${c.active ? 'Active' : 'Revoked'}<//>` },
    { key: 'x', label: '', class: 'cell-actions', render: (c) => c.active && html`<${RowActions}>
      <${IconButton} icon="refresh" label=${`Rotate ${c.key_prefix}`} onClick=${() => rotate(c)} />
      <${IconButton} icon="trash" kind="danger" label=${`Revoke ${c.key_prefix}`} onClick=${() => revoke(c)} /><//>` },
  ];
  return html`<${Card} title="API keys" subtitle="Only a hash is stored; a key is shown once." pad=${false}
      actions=${html`<${Button} kind="primary" icon="key" onClick=${issue} busy=${act.busy} data-testid="create-key">Create key<//>`}>
    <${Table} columns=${cols} rows=${rows} loading=${list.loading} error=${list.error} onRetry=${list.reload} caption="API keys"
      empty=${html`<${EmptyState} icon="key" title="No keys yet" text="Create a key and give it to your application."
        action=${html`<${Button} kind="primary" icon="key" onClick=${issue} busy=${act.busy}>Create key<//>`} />`} />
    <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <${SecretOnceDialog} open=${!!shown} title=${shown ? shown.title : ''} value=${shown ? shown.key : ''} what="key" onClose=${() => setShown(null)}>
      <p class="muted small">Use it as <code>Authorization: Bearer …</code> (or <code>x-api-key</code>) against the gateway.</p>
    <//>
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
      actions=${html`<${Chip} tone=${app.active ? 'green' : 'gray'} dot>${app.active ? 'Active' : 'Inactive'}<//>
        <${Button} icon="edit" onClick=${() => setEdit(true)}>Edit<//>
        <${Button} icon="trash" kind="danger-ghost" onClick=${remove}>Delete<//>`} />
    ${!app.active && html`<${Notice} tone="warning" icon="alert">This app is inactive: the gateway refuses its keys.<//>`}
    <div class="grid-2-1">
      <div class="stack">
        <${Credentials} app=${app} />
        <${Card} title="Usage" subtitle="last 30 days"><${AppUsage} app=${app} /><//>
        <${Card} title="Quick start"><${QuickStart} llms=${llms} /><//>
      </div>
      <div class="stack">
        <${Card} title="Budget" subtitle=${budget ? `${budget.period_start} – ${budget.period_end}` : 'this month'}>
          ${budget ? html`<div class="budget-big">
              <strong>${money(budget.spent)}</strong><span class="muted"> of ${budget.monthly_budget == null ? 'no limit' : money(budget.monthly_budget)}</span>
            </div>
            ${budget.monthly_budget != null && html`<${Progress} value=${budget.percent_used} label="Budget used" />
              <p class="muted small">${pct(budget.percent_used)} used · ${money(budget.remaining)} left</p>`}`
            : html`<p class="muted">No budget information.</p>`}
        <//>
        <${Card} title="LLMs" subtitle="what this app may call">
          ${llms.length === 0 ? html`<p class="muted">None yet. Edit the app to choose LLMs.</p>` : html`<ul class="plain-list">
            ${llms.map((l) => html`<li><div><strong>${l.name}</strong> <${VendorChip} vendor=${l.vendor} /></div>
              <code class="small muted">${gatewayBase(l.slug)}</code></li>`)}</ul>`}
        <//>
      </div>
    </div>
    ${edit && html`<${AppDialog} me=${me} app=${app} onClose=${() => setEdit(false)} onSaved=${() => { setEdit(false); q.reload(); }} />`}`;
}
