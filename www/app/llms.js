// app/llms.js: the LLMs page (admins): list, create and edit with vendor
// presets that fill the default endpoint, a $SECRET/ picker fed by the
// secrets list (or a literal key, sealed by the database at once), the
// allowed-models editor (regular expressions), namespace and budget.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, SelectField, Toggle, TagsInput,
  RowActions, IconButton, EmptyState, useAction, usePagedList, useFetch, confirmDialog, toast, Field, useId,
} from './ui.js';
import { vendorName, VENDORS, money } from './format.js';

export const PRESETS = {
  openai: { endpoint: 'https://api.openai.com/v1', model: 'gpt-4o-mini', note: 'OpenAI and Azure-compatible APIs. The key is sent as Authorization: Bearer.' },
  anthropic: { endpoint: 'https://api.anthropic.com', model: 'claude-sonnet-4-5', note: 'The key is sent as x-api-key.' },
  google_ai: { endpoint: 'https://generativelanguage.googleapis.com', model: 'gemini-2.0-flash', note: 'Gemini API. The key is sent as x-goog-api-key.' },
  vertex: { endpoint: 'https://us-central1-aiplatform.googleapis.com', model: 'gemini-2.0-flash', note: 'The key is an OAuth access token. Change the region in the host name.' },
  huggingface: { endpoint: 'https://router.huggingface.co/v1', model: '', note: 'TGI and Inference Endpoints (OpenAI-compatible).' },
  ollama: { endpoint: 'http://127.0.0.1:11434', model: 'llama3.2', note: 'A local Ollama server; no key needed.', keyless: true },
};

const VENDOR_TONE = { openai: 'green', anthropic: 'orange', google_ai: 'blue', vertex: 'blue', huggingface: 'yellow', ollama: 'gray' };

export function VendorChip({ vendor }) {
  return html`<${Chip} tone=${VENDOR_TONE[vendor] || 'gray'}>${vendorName(vendor)}<//>`;
}

function KeyCell({ llm }) {
  if (llm.api_key_ref) return html`<${Chip} tone="purple" title="Resolved from the secret store">${llm.api_key_ref}<//>`;
  if (llm.has_api_key) return html`<${Chip} tone="gray" title="A literal key, sealed in the database">Sealed key<//>`;
  return html`<span class="muted">None</span>`;
}

function blank() {
  return {
    name: '', vendor: 'openai', api_endpoint: PRESETS.openai.endpoint, keyMode: 'secret', secret: '', literal: '',
    default_model: PRESETS.openai.model, allowed_models: [], namespace: '', monthly_budget: '', active: true,
  };
}

function fromLlm(l) {
  return {
    name: l.name, vendor: l.vendor, api_endpoint: l.api_endpoint,
    keyMode: l.api_key_ref ? 'secret' : l.has_api_key ? 'keep' : 'none',
    secret: l.api_key_ref ? l.api_key_ref.replace(/^\$SECRET\//, '') : '', literal: '',
    default_model: l.default_model || '', allowed_models: [...(l.allowed_models || [])], namespace: l.namespace || '',
    monthly_budget: l.monthly_budget == null ? '' : String(l.monthly_budget), active: l.active,
  };
}

// The request body: everything on create; only what changed on update.
function body(f, orig) {
  const b = {
    name: f.name.trim(), vendor: f.vendor, api_endpoint: f.api_endpoint.trim(), default_model: f.default_model.trim(),
    allowed_models: f.allowed_models, namespace: f.namespace, active: f.active,
    monthly_budget: f.monthly_budget === '' ? null : Number(f.monthly_budget),
  };
  if (f.keyMode === 'secret') b.api_key = f.secret ? `$SECRET/${f.secret}` : '';
  else if (f.keyMode === 'literal') b.api_key = f.literal;
  else if (f.keyMode === 'none') b.api_key = '';
  if (!orig) {
    if (b.monthly_budget === null) delete b.monthly_budget;
    if (!b.api_key) delete b.api_key;
    return b;
  }
  const o = body(orig, null);
  const out = {};
  for (const [k, v] of Object.entries(b)) {
    if (JSON.stringify(v) !== JSON.stringify(o[k])) out[k] = v;
  }
  if (f.keyMode === 'keep') delete out.api_key;
  if (orig.keyMode !== 'none' && f.keyMode === 'none') out.api_key = '';
  return out;
}

// The $SECRET/ picker over the secret store's names (value: the name without
// the prefix; '' = none chosen), with a hint that links to the Secrets page
// while there are none. Also used for the client secrets of single sign-on.
export function SecretPicker({ id, value, onChange, secrets, label = 'Secret', placeholder = 'Choose a secret…', hint }) {
  return html`<div class="secret-pick">
      <label class="sr-only" for=${id}>${label}</label>
      <span class="secret-prefix mono">$SECRET/</span>
      <select id=${id} class="input mono" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}
        data-testid="secret-picker">
        <option value="">${placeholder}</option>
        ${secrets.map((s) => html`<option value=${s.name}>${s.name}</option>`)}
      </select>
    </div>
    <p class="hint">${secrets.length === 0 ? html`No secrets yet — create one on the <a href="#/secrets">Secrets</a> page.` : hint}</p>`;
}

function KeyPicker({ form, set, secrets, editing }) {
  const id = useId('key');
  const modes = [['secret', 'From the secret store'], ['literal', 'Paste a key'], ['none', 'No key']];
  if (editing && form.keyModeOrig === 'keep') modes.unshift(['keep', 'Keep the sealed key']);
  return html`<fieldset class="field key-picker">
    <legend>API key</legend>
    <div class="radio-row" role="radiogroup">
      ${modes.map(([v, l]) => html`<label class="radio"><input type="radio" name=${id} value=${v}
        checked=${form.keyMode === v} onChange=${() => set({ keyMode: v })} /> ${l}</label>`)}
    </div>
    ${form.keyMode === 'secret' && html`<${SecretPicker} id=${`${id}-s`} value=${form.secret} secrets=${secrets}
      onChange=${(v) => set({ secret: v })}
      hint="The gateway resolves the reference when it loads its configuration; rotating the secret rotates every LLM that uses it." />`}
    ${form.keyMode === 'literal' && html`<input class="input mono" type="password" autocomplete="off" aria-label="API key"
      value=${form.literal} onInput=${(e) => set({ literal: e.currentTarget.value })} placeholder="sk-…" />
      <p class="hint">Sealed with AES-256-GCM as soon as it is saved; it is never shown again.</p>`}
  </fieldset>`;
}

function LlmDialog({ open, llm, onClose, onSaved }) {
  const editing = !!llm;
  const init = () => { const f = llm ? fromLlm(llm) : blank(); return { ...f, keyModeOrig: f.keyMode }; };
  const [form, setForm] = useState(init);
  const act = useAction();
  const set = (patch) => setForm((f) => ({ ...f, ...patch }));
  const refs = useFetch(async () => {
    const [secrets, namespaces] = await Promise.all([listAll('/secrets'), listAll('/namespaces').catch(() => [])]);
    return { secrets, namespaces };
  }, []);
  const secrets = refs.data ? refs.data.secrets : [];
  const namespaces = refs.data ? refs.data.namespaces : [];
  const onVendor = (v) => {
    const old = PRESETS[form.vendor];
    const p = PRESETS[v];
    const patch = { vendor: v };
    if (!form.api_endpoint || form.api_endpoint === old.endpoint) patch.api_endpoint = p.endpoint;
    if (!form.default_model || form.default_model === old.model) patch.default_model = p.model;
    if (p.keyless && form.keyMode !== 'keep') patch.keyMode = 'none';
    set(patch);
  };
  const save = () => act.run(async () => {
    if (!form.name.trim()) throw new Error('Give the LLM a name.');
    if (form.keyMode === 'secret' && !form.secret) throw new Error('Choose the secret that holds the key, or pick "No key".');
    const b = body(form, llm ? { ...fromLlm(llm) } : null);
    const r = editing ? (Object.keys(b).length ? await api.patch(`/llms/${llm.id}`, b) : llm) : await api.post('/llms', b);
    toast(editing ? `Saved ${r.name}` : `Created ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  const slug = form.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return html`<${Dialog} open=${open} title=${editing ? `Edit ${llm.name}` : 'Add an LLM'} size="lg" onClose=${onClose}
      description="An upstream model provider the gateway routes to.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel=${editing ? 'Save changes' : 'Create LLM'}>
      <div class="form-grid">
        <${TextField} label="Name" value=${form.name} onInput=${(v) => set({ name: v })} required autofocus
          hint=${form.name ? html`Gateway path: <code>/ai/${slug}/v1</code>` : 'Shown to developers; its slug is used in gateway URLs.'} />
        <${SelectField} label="Vendor" value=${form.vendor} onChange=${onVendor}
          options=${Object.entries(VENDORS)} hint=${PRESETS[form.vendor].note} />
        <${TextField} label="API endpoint" value=${form.api_endpoint} onInput=${(v) => set({ api_endpoint: v })} required mono
          class="span-2" hint="The vendor's base URL; requests append the vendor path to it." />
      </div>
      <${KeyPicker} form=${form} set=${set} secrets=${secrets} editing=${editing} />
      <div class="form-grid">
        <${TextField} label="Default model" value=${form.default_model} onInput=${(v) => set({ default_model: v })} mono
          hint="Used when a request names no model." />
        <${SelectField} label="Namespace" value=${form.namespace} onChange=${(v) => set({ namespace: v })}
          options=${[['', 'Global (all gateways)'], ...namespaces.filter((n) => n.name).map((n) => [n.name, n.name])]}
          hint="Edges run the LLMs of their namespace." />
      </div>
      <${TagsInput} label="Allowed models" values=${form.allowed_models} onChange=${(v) => set({ allowed_models: v })}
        placeholder="^gpt-4o, ^claude-…" hint="Regular expressions a requested model must match. Leave empty to allow any model. Press Enter to add." />
      <div class="form-grid">
        <${TextField} label="Monthly budget (USD)" type="number" min="0" step="0.01" value=${form.monthly_budget}
          onInput=${(v) => set({ monthly_budget: v })} hint="Optional. Requests are refused once it is spent." />
        <${Toggle} label="Active" checked=${form.active} onChange=${(v) => set({ active: v })} hint="Inactive LLMs refuse every request." />
      </div>
    <//>
  <//>`;
}

export function LlmsPage() {
  const [vendor, setVendor] = useState('');
  const list = usePagedList((p) => api.get('/llms', { ...p, vendor: vendor || undefined }), [vendor]);
  const [editing, setEditing] = useState(null); // null: closed; {}: new; llm: edit
  const remove = (l) => confirmDialog({
    title: `Delete ${l.name}?`, danger: true, confirmLabel: 'Delete LLM',
    text: 'Apps lose access to it at once and its grants are removed. Analytics already recorded are kept.',
    action: () => api.del(`/llms/${l.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${l.name}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'Name', render: (l) => html`<div class="cell-main"><strong>${l.name}</strong><code class="muted">${l.slug}</code></div>` },
    { key: 'vendor', label: 'Vendor', render: (l) => html`<${VendorChip} vendor=${l.vendor} />` },
    { key: 'api_endpoint', label: 'Endpoint', class: 'cell-url', render: (l) => html`<span class="mono small" title=${l.api_endpoint}>${l.api_endpoint}</span>` },
    { key: 'key', label: 'Key', render: (l) => html`<${KeyCell} llm=${l} />` },
    { key: 'models', label: 'Models', render: (l) => (l.allowed_models.length ? html`<span title=${l.allowed_models.join('\n')}>${l.allowed_models.length} pattern${l.allowed_models.length > 1 ? 's' : ''}</span>` : html`<span class="muted">Any</span>`) },
    { key: 'budget', label: 'Budget', render: (l) => (l.monthly_budget == null ? html`<span class="muted">—</span>` : `${money(l.monthly_budget)}/mo`) },
    { key: 'active', label: 'Status', render: (l) => html`<${Chip} tone=${l.active ? 'green' : 'gray'} dot>${l.active ? 'Active' : 'Inactive'}<//>` },
    { key: 'x', label: '', class: 'cell-actions', render: (l) => html`<${RowActions}>
      <${IconButton} icon="edit" label=${`Edit ${l.name}`} onClick=${() => setEditing(l)} />
      <${IconButton} icon="trash" label=${`Delete ${l.name}`} kind="danger" onClick=${() => remove(l)} /><//>` },
  ];
  return html`
    <${PageHeader} title="LLMs" icon="cpu" description="The model providers the gateway routes to, their keys and which models they allow."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setEditing({})}>Add LLM<//>`} />
    <${Card} pad=${false} title="All LLMs" actions=${html`<label class="sr-only" for="llm-vendor">Vendor</label>
      <select id="llm-vendor" class="input input-inline" value=${vendor} onChange=${(e) => setVendor(e.currentTarget.value)}>
        <option value="">All vendors</option>${Object.entries(VENDORS).map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="LLMs"
        empty=${html`<${EmptyState} icon="cpu" title=${vendor ? `No ${vendorName(vendor)} LLMs` : 'No LLMs yet'}
          text="Add a provider such as OpenAI, Anthropic or a local Ollama. Keep its key in the secret store and reference it."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setEditing({})}>Add LLM<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${editing && html`<${LlmDialog} open llm=${editing.id ? editing : null} onClose=${() => setEditing(null)}
      onSaved=${() => { setEditing(null); list.reload(); }} />`}`;
}
