// app/llms.js: the LLMs page (admins): list, create and edit. The vendor
// picker offers the vendors of GET /api/v1/vendors and fills the vendor's
// default endpoint and model; the key comes from the secret store ($SECRET/
// picker), is pasted (sealed by the database at once) or is absent; allowed
// models (regular expressions), namespace and budget. "Test connection"
// (a row action) makes one small call to the LLM's upstream through the
// gateway and shows its status, latency and error; "Fetch models" in the
// edit dialog offers the vendor's model list for the allowed models.
import { html, useState } from './deps.js';
import { Chip, StatusChip, VendorChip, SecretPicker, useId, Dialog, Button, Spinner, ErrorBanner, IconButton, useFetch, useAction } from './ui.js';
import { api } from './api.js';
import { ResourcePage, fieldError } from './resource.js';
import { options, vendor, vendorName } from './lookups.js';
import { money } from './format.js';

function KeyCell({ llm }) {
  if (llm.api_key_ref) return html`<${Chip} tone="purple" title="Resolved from the secret store">${llm.api_key_ref}<//>`;
  if (llm.has_api_key) return html`<${Chip} tone="gray" title="A literal key, sealed in the database">Sealed key<//>`;
  return html`<span class="muted">None</span>`;
}

// How the key is given: the form's keyMode, secret and literal.
function keyState(l) {
  const keyMode = !l ? 'secret' : l.api_key_ref ? 'secret' : l.has_api_key ? 'keep' : 'none';
  return { keyMode, keyModeOrig: keyMode, secret: l && l.api_key_ref ? l.api_key_ref.replace(/^\$SECRET\//, '') : '', literal: '' };
}

// api_key in the body: a $SECRET/ reference, a literal, '' for none; not sent to keep the sealed key
function keyOut(v, f) {
  if (f.keyMode === 'secret') return f.secret ? `$SECRET/${f.secret}` : '';
  if (f.keyMode === 'literal') return f.literal;
  if (f.keyMode === 'none') return '';
  return undefined;
}

function KeyPicker({ values: form, set, row, refs }) {
  const id = useId('key');
  const modes = [['secret', 'From the secret store'], ['literal', 'Paste a key'], ['none', 'No key']];
  if (row && form.keyModeOrig === 'keep') modes.unshift(['keep', 'Keep the sealed key']);
  return html`<fieldset class="field key-picker">
    <legend>API key</legend>
    <div class="radio-row" role="radiogroup">
      ${modes.map(([v, l]) => html`<label class="radio"><input type="radio" name=${id} value=${v}
        checked=${form.keyMode === v} onChange=${() => set({ keyMode: v })} /> ${l}</label>`)}
    </div>
    ${form.keyMode === 'secret' && html`<${SecretPicker} id=${`${id}-s`} value=${form.secret} secrets=${refs.secrets || []}
      onChange=${(v) => set({ secret: v })}
      hint="The gateway resolves the reference when it loads its configuration; rotating the secret rotates every LLM that uses it." />`}
    ${form.keyMode === 'literal' && html`<input class="input mono" type="password" autocomplete="off" aria-label="API key"
      value=${form.literal} onInput=${(e) => set({ literal: e.currentTarget.value })} placeholder="sk-…" />
      <p class="hint">Sealed with AES-256-GCM as soon as it is saved; it is never shown again.</p>`}
  </fieldset>`;
}

// A new vendor fills its default endpoint and model where the form still
// holds the old vendor's (or nothing), and "No key" when it needs none.
function onVendor(v, f) {
  const old = vendor(f.vendor) || {};
  const next = vendor(v) || {};
  const patch = { vendor: v };
  if (!f.api_endpoint || f.api_endpoint === old.default_endpoint) patch.api_endpoint = next.default_endpoint || '';
  if (!f.default_model || f.default_model === old.default_model) patch.default_model = next.default_model || '';
  if (next.key_required === false && f.keyMode !== 'keep') patch.keyMode = 'none';
  return patch;
}

// The result of POST /llms/{id}/test, run when the dialog opens and again on demand.
function TestDialog({ llm, onClose }) {
  const run = useFetch(() => api.post(`/llms/${llm.id}/test`), [llm.id]);
  const t = run.data;
  return html`<${Dialog} open title=${`Test connection: ${llm.name}`} size="sm" onClose=${onClose}
      description="One small call to the vendor with the LLM's key, through the gateway.">
    <div class="dialog-body" data-testid="llm-test-result">
      ${run.loading && html`<${Spinner} label="Calling the vendor…" />`}
      ${run.error && html`<${ErrorBanner} error=${run.error} />`}
      ${t && !run.loading && html`<div class="stack-sm">
        <div>${t.ok ? html`<${Chip} tone="green" dot>Connected<//>` : html`<${Chip} tone="red" dot>Failed<//>`}</div>
        <dl class="kv">
          <dt>Upstream status</dt><dd>${t.status == null ? 'no answer' : `HTTP ${t.status}`}</dd>
          <dt>Latency</dt><dd>${t.latency_ms} ms</dd>
          <dt>Call</dt><dd><code>${t.method} ${t.path}</code></dd>
          ${t.models != null && html`<dt>Models</dt><dd>${t.models}</dd>`}
        </dl>
        ${t.error && html`<div class="alert alert-error" role="alert"><div class="alert-body"><strong>${t.error}</strong></div></div>`}
      </div>`}
    </div>
    <footer class="dialog-foot">
      <${Button} kind="ghost" onClick=${onClose}>Close<//>
      <${Button} kind="primary" icon="refresh" onClick=${run.reload} busy=${run.loading}>Test again<//>
    </footer>
  <//>`;
}

// Regular expression matching exactly one model name.
const exactly = (m) => '^' + m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';

// "Fetch models": the vendor's list; a click adds the model's exact pattern.
function FetchModels({ values, set, row }) {
  const act = useAction();
  const [list, setList] = useState(null);
  if (!row) return html`<p class="hint">Save the LLM first to fetch its vendor's models.</p>`;
  const fetchList = () => act.run(async () => setList((await api.get(`/llms/${row.id}/models`)).data)).catch(() => {});
  const have = new Set(values.allowed_models || []);
  return html`<div class="field fetch-models">
    <div><${Button} size="sm" icon="list" onClick=${fetchList} busy=${act.busy}>Fetch models from the vendor<//></div>
    ${act.error && html`<p class="field-error" role="alert">${act.error.message}</p>`}
    ${list && (list.length === 0 ? html`<p class="hint">The vendor lists no models.</p>`
    : html`<div class="chips" aria-label="Models the vendor offers">${list.map((m) => (have.has(exactly(m))
      ? html`<${Chip} tone="green">${m}<//>`
      : html`<button type="button" class="chip chip-gray chip-btn" title="Allow exactly this model"
          onClick=${() => set({ allowed_models: [...(values.allowed_models || []), exactly(m)] })}>+ ${m}</button>`))}</div>
      <p class="hint">Click a model to allow exactly it.</p>`)}
  </div>`;
}

const firstVendor = () => vendor(options('vendors')[0]?.[0]) || {};
const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

const LLMS = {
  path: '/llms',
  title: 'LLMs',
  icon: 'cpu',
  description: 'The model providers the gateway routes to, their keys and which models they allow.',
  listTitle: 'All LLMs',
  filters: [{ name: 'vendor', label: 'Vendor', id: 'llm-vendor', all: 'All vendors', options: () => options('vendors') }],
  create: { label: 'Add LLM' },
  columns: [
    { key: 'name', label: 'Name', render: (l) => html`<div class="cell-main"><strong>${l.name}</strong><code class="muted">${l.slug}</code></div>` },
    { key: 'vendor', label: 'Vendor', render: (l) => html`<${VendorChip} vendor=${l.vendor} />` },
    { key: 'api_endpoint', label: 'Endpoint', class: 'cell-url', render: (l) => html`<span class="mono small" title=${l.api_endpoint}>${l.api_endpoint}</span>` },
    { key: 'key', label: 'Key', render: (l) => html`<${KeyCell} llm=${l} />` },
    { key: 'models', label: 'Models', render: (l) => (l.allowed_models.length ? html`<span title=${l.allowed_models.join('\n')}>${l.allowed_models.length} pattern${l.allowed_models.length > 1 ? 's' : ''}</span>` : html`<span class="muted">Any</span>`) },
    { key: 'budget', label: 'Budget', render: (l) => (l.monthly_budget == null ? html`<span class="muted">—</span>` : `${money(l.monthly_budget)}/mo`) },
    { key: 'active', label: 'Status', render: (l) => html`<${StatusChip} on=${l.active} />` },
  ],
  empty: (ctx) => ({
    title: ctx.filters.vendor ? `No ${vendorName(ctx.filters.vendor)} LLMs` : 'No LLMs yet', action: true,
    text: 'Add a provider such as OpenAI, Anthropic or a local Ollama. Keep its key in the secret store and reference it.',
  }),
  rowActions: (l, ctx) => html`<${IconButton} icon="activity" label=${`Test connection of ${l.name}`} onClick=${() => ctx.test(l)} />`,
  remove: {
    confirmLabel: 'Delete LLM',
    text: 'Apps lose access to it at once and its grants are removed. Analytics already recorded are kept.',
  },
  form: {
    add: 'Add an LLM',
    description: 'An upstream model provider the gateway routes to.',
    size: 'lg',
    create: 'Create LLM',
    init: (l) => ({
      ...keyState(l),
      ...(l ? {} : { vendor: firstVendor().name || '', api_endpoint: firstVendor().default_endpoint || '', default_model: firstVendor().default_model || '' }),
    }),
    check: (f) => {
      if (!f.name.trim()) throw fieldError('name', 'Give the LLM a name.');
      if (f.keyMode === 'secret' && !f.secret) throw fieldError('api_key', 'Choose the secret that holds the key, or pick "No key".');
    },
    fields: [
      [
        { name: 'name', label: 'Name', required: true, autofocus: true,
          hint: (f) => (f.name ? html`Gateway path: <code>/ai/${slug(f.name)}/v1</code>` : 'Shown to developers; its slug is used in gateway URLs.') },
        { name: 'vendor', label: 'Vendor', type: 'select', options: () => options('vendors'), onChange: onVendor,
          hint: (f) => (vendor(f.vendor) || {}).description },
        { name: 'api_endpoint', label: 'API endpoint', required: true, mono: true, span2: true,
          hint: "The vendor's base URL; requests append the vendor path to it." },
      ],
      { name: 'api_key', type: 'custom', refs: 'secrets', render: (p) => html`<${KeyPicker} ...${p} />`, out: keyOut, omitEmpty: true,
        aliases: ['secret reference'] },
      [
        { name: 'default_model', label: 'Default model', mono: true, hint: 'Used when a request names no model.' },
        { name: 'namespace', label: 'Namespace', type: 'namespace', global: 'Global (all gateways)', hint: 'Edges run the LLMs of their namespace.' },
      ],
      { name: 'allowed_models', label: 'Allowed models', type: 'tags', placeholder: '^gpt-4o, ^claude-…',
        hint: 'Regular expressions a requested model must match. Leave empty to allow any model. Press Enter to add.' },
      { name: 'fetch_models', type: 'custom', send: false, render: (p) => html`<${FetchModels} ...${p} />` },
      [
        { name: 'monthly_budget', label: 'Monthly budget (USD)', type: 'number', omitEmpty: true, attrs: { min: '0', step: '0.01' },
          hint: 'Optional. Requests are refused once it is spent.' },
        { name: 'active', label: 'Active', type: 'toggle', hint: 'Inactive LLMs refuse every request.' },
      ],
      [
        { name: 'rate_limit_rpm', label: 'Requests / minute', type: 'number', omitEmpty: true, attrs: { min: '1', max: '1000000000', step: '1' },
          hint: 'Optional. All apps together, per gateway (429 beyond).' },
        { name: 'rate_limit_tpm', label: 'Tokens / minute', type: 'number', omitEmpty: true, attrs: { min: '1', max: '1000000000', step: '1' },
          hint: 'Optional. Prompt + completion tokens, per gateway.' },
      ],
      [
        { name: 'capture_bodies', label: 'Capture request and response bodies', type: 'toggle', default: false,
          hint: 'Off by default. Shown in the request log to admins and the app owner; kept for the body retention period.' },
        { name: 'capture_max_bytes', label: 'Max bytes per body', type: 'number', omitEmpty: true,
          attrs: { min: '256', max: '1048576', step: '1' }, hint: 'Optional; 16384 when empty. Longer bodies are cut there and marked truncated.' },
      ],
    ],
  },
};

export function LlmsPage({ me }) {
  const [testing, setTesting] = useState(null);
  return html`<${ResourcePage} res=${LLMS} me=${me} extra=${{ test: setTesting }} />
    ${testing && html`<${TestDialog} llm=${testing} onClose=${() => setTesting(null)} />`}`;
}
