// app/main.js: the application shell — session (GET /me) and the lookup
// lists it loads once signed in (lookups.js), the sidebar navigation and
// header, and the hash routes. Pages and menu entries are role-aware (what
// a role cannot do is not shown, by rank); the API decides anyway.
import { html, render, useState, useEffect } from './deps.js';
import { api, setCsrf, onSessionLost } from './api.js';
import { useRoute, navigate, match, currentPath, currentQuery } from './router.js';
import { Icon, Logo } from './icons.js';
import { Toasts, ConfirmHost, toast, EmptyState, Button, ErrorBanner, useInterval } from './ui.js';
import { initials, setDeployment, docsUrl, docsAvailable } from './format.js';
import { initTheme, ThemeToggle } from './theme.js';
import { loadLookups, clearLookups, roleName, atLeast } from './lookups.js';
import { Login } from './login.js';
import { Dashboard } from './dashboard.js';
import { LlmsPage } from './llms.js';
import { PricesPage } from './prices.js';
import { AppsPage, AppDetail } from './apps.js';
import { UsersPage } from './users.js';
import { GroupsPage, GroupDetail } from './groups.js';
import { RolesPage } from './roles.js';
import { SecretsPage } from './secrets.js';
import { SsoPage } from './sso.js';
import { FiltersPage } from './filters.js';
import { PluginsPage } from './plugins.js';
import { EdgesPage, EdgeDetail } from './edges.js';
import { AuditPage } from './audit.js';
import { RequestsPage, RequestDetail } from './requests.js';
import { NotificationsPage, onUnread, refreshUnread } from './notifications.js';
import { AlertTargetsPage } from './alerts.js';
import { PortalPage } from './portal.js';
import { ChatPage } from './chat.js';
import { AccountPage } from './account.js';

// who may open a page: roles of at least a rank, or one role
const SUPER = { min: 'super_admin' };
const ADMIN = { min: 'admin' };
const DEV = { only: 'developer' };
const ADMIN_DEV = { min: 'developer' };
const CHAT = { only: 'chat_user' };
const ALL = {};
const may = (who, role) => (who.only ? role === who.only : !who.min || atLeast(role, who.min));

// path, page, roles, and where it shows in the sidebar
const ROUTES = [
  { path: '/dashboard', page: Dashboard, roles: ADMIN, nav: 'Overview', label: 'Dashboard', icon: 'dashboard' },
  { path: '/portal', page: PortalPage, roles: DEV, nav: 'Overview', label: 'Developer portal', icon: 'compass' },
  { path: '/usage', page: Dashboard, roles: DEV, nav: 'Overview', label: 'Usage', icon: 'activity' },
  { path: '/llms', page: LlmsPage, roles: ADMIN, nav: 'Gateway', label: 'LLMs', icon: 'cpu' },
  { path: '/prices', page: PricesPage, roles: ADMIN, nav: 'Gateway', label: 'Model prices', icon: 'tag' },
  { path: '/apps', page: AppsPage, roles: ADMIN, nav: 'Gateway', label: 'Apps', icon: 'grid' },
  { path: '/apps', page: AppsPage, roles: DEV, nav: 'Overview', label: 'My apps', icon: 'grid' },
  { path: '/apps/:id', page: AppDetail, roles: ADMIN_DEV },
  { path: '/filters', page: FiltersPage, roles: ADMIN, nav: 'Gateway', label: 'Filters', icon: 'filter' },
  { path: '/plugins', page: PluginsPage, roles: ADMIN, nav: 'Gateway', label: 'Plugins', icon: 'plug' },
  { path: '/users', page: UsersPage, roles: ADMIN, nav: 'Access', label: 'Users', icon: 'user' },
  { path: '/groups', page: GroupsPage, roles: ADMIN, nav: 'Access', label: 'Groups', icon: 'users' },
  { path: '/groups/:id', page: GroupDetail, roles: ADMIN },
  { path: '/roles', page: RolesPage, roles: ADMIN, nav: 'Access', label: 'Roles', icon: 'shield' },
  { path: '/secrets', page: SecretsPage, roles: ADMIN, nav: 'Access', label: 'Secrets', icon: 'lock' },
  { path: '/sso', page: SsoPage, roles: SUPER, nav: 'Access', label: 'Single sign-on', icon: 'key' },
  { path: '/edges', page: EdgesPage, roles: ADMIN, nav: 'Operations', label: 'Edges', icon: 'server' },
  { path: '/edges/:id', page: EdgeDetail, roles: ADMIN },
  { path: '/notifications', page: NotificationsPage, roles: ADMIN_DEV, nav: 'Operations', label: 'Notifications', icon: 'bell', badge: 'unread' },
  { path: '/alert-targets', page: AlertTargetsPage, roles: ADMIN, nav: 'Operations', label: 'Alert targets', icon: 'send' },
  { path: '/requests', page: RequestsPage, roles: ADMIN, nav: 'Operations', label: 'Request log', icon: 'zap' },
  { path: '/requests', page: RequestsPage, roles: DEV, nav: 'Overview', label: 'Request log', icon: 'zap' },
  { path: '/requests/:id', page: RequestDetail, roles: ALL },
  { path: '/audit', page: AuditPage, roles: SUPER, nav: 'Operations', label: 'Audit log', icon: 'list' },
  { path: '/chat', page: ChatPage, roles: ALL, nav: 'Workspace', label: 'Chat', icon: 'chat' },
  { path: '/requests', page: RequestsPage, roles: CHAT, nav: 'Workspace', label: 'My requests', icon: 'zap' },
  { path: '/account', page: AccountPage, roles: ALL, nav: 'Workspace', label: 'Account', icon: 'user' },
];
const SECTIONS = ['Overview', 'Gateway', 'Access', 'Operations', 'Workspace'];

function home(role) {
  if (may(ADMIN, role)) return '/dashboard';
  if (may(DEV, role)) return '/portal';
  return '/chat';
}

function findRoute(path, role) {
  let forbidden = false;
  for (const r of ROUTES) {
    const params = match(r.path, path);
    if (!params) continue;
    if (may(r.roles, role)) return { route: r, params };
    forbidden = true;
  }
  return { route: null, forbidden };
}

// The open budget alerts (notifications.js), polled every 30 s and updated
// at once when the Notifications page acknowledges.
function useUnread(on) {
  const [n, setN] = useState(0);
  const poll = () => { if (on) refreshUnread().catch(() => {}); };
  useEffect(() => { if (!on) return undefined; const off = onUnread(setN); poll(); return off; }, [on]);
  useInterval(poll, 30000);
  return on ? n : 0;
}

function Sidebar({ me, path, open, onNavigate }) {
  const items = ROUTES.filter((r) => r.nav && may(r.roles, me.role));
  const unread = useUnread(may(ADMIN_DEV, me.role));
  return html`<aside class=${`sidebar ${open ? 'open' : ''}`} aria-label="Main navigation">
    <a class="brand" href=${`#${home(me.role)}`} onClick=${onNavigate}>
      <${Logo} /><span class="brand-name">AI Studio</span>
    </a>
    <nav>
      ${SECTIONS.map((s) => {
        const list = items.filter((r) => r.nav === s);
        if (list.length === 0) return null;
        return html`<div class="nav-section">
          <div class="nav-title">${s}</div>
          <ul>${list.map((r) => {
            const active = path === r.path || path.startsWith(`${r.path}/`);
            return html`<li><a href=${`#${r.path}`} class=${`nav-link ${active ? 'active' : ''}`}
              aria-current=${active ? 'page' : undefined} onClick=${onNavigate} data-nav=${r.path}>
              <${Icon} name=${r.icon} /><span>${r.label}</span>
              ${r.badge === 'unread' && unread > 0 && html`<span class="nav-badge" data-testid="unread-badge"><span aria-hidden="true">${unread > 99 ? '99+' : unread}</span><span class="sr-only">, ${unread} unread</span></span>`}</a></li>`;
          })}</ul>
        </div>`;
      })}
    </nav>
    <div class="sidebar-foot">
      <a href="#/account" class="sidebar-user" onClick=${onNavigate}>
        <span class="avatar">${initials(me.name, me.email)}</span>
        <span class="sidebar-user-text"><strong>${me.name || me.email}</strong><small>${roleName(me.role)}</small></span>
      </a>
    </div>
  </aside>`;
}

function Topbar({ me, title, section, onLogout, onMenu }) {
  return html`<header class="topbar">
    <button type="button" class="icon-btn icon-btn-ghost menu-btn" aria-label="Open the menu" onClick=${onMenu}><${Icon} name="menu" /></button>
    <div class="topbar-title">${section && html`<span class="crumb-section">${section}</span><span class="crumb-sep" aria-hidden="true">/</span>`}<span>${title}</span></div>
    <div class="topbar-right">
      <div class="user-chip" data-testid="current-user">
        <span class="avatar sm">${initials(me.name, me.email)}</span>
        <span class="user-chip-text"><span class="user-chip-name">${me.email}</span><span class="role-badge">${roleName(me.role)}</span></span>
      </div>
      ${docsAvailable() && html`<a class="btn btn-ghost" href=${docsUrl('')} target="_blank" rel="noopener" data-testid="docs-link">
        <${Icon} name="book" size=${16} /><span>Docs</span><span class="sr-only"> (opens in a new tab)</span></a>`}
      <${ThemeToggle} />
      <${Button} kind="ghost" icon="logout" onClick=${onLogout} data-testid="logout">Sign out<//>
    </div>
  </header>`;
}

function Shell({ me, onLogout, setMe }) {
  const path = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    // #/login is where a single sign-on ends when it fails (signed in or not)
    if (path === '/login') {
      const err = currentQuery().get('sso_error');
      if (err) toast(`Single sign-on failed: ${err}`, 'error');
    }
    if (path === '/' || path === '' || path === '/login') navigate(home(me.role));
  }, [path, me.role]);
  const { route, params, forbidden } = findRoute(path, me.role);
  // detail pages (/apps/:id) take the title and section of their list page
  const navRoute = route && (route.nav ? route : ROUTES.find((r) => r.nav && may(r.roles, me.role) && path.startsWith(`${r.path}/`)));
  const title = navRoute ? navRoute.label : '';
  const section = navRoute ? navRoute.nav : '';
  useEffect(() => { document.title = title ? `${title} · AI Studio` : 'AI Studio'; }, [title]);
  let content;
  if (route) {
    const Page = route.page;
    content = html`<${Page} me=${me} params=${params} path=${path} setMe=${setMe} key=${route.path} />`;
  } else if (path !== '/' && path !== '' && path !== '/login') {
    content = html`<${EmptyState} icon=${forbidden ? 'lock' : 'compass'}
      title=${forbidden ? 'This page is not available to your role' : 'Page not found'}
      text=${forbidden ? `Signed in as ${roleName(me.role)}. Ask an administrator if you need access.` : `There is nothing at #${path}.`}
      action=${html`<${Button} kind="primary" onClick=${() => navigate(home(me.role))}>Go to your start page<//>`} />`;
  }
  return html`<div class="layout">
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <${Sidebar} me=${me} path=${path} open=${menuOpen} onNavigate=${() => setMenuOpen(false)} />
    ${menuOpen && html`<div class="scrim" onClick=${() => setMenuOpen(false)}></div>`}
    <div class="main-col">
      <${Topbar} me=${me} title=${title} section=${section} onLogout=${onLogout} onMenu=${() => setMenuOpen(true)} />
      <main id="main" class="content" tabindex="-1">${content}</main>
    </div>
  </div>`;
}

function App() {
  const [me, setMe] = useState(undefined); // undefined: loading; null: signed out
  const [notice, setNotice] = useState(null);
  const [bootError, setBootError] = useState(null); // the lookups could not be loaded
  // signed in: the lookup lists first (chips, pickers and routes use them)
  const enter = (u, then) => {
    setBootError(null);
    return loadLookups().then(() => { if (then) then(); setMe(u); }, (e) => { setMe(undefined); setBootError({ e, u, then }); });
  };
  useEffect(() => {
    // the deployment's URLs first (SDK snippets use them), then the session
    api.get('/info').then(setDeployment, () => {})
      .then(() => api.get('/me')).then((u) => enter(u), () => setMe(null));
  }, []);
  useEffect(() => {
    onSessionLost(() => {
      clearLookups();
      setMe((cur) => {
        if (cur) setNotice('Your session has ended. Please sign in again.');
        return null;
      });
    });
  }, []);
  const logout = async () => {
    try { await api.post('/auth/logout'); } catch { /* the session may be gone already */ }
    setCsrf(null);
    clearLookups();
    setBootError(null);
    setNotice('You have signed out.');
    setMe(null);
  };
  const onLogin = (u) => enter(u, () => {
    if (!findRoute(currentPath(), u.role).route) navigate(home(u.role));
    setNotice(null);
    toast(`Welcome, ${u.name || u.email}`, 'success');
  });
  if (bootError) {
    return html`<div class="boot" role="alert"><span class="boot-logo"><${Logo} size=${40} /></span>
      <${ErrorBanner} error=${bootError.e} onRetry=${() => enter(bootError.u, bootError.then)} />
      <${Button} kind="ghost" icon="logout" onClick=${logout}>Sign out<//></div>`;
  }
  if (me === undefined) {
    return html`<div class="boot" role="status"><span class="boot-logo"><${Logo} size=${40} /></span><p>Loading AI Studio…</p></div>`;
  }
  return html`
    ${me ? html`<${Shell} me=${me} setMe=${setMe} onLogout=${logout} />` : html`<${Login} notice=${notice} onLogin=${onLogin} />`}
    <${Toasts} />
    <${ConfirmHost} />`;
}

initTheme();
render(html`<${App} />`, document.getElementById('root'));
