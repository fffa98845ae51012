// app/prices.js: model prices (admins), per million tokens: input, output,
// cache write and cache read (empty = the input price). The database
// computes every request's cost from these. A new price may take its model
// name from the model list of one of the vendor's LLMs (GET /llms/{id}/models).
import { html, useState } from './deps.js';
import { Notice, VendorChip, SelectField, Button, useAction } from './ui.js';
import { api } from './api.js';
import { ResourcePage, fieldError } from './resource.js';
import { options } from './lookups.js';
import { price, money, dateTime } from './format.js';

const sameAsInput = (v, cur) => (v == null ? html`<span class="muted">= input</span>` : price(v, cur));

// what 1,000 prompt + 1,000 completion tokens cost, as a check
function Sample({ values: f }) {
  if (f.input_per_mtok === '' || f.output_per_mtok === '') return null;
  const sample = (Number(f.input_per_mtok) + Number(f.output_per_mtok)) / 1000;
  return html`<${Notice}>1,000 prompt + 1,000 completion tokens cost <strong>${money(sample, f.currency || 'USD')}</strong>.<//>`;
}

// The models of an LLM of the chosen vendor, as its vendor lists them; a
// click puts the name in the Model field.
function ModelsFromLlm({ values: f, set, refs }) {
  const [llmId, setLlmId] = useState('');
  const [list, setList] = useState(null);
  const act = useAction();
  const llms = (refs.llms || []).filter((l) => l.vendor === f.vendor);
  if (llms.length === 0) return null;
  const chosen = llmId || String(llms[0].id);
  const fetchList = () => act.run(async () => setList((await api.get(`/llms/${chosen}/models`)).data)).catch(() => {});
  return html`<div class="field fetch-models span-2">
    <div class="form-grid">
      <${SelectField} label="Models of LLM" value=${chosen} onChange=${(v) => { setLlmId(v); setList(null); }}
        options=${llms.map((l) => [String(l.id), l.name])} hint="Fill the model name from the vendor's list." />
      <div><${Button} size="sm" icon="list" onClick=${fetchList} busy=${act.busy}>Fetch models<//></div>
    </div>
    ${act.error && html`<p class="field-error" role="alert">${act.error.message}</p>`}
    ${list && html`<div class="chips" aria-label="Models of the LLM">${list.map((m) => html`<button type="button"
      class=${`chip chip-btn ${f.model_name === m ? 'chip-green' : 'chip-gray'}`} onClick=${() => set({ model_name: m })}>${m}</button>`)}</div>`}
  </div>`;
}

const perMtok = (name, label, more = {}) => ({ name, label, type: 'number', attrs: { min: '0', step: 'any' }, ...more });

const PRICES = {
  path: '/model-prices',
  label: (r) => r.model_name,
  title: 'Model prices',
  icon: 'tag',
  description: 'What each model costs per million tokens. Costs are computed in the database, exactly.',
  listTitle: 'Price list',
  filters: [{ name: 'vendor', label: 'Vendor', id: 'price-vendor', all: 'All vendors', options: () => options('vendors') }],
  create: { label: 'Set price' },
  columns: [
    { key: 'model_name', label: 'Model', render: (r) => html`<code class="strong">${r.model_name}</code>` },
    { key: 'vendor', label: 'Vendor', render: (r) => html`<${VendorChip} vendor=${r.vendor} />` },
    { key: 'in', label: 'Input / 1M', class: 'num', render: (r) => price(r.input_per_mtok, r.currency) },
    { key: 'out', label: 'Output / 1M', class: 'num', render: (r) => price(r.output_per_mtok, r.currency) },
    { key: 'cw', label: 'Cache write', class: 'num', render: (r) => sameAsInput(r.cache_write_per_mtok, r.currency) },
    { key: 'cr', label: 'Cache read', class: 'num', render: (r) => sameAsInput(r.cache_read_per_mtok, r.currency) },
    { key: 'updated_at', label: 'Updated', render: (r) => html`<span class="muted small">${dateTime(r.updated_at)}</span>` },
  ],
  editLabel: (r) => `Edit the price of ${r.model_name}`,
  empty: () => ({ title: 'No prices yet', text: 'Without a price, requests are recorded with a cost of 0.', action: true }),
  remove: {
    title: (r) => `Delete the price of ${r.model_name}?`,
    label: (r) => `Delete the price of ${r.model_name}`,
    confirmLabel: 'Delete price',
    text: 'Requests for this model will then cost 0 until a price is set again.',
    done: () => 'Price deleted',
  },
  form: {
    title: (r) => (r ? `Price of ${r.model_name}` : 'Set a model price'),
    description: 'Prices are per million tokens.',
    submitLabel: 'Save price',
    toast: (r) => `Saved the price of ${r.model_name}`,
    init: (r) => (r ? {} : { vendor: (options('vendors')[0] || [''])[0] }),
    check: (f, r) => {
      if (!r && !f.model_name.trim()) throw fieldError('model_name', 'Enter the model name exactly as requests send it.');
      if (f.input_per_mtok === '') throw fieldError('input_per_mtok', 'Enter the input and output prices.');
      if (f.output_per_mtok === '') throw fieldError('output_per_mtok', 'Enter the input and output prices.');
    },
    fields: [
      [
        { name: 'vendor', label: 'Vendor', type: 'select', options: () => options('vendors'), fixed: true },
        { name: 'model_name', label: 'Model', mono: true, required: true, autofocus: (r) => !r, fixed: true,
          placeholder: 'gpt-4o', hint: 'As the model appears in requests and responses.' },
        perMtok('input_per_mtok', 'Input / 1M tokens', { required: true, autofocus: (r) => !!r }),
        perMtok('output_per_mtok', 'Output / 1M tokens', { required: true }),
        perMtok('cache_write_per_mtok', 'Cache write / 1M', { placeholder: 'same as input' }),
        perMtok('cache_read_per_mtok', 'Cache read / 1M', { placeholder: 'same as input' }),
        { name: 'currency', label: 'Currency', default: 'USD', attrs: { maxLength: '3' },
          onChange: (v) => ({ currency: v.toUpperCase() }), out: (v) => v.trim() || 'USD' },
      ],
      { name: 'pick_model', type: 'custom', refs: 'llms', createOnly: true, send: false,
        render: (p) => html`<${ModelsFromLlm} ...${p} />` },
      { type: 'custom', render: (p) => html`<${Sample} ...${p} />` },
    ],
  },
};

export function PricesPage({ me }) {
  return html`<${ResourcePage} res=${PRICES} me=${me} />`;
}
