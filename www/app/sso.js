// app/sso.js: the single sign-on page (super admins): the OpenID Connect
// providers the login page offers ("Sign in with …"), created and edited
// with the client secret picked from the secret store ($SECRET/ picker),
// provisioning (default role and groups), allowed email domains, and the
// redirect URI to register with the provider (from the server's PUBLIC_URL).
import { html } from './deps.js';
import { api } from './api.js';
import { Chip, StatusChip, CopyField, IconButton, Notice, SecretPicker, useFetch, toast, copyText, useId } from './ui.js';
import { ResourcePage, fieldError } from './resource.js';
import { options, roleName } from './lookups.js';

// "Company Okta" → "company-okta" (the slug rule of the database)
function slugOf(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

function redirectUri(publicUrl, slug) {
  return `${(publicUrl || location.origin).replace(/\/+$/, '')}/api/v1/auth/sso/${slug || '<slug>'}/callback`;
}

function SecretField({ values, set, refs }) {
  const id = useId('sso-secret');
  return html`<fieldset class="field">
    <legend>Client secret</legend>
    <${SecretPicker} id=${id} label="Client secret" value=${values.secret} secrets=${refs.secrets || []}
      placeholder="None — public client (PKCE only)" onChange=${(v) => set({ secret: v })}
      hint="Kept sealed in the secret store; only the gateway reads it, for the token exchange." />
  </fieldset>`;
}

function RedirectField({ values, ctx }) {
  return html`<fieldset class="field">
    <legend>Redirect URI</legend>
    <${CopyField} id="sso-redirect" label="Redirect URI" value=${redirectUri(ctx.publicUrl, values.slug.trim())} />
    <p class="hint">Register this exact URI with the provider (sign-in redirect / callback URL).</p>
  </fieldset>`;
}

const provisioning = (f) => f.auto_provision;

const SSO = {
  path: '/sso-providers',
  label: (p) => p.display_name,
  title: 'Single sign-on',
  icon: 'key',
  description: "Let people sign in with your company's identity provider (OpenID Connect) instead of a password.",
  listTitle: 'Identity providers',
  caption: 'Identity providers',
  create: { label: 'Add provider' },
  columns: [
    { key: 'name', label: 'Provider', render: (p) => html`<div class="cell-main"><strong>${p.display_name}</strong><code class="muted">${p.slug}</code></div>` },
    { key: 'issuer', label: 'Issuer', class: 'cell-url', render: (p) => html`<span class="mono small" title=${p.issuer}>${p.issuer}</span>` },
    { key: 'client', label: 'Client', render: (p) => html`<div class="cell-main"><code class="small">${p.client_id}</code>
      ${p.client_secret_ref ? html`<${Chip} tone="purple" title="Client secret from the secret store">${p.client_secret_ref}<//>`
        : html`<${Chip} tone="gray" title="No client secret: PKCE only">Public client<//>`}</div>` },
    { key: 'access', label: 'Who may sign in', render: (p) => html`<div class="cell-main">
      <span>${p.allowed_domains.length ? p.allowed_domains.map((d) => `@${d}`).join(', ') : 'Any domain'}</span>
      <span class="muted small">${p.auto_provision ? `New accounts: ${roleName(p.default_role)}${p.default_group_ids.length ? `, ${p.default_group_ids.length} group${p.default_group_ids.length > 1 ? 's' : ''}` : ''}` : 'Existing accounts only'}</span></div>` },
    { key: 'linked', label: 'Linked users', class: 'num', render: (p) => p.linked_users },
    { key: 'enabled', label: 'Status', render: (p) => html`<${StatusChip} on=${p.enabled} yes="Enabled" no="Disabled" />` },
  ],
  rowActions: (p, ctx) => html`<${IconButton} icon="copy" label=${`Copy the redirect URI of ${p.display_name}`} onClick=${async () => {
    const uri = redirectUri(ctx.publicUrl, p.slug);
    const ok = await copyText(uri);
    toast(ok ? 'Redirect URI copied' : uri, ok ? 'success' : 'info');
  }} />`,
  empty: () => ({
    title: 'No identity providers yet', action: true,
    text: 'Add Okta, Microsoft Entra ID, Google, Keycloak or any OpenID Connect provider: the login page then offers “Sign in with …”, accounts are matched by verified email, and new ones can be created with a default role and groups.',
  }),
  remove: {
    confirmLabel: 'Delete provider',
    text: (p) => `"Sign in with ${p.display_name}" disappears from the login page and ${p.linked_users} linked account${p.linked_users === 1 ? '' : 's'} lose${p.linked_users === 1 ? 's' : ''} the link. The accounts themselves are kept.`,
  },
  form: {
    add: 'Add an identity provider',
    description: 'An OpenID Connect provider such as Okta, Microsoft Entra ID, Google or Keycloak.',
    size: 'lg',
    create: 'Create provider',
    errorFields: { 23505: 'slug' },
    init: (p) => ({ slugTouched: !!p, secret: p && p.client_secret_ref ? p.client_secret_ref.replace(/^\$SECRET\//, '') : '' }),
    check: (f) => {
      if (!f.display_name.trim()) throw fieldError('display_name', 'Give the provider a name and a slug.');
      if (!f.slug.trim()) throw fieldError('slug', 'Give the provider a name and a slug.');
      if (!f.issuer.trim()) throw fieldError('issuer', 'Enter the issuer URL and the client ID the provider gave you.');
      if (!f.client_id.trim()) throw fieldError('client_id', 'Enter the issuer URL and the client ID the provider gave you.');
    },
    fields: [
      [
        { name: 'display_name', label: 'Display name', required: true, autofocus: true, placeholder: 'Okta',
          onChange: (v, f) => (f.slugTouched ? { display_name: v } : { display_name: v, slug: slugOf(v) }),
          hint: (f) => html`The login page shows <strong>Sign in with ${f.display_name.trim() || '…'}</strong>.` },
        { name: 'slug', label: 'Slug', required: true, mono: true, onChange: (v) => ({ slug: v, slugTouched: true }),
          hint: 'Lower-case letters, digits and -; part of the redirect URI.' },
        { name: 'issuer', label: 'Issuer URL', required: true, mono: true, span2: true, placeholder: 'https://example.okta.com',
          hint: "The issuer of the provider's /.well-known/openid-configuration. https:// (http:// only for localhost)." },
        { name: 'client_id', label: 'Client ID', required: true, mono: true, hint: 'From the application you registered with the provider.' },
        { name: 'client_secret_ref', type: 'custom', refs: 'secrets', render: (p) => html`<${SecretField} ...${p} />`,
          out: (v, f) => (f.secret ? `$SECRET/${f.secret}` : ''), omitEmpty: true },
      ],
      { type: 'custom', render: (p) => html`<${RedirectField} ...${p} />` },
      [
        { name: 'scopes', label: 'Scopes', mono: true, default: 'openid email profile', out: (v) => v.trim().split(/\s+/).join(' '),
          hint: 'Separated by spaces; must include openid. email is needed to match accounts.' },
        { name: 'allowed_domains', label: 'Allowed email domains', type: 'tags', placeholder: 'example.com',
          onChange: (v) => ({ allowed_domains: v.map((d) => d.toLowerCase()) }),
          hint: 'Only these domains may sign in. Leave empty to allow any. Press Enter to add.' },
      ],
      { name: 'auto_provision', label: 'Create accounts on first sign-in', type: 'toggle', default: false,
        hint: 'Off: only people with an account (matched by verified email) can sign in. On: unknown people with a verified email get an account.' },
      [
        { name: 'default_role', label: 'Role of new accounts', type: 'select', default: 'chat_user', show: provisioning,
          options: () => options('sso_roles'), hint: 'Single sign-on never creates administrators.' },
        { name: 'default_group_ids', label: 'Groups of new accounts', type: 'checklist', refs: 'groups', show: provisioning,
          out: (v) => [...v].sort((a, b) => a - b), items: (refs) => (refs.groups || []).map((g) => ({ id: g.id, label: g.name })),
          empty: 'No groups yet: new accounts get no LLM access until an admin adds them to a group.' },
      ],
      { name: 'enabled', label: 'Enabled', type: 'toggle', hint: 'Disabled providers are not offered on the login page and sign nobody in.' },
    ],
  },
};

export function SsoPage({ me }) {
  const info = useFetch(() => api.get('/auth/sso'), []);
  const publicUrl = info.data ? info.data.public_url : null;
  return html`<${ResourcePage} res=${SSO} me=${me} extra=${{ publicUrl }}
    before=${publicUrl && html`<${Notice}><span>Redirect URIs start with <code>${publicUrl}</code> (the server's
      <code>PUBLIC_URL</code>): it must be the address people use to reach AI Studio.</span><//>`} />`;
}
