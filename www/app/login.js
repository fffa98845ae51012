// app/login.js: the sign-in page (POST /api/v1/auth/login). The session
// cookie is set by the server; the CSRF token from the answer is kept for
// writes. A throttled login (429) says when to try again. Below the form, one
// "Sign in with …" link per single sign-on provider (GET /api/v1/auth/sso);
// a failed single sign-on comes back as #/login?sso_error=… and shows here.
import { html, useState, useEffect } from './deps.js';
import { api, setCsrf, describeError } from './api.js';
import { currentPath, currentQuery } from './router.js';
import { Icon, Logo } from './icons.js';

// Where a single sign-on returns: the page the user was on (not the login
// page itself).
function returnTo() {
  const path = currentPath();
  return path === '/' || path === '/login' ? '/' : `/#${path}`;
}

function SsoButtons({ providers }) {
  if (!providers || providers.length === 0) return null;
  return html`<div class="login-sso" data-testid="sso-buttons">
    <div class="login-or" aria-hidden="true"><span>or</span></div>
    ${providers.map((p) => html`<a class="btn btn-secondary btn-block" key=${p.slug}
      href=${`${p.login_url}?return_to=${encodeURIComponent(returnTo())}`}>
      <${Icon} name="key" size=${16} /><span>Sign in with ${p.display_name}</span></a>`)}
  </div>`;
}

export function Login({ onLogin, notice }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(() => {
    const sso = currentQuery().get('sso_error');
    return sso ? { message: `Single sign-on failed: ${sso}` } : null;
  });
  const [providers, setProviders] = useState(null);

  useEffect(() => {
    // the message is shown once: a reload does not bring it back
    if (currentQuery().has('sso_error')) history.replaceState(null, '', '#/login');
    api.get('/auth/sso').then((r) => setProviders(r.data), () => setProviders([]));
  }, []);

  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    if (!email.trim() || !password) {
      setError({ message: 'Enter your email and password.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api.post('/auth/login', { email: email.trim(), password });
      setCsrf(r.csrf_token);
      onLogin(r.user);
    } catch (err) {
      const d = describeError(err);
      if (err.status === 401) d.message = 'That email and password do not match an active account.';
      setError(d);
      setBusy(false);
    }
  };

  return html`<div class="login-page">
    <div class="login-aside" aria-hidden="true">
      <div class="login-brand"><${Logo} size=${36} /><span>AI Studio</span></div>
      <div class="login-pitch">
        <h2>One gateway for every model your company uses.</h2>
        <ul>
          <li><${Icon} name="shield" /> Keys stay sealed; apps get their own credentials.</li>
          <li><${Icon} name="activity" /> Every call's tokens and cost, per app, user and model.</li>
          <li><${Icon} name="dollar" /> Budgets that stop overspending before it happens.</li>
        </ul>
      </div>
      <p class="login-foot">Self-hosted · PostgreSQL inside</p>
    </div>
    <main class="login-main">
      <form class="login-card" onSubmit=${submit} novalidate aria-labelledby="login-title">
        <div class="login-logo"><${Logo} size=${44} /></div>
        <h1 id="login-title">Sign in to AI Studio</h1>
        <p class="muted">Use the account your administrator created for you.</p>
        ${notice && html`<div class="alert alert-info" role="status"><${Icon} name="info" size=${18} /><div class="alert-body">${notice}</div></div>`}
        ${error && html`<div class="alert alert-error" role="alert" id="login-error"><${Icon} name="alert" size=${18} />
          <div class="alert-body"><strong>${error.message}</strong></div></div>`}
        <div class="field">
          <label for="login-email">Email</label>
          <input id="login-email" class="input" type="email" autocomplete="username" autofocus
            value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} required />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input id="login-password" class="input" type="password" autocomplete="current-password"
            value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} required />
        </div>
        <button class="btn btn-primary btn-block" type="submit" disabled=${busy}>
          ${busy && html`<span class="spinner sm" aria-hidden="true"></span>`}<span>${busy ? 'Signing in…' : 'Sign in'}</span>
        </button>
        <${SsoButtons} providers=${providers} />
      </form>
    </main>
  </div>`;
}
