// app/roles.js: the roles (from GET /api/v1/lookups, highest rank first),
// what each may do (decided in the database, mirrored here by the lowest
// role of each capability) and how many users hold each.
import { html } from './deps.js';
import { api } from './api.js';
import { PageHeader, Card, RoleChip, useFetch } from './ui.js';
import { roles, atLeast } from './lookups.js';
import { Icon } from './icons.js';

// capability, and the lowest role that has it (every higher role has it too)
const CAPS = [
  ['Audit log, admins and super admins', 'super_admin'],
  ['Users, groups, members and LLM grants', 'admin'],
  ['LLMs, model prices, secrets', 'admin'],
  ['Filters, plugins, namespaces, edges and pushes', 'admin'],
  ['Every app and key, all analytics', 'admin'],
  ['Own apps and keys (granted LLMs only), own usage', 'developer'],
  ['Read the LLMs their groups grant', 'chat_user'],
  ['Chat with the LLMs their groups grant', 'chat_user'],
  ['Own password and personal API tokens', 'chat_user'],
];

export function RolesPage() {
  const all = roles();
  const counts = useFetch(async () => {
    const out = {};
    await Promise.all(all.map(async (r) => { out[r.name] = (await api.get('/users', { role: r.name, page_size: 1 })).total; }));
    return out;
  }, []);
  return html`
    <${PageHeader} title="Roles" icon="shield" description="Every user has one role. Permissions are enforced by the database on every request; the UI only hides what a role cannot do." />
    <div class="role-cards">
      ${all.map((r) => html`<div class="card role-card">
        <div class="role-card-head"><${RoleChip} role=${r.name} />
          <a class="small" href=${'#/users'}>${counts.data ? `${counts.data[r.name]} ${counts.data[r.name] === 1 ? 'user' : 'users'}` : '…'}</a></div>
        <p>${r.description}</p>
      </div>`)}
    </div>
    <${Card} title="Permissions" pad=${false}>
      <div class="table-wrap"><table class="table matrix">
        <caption class="sr-only">What each role may do</caption>
        <thead><tr><th scope="col">Capability</th>${all.map((r) => html`<th scope="col" class="center">${r.label}</th>`)}</tr></thead>
        <tbody>${CAPS.map(([cap, min]) => html`<tr><th scope="row">${cap}</th>
          ${all.map((r) => html`<td class="center">${atLeast(r.name, min)
            ? html`<span class="yes"><${Icon} name="check" size=${16} /><span class="sr-only">Yes</span></span>`
            : html`<span class="no"><span aria-hidden="true">—</span><span class="sr-only">No</span></span>`}</td>`)}
        </tr>`)}</tbody>
      </table></div>
    <//>`;
}
