// app/plugins.js: plugins (admins): isolated processes the gateway calls
// over gRPC at a hook of the request path (hooks from GET
// /api/v1/lookups), attached to LLMs.
import { html } from './deps.js';
import { StatusChip } from './ui.js';
import { ResourcePage, attachedColumn, attachedField, fieldError } from './resource.js';
import { options, labelOf } from './lookups.js';
import { syncLlmAttachments } from './api.js';
import { dateTime } from './format.js';

const PLUGINS = {
  path: '/plugins',
  title: 'Plugins',
  icon: 'plug',
  description: 'Extend the request path with your own code, isolated in its own process.',
  listTitle: 'All plugins',
  refs: () => ['llms'],
  create: { label: 'Add plugin' },
  columns: (ctx) => [
    { key: 'name', label: 'Plugin', render: (x) => html`<div class="cell-main"><strong>${x.name}</strong>${x.description && html`<span class="muted small clamp">${x.description}</span>`}</div>` },
    { key: 'hook', label: 'Hook', render: (x) => labelOf('plugin_hooks', x.hook) },
    { key: 'command', label: 'Command', class: 'cell-url', render: (x) => html`<code class="small">${x.command}</code>` },
    attachedColumn(ctx),
    { key: 'active', label: 'Status', render: (x) => html`<${StatusChip} on=${x.active} />` },
    { key: 'updated', label: 'Updated', render: (x) => html`<span class="small muted">${dateTime(x.updated_at)}</span>` },
  ],
  empty: () => ({ title: 'No plugins yet', text: 'Plugins add custom authentication, routing or content checks at any stage of a request.', action: true }),
  remove: { confirmLabel: 'Delete plugin', text: 'It is detached from every LLM.' },
  form: {
    add: 'Add a plugin',
    description: 'A plugin runs as its own process; the gateway calls it over gRPC.',
    size: 'lg',
    create: 'Create plugin',
    check: (f) => {
      if (!f.name.trim()) throw fieldError('name', 'Enter a name and the command of the plugin.');
      if (!f.command.trim()) throw fieldError('command', 'Enter a name and the command of the plugin.');
    },
    after: (r, f, x) => syncLlmAttachments('plugins', r.id, x ? x.llm_ids || [] : [], f.llm_ids, { fail_open: f.fail_open }),
    fields: [
      [
        { name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'pii-scrubber' },
        { name: 'hook', label: 'Hook', type: 'select', default: 'post_auth', options: () => options('plugin_hooks') },
        { name: 'command', label: 'Command', required: true, mono: true, span2: true, placeholder: '/opt/aistudio/plugins/pii',
          hint: 'The absolute path of the plugin\'s executable; the gateway runs it as an isolated process (docs/plugins.md).' },
        { name: 'namespace', label: 'Namespace', type: 'namespace' },
        { name: 'description', label: 'Description', type: 'textarea', rows: 2 },
      ],
      { name: 'config', label: 'Configuration (JSON)', type: 'textarea', mono: true, rows: 5,
        value: (x) => (x ? JSON.stringify(x.config || {}, null, 2) : '{}'),
        out: (v) => { try { return JSON.parse(v || '{}'); } catch { throw fieldError('config', 'The configuration is not valid JSON.'); } } },
      attachedField(),
      { name: 'fail_open', label: 'Fail open', type: 'toggle', default: false, send: false, createOnly: true,
        hint: 'The LLMs attached now let requests through when the plugin cannot answer (else 503).' },
      { name: 'active', label: 'Active', type: 'toggle' },
    ],
  },
};

export function PluginsPage({ me }) {
  return html`<${ResourcePage} res=${PLUGINS} me=${me} />`;
}
