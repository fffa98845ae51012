// app/portal.js: the developer portal — the LLM catalogue their groups
// grant (with prices and the gateway URL to use), their apps, and the
// three steps from nothing to a first call.
import { html } from './deps.js';
import { api, listAll } from './api.js';
import { PageHeader, Card, Button, EmptyState, ErrorBanner, Spinner, Chip, StatusChip, CopyField, VendorChip, useFetch } from './ui.js';
import { navigate } from './router.js';
import { Icon } from './icons.js';
import { price, gatewayBase, money } from './format.js';

function Step({ n, done, title, text, action }) {
  return html`<li class=${`step ${done ? 'done' : ''}`}>
    <span class="step-n" aria-hidden="true">${done ? html`<${Icon} name="check" size=${14} />` : n}</span>
    <div><strong>${title}</strong><p class="muted small">${text}</p>${action}</div>
  </li>`;
}

// prices: the LLM's page of GET /model-prices?llm_id= — the models its
// allowed patterns admit, matched by the database with the gateway's rule.
function LlmCard({ llm, prices }) {
  const mine = prices ? prices.data : [];
  return html`<article class="card llm-card" aria-labelledby=${`llm-${llm.id}`}>
    <div class="llm-card-head">
      <div class="llm-icon"><${Icon} name="cpu" size=${20} /></div>
      <div><h3 id=${`llm-${llm.id}`}>${llm.name}</h3><${VendorChip} vendor=${llm.vendor} /></div>
      ${!llm.active && html`<${Chip} tone="gray">Unavailable<//>`}
    </div>
    <dl class="kv">
      <dt>Default model</dt><dd>${llm.default_model ? html`<code>${llm.default_model}</code>` : html`<span class="muted">—</span>`}</dd>
      <dt>Models</dt><dd>${llm.allowed_models.length ? llm.allowed_models.map((m) => html`<code class="tag mono">${m}</code>`) : html`<span class="muted">Any model</span>`}</dd>
    </dl>
    ${mine.length > 0 ? html`<table class="mini-table"><caption class="sr-only">Prices per million tokens</caption>
      <thead><tr><th>Model</th><th class="num">Input / 1M</th><th class="num">Output / 1M</th></tr></thead>
      <tbody>${mine.map((p) => html`<tr><td><code>${p.model_name}</code></td>
        <td class="num">${price(p.input_per_mtok, p.currency)}</td><td class="num">${price(p.output_per_mtok, p.currency)}</td></tr>`)}</tbody></table>
      ${prices.total > mine.length && html`<p class="muted small">and ${prices.total - mine.length} more priced models</p>`}`
    : prices && html`<p class="muted small">No model of this LLM has a price yet: its requests are recorded at a cost of 0.</p>`}
    <div class="llm-url"><span class="muted small">OpenAI-compatible base URL</span>
      <${CopyField} value=${gatewayBase(llm.slug)} label=${`Base URL of ${llm.name}`} /></div>
  </article>`;
}

export function PortalPage({ me }) {
  const q = useFetch(async () => {
    const [llms, apps] = await Promise.all([listAll('/llms'), api.get('/apps', { page_size: 5 })]);
    const prices = await Promise.all(llms.map((l) => api.get('/model-prices', { llm_id: l.id, page_size: 4 }).catch(() => null)));
    let keys = 0;
    if (apps.data.length) {
      const r = await Promise.all(apps.data.map((a) => api.get(`/apps/${a.id}/credentials`, { page_size: 1 }).catch(() => ({ total: 0 }))));
      keys = r.reduce((s, x) => s + x.total, 0);
    }
    return { llms, prices, apps, keys };
  }, []);
  const header = html`<${PageHeader} title=${`Welcome, ${me.name || me.email}`} icon="compass"
    description="Build on the LLMs your team has access to. Your apps get their own keys, budgets and usage."
    actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => navigate('/apps')}>Create app<//>`} />`;
  if (q.error) return html`${header}<${ErrorBanner} error=${q.error} onRetry=${q.reload} />`;
  if (!q.data) return html`${header}<${Spinner} label="Loading your catalogue…" />`;
  const { llms, prices, apps, keys } = q.data;
  return html`${header}
    <${Card} title="Get started" subtitle="three steps to your first call">
      <ol class="steps">
        <${Step} n="1" done=${llms.length > 0} title="Get access to an LLM"
          text=${llms.length ? `Your groups grant ${llms.length} LLM${llms.length > 1 ? 's' : ''}.` : 'Ask an administrator to add you to a group that grants an LLM.'} />
        <${Step} n="2" done=${apps.total > 0} title="Create an app"
          text="An app holds your keys and budget." action=${apps.total === 0 && llms.length > 0 && html`<a href="#/apps">Create your first app →</a>`} />
        <${Step} n="3" done=${keys > 0} title="Create a key and call the gateway"
          text="Use any OpenAI SDK with the base URL below and your app's key." />
      </ol>
    <//>
    <h2 class="section-title">LLM catalogue</h2>
    ${llms.length === 0 ? html`<${Card}><${EmptyState} icon="cpu" title="No LLMs available to you yet"
        text="LLMs are granted to groups. Ask an administrator to add you to a group with access." /><//>`
      : html`<div class="llm-grid">${llms.map((l, i) => html`<${LlmCard} llm=${l} prices=${prices[i]} />`)}</div>`}
    <h2 class="section-title">Your apps</h2>
    <${Card} pad=${false}>
      ${apps.data.length === 0 ? html`<${EmptyState} icon="grid" title="No apps yet" text="Create an app to get an API key."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => navigate('/apps')}>Create app<//>`} />`
        : html`<ul class="app-list">${apps.data.map((a) => html`<li>
            <a href=${`#/apps/${a.id}`} class="strong">${a.name}</a>
            <span class="muted small">${a.llm_ids.length} LLM${a.llm_ids.length === 1 ? '' : 's'} · ${a.monthly_budget == null ? 'no budget' : `${money(a.monthly_budget)}/mo`}</span>
            <${StatusChip} on=${a.active} />
          </li>`)}${apps.total > apps.data.length && html`<li><a href="#/apps">All ${apps.total} apps →</a></li>`}</ul>`}
    <//>`;
}
