// app/audit.js: the audit log (super admins): every change to the
// configuration with who made it, newest first, filterable by user, day
// range (From / To, both days included), object type and action.
import { html, useState } from './deps.js';
import { Chip, Button } from './ui.js';
import { ResourcePage } from './resource.js';
import { roleName } from './lookups.js';
import { dateTime } from './format.js';

const ACTION_TONE = { insert: 'green', update: 'blue', delete: 'red', edge_auth_failed: 'orange' };
const ACTION_LABEL = { insert: 'Created', update: 'Changed', delete: 'Deleted', edge_auth_failed: 'Edge refused' };

// a day picked in the browser's time zone: from its start (since) to the
// start of the next day (until, exclusive), as instants
const dayStart = (d, plus = 0) => {
  const [y, m, day] = d.split('-').map(Number);
  return new Date(y, m - 1, day + plus).toISOString();
};

function Changes({ changes }) {
  const [open, setOpen] = useState(false);
  const text = JSON.stringify(changes, null, 2);
  const keys = changes && typeof changes === 'object' ? Object.keys(changes) : [];
  return html`<div class="changes">
    <button type="button" class="link-btn" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      ${open ? 'Hide' : 'Show'} ${keys.length ? keys.slice(0, 4).join(', ') + (keys.length > 4 ? '…' : '') : 'details'}</button>
    ${open && html`<pre class="code small">${text}</pre>`}
  </div>`;
}

const TYPES = ['llms', 'model_prices', 'apps', 'credentials', 'users', 'groups', 'group_members', 'group_llms', 'secrets', 'filters', 'plugins', 'namespaces', 'edges'];

const AUDIT = {
  path: '/audit-log',
  title: 'Audit log',
  icon: 'list',
  description: 'Every change to the configuration, by whom and when. Secret values never appear here.',
  listTitle: 'Changes',
  pageSize: 50,
  refs: () => ['users'],
  filters: [
    { name: 'actor_id', label: 'User', id: 'audit-actor', all: 'All users',
      options: (ctx) => (ctx.refs.users || []).map((u) => [String(u.id), u.email]) },
    { name: 'since', kind: 'date', label: 'From', id: 'audit-since', out: (d) => dayStart(d) },
    { name: 'until', kind: 'date', label: 'To', id: 'audit-until', out: (d) => dayStart(d, 1) },
    { name: 'object_type', label: 'Object type', id: 'audit-type', all: 'All objects', options: () => TYPES.map((t) => [t, t]) },
    { name: 'action', label: 'Action', id: 'audit-action', all: 'All actions', options: () => Object.entries(ACTION_LABEL) },
  ],
  cardActions: (ctx) => html`<${Button} size="sm" icon="refresh" onClick=${ctx.reload} aria-label="Refresh">Refresh<//>`,
  columns: (ctx) => {
    const who = (id) => { const u = (ctx.refs.users || []).find((x) => x.id === id); return u ? u.email : `User #${id}`; };
    return [
      { key: 'at', label: 'When', render: (e) => html`<span class="small nowrap">${dateTime(e.at)}</span>` },
      { key: 'actor', label: 'Who', render: (e) => html`<div class="cell-main"><span>${e.actor_id == null ? 'Database (DBA)' : who(e.actor_id)}</span><span class="muted small">${e.actor_id == null ? `as ${e.actor_role}` : roleName(e.actor_role)}</span></div>` },
      { key: 'action', label: 'Action', render: (e) => html`<${Chip} tone=${ACTION_TONE[e.action] || 'gray'}>${ACTION_LABEL[e.action] || e.action}<//>` },
      { key: 'object', label: 'Object', render: (e) => html`<code>${e.object_type}${e.object_id != null ? ` #${e.object_id}` : ''}</code>` },
      { key: 'changes', label: 'Changes', render: (e) => html`<${Changes} changes=${e.changes} />` },
    ];
  },
  empty: () => ({ title: 'No changes recorded', text: 'Changes appear here as soon as anyone edits the configuration.' }),
};

export function AuditPage({ me }) {
  return html`<${ResourcePage} res=${AUDIT} me=${me} />`;
}
