// app/sso.js: the single sign-on page (super admins): the OpenID Connect
// providers the login page offers ("Sign in with …"), created and edited
// with the client secret picked from the secret store ($SECRET/ picker),
// provisioning (default role and groups), allowed email domains, and the
// redirect URI to register with the provider (from the server's PUBLIC_URL).
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, SelectField, Toggle, TagsInput,
  CheckList, CopyField, RowActions, IconButton, EmptyState, Notice, useAction, usePagedList, useFetch, confirmDialog,
  toast, copyText, useId,
} from './ui.js';
import { SecretPicker } from './llms.js';
import { roleName } from './format.js';

const SSO_ROLES = ['chat_user', 'developer']; // never an admin role: the database refuses them too

// "Company Okta" → "company-okta" (the slug rule of the database)
function slugOf(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

export function redirectUri(publicUrl, slug) {
  return `${(publicUrl || location.origin).replace(/\/+$/, '')}/api/v1/auth/sso/${slug || '<slug>'}/callback`;
}

function blank() {
  return {
    display_name: '', slug: '', slugTouched: false, issuer: '', client_id: '', secret: '', scopes: 'openid email profile',
    allowed_domains: [], auto_provision: false, default_role: 'chat_user', default_group_ids: [], enabled: true,
  };
}

function fromProvider(p) {
  return {
    display_name: p.display_name, slug: p.slug, slugTouched: true, issuer: p.issuer, client_id: p.client_id,
    secret: p.client_secret_ref ? p.client_secret_ref.replace(/^\$SECRET\//, '') : '', scopes: p.scopes,
    allowed_domains: [...p.allowed_domains], auto_provision: p.auto_provision, default_role: p.default_role,
    default_group_ids: [...p.default_group_ids], enabled: p.enabled,
  };
}

// The request body: every field on create; on update only the changed ones
// ('' as client_secret_ref makes the provider a public client).
function requestBody(form, original) {
  const all = {
    display_name: form.display_name.trim(), slug: form.slug.trim(), issuer: form.issuer.trim(),
    client_id: form.client_id.trim(), client_secret_ref: form.secret ? `$SECRET/${form.secret}` : '',
    scopes: form.scopes.trim().split(/\s+/).join(' '), allowed_domains: form.allowed_domains,
    auto_provision: form.auto_provision, default_role: form.default_role,
    default_group_ids: [...form.default_group_ids].sort((a, b) => a - b), enabled: form.enabled,
  };
  if (!original) {
    if (!all.client_secret_ref) delete all.client_secret_ref;
    return all;
  }
  const before = requestBody(original, null);
  if (!('client_secret_ref' in before)) before.client_secret_ref = '';
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
}

function ProviderDialog({ provider, publicUrl, onClose, onSaved }) {
  const editing = !!provider;
  const [form, setForm] = useState(() => (provider ? fromProvider(provider) : blank()));
  const set = (patch) => setForm((f) => ({ ...f, ...patch }));
  const act = useAction();
  const secretId = useId('sso-secret');
  const refs = useFetch(async () => {
    const [secrets, groups] = await Promise.all([listAll('/secrets'), listAll('/groups')]);
    return { secrets, groups };
  }, []);
  const secrets = refs.data ? refs.data.secrets : [];
  const groups = refs.data ? refs.data.groups : [];
  const onName = (v) => set(form.slugTouched ? { display_name: v } : { display_name: v, slug: slugOf(v) });
  const save = () => act.run(async () => {
    if (!form.display_name.trim() || !form.slug.trim()) throw new Error('Give the provider a name and a slug.');
    if (!form.issuer.trim() || !form.client_id.trim()) throw new Error('Enter the issuer URL and the client ID the provider gave you.');
    const b = requestBody(form, provider ? fromProvider(provider) : null);
    const r = editing ? (Object.keys(b).length ? await api.patch(`/sso-providers/${provider.id}`, b) : provider)
      : await api.post('/sso-providers', b);
    toast(editing ? `Saved ${r.display_name}` : `Created ${r.display_name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  return html`<${Dialog} open title=${editing ? `Edit ${provider.display_name}` : 'Add an identity provider'} size="lg"
      onClose=${onClose} description="An OpenID Connect provider such as Okta, Microsoft Entra ID, Google or Keycloak.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error}
        submitLabel=${editing ? 'Save changes' : 'Create provider'}>
      <div class="form-grid">
        <${TextField} label="Display name" value=${form.display_name} onInput=${onName} required autofocus
          placeholder="Okta" hint=${html`The login page shows <strong>Sign in with ${form.display_name.trim() || '…'}</strong>.`} />
        <${TextField} label="Slug" value=${form.slug} onInput=${(v) => set({ slug: v, slugTouched: true })} required mono
          hint="Lower-case letters, digits and -; part of the redirect URI." />
        <${TextField} label="Issuer URL" value=${form.issuer} onInput=${(v) => set({ issuer: v })} required mono class="span-2"
          placeholder="https://example.okta.com"
          hint="The issuer of the provider's /.well-known/openid-configuration. https:// (http:// only for localhost)." />
        <${TextField} label="Client ID" value=${form.client_id} onInput=${(v) => set({ client_id: v })} required mono
          hint="From the application you registered with the provider." />
        <fieldset class="field">
          <legend>Client secret</legend>
          <${SecretPicker} id=${secretId} label="Client secret" value=${form.secret} secrets=${secrets}
            placeholder="None — public client (PKCE only)" onChange=${(v) => set({ secret: v })}
            hint="Kept sealed in the secret store; only the gateway reads it, for the token exchange." />
        </fieldset>
      </div>
      <fieldset class="field">
        <legend>Redirect URI</legend>
        <${CopyField} id="sso-redirect" label="Redirect URI" value=${redirectUri(publicUrl, form.slug.trim())} />
        <p class="hint">Register this exact URI with the provider (sign-in redirect / callback URL).</p>
      </fieldset>
      <div class="form-grid">
        <${TextField} label="Scopes" value=${form.scopes} onInput=${(v) => set({ scopes: v })} mono
          hint="Separated by spaces; must include openid. email is needed to match accounts." />
        <${TagsInput} label="Allowed email domains" values=${form.allowed_domains}
          onChange=${(v) => set({ allowed_domains: v.map((d) => d.toLowerCase()) })} placeholder="example.com"
          hint="Only these domains may sign in. Leave empty to allow any. Press Enter to add." />
      </div>
      <${Toggle} label="Create accounts on first sign-in" checked=${form.auto_provision}
        onChange=${(v) => set({ auto_provision: v })}
        hint="Off: only people with an account (matched by verified email) can sign in. On: unknown people with a verified email get an account." />
      ${form.auto_provision && html`<div class="form-grid">
        <${SelectField} label="Role of new accounts" value=${form.default_role} onChange=${(v) => set({ default_role: v })}
          options=${SSO_ROLES.map((r) => [r, roleName(r)])} hint="Single sign-on never creates administrators." />
        <${CheckList} label="Groups of new accounts" items=${groups.map((g) => ({ id: g.id, label: g.name }))}
          selected=${form.default_group_ids} onChange=${(v) => set({ default_group_ids: v })}
          empty="No groups yet: new accounts get no LLM access until an admin adds them to a group." />
      </div>`}
      <${Toggle} label="Enabled" checked=${form.enabled} onChange=${(v) => set({ enabled: v })}
        hint="Disabled providers are not offered on the login page and sign nobody in." />
    <//>
  <//>`;
}

export function SsoPage() {
  const list = usePagedList((p) => api.get('/sso-providers', p), []);
  const info = useFetch(() => api.get('/auth/sso'), []);
  const publicUrl = info.data ? info.data.public_url : null;
  const [editing, setEditing] = useState(null); // null: closed; {}: new; provider: edit
  const reload = () => { list.reload(); info.reload(); };
  const remove = (p) => confirmDialog({
    title: `Delete ${p.display_name}?`, danger: true, confirmLabel: 'Delete provider',
    text: `"Sign in with ${p.display_name}" disappears from the login page and ${p.linked_users} linked account${p.linked_users === 1 ? '' : 's'} lose${p.linked_users === 1 ? 's' : ''} the link. The accounts themselves are kept.`,
    action: () => api.del(`/sso-providers/${p.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${p.display_name}`, 'success'); reload(); } });
  const copyRedirect = async (p) => {
    const ok = await copyText(redirectUri(publicUrl, p.slug));
    toast(ok ? 'Redirect URI copied' : redirectUri(publicUrl, p.slug), ok ? 'success' : 'info');
  };
  const cols = [
    { key: 'name', label: 'Provider', render: (p) => html`<div class="cell-main"><strong>${p.display_name}</strong><code class="muted">${p.slug}</code></div>` },
    { key: 'issuer', label: 'Issuer', class: 'cell-url', render: (p) => html`<span class="mono small" title=${p.issuer}>${p.issuer}</span>` },
    { key: 'client', label: 'Client', render: (p) => html`<div class="cell-main"><code class="small">${p.client_id}</code>
      ${p.client_secret_ref ? html`<${Chip} tone="purple" title="Client secret from the secret store">${p.client_secret_ref}<//>`
        : html`<${Chip} tone="gray" title="No client secret: PKCE only">Public client<//>`}</div>` },
    { key: 'access', label: 'Who may sign in', render: (p) => html`<div class="cell-main">
      <span>${p.allowed_domains.length ? p.allowed_domains.map((d) => `@${d}`).join(', ') : 'Any domain'}</span>
      <span class="muted small">${p.auto_provision ? `New accounts: ${roleName(p.default_role)}${p.default_group_ids.length ? `, ${p.default_group_ids.length} group${p.default_group_ids.length > 1 ? 's' : ''}` : ''}` : 'Existing accounts only'}</span></div>` },
    { key: 'linked', label: 'Linked users', class: 'num', render: (p) => p.linked_users },
    { key: 'enabled', label: 'Status', render: (p) => html`<${Chip} tone=${p.enabled ? 'green' : 'gray'} dot>${p.enabled ? 'Enabled' : 'Disabled'}<//>` },
    { key: 'x', label: '', class: 'cell-actions', render: (p) => html`<${RowActions}>
      <${IconButton} icon="copy" label=${`Copy the redirect URI of ${p.display_name}`} onClick=${() => copyRedirect(p)} />
      <${IconButton} icon="edit" label=${`Edit ${p.display_name}`} onClick=${() => setEditing(p)} />
      <${IconButton} icon="trash" label=${`Delete ${p.display_name}`} kind="danger" onClick=${() => remove(p)} /><//>` },
  ];
  const add = () => html`<${Button} kind="primary" icon="plus" onClick=${() => setEditing({})}>Add provider<//>`;
  return html`
    <${PageHeader} title="Single sign-on" icon="key" actions=${add()}
      description="Let people sign in with your company's identity provider (OpenID Connect) instead of a password." />
    ${publicUrl && html`<${Notice}><span>Redirect URIs start with <code>${publicUrl}</code> (the server's
      <code>PUBLIC_URL</code>): it must be the address people use to reach AI Studio.</span><//>`}
    <${Card} pad=${false} title="Identity providers">
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Identity providers"
        empty=${html`<${EmptyState} icon="key" title="No identity providers yet"
          text="Add Okta, Microsoft Entra ID, Google, Keycloak or any OpenID Connect provider: the login page then offers “Sign in with …”, accounts are matched by verified email, and new ones can be created with a default role and groups."
          action=${add()} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${editing && html`<${ProviderDialog} provider=${editing.id ? editing : null} publicUrl=${publicUrl}
      onClose=${() => setEditing(null)} onSaved=${() => { setEditing(null); reload(); }} />`}`;
}
