// app/filters.js: content filters (admins): block or redact by regular
// expression, cap the prompt size, or run a script, at a stage of the
// request path (types and stages from GET /api/v1/lookups); attached to
// LLMs (in order of attachment).
import { html } from './deps.js';
import { Chip, StatusChip } from './ui.js';
import { ResourcePage, attachedColumn, attachedField, fieldError } from './resource.js';
import { options, labelOf } from './lookups.js';
import { syncLlmAttachments } from './api.js';
import { dateTime } from './format.js';

const isRegex = (f) => f.filter_type === 'regex_block' || f.filter_type === 'regex_redact';
const config = (row) => (row && row.config) || {};

// The filter's config from the type-specific fields.
function configOf(f) {
  if (f.filter_type === 'regex_block') return { patterns: f.patterns };
  if (f.filter_type === 'regex_redact') return f.replacement ? { patterns: f.patterns, replacement: f.replacement } : { patterns: f.patterns };
  if (f.filter_type === 'max_prompt_chars') return { max_chars: Number(f.max_chars) };
  try { return JSON.parse(f.script || '{}'); } catch { throw fieldError('script', 'The script configuration is not valid JSON.'); }
}

const FILTERS = {
  path: '/filters',
  title: 'Filters',
  icon: 'filter',
  description: 'Block or redact sensitive content and cap prompt sizes before requests reach a vendor.',
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
        { name: 'filter_type', label: 'Type', type: 'select', default: 'regex_block', options: () => options('filter_types') },
        { name: 'stage', label: 'Stage', type: 'select', default: 'post_auth', options: () => options('filter_stages') },
        { name: 'namespace', label: 'Namespace', type: 'namespace' },
        { name: 'description', label: 'Description', type: 'textarea', rows: 2, span2: true },
      ],
      { name: 'patterns', label: 'Patterns', type: 'tags', send: false, show: isRegex, aliases: ['config.patterns'],
        value: (x) => (Array.isArray(config(x).patterns) ? [...config(x).patterns] : []),
        placeholder: '\\b\\d{16}\\b', hint: 'Regular expressions; press Enter after each.' },
      { name: 'replacement', label: 'Replacement', send: false, show: (f) => f.filter_type === 'regex_redact',
        aliases: ['config.replacement'], value: (x) => config(x).replacement || '', placeholder: '[redacted]' },
      { name: 'max_chars', label: 'Maximum prompt characters', type: 'number', send: false, attrs: { min: '1' },
        show: (f) => f.filter_type === 'max_prompt_chars', aliases: ['config.max_chars'],
        value: (x) => (config(x).max_chars ? String(config(x).max_chars) : '20000') },
      { name: 'script', label: 'Configuration (JSON)', type: 'textarea', mono: true, rows: 6, send: false,
        show: (f) => f.filter_type === 'script', value: (x) => (x && x.filter_type === 'script' ? JSON.stringify(config(x), null, 2) : '{}') },
      attachedField((l) => (l.namespace ? `namespace ${l.namespace}` : null)),
      { name: 'active', label: 'Active', type: 'toggle' },
    ],
  },
};

export function FiltersPage({ me }) {
  return html`<${ResourcePage} res=${FILTERS} me=${me} />`;
}
