// app/filters.js: content filters (admins), the gateway's built-in ones
// (docs/filters.md): block or allow by pattern, block keywords, redact or
// block personal data, cap the prompt size; at a stage of the request path
// (types and stages from GET /api/v1/lookups); attached to LLMs (in order
// of attachment). A Test button runs a filter on sample text with the
// gateway's own code (POST /api/v1/filters/{id}/test).
import { html, useState } from './deps.js';
import { Chip, StatusChip, IconButton, Dialog, DialogForm, TextArea, SelectField, useAction } from './ui.js';
import { ResourcePage, attachedColumn, attachedField, fieldError } from './resource.js';
import { options, labelOf } from './lookups.js';
import { api, syncLlmAttachments } from './api.js';
import { dateTime } from './format.js';

const config = (row) => (row && row.config) || {};
const is = (t) => (f) => f.filter_type === t;
const PII_KINDS = [['email', 'E-mail addresses'], ['phone', 'Phone numbers'], ['card', 'Card numbers (Luhn-checked)'], ['iban', 'IBANs (checksum-checked)']];

// The filter's config from the type-specific fields.
function configOf(f) {
  const msg = f.message && f.message.trim() ? { message: f.message.trim() } : {};
  if (f.filter_type === 'regex') return { patterns: f.patterns, ...(f.action === 'allow' ? { action: 'allow' } : {}), ...msg };
  if (f.filter_type === 'keywords') return { keywords: f.keywords, ...(f.whole_word ? { whole_word: true } : {}), ...msg };
  if (f.filter_type === 'pii') {
    if (!f.kinds.length) throw fieldError('kinds', 'Choose at least one kind of personal data.');
    return { kinds: f.kinds, ...(f.pii_action === 'block' ? { action: 'block' } : {}), ...msg };
  }
  const c = {};
  if (String(f.max_chars).trim()) c.max_chars = Number(f.max_chars);
  if (String(f.max_tokens).trim()) c.max_tokens = Number(f.max_tokens);
  if (!c.max_chars && !c.max_tokens) throw fieldError('max_chars', 'Give a character or a token limit.');
  return { ...c, ...msg };
}

// Runs a filter on sample text (the gateway's code) and shows the outcome.
function TestDialog({ filter, onClose }) {
  const [text, setText] = useState('');
  const [stage, setStage] = useState(filter.stage);
  const [out, setOut] = useState(null);
  const act = useAction();
  const run = () => act.run(async () => setOut(await api.post(`/filters/${filter.id}/test`, { text, stage })));
  const tone = out && (out.action === 'block' ? 'red' : out.action === 'modify' ? 'amber' : 'green');
  return html`<${Dialog} open=${true} title=${`Test ${filter.name}`} size="lg" onClose=${onClose}
      description="The gateway runs the filter on this text exactly as on a request; nothing is stored or sent.">
    <${DialogForm} onSubmit=${run} onCancel=${onClose} submitLabel="Run" busy=${act.busy} error=${act.error}
        submitDisabled=${!text}>
      <${TextArea} label="Sample text" value=${text} onInput=${setText} rows=${5} autofocus
        hint="A user message of a prompt, or the answer for the on_response stage." />
      <${SelectField} label="Stage" value=${stage} onChange=${setStage} options=${options('filter_stages')} />
      ${out && html`<div class="filter-test" data-testid="filter-test-result">
        <p><${Chip} tone=${tone}>${out.action}<//>${out.code && html` <code>${out.status} ${out.code}</code>`}
          ${out.message && html` <span class="muted">${out.message}</span>`}</p>
        ${out.output !== null && html`<pre class="mono small">${out.output}</pre>`}
        ${out.matches.length > 0 && html`<p class="small muted">Found: <code>${JSON.stringify(out.matches)}</code></p>`}
      </div>`}
    <//>
  <//>`;
}

const FILTERS = (test) => ({
  path: '/filters',
  title: 'Filters',
  icon: 'filter',
  description: 'Block or redact sensitive content and cap prompt sizes: the gateway runs them on every route of the LLMs they are attached to.',
  listTitle: 'All filters',
  refs: () => ['llms'],
  create: { label: 'Add filter' },
  columns: (ctx) => [
    { key: 'name', label: 'Filter', render: (x) => html`<div class="cell-main"><strong>${x.name}</strong>${x.description && html`<span class="muted small clamp">${x.description}</span>`}</div>` },
    { key: 'type', label: 'Type', render: (x) => html`<${Chip} tone="purple">${labelOf('filter_types', x.filter_type)}<//>` },
    { key: 'stage', label: 'Stage', render: (x) => labelOf('filter_stages', x.stage) },
    attachedColumn(ctx),
    { key: 'active', label: 'Status', render: (x) => html`<${StatusChip} on=${x.active} />` },
    { key: 'updated', label: 'Updated', render: (x) => html`<span class="small muted">${dateTime(x.updated_at)}</span>` },
  ],
  rowActions: (f) => html`<${IconButton} icon="zap" label=${`Test ${f.name}`} onClick=${() => test(f)} />`,
  empty: () => ({ title: 'No filters yet', text: 'For example: block requests that contain card numbers, or redact email addresses.', action: true }),
  remove: { confirmLabel: 'Delete filter', text: 'It is detached from every LLM and stops running at once.' },
  form: {
    add: 'Add a filter',
    description: 'Filters inspect requests and responses on the gateway.',
    size: 'lg',
    create: 'Create filter',
    check: (f) => { if (!f.name.trim()) throw fieldError('name', 'Give the filter a name.'); },
    extra: (f) => ({ config: configOf(f) }),
    after: (r, f, x) => syncLlmAttachments('filters', r.id, x ? x.llm_ids || [] : [], f.llm_ids),
    fields: [
      [
        { name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'no-card-numbers' },
        { name: 'filter_type', label: 'Type', type: 'select', default: 'regex', options: () => options('filter_types') },
        { name: 'stage', label: 'Stage', type: 'select', default: 'post_auth', options: () => options('filter_stages') },
        { name: 'namespace', label: 'Namespace', type: 'namespace' },
        { name: 'description', label: 'Description', type: 'textarea', rows: 2, span2: true },
      ],
      { name: 'patterns', label: 'Patterns', type: 'tags', send: false, show: is('regex'), aliases: ['config.patterns'],
        value: (x) => (Array.isArray(config(x).patterns) ? [...config(x).patterns] : []),
        placeholder: '(?i)top\\s*secret', hint: 'Perl-compatible regular expressions; press Enter after each.' },
      { name: 'action', label: 'When a pattern is found', type: 'select', send: false, show: is('regex'), aliases: ['config.action'],
        options: () => [['block', 'Block the request'], ['allow', 'Allow only requests where one is found']],
        value: (x) => config(x).action || 'block' },
      { name: 'keywords', label: 'Keywords', type: 'tags', mono: false, send: false, show: is('keywords'), aliases: ['config.keywords'],
        value: (x) => (Array.isArray(config(x).keywords) ? [...config(x).keywords] : []),
        hint: 'Matched case-insensitively; press Enter after each.' },
      { name: 'whole_word', label: 'Whole words only', type: 'toggle', send: false, show: is('keywords'),
        value: (x) => !!config(x).whole_word },
      { name: 'kinds', label: 'Personal data', type: 'checklist', send: false, show: is('pii'), aliases: ['config.kinds'],
        items: () => PII_KINDS.map(([id, label]) => ({ id, label })),
        value: (x) => (Array.isArray(config(x).kinds) ? [...config(x).kinds] : PII_KINDS.map(([id]) => id)) },
      { name: 'pii_action', label: 'When found', type: 'select', send: false, show: is('pii'), aliases: ['config.action'],
        options: () => [['redact', 'Replace it with a placeholder ([EMAIL], [CARD] …)'], ['block', 'Block']],
        value: (x) => config(x).action || 'redact' },
      [
        { name: 'max_chars', label: 'Maximum prompt characters', type: 'number', send: false, attrs: { min: '1' },
          show: is('max_prompt'), aliases: ['config.max_chars'], value: (x) => (config(x).max_chars ? String(config(x).max_chars) : '') },
        { name: 'max_tokens', label: 'Maximum prompt tokens (estimated)', type: 'number', send: false, attrs: { min: '1' },
          show: is('max_prompt'), aliases: ['config.max_tokens'], value: (x) => (config(x).max_tokens ? String(config(x).max_tokens) : '') },
      ],
      { name: 'message', label: 'Message for blocked clients', send: false, aliases: ['config.message'],
        value: (x) => config(x).message || '', placeholder: 'Optional; the default names the filter.' },
      attachedField((l) => (l.namespace ? `namespace ${l.namespace}` : null)),
      { name: 'active', label: 'Active', type: 'toggle' },
    ],
  },
});

export function FiltersPage({ me }) {
  const [testing, setTesting] = useState(null);
  return html`<${ResourcePage} res=${FILTERS(setTesting)} me=${me}
    after=${testing && html`<${TestDialog} filter=${testing} onClose=${() => setTesting(null)} />`} />`;
}
