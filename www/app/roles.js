// app/roles.js: the four roles, what each may do (decided in the database,
// mirrored in the UI) and how many users hold each.
import { html } from './deps.js';
import { api } from './api.js';
import { PageHeader, Card, useFetch } from './ui.js';
import { ROLES } from './format.js';
import { RoleChip } from './users.js';
import { Icon } from './icons.js';

const CAPS = [
  ['Audit log, admins and super admins', ['super_admin']],
  ['Users, groups, members and LLM grants', ['super_admin', 'admin']],
  ['LLMs, model prices, secrets', ['super_admin', 'admin']],
  ['Filters, plugins, namespaces, edges and pushes', ['super_admin', 'admin']],
  ['Every app and key, all analytics', ['super_admin', 'admin']],
  ['Own apps and keys (granted LLMs only), own usage', ['super_admin', 'admin', 'developer']],
  ['Read the LLMs their groups grant', ['super_admin', 'admin', 'developer', 'chat_user']],
  ['Chat with the LLMs their groups grant', ['super_admin', 'admin', 'developer', 'chat_user']],
  ['Own password and personal API tokens', ['super_admin', 'admin', 'developer', 'chat_user']],
];

const ABOUT = {
  super_admin: 'Everything, including other admins and the audit log.',
  admin: 'Runs the gateway: LLMs, prices, secrets, users and groups, edges.',
  developer: 'Builds apps on the LLMs their groups grant, with their own keys and usage.',
  chat_user: 'Chats with the LLMs their groups grant. Nothing else.',
};

export function RolesPage() {
  const counts = useFetch(async () => {
    const out = {};
    await Promise.all(Object.keys(ROLES).map(async (r) => { out[r] = (await api.get('/users', { role: r, page_size: 1 })).total; }));
    return out;
  }, []);
  return html`
    <${PageHeader} title="Roles" icon="shield" description="Every user has one role. Permissions are enforced by the database on every request; the UI only hides what a role cannot do." />
    <div class="role-cards">
      ${Object.keys(ROLES).map((r) => html`<div class="card role-card">
        <div class="role-card-head"><${RoleChip} role=${r} />
          <a class="small" href=${`#/users`}>${counts.data ? `${counts.data[r]} ${counts.data[r] === 1 ? 'user' : 'users'}` : '…'}</a></div>
        <p>${ABOUT[r]}</p>
      </div>`)}
    </div>
    <${Card} title="Permissions" pad=${false}>
      <div class="table-wrap"><table class="table matrix">
        <caption class="sr-only">What each role may do</caption>
        <thead><tr><th scope="col">Capability</th>${Object.keys(ROLES).map((r) => html`<th scope="col" class="center">${ROLES[r]}</th>`)}</tr></thead>
        <tbody>${CAPS.map(([cap, roles]) => html`<tr><th scope="row">${cap}</th>
          ${Object.keys(ROLES).map((r) => html`<td class="center">${roles.includes(r)
            ? html`<span class="yes" aria-label="yes"><${Icon} name="check" size=${16} /></span>` : html`<span class="no" aria-label="no">—</span>`}</td>`)}
        </tr>`)}</tbody>
      </table></div>
    <//>`;
}
