// app/dashboard.js: usage and cost from the rollups (/api/v1/analytics/*):
// totals, cost and tokens over time, breakdowns by vendor, model and app,
// top users and budget usage. Admins see everything; developers (as
// "Usage") see their own apps — the database decides what each may read.
// The range is a preset or custom UTC days; Export CSV downloads the usage
// over time of the range (GET /analytics/usage?format=csv).
import { html, useState, useMemo } from './deps.js';
import { api, qs } from './api.js';
import { PageHeader, Card, Stat, useFetch, ErrorBanner, Progress, Button, Spinner } from './ui.js';
import { TimeChart, BarList } from './charts.js';
import { money, compact, num, pct, budgetLeft } from './format.js';
import { vendorName, isAdmin } from './lookups.js';

const RANGES = [
  { id: '24h', label: '24 hours', hours: 24 },
  { id: '7d', label: '7 days', days: 7 },
  { id: '30d', label: '30 days', days: 30 },
  { id: '90d', label: '90 days', days: 90 },
  { id: 'custom', label: 'Custom' },
];

// A custom range: whole UTC days, both included (YYYY-MM-DD from the date
// inputs); hourly buckets up to two days, daily beyond.
function customRange(fromDay, toDay) {
  const from = new Date(`${fromDay}T00:00:00Z`);
  const to = new Date(new Date(`${toDay}T00:00:00Z`).getTime() + 86400e3);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) return null;
  const hourly = to - from <= 2 * 86400e3;
  return { from, to, step: hourly ? 3600 : 86400, groupBy: hourly ? 'hour' : 'day' };
}
const isoDay = (d) => d.toISOString().slice(0, 10);

// [from, to) on whole UTC days (the daily rollup) or hours.
function rangeOf(r) {
  const now = new Date();
  if (r.hours) {
    const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() + 1);
    return { from: new Date(end - r.hours * 3600e3), to: new Date(end), step: 3600, groupBy: 'hour' };
  }
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return { from: new Date(end - r.days * 86400e3), to: new Date(end), step: 86400, groupBy: 'day' };
}

const sum = (rows, k) => rows.reduce((a, r) => a + (Number(r[k]) || 0), 0);

// The currency most of the cost is in (rows come one per group and currency).
function mainCurrency(rows) {
  const by = {};
  for (const r of rows) by[r.currency] = (by[r.currency] || 0) + Number(r.cost || 0);
  return Object.keys(by).sort((a, b) => by[b] - by[a])[0] || 'USD';
}

function Segmented({ value, options, onChange, label }) {
  return html`<div class="segmented" role="radiogroup" aria-label=${label}>
    ${options.map((o) => html`<button type="button" role="radio" aria-checked=${value === o.id}
      class=${value === o.id ? 'on' : ''} onClick=${() => onChange(o.id)}>${o.label}</button>`)}
  </div>`;
}

function settle(p) { return p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e })); }

export function Dashboard({ me, path }) {
  const admin = isAdmin(me);
  const [rangeId, setRangeId] = useState('30d');
  const [type, setType] = useState('');
  const [custom, setCustom] = useState(() => ({ from: isoDay(new Date(Date.now() - 6 * 86400e3)), to: isoDay(new Date()) }));
  const range = RANGES.find((r) => r.id === rangeId);
  const span = rangeId === 'custom' ? customRange(custom.from, custom.to) : rangeOf(range);
  const rangeText = rangeId === 'custom' ? `${custom.from} to ${custom.to} (UTC)` : `last ${range.label}`;
  const q = useFetch(async () => {
    if (!span) throw new Error('Choose a start day on or before the end day.');
    const { from, to, step, groupBy } = span;
    const p = { from: from.toISOString(), to: to.toISOString(), interaction_type: type || undefined };
    const [series, vendors, models, apps, users, appBudgets, llmBudgets] = await Promise.all([
      settle(api.get('/analytics/usage', { ...p, group_by: groupBy })),
      settle(api.get('/analytics/usage', { ...p, group_by: 'vendor' })),
      settle(api.get('/analytics/top-models', { ...p, limit: 8 })),
      settle(api.get('/analytics/top-apps', { ...p, limit: 8 })),
      admin ? settle(api.get('/analytics/top-users', { ...p, limit: 8 })) : null,
      settle(api.get('/analytics/budgets', { subject: 'app', page_size: 8 })),
      admin ? settle(api.get('/analytics/budgets', { subject: 'llm', page_size: 8 })) : null,
    ]);
    return { from, to, step, series, vendors, models, apps, users, appBudgets, llmBudgets };
  }, [rangeId, type, rangeId === 'custom' ? `${custom.from}/${custom.to}` : '']);

  const d = q.data;
  const chart = useMemo(() => {
    if (!d || !d.series.ok) return null;
    const rows = d.series.v.data;
    const cur = mainCurrency(rows);
    const x = [];
    for (let t = d.from.getTime() / 1000; t < d.to.getTime() / 1000; t += d.step) x.push(t);
    const idx = new Map(x.map((t, i) => [t, i]));
    const cost = x.map(() => 0);
    const prompt = x.map(() => 0);
    const completion = x.map(() => 0);
    for (const r of rows) {
      const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(r.key) ? `${r.key}T00:00:00Z` : r.key) / 1000;
      const i = idx.get(t);
      if (i === undefined) continue;
      if (r.currency === cur) cost[i] += Number(r.cost) || 0;
      prompt[i] += (Number(r.prompt_tokens) || 0) + (Number(r.cache_read_tokens) || 0) + (Number(r.cache_write_tokens) || 0);
      completion[i] += Number(r.response_tokens) || 0;
    }
    const requests = sum(rows, 'requests');
    const errors = sum(rows, 'errors');
    const latW = rows.reduce((a, r) => a + (Number(r.avg_latency_ms) || 0) * (Number(r.requests) || 0), 0);
    return {
      cur, x, cost, prompt, completion, requests, errors,
      totalCost: sum(rows.filter((r) => r.currency === cur), 'cost'),
      otherCurrencies: [...new Set(rows.map((r) => r.currency))].filter((c) => c !== cur),
      tokens: sum(rows, 'total_tokens'),
      promptTokens: sum(rows, 'prompt_tokens'),
      responseTokens: sum(rows, 'response_tokens'),
      latency: requests > 0 ? latW / requests : null,
      costSeries: [{ label: `Cost (${cur})`, values: cost, color: '#6366f1', bars: true }],
      tokenSeries: [
        { label: 'Prompt tokens', values: prompt, color: '#0ea5e9' },
        { label: 'Completion tokens', values: completion, color: '#a855f7' },
      ],
    };
  }, [d]);

  const title = admin ? 'Dashboard' : 'Usage';
  const header = html`<${PageHeader} title=${title} icon=${admin ? 'dashboard' : 'activity'}
    description=${admin ? 'Spend, traffic and budgets across every app and LLM.' : 'Traffic, tokens and cost of your apps.'}
    actions=${html`
      <${Segmented} label="Time range" value=${rangeId} options=${RANGES} onChange=${setRangeId} />
      ${rangeId === 'custom' && html`<span class="date-range" role="group" aria-label="Custom range (UTC days)">
        <label class="sr-only" for="dash-from">From</label>
        <input id="dash-from" type="date" class="input input-inline" value=${custom.from} max=${custom.to}
          onChange=${(e) => setCustom((c) => ({ ...c, from: e.currentTarget.value }))} />
        <span aria-hidden="true">–</span>
        <label class="sr-only" for="dash-to">To</label>
        <input id="dash-to" type="date" class="input input-inline" value=${custom.to} min=${custom.from}
          onChange=${(e) => setCustom((c) => ({ ...c, to: e.currentTarget.value }))} /></span>`}
      <label class="sr-only" for="dash-type">Traffic</label>
      <select id="dash-type" class="input input-inline" value=${type} onChange=${(e) => setType(e.currentTarget.value)}>
        <option value="">All traffic</option><option value="proxy">Gateway (apps)</option><option value="chat">Chat</option>
      </select>
      <${Button} icon="refresh" onClick=${q.reload} busy=${q.loading && !!d} aria-label="Refresh">Refresh<//>
      ${span && html`<a class="btn btn-secondary" data-testid="usage-csv" download="usage.csv"
        href=${`/api/v1/analytics/usage${qs({ from: span.from.toISOString(), to: span.to.toISOString(), group_by: span.groupBy, interaction_type: type, format: 'csv' })}`}>Export CSV</a>`}`} />`;

  if (q.error) return html`${header}<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`;
  if (!d) return html`${header}<${Spinner} label="Loading analytics…" />`;
  if (!d.series.ok) return html`${header}<${ErrorBanner} error=${d.series.e} onRetry=${q.reload} />`;

  const c = chart;
  const noData = c.requests === 0;
  const cur = c.cur;
  // rows without an app, user or model (chat traffic, refused requests) come
  // labelled by the API ("Chat", "No app", "Unknown model")
  const toRows = (res, labelOf, subOf) => (res && res.ok ? res.v.data.map((r) => ({
    key: `${r.key}-${r.label}-${r.currency}`, label: labelOf(r), sub: subOf ? subOf(r) : null, value: Number(r.cost) || 0,
    display: html`<strong>${money(r.cost, r.currency)}</strong><small>${compact(r.total_tokens)} tok · ${compact(r.requests)} req</small>`,
  })) : []);
  const breakdown = (title, subtitle, res, labelOf, subOf, color) => html`<${Card} title=${title} subtitle=${subtitle}>
    ${res && !res.ok ? html`<${ErrorBanner} error=${res.e} />`
      : toRows(res, labelOf, subOf).length === 0 ? html`<p class="muted empty-inline">No traffic in this period.</p>`
        : html`<${BarList} rows=${toRows(res, labelOf, subOf)} color=${color} valueLabel=${title} />`}
  <//>`;
  const budgets = (res, kind) => {
    if (!res) return null;
    if (!res.ok) return html`<${ErrorBanner} error=${res.e} />`;
    const rows = res.v.data;
    if (rows.length === 0) return html`<p class="muted empty-inline">No ${kind} has a monthly budget.</p>`;
    return html`<ul class="budget-list">${rows.map((b) => html`<li key=${`${b.subject}-${b.subject_id}`}>
      <div class="budget-row"><span class="budget-name">${b.name}</span>
        <span class="muted">${money(b.spent)} of ${b.monthly_budget == null ? '—' : money(b.monthly_budget)} · ${pct(b.percent_used)}${Number(b.remaining) < 0 ? ` · ${budgetLeft(b.remaining)}` : ''}</span></div>
      <${Progress} value=${b.percent_used} label=${`${b.name}: ${pct(b.percent_used)} of the budget used`} />
    </li>`)}</ul>`;
  };

  return html`${header}
    ${noData && html`<div class="alert alert-info" role="status"><div class="alert-body">
      <strong>No traffic ${rangeId === 'custom' ? `from ${rangeText}` : `in the ${rangeText}`}.</strong> Numbers appear here once apps call the gateway
      (the rollups run every few minutes).</div></div>`}
    <div class="stats">
      <${Stat} icon="dollar" tone="indigo" label="Spend" value=${html`<span data-testid="kpi-cost">${money(c.totalCost, cur)}</span>`}
        sub=${c.otherCurrencies.length ? `+ costs in ${c.otherCurrencies.join(', ')}` : rangeText} />
      <${Stat} icon="zap" tone="sky" label="Requests" value=${html`<span data-testid="kpi-requests">${num(c.requests)}</span>`}
        sub=${c.requests ? `${pct((100 * c.errors) / c.requests)} errors` : 'no requests'} />
      <${Stat} icon="layers" tone="violet" label="Tokens" value=${html`<span data-testid="kpi-tokens">${num(c.tokens)}</span>`}
        sub=${`${compact(c.promptTokens)} prompt · ${compact(c.responseTokens)} completion`} />
      <${Stat} icon="clock" tone="emerald" label="Avg latency" value=${c.latency == null ? '—' : `${Math.round(c.latency)} ms`}
        sub="end to end, per request" />
    </div>
    <div class="grid-2">
      <${Card} title="Cost over time" subtitle=${`${cur} per ${d.step === 3600 ? 'hour' : 'day'}`}>
        <${TimeChart} x=${c.x} series=${c.costSeries} fmt=${(v) => money(v, cur)} step=${d.step} label="Cost over time" />
      <//>
      <${Card} title="Tokens over time" subtitle="prompt and completion">
        <${TimeChart} x=${c.x} series=${c.tokenSeries} fmt=${compact} step=${d.step} label="Tokens over time" />
      <//>
    </div>
    <div class="grid-3">
      ${breakdown('By vendor', 'cost per vendor', d.vendors, (r) => (r.key === 'unknown' ? r.label : vendorName(r.key)), null, 'sky')}
      ${breakdown('Top models', 'highest cost first', d.models, (r) => r.label, (r) => (r.key ? vendorName(r.vendor) : null), 'violet')}
      ${breakdown(admin ? 'Top apps' : 'Your apps', 'highest cost first', d.apps, (r) => r.label, null, 'indigo')}
    </div>
    <div class=${admin ? 'grid-3' : 'grid-1'}>
      ${admin && breakdown('Top users', 'by cost of their apps and chats', d.users, (r) => r.label, null, 'emerald')}
      <${Card} title="App budgets" subtitle="this month">${budgets(d.appBudgets, 'app')}<//>
      ${admin && html`<${Card} title="LLM budgets" subtitle="this month">${budgets(d.llmBudgets, 'LLM')}<//>`}
    </div>`;
}
