// app/secrets.js: the secret store (admins). Values are write-only: the
// API lists names, dates and allowed hosts, never values. LLMs reference a
// secret as $SECRET/<name>, and only with an endpoint on one of its allowed
// hosts; a secret without hosts is bound to the endpoint of the first LLM
// that uses it. Super admins edit the hosts (PUT /secrets/{name}/hosts).
import { html } from './deps.js';
import { api } from './api.js';
import { IconButton, Notice, Chip } from './ui.js';
import { ResourcePage, fieldError } from './resource.js';
import { atLeast } from './lookups.js';
import { dateTime, ago } from './format.js';

const HOSTS_HINT = 'A host name or IP address, optionally with :port (e.g. api.openai.com, 10.0.0.5:8443, [::1]:8080); a host alone allows every port.';

function HostList({ hosts }) {
  if (!hosts || hosts.length === 0) {
    return html`<${Chip} tone="yellow" title="The first LLM that uses it binds it to its endpoint's host">Unbound<//>`;
  }
  return html`<div class="chips">${hosts.map((h) => html`<${Chip} tone="gray"><span class="mono">${h}</span><//>`)}</div>`;
}

const path = (s) => `/secrets/${encodeURIComponent(s.name)}`;

const SECRETS = {
  path: '/secrets',
  itemPath: path,
  title: 'Secrets',
  icon: 'lock',
  description: 'Vendor keys and tokens, encrypted at rest and write-only. LLMs reference them by name, and only on their allowed hosts.',
  listTitle: 'Stored secrets',
  create: { label: 'Add secret' },
  columns: [
    { key: 'name', label: 'Name', render: (s) => html`<div class="cell-main"><strong class="mono">${s.name}</strong><code class="muted small">$SECRET/${s.name}</code></div>` },
    { key: 'value', label: 'Value', render: () => html`<span class="masked"><span aria-hidden="true">••••••••••••</span><span class="sr-only">Hidden</span></span>` },
    { key: 'hosts', label: 'Allowed hosts', render: (s) => html`<${HostList} hosts=${s.allowed_hosts} />` },
    { key: 'version', label: 'Version', render: (s) => html`<${Chip} tone="gray">v${s.version}<//>` },
    { key: 'updated', label: 'Last changed', render: (s) => html`<span class="small" title=${dateTime(s.updated_at)}>${ago(s.updated_at)}</span>` },
    { key: 'created', label: 'Created', render: (s) => html`<span class="small muted">${dateTime(s.created_at)}</span>` },
  ],
  // editing a secret is replacing its value; its hosts are a super admin's
  editIcon: 'refresh',
  editLabel: (s) => `Replace the value of ${s.name}`,
  rowActions: (s, ctx) => atLeast(ctx.me.role, 'super_admin')
    && html`<${IconButton} icon="shield" label=${`Edit the allowed hosts of ${s.name}`} onClick=${() => ctx.open(s, 'hosts')} />`,
  empty: () => ({
    title: 'No secrets yet', action: true,
    text: 'Store each vendor key once and reference it from LLMs as $SECRET/NAME. Rotate it here without touching the LLMs.',
  }),
  remove: { confirmLabel: 'Delete secret', text: 'A secret that an LLM still references cannot be deleted; change those LLMs first.' },
  form: {
    title: (s) => (s ? `New value for ${s.name}` : 'Add a secret'),
    description: 'Encrypted with AES-256-GCM. Nobody can read the value back, not even administrators.',
    submitLabel: (s) => (s ? 'Replace value' : 'Store secret'),
    toast: (r, s) => (s ? `Replaced the value of ${r.name}` : `Stored ${r.name}`),
    check: (f, s) => {
      if (!s && !/^[A-Za-z0-9_.-]+$/.test(f.name.trim())) throw fieldError('name', 'Use letters, digits, "_", "." and "-" in the name.');
      if (!f.value) throw fieldError('value', 'Enter the value to store.');
    },
    // a new value replaces the old one (PUT), keeping the hosts
    save: (body, s) => (s ? api.put(path(s), body) : api.post('/secrets', body)),
    fields: [
      { name: 'name', label: 'Name', createOnly: true, required: true, autofocus: true, mono: true, placeholder: 'OPENAI_KEY',
        hint: (f) => (f.name ? html`Reference it as <code>$SECRET/${f.name.trim()}</code>` : 'Letters, digits, "_", "." and "-".') },
      { name: 'value', label: 'Value', input: 'password', required: true, mono: true, autofocus: (s) => !!s,
        attrs: { autocomplete: 'off' }, out: (v) => v, hint: 'Paste the API key or token. It is never displayed again.' },
      { name: 'allowed_hosts', label: 'Allowed hosts', type: 'tags', createOnly: true, omitEmpty: true, placeholder: 'api.openai.com',
        hint: `${HOSTS_HINT} Leave empty to bind it to the endpoint of the first LLM that uses it (you or a super admin).` },
      { type: 'custom', show: (f, s) => !!s, render: ({ row }) => html`<${Notice} tone="warning" icon="alert">Every LLM that references
        <code>$SECRET/${row.name}</code> uses the new value after the next configuration reload. Its allowed hosts stay as they are.<//>` },
    ],
  },
  forms: {
    hosts: {
      title: (s) => `Allowed hosts of ${s.name}`,
      description: 'The value is sent only to these hosts: an LLM that references the secret must point at one of them.',
      submitLabel: 'Save hosts',
      toast: (r) => `Saved the hosts of ${r.name}`,
      check: (f) => { if (!f.allowed_hosts.length) throw fieldError('allowed_hosts', 'Name at least one host.'); },
      // the whole list, changed or not
      save: (body, s, f) => api.put(`${path(s)}/hosts`, { allowed_hosts: f.allowed_hosts }),
      fields: [
        { name: 'allowed_hosts', label: 'Allowed hosts', type: 'tags', placeholder: 'api.openai.com', hint: HOSTS_HINT },
        { type: 'custom', render: () => html`<${Notice} tone="info" icon="info">LLMs that use the secret must keep an allowed endpoint; the change is written to the audit log.<//>` },
      ],
    },
  },
};

export function SecretsPage({ me }) {
  return html`<${ResourcePage} res=${SECRETS} me=${me} />`;
}
