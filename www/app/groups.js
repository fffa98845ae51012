// app/groups.js: groups (admins): who is in them and which LLMs they
// grant. A user may use an LLM (in apps and chat) when one of their groups
// grants it.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Button, Chip, IconButton, EmptyState, ErrorBanner, Spinner, RoleChip, VendorChip, useAction, useFetch,
  confirmDialog, toast, useId,
} from './ui.js';
import { ResourcePage, ResourceDialog, fieldError } from './resource.js';
import { navigate } from './router.js';
import { dateTime, initials } from './format.js';

const GROUPS = {
  path: '/groups',
  title: 'Groups',
  icon: 'users',
  description: 'Groups give their members access to LLMs, for apps and chat.',
  listTitle: 'All groups',
  create: { label: 'Create group' },
  columns: [
    { key: 'name', label: 'Group', render: (g) => html`<a class="strong" href=${`#/groups/${g.id}`}>${g.name}</a>` },
    { key: 'members', label: 'Members', class: 'num', render: (g) => g.member_ids.length },
    { key: 'llms', label: 'LLMs granted', class: 'num', render: (g) => g.llm_ids.length },
    { key: 'created', label: 'Created', render: (g) => html`<span class="small muted">${dateTime(g.created_at)}</span>` },
  ],
  canEdit: () => false, // renamed on its own page
  rowActions: (g) => html`<${Button} size="sm" onClick=${() => navigate(`/groups/${g.id}`)}>Manage<//>`,
  empty: () => ({
    title: 'No groups yet', action: true,
    text: 'Create a group, add people and grant it LLMs: that is how developers and chat users get access.',
  }),
  saved: (g, row, ctx) => (row ? ctx.reload() : navigate(`/groups/${g.id}`)),
  form: {
    title: (g) => (g ? `Rename ${g.name}` : 'Create a group'),
    size: 'sm',
    submitLabel: (g) => (g ? 'Rename' : 'Create group'),
    toast: (r, g) => (g ? 'Group renamed' : `Created ${r.name}`),
    check: (f) => { if (!f.name.trim()) throw fieldError('name', 'Give the group a name.'); },
    fields: [{ name: 'name', label: 'Name', required: true, autofocus: true, placeholder: 'engineering' }],
  },
};

export function GroupsPage({ me }) {
  return html`<${ResourcePage} res=${GROUPS} me=${me} />`;
}

// A select + Add button (a small form, so Enter adds).
function AddPicker({ label, options, onAdd, placeholder, testid }) {
  const id = useId('add');
  const [v, setV] = useState('');
  const act = useAction();
  const submit = (e) => {
    e.preventDefault();
    if (!v) return;
    act.run(() => onAdd(Number(v))).then(() => setV('')).catch((err) => toast(err.message, 'error'));
  };
  return html`<form class="add-picker" onSubmit=${submit}>
    <label class="sr-only" for=${id}>${label}</label>
    <select id=${id} class="input" value=${v} onChange=${(e) => setV(e.currentTarget.value)} data-testid=${testid}>
      <option value="">${placeholder}</option>
      ${options.map(([val, l]) => html`<option value=${val}>${l}</option>`)}
    </select>
    <button type="submit" class="btn btn-primary" disabled=${!v || act.busy}>${act.busy && html`<span class="spinner sm"></span>`}<span>Add</span></button>
  </form>`;
}

export function GroupDetail({ me, params }) {
  const id = Number(params.id);
  const q = useFetch(async () => {
    const [group, users, llms] = await Promise.all([api.get(`/groups/${id}`), listAll('/users'), listAll('/llms')]);
    return { group, users, llms };
  }, [id]);
  const [rename, setRename] = useState(false);
  if (q.error) return html`<${ErrorBanner} error=${q.error} onRetry=${q.reload} /><p><a href="#/groups">← Back to groups</a></p>`;
  if (!q.data) return html`<${Spinner} label="Loading the group…" />`;
  const { group, users, llms } = q.data;
  const members = users.filter((u) => group.member_ids.includes(u.id));
  const granted = llms.filter((l) => group.llm_ids.includes(l.id));
  const addMember = async (userId) => { await api.post(`/groups/${id}/members`, { user_id: userId }); toast('Member added', 'success'); q.reload(); };
  const grant = async (llmId) => { await api.post(`/groups/${id}/llms`, { llm_id: llmId }); toast('LLM granted', 'success'); q.reload(); };
  const removeMember = (u) => confirmDialog({
    title: `Remove ${u.email} from ${group.name}?`, confirmLabel: 'Remove', danger: true,
    text: 'They lose the LLMs this group grants (unless another group grants them).',
    action: () => api.del(`/groups/${id}/members/${u.id}`),
  }).then((ok) => ok && q.reload());
  const revoke = (l) => confirmDialog({
    title: `Revoke ${l.name} from ${group.name}?`, confirmLabel: 'Revoke', danger: true,
    text: 'Members can no longer use it, in apps or chat, unless another group grants it.',
    action: () => api.del(`/groups/${id}/llms/${l.id}`),
  }).then((ok) => ok && q.reload());
  const remove = () => confirmDialog({
    title: `Delete ${group.name}?`, confirmLabel: 'Delete group', danger: true,
    text: 'Its members lose the LLMs it grants. The users themselves are kept.',
    action: () => api.del(`/groups/${id}`),
  }).then((ok) => { if (ok) { toast('Group deleted', 'success'); navigate('/groups'); } });
  return html`
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/groups">Groups</a><span aria-hidden="true">/</span><span>${group.name}</span></nav>
    <${PageHeader} title=${group.name} icon="users" description=${`${members.length} members · ${granted.length} LLMs granted`}
      actions=${html`<${Button} icon="edit" onClick=${() => setRename(true)}>Rename<//><${Button} icon="trash" kind="danger-ghost" onClick=${remove}>Delete<//>`} />
    <div class="grid-2">
      <${Card} title="Members" subtitle="people in this group" pad=${false}>
        <div class="card-pad"><${AddPicker} label="Add a member" placeholder="Add a member…" testid="add-member"
          options=${users.filter((u) => !group.member_ids.includes(u.id)).map((u) => [u.id, `${u.name} <${u.email}>`])} onAdd=${addMember} /></div>
        ${members.length === 0 ? html`<${EmptyState} icon="user" title="No members" text="Add developers and chat users to give them this group's LLMs." />`
          : html`<ul class="member-list">${members.map((u) => html`<li>
            <span class="avatar sm">${initials(u.name, u.email)}</span>
            <div class="cell-main"><strong>${u.name}</strong><span class="muted small">${u.email}</span></div>
            <${RoleChip} role=${u.role} />
            <${IconButton} icon="x" kind="danger" label=${`Remove ${u.email}`} onClick=${() => removeMember(u)} />
          </li>`)}</ul>`}
      <//>
      <${Card} title="LLM grants" subtitle="what members may use" pad=${false}>
        <div class="card-pad"><${AddPicker} label="Grant an LLM" placeholder="Grant an LLM…" testid="grant-llm"
          options=${llms.filter((l) => !group.llm_ids.includes(l.id)).map((l) => [l.id, l.name])} onAdd=${grant} /></div>
        ${granted.length === 0 ? html`<${EmptyState} icon="cpu" title="No LLMs granted" text="Grant an LLM so members can build apps on it and chat with it." />`
          : html`<ul class="member-list">${granted.map((l) => html`<li>
            <div class="cell-main"><strong>${l.name}</strong><code class="muted small">${l.slug}</code></div>
            <${VendorChip} vendor=${l.vendor} />
            ${!l.active && html`<${Chip} tone="gray">Inactive<//>`}
            <${IconButton} icon="x" kind="danger" label=${`Revoke ${l.name}`} onClick=${() => revoke(l)} />
          </li>`)}</ul>`}
      <//>
    </div>
    ${rename && html`<${ResourceDialog} res=${GROUPS} row=${group} ctx=${{ me }} onClose=${() => setRename(false)}
      onSaved=${() => { setRename(false); q.reload(); }} />`}`;
}
