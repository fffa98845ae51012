// app/audit.js: the audit log (super admins): every change to the
// configuration with who made it, newest first, filterable.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import { PageHeader, Card, Table, Pager, Chip, EmptyState, usePagedList, useFetch, Button } from './ui.js';
import { dateTime, roleName } from './format.js';

const ACTION_TONE = { insert: 'green', update: 'blue', delete: 'red' };
const ACTION_LABEL = { insert: 'Created', update: 'Changed', delete: 'Deleted' };

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

export function AuditPage() {
  const [objectType, setObjectType] = useState('');
  const [action, setAction] = useState('');
  const list = usePagedList((p) => api.get('/audit-log', { ...p, object_type: objectType || undefined, action: action || undefined }), [objectType, action], 50);
  const users = useFetch(() => listAll('/users').catch(() => []), []);
  const who = (id) => { const u = users.data && users.data.find((x) => x.id === id); return u ? u.email : `User #${id}`; };
  const cols = [
    { key: 'at', label: 'When', render: (e) => html`<span class="small nowrap">${dateTime(e.at)}</span>` },
    { key: 'actor', label: 'Who', render: (e) => html`<div class="cell-main"><span>${e.actor_id == null ? 'Database (DBA)' : who(e.actor_id)}</span><span class="muted small">${e.actor_id == null ? `as ${e.actor_role}` : roleName(e.actor_role)}</span></div>` },
    { key: 'action', label: 'Action', render: (e) => html`<${Chip} tone=${ACTION_TONE[e.action] || 'gray'}>${ACTION_LABEL[e.action] || e.action}<//>` },
    { key: 'object', label: 'Object', render: (e) => html`<code>${e.object_type}${e.object_id != null ? ` #${e.object_id}` : ''}</code>` },
    { key: 'changes', label: 'Changes', render: (e) => html`<${Changes} changes=${e.changes} />` },
  ];
  const types = ['llms', 'model_prices', 'apps', 'credentials', 'users', 'groups', 'group_members', 'group_llms', 'secrets', 'filters', 'plugins', 'namespaces', 'edges'];
  return html`
    <${PageHeader} title="Audit log" icon="list" description="Every change to the configuration, by whom and when. Secret values never appear here." />
    <${Card} pad=${false} title="Changes" actions=${html`
      <label class="sr-only" for="audit-type">Object type</label>
      <select id="audit-type" class="input input-inline" value=${objectType} onChange=${(e) => setObjectType(e.currentTarget.value)}>
        <option value="">All objects</option>${types.map((t) => html`<option value=${t}>${t}</option>`)}</select>
      <label class="sr-only" for="audit-action">Action</label>
      <select id="audit-action" class="input input-inline" value=${action} onChange=${(e) => setAction(e.currentTarget.value)}>
        <option value="">All actions</option><option value="insert">Created</option><option value="update">Changed</option><option value="delete">Deleted</option></select>
      <${Button} size="sm" icon="refresh" onClick=${list.reload} aria-label="Refresh">Refresh<//>`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload} caption="Audit log"
        empty=${html`<${EmptyState} icon="list" title="No changes recorded" text="Changes appear here as soon as anyone edits the configuration." />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>`;
}
