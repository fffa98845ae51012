// app/alerts.js: alert targets (admins) — where budget alerts are sent
// besides the Notifications page: webhooks (a signed JSON POST) and e-mail
// (through an SMTP server). Secrets (the webhook's signing secret, the SMTP
// password) are write-only: the API says has_secret, never the value.
// gatewayd delivers, retries with backoff and records how each delivery
// went (counts and the last error per target here; per alert on the
// Notifications page).
import { html } from './deps.js';
import { Chip } from './ui.js';
import { ResourcePage, fieldError } from './resource.js';
import { ago, dateTime } from './format.js';

const isHook = (f) => f.kind === 'webhook';
const isMail = (f) => f.kind === 'email';
const THRESHOLDS = [['50', '50 % and above'], ['80', '80 % and above'], ['90', '90 % and above'], ['100', '100 % only']];

function Destination({ t }) {
  if (t.kind === 'webhook') return html`<span class="mono small">${t.url}</span>`;
  return html`<div class="cell-main"><span class="small">${(t.mail_to || []).join(', ')}</span>
    <span class="muted small">from ${t.mail_from} via <span class="mono">${t.url}</span></span></div>`;
}

function Deliveries({ t }) {
  return html`<div class="cell-main">
    <div class="chips">
      <${Chip} tone="green" title="Delivered">${t.delivered} delivered<//>
      ${t.pending > 0 && html`<${Chip} tone="yellow" title="Waiting to be sent or retried">${t.pending} pending<//>`}
      ${t.failed > 0 && html`<${Chip} tone="red" title="Given up after the last attempt">${t.failed} failed<//>`}
    </div>
    ${t.last_delivery_at && html`<span class="muted small" title=${dateTime(t.last_delivery_at)}>Last delivered ${ago(t.last_delivery_at)}</span>`}
    ${t.last_error && html`<span class="small text-red" data-testid="target-error">Last error: ${t.last_error}</span>`}
  </div>`;
}

const TARGETS = {
  path: '/alert-targets',
  title: 'Alert targets',
  icon: 'send',
  description: 'Where budget alerts go besides the Notifications page: signed webhooks and e-mail. Each alert is delivered once per target, retried when the target fails.',
  listTitle: 'Targets',
  create: { label: 'Add target' },
  columns: [
    { key: 'name', label: 'Name', render: (t) => html`<div class="cell-main"><strong>${t.name}</strong>
      <span><${Chip} tone=${t.kind === 'webhook' ? 'blue' : 'indigo'}>${t.kind === 'webhook' ? 'Webhook' : 'E-mail'}<//></span></div>` },
    { key: 'dest', label: 'Destination', render: (t) => html`<${Destination} t=${t} />` },
    { key: 'min', label: 'Sends', render: (t) => html`<span class="small">${t.min_threshold === 100 ? '100 %' : `${t.min_threshold} % and above`}</span>` },
    { key: 'active', label: 'Status', render: (t) => html`<${Chip} tone=${t.active ? 'green' : 'gray'} dot>${t.active ? 'Active' : 'Paused'}<//>` },
    { key: 'deliveries', label: 'Deliveries', render: (t) => html`<${Deliveries} t=${t} />` },
  ],
  empty: () => ({
    title: 'No alert targets yet', action: true,
    text: 'Add a webhook (Slack-style relays, incident tools) or an e-mail target so that budget alerts reach people.',
  }),
  remove: { confirmLabel: 'Delete target', text: 'Its pending deliveries and their history are deleted with it.' },
  form: {
    add: 'Add an alert target',
    create: 'Create target',
    description: 'Budget alerts are sent here when an app or LLM passes a threshold of its monthly budget.',
    size: 'lg',
    check: (f, row) => {
      if (!f.name.trim()) throw fieldError('name', 'Give the target a name.');
      if (isHook(f) && !row && f.secret.length < 16) throw fieldError('secret', 'Use a signing secret of 16 or more characters.');
      if (isMail(f) && f.mail_to.length === 0) throw fieldError('mail_to', 'Name at least one recipient.');
    },
    fields: [
      [
        { name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'on-call' },
        { name: 'kind', label: 'Kind', type: 'select', default: 'webhook', fixed: true, options: () => [['webhook', 'Webhook'], ['email', 'E-mail']] },
      ],
      { name: 'url', label: 'URL', required: true, mono: true,
        placeholder: 'https://hooks.example.com/aistudio',
        hint: (f) => (isMail(f)
          ? 'The SMTP server: smtp://host:port (STARTTLS as chosen below) or smtps://host:port (TLS from the start).'
          : 'An http:// or https:// URL. Each POST carries X-AIStudio-Signature: sha256=<HMAC of the body>.') },
      { name: 'secret', label: 'Secret', input: 'password', mono: true, omitEmpty: true,
        attrs: { autocomplete: 'off' }, out: (v) => v,
        hint: (f, row) => (row && row.has_secret ? 'Stored. Leave empty to keep it; a new value replaces it.'
          : isMail(f) ? 'The SMTP password, used with the user name. Stored encrypted; never shown again.'
            : 'The signing secret: 16 or more random characters; the receiver checks signatures with it. Stored encrypted; never shown again.') },
      [
        { name: 'mail_from', label: 'From', show: isMail, required: true, placeholder: 'aistudio@example.com' },
        { name: 'smtp_username', label: 'SMTP user name', show: isMail, omitEmpty: true, hint: 'Empty: no login.' },
      ],
      { name: 'mail_to', label: 'Recipients', type: 'tags', show: isMail, mono: false, placeholder: 'oncall@example.com',
        hint: 'E-mail addresses; press Enter after each.' },
      [
        { name: 'smtp_tls', label: 'STARTTLS', type: 'select', show: isMail, default: 'try',
          options: () => [['try', 'When the server offers it'], ['require', 'Required'], ['none', 'Never (plain SMTP)']] },
        { name: 'min_threshold', label: 'Send alerts at', type: 'select', default: '50', options: () => THRESHOLDS,
          value: (row) => String(row ? row.min_threshold : 50), out: (v) => Number(v) },
      ],
      { name: 'active', label: 'Active', type: 'toggle', hint: 'A paused target keeps its deliveries waiting until it is active again.' },
    ],
  },
};

export function AlertTargetsPage({ me }) {
  return html`<${ResourcePage} res=${TARGETS} me=${me} />`;
}
