// regress/e2e/sso.test.mjs: single sign-on (OpenID Connect, authorization
// code + PKCE) through the real gatewayd and a real cluster, against our
// mock identity provider (lib/idp.mjs). A "browser" here is fetch with
// redirect: 'manual' and a cookie jar that honours cookie paths.
//
// Covered: the public provider list; the authorization request (PKCE S256,
// state cookie); login by a linked identity, by a verified email, by
// provisioning (default role and groups); confidential and public clients;
// key rotation; session rotation; return_to kept local; every failure ends
// at /#/login?sso_error=… without a session (IdP error, wrong aud, expired,
// bad signature, wrong nonce, alg none, token error, unverified email,
// domain, deactivated, no account, no email, replayed callback, state
// cookie mismatch); discovery failures (502); the super-admin REST API for
// providers (403 for others); no secret, code or token in any response or
// log line.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from './lib/gatewayd.mjs';
import { startIdp } from './lib/idp.mjs';

const SECRET = 'idp-client-secret-e2e-7f3a9c';
const PW = 'root password 0123';
let pg;
let gw;
let idp;
let pub;
let base;
const ids = {};
const seen = []; // every response body and header the tests received (leak checks)
const it = withLogs(nodeIt, () => [gw, pg]);

// A browser: cookies by name and path, manual redirects.
class Browser {
  constructor() { this.jar = new Map(); }

  cookie(name) { return this.jar.get(name)?.value ?? null; }

  absorb(res) {
    for (const c of res.headers.getSetCookie()) {
      const [kv, ...attrs] = c.split(';').map((s) => s.trim());
      const i = kv.indexOf('=');
      const name = kv.slice(0, i);
      const p = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      if (attrs.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, { value: kv.slice(i + 1), path: p, raw: c });
    }
  }

  async get(url, headers = {}) {
    const u = new URL(url, base);
    const jar = [...this.jar].filter(([, c]) => u.pathname.startsWith(c.path)).map(([k, c]) => `${k}=${c.value}`);
    const res = await fetch(u, { redirect: 'manual', headers: { ...headers, ...(jar.length ? { cookie: jar.join('; ') } : {}) } });
    this.absorb(res);
    const text = await res.text();
    seen.push(text, res.headers.get('location') ?? '', res.headers.getSetCookie().join('\n'));
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text, json };
  }

  async api(method, p, body) {
    const headers = { cookie: [...this.jar].map(([k, c]) => `${k}=${c.value}`).join('; ') };
    if (method !== 'GET') headers['x-csrf-token'] = this.cookie('aistudio_csrf');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    this.absorb(res);
    const text = await res.text();
    seen.push(text);
    return { status: res.status, text, json: text ? JSON.parse(text) : null };
  }

  async login(email, password) {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    this.absorb(res);
    assert.equal(res.status, 200, await res.text());
    return this;
  }
}

// Our login URL → the IdP: returns our login answer and the callback URL
// the IdP sends the browser back to.
async function toCallback(b, slug, { returnTo, provider = idp } = {}) {
  const q = returnTo !== undefined ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  const begin = await b.get(`/api/v1/auth/sso/${slug}/login${q}`);
  assert.equal(begin.status, 302, begin.text);
  assert.ok(begin.location.startsWith(provider.issuer), begin.location);
  const authz = await fetch(begin.location, { redirect: 'manual' });
  assert.equal(authz.status, 302, await authz.text());
  return { begin, back: authz.headers.get('location') };
}

// The whole flow, through our callback; `to` is where the browser ends up.
async function signIn(b, slug, opts = {}) {
  const { begin, back } = await toCallback(b, slug, opts);
  const callback = await b.get(back);
  assert.equal(callback.status, 302, callback.text);
  return { begin, back, callback, to: callback.location };
}

function ssoError(loc) {
  assert.ok(loc.startsWith('/#/login?sso_error='), `expected the login page with an error, got ${loc}`);
  return decodeURIComponent(loc.slice('/#/login?sso_error='.length));
}

const sessions = async () => Number(await pg.sql('SELECT count(*) FROM aistudio.sessions'));

// Signs in and expects a failure: the login page, no session anywhere.
async function refused(slug, match) {
  const before = await sessions();
  const b = new Browser();
  const r = await signIn(b, slug);
  const msg = ssoError(r.to);
  assert.match(msg, match);
  assert.equal(b.cookie('aistudio_session'), null, 'no session cookie');
  assert.equal(b.cookie('aistudio_sso_state'), null, 'the state cookie is cleared');
  assert.equal(await sessions(), before, 'no session created');
  return msg;
}

async function createProvider(root, body) {
  const r = await root.api('POST', '/sso-providers', body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

before(async () => {
  pg = await startCluster();
  ids.root = Number(await pg.sql(`SELECT aistudio.create_user('root@example.com', 'Root', '${PW}', 'super_admin')`));
  ids.ada = Number(await pg.sql(`SELECT aistudio.create_user('ada@example.com', 'Ada', 'admin password 0123', 'admin')`));
  ids.dev = Number(await pg.sql(`SELECT aistudio.create_user('dev@corp.example', 'Dev', 'dev password 012345', 'developer')`));
  ids.gone = Number(await pg.sql(`SELECT aistudio.create_user('gone@corp.example', 'Gone', NULL, 'chat_user')`));
  await pg.sql(`SELECT aistudio.update_user(${ids.gone}, active => false)`);
  ids.team = Number(await pg.sql(`SELECT aistudio.create_group('sso-team')`));
  await pg.sql(`SELECT aistudio.set_secret('IDP_SECRET', '${SECRET}')`);
  idp = await startIdp({ clientId: 'studio-client', clientSecret: SECRET });
  pub = await startIdp({ clientId: 'public-client', path: '/oauth2/default' });
  gw = await startGatewayd(pg);
  base = `http://127.0.0.1:${gw.serverPort}`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await idp?.close();
    await pub?.close();
    await pg?.cleanup();
  }
});

describe('single sign-on', () => {
  let root;

  it('super admins manage providers over REST; others get 403; the secret stays a reference', async () => {
    root = await new Browser().login('root@example.com', PW);
    const p = await createProvider(root, {
      slug: 'corp', display_name: 'Corp SSO', issuer: `${idp.issuer}/`, client_id: 'studio-client',
      client_secret_ref: '$SECRET/IDP_SECRET', allowed_domains: ['Corp.Example'],
    });
    ids.corp = p.id;
    assert.equal(p.issuer, idp.issuer, 'one trailing slash dropped');
    assert.equal(p.client_secret_ref, '$SECRET/IDP_SECRET');
    assert.deepEqual(p.allowed_domains, ['corp.example']);
    assert.equal(p.default_role, 'chat_user');
    assert.equal(p.auto_provision, false);
    assert.equal(p.enabled, true);
    assert.equal(p.linked_users, 0);
    const list = await root.api('GET', '/sso-providers?page_size=10');
    assert.equal(list.status, 200);
    assert.equal(list.json.total, 1);
    assert.equal(list.json.data[0].slug, 'corp');
    assert.equal((await root.api('GET', `/sso-providers/${p.id}`)).json.display_name, 'Corp SSO');

    // bad input: 400/404/409, nothing written
    const bad = async (body, status, re) => {
      const r = await root.api('POST', '/sso-providers', { slug: 'x', display_name: 'X', issuer: idp.issuer, client_id: 'c', ...body });
      assert.equal(r.status, status, r.text);
      assert.match(r.json.error.message, re);
    };
    await bad({ issuer: 'http://idp.example.com' }, 400, /invalid issuer/);
    await bad({ scopes: 'email profile' }, 400, /openid/);
    await bad({ default_role: 'admin' }, 400, /default role/);
    await bad({ client_secret_ref: '$SECRET/NOPE' }, 400, /NOPE/);
    await bad({ client_secret_ref: SECRET }, 400, /client secret reference/);
    await bad({ slug: 'Bad Slug' }, 400, /slug/);
    await bad({ slug: 'corp' }, 409, /already exists/);
    await bad({ default_group_ids: [999999] }, 404, /group/);
    await bad({ extra: 1 }, 400, /unknown field/);
    assert.equal((await root.api('GET', '/sso-providers/999999')).status, 404);

    const ada = await new Browser().login('ada@example.com', 'admin password 0123');
    assert.equal((await ada.api('GET', '/sso-providers')).status, 403);
    assert.equal((await ada.api('POST', '/sso-providers', { slug: 'y', display_name: 'Y', issuer: idp.issuer, client_id: 'c' })).status, 403);
    assert.equal((await ada.api('GET', `/sso-providers/${p.id}`)).status, 403);
    assert.equal((await ada.api('DELETE', `/sso-providers/${p.id}`)).status, 403);
    const dev = await new Browser().login('dev@corp.example', 'dev password 012345');
    assert.equal((await dev.api('PATCH', `/sso-providers/${p.id}`, { enabled: false })).status, 403);
    assert.equal(Number(await pg.sql('SELECT count(*) FROM aistudio.sso_providers')), 1);

    // a throw-away provider: update (null clears the secret), delete
    const t = await createProvider(root, { slug: 'tmp', display_name: 'Tmp', issuer: idp.issuer, client_id: 'c',
      client_secret_ref: '$SECRET/IDP_SECRET' });
    const u = await root.api('PATCH', `/sso-providers/${t.id}`, { client_secret_ref: null, display_name: 'Temp', default_role: 'developer' });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.client_secret_ref, null);
    assert.equal(u.json.display_name, 'Temp');
    assert.equal(u.json.default_role, 'developer');
    assert.equal((await root.api('DELETE', `/sso-providers/${t.id}`)).status, 204);
    assert.equal((await root.api('DELETE', `/sso-providers/${t.id}`)).status, 404);
  });

  it('the documented provider schema matches what the API returns', async () => {
    const openapi = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
    const schema = openapi.components.schemas.SsoProvider;
    const got = (await root.api('GET', `/sso-providers/${ids.corp}`)).json;
    assert.deepEqual(Object.keys(got).sort(), Object.keys(schema.properties).sort());
    for (const m of ['get', 'patch', 'delete']) assert.ok(openapi.paths['/api/v1/sso-providers/{id}'][m], m);
    for (const p of ['/api/v1/auth/sso', '/api/v1/auth/sso/{slug}/login', '/api/v1/auth/sso/{slug}/callback']) {
      assert.deepEqual(openapi.paths[p].get.security, [], `${p} is public`);
    }
  });

  it('GET /auth/sso lists the enabled providers for the login page, without authentication', async () => {
    await createProvider(root, { slug: 'off', display_name: 'Disabled', issuer: idp.issuer, client_id: 'c', enabled: false });
    await createProvider(root, { slug: 'okta', display_name: 'Okta (public client)', issuer: pub.issuer,
      client_id: 'public-client', auto_provision: true, default_role: 'developer', default_group_ids: [ids.team] });
    const r = await new Browser().get('/api/v1/auth/sso');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.public_url, base);
    assert.deepEqual(r.json.data, [
      { slug: 'corp', display_name: 'Corp SSO', login_url: '/api/v1/auth/sso/corp/login' },
      { slug: 'okta', display_name: 'Okta (public client)', login_url: '/api/v1/auth/sso/okta/login' },
    ]);
  });

  it('login redirects to the provider with PKCE S256 and binds the state to a cookie', async () => {
    const b = new Browser();
    const r = await b.get('/api/v1/auth/sso/corp/login?return_to=/%23/apps');
    assert.equal(r.status, 302);
    const u = new URL(r.location);
    assert.equal(`${u.origin}${u.pathname}`, `${idp.issuer}/protocol/openid-connect/auth`);
    const q = Object.fromEntries(u.searchParams);
    assert.equal(q.response_type, 'code');
    assert.equal(q.client_id, 'studio-client');
    assert.equal(q.redirect_uri, `${base}/api/v1/auth/sso/corp/callback`);
    assert.equal(q.scope, 'openid email profile');
    assert.match(q.state, /^aiso_[0-9a-f]{64}$/);
    assert.match(q.nonce, /^[0-9a-f]{64}$/);
    assert.equal(q.code_challenge_method, 'S256');
    const row = await pg.one(`SELECT code_verifier, nonce, return_to FROM aistudio.sso_states
      WHERE state_hash = sha256(convert_to('${q.state}', 'UTF8'))`);
    assert.equal(q.code_challenge, createHash('sha256').update(row.code_verifier).digest('base64url'));
    assert.equal(row.nonce, q.nonce);
    assert.equal(row.return_to, '/#/apps');
    const c = b.jar.get('aistudio_sso_state');
    assert.equal(c.value, q.state);
    for (const a of [/; HttpOnly/, /; SameSite=Lax/, /; Path=\/api\/v1\/auth\/sso(;|$)/, /; Max-Age=600/]) assert.match(c.raw, a);
    assert.doesNotMatch(c.raw, /Secure/);

    const unknown = await b.get('/api/v1/auth/sso/nope/login');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /does not exist/);
    assert.equal((await b.get('/api/v1/auth/sso/off/login')).status, 404, 'a disabled provider cannot be used');
    assert.equal((await b.get('/api/v1/auth/sso/Bad_Slug/login')).status, 404);
  });

  it('a user with the verified email signs in: the identity is linked, the session works', async () => {
    idp.user = { sub: 'corp-dev-1', email: 'DEV@corp.example', email_verified: true, name: 'Dev' };
    const b = new Browser();
    const tokensBefore = idp.tokenRequests.length;
    const r = await signIn(b, 'corp', { returnTo: '/#/apps' });
    assert.equal(r.to, '/#/apps');
    assert.match(b.cookie('aistudio_session'), /^aiss_[0-9a-f]{64}$/);
    assert.match(b.cookie('aistudio_csrf'), /^[0-9a-f]{64}$/);
    assert.equal(b.cookie('aistudio_sso_state'), null, 'the state cookie is cleared');
    for (const a of [/; HttpOnly/, /; SameSite=Strict/, /; Path=\/;/]) assert.match(b.jar.get('aistudio_session').raw, a);
    const me = await b.api('GET', '/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.id, ids.dev);
    assert.equal(me.json.role, 'developer');
    // a write with the CSRF token of the SSO session
    assert.equal((await b.api('POST', '/me/tokens', { name: 'from-sso' })).status, 201);

    // what the provider saw: Basic client authentication, PKCE, our redirect URI
    const t = idp.tokenRequests[tokensBefore];
    assert.deepEqual(t.basic, { id: 'studio-client', secret: SECRET });
    assert.equal(t.form.grant_type, 'authorization_code');
    assert.equal(t.form.redirect_uri, `${base}/api/v1/auth/sso/corp/callback`);
    assert.match(t.form.code_verifier, /^[0-9a-f]{64}$/);
    assert.equal(t.form.client_secret, undefined, 'the secret is never in the body');
    const link = await pg.one(`SELECT user_id, email, last_login_at IS NOT NULL AS seen FROM aistudio.user_identities
      WHERE subject = 'corp-dev-1'`);
    assert.deepEqual(link, { user_id: ids.dev, email: 'DEV@corp.example', seen: true });

    // next time the link decides, even with another email at the provider
    idp.user = { sub: 'corp-dev-1', email: 'dev.renamed@corp.example', email_verified: false, name: 'Dev' };
    const again = await signIn(new Browser(), 'corp');
    assert.equal(again.to, '/');
    assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.users WHERE email = 'dev.renamed@corp.example'`)), 0);
  });

  it('sign-in rotates the session the browser presented', async () => {
    const b = await new Browser().login('dev@corp.example', 'dev password 012345');
    const old = b.cookie('aistudio_session');
    idp.user = { sub: 'corp-dev-1', email: 'dev@corp.example', email_verified: true };
    await signIn(b, 'corp');
    assert.notEqual(b.cookie('aistudio_session'), old);
    assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.sessions WHERE token_hash = sha256(convert_to('${old}', 'UTF8'))`)), 0);
  });

  it('provisioning creates the user with the default role and groups (public client, PKCE only)', async () => {
    pub.user = { sub: '00u-okta-77', email: 'newbie@elsewhere.example', email_verified: true, name: 'New Bie' };
    const b = new Browser();
    const r = await signIn(b, 'okta', { provider: pub, returnTo: '/#/portal' });
    assert.equal(r.to, '/#/portal');
    const me = (await b.api('GET', '/me')).json;
    assert.equal(me.email, 'newbie@elsewhere.example');
    assert.equal(me.name, 'New Bie');
    assert.equal(me.role, 'developer');
    assert.deepEqual(me.group_ids, [ids.team]);
    const t = pub.tokenRequests.at(-1);
    assert.equal(t.basic, null, 'a public client sends no Authorization');
    assert.equal(t.form.client_id, 'public-client');
    const prov = await root.api('GET', `/sso-providers?page_size=50`);
    assert.equal(prov.json.data.find((x) => x.slug === 'okta').linked_users, 1);
  });

  it('a rotated provider key is fetched once and accepted', async () => {
    idp.user = { sub: 'corp-dev-1', email: 'dev@corp.example', email_verified: true };
    const jwks = idp.counts.jwks;
    const discovery = idp.counts.discovery;
    await signIn(new Browser(), 'corp');
    assert.equal(idp.counts.jwks, jwks, 'the key set is cached');
    idp.rotateKey();
    const r = await signIn(new Browser(), 'corp');
    assert.equal(r.to, '/');
    assert.equal(idp.counts.jwks, jwks + 1, 'fetched again for the unknown kid');
    assert.equal(idp.counts.discovery, discovery, 'discovery is cached');
  });

  it('return_to is always a local path', async () => {
    idp.user = { sub: 'corp-dev-1', email: 'dev@corp.example', email_verified: true };
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/ok\r\nSet-Cookie: x=1']) {
      const r = await signIn(new Browser(), 'corp', { returnTo: evil });
      assert.equal(r.to, '/', evil);
    }
  });

  describe('every failure ends on the login page without a session', () => {
    // the provider misbehaves (lib/idp.mjs knobs)
    for (const [name, knobs, message] of [
      ['the provider refuses (error=access_denied)', { error: 'access_denied' }, /refused the sign-in \(access_denied\)/],
      ['an ID token for another audience', { aud: 'someone-else' }, /not meant for this client/],
      ['an expired ID token', { expired: true }, /expired/],
      ['a bad signature', { badSignature: true }, /signature/],
      ['a wrong nonce', { wrongNonce: true }, /nonce/],
      ['an unsigned token (alg none)', { algNone: true }, /refused/],
      ['the token endpoint refuses the code', { tokenError: 'invalid_grant' }, /did not complete the sign-in/],
    ]) {
      it(name, async () => {
        idp.misbehave = knobs;
        await refused('corp', message);
      });
    }
    it('no email claim', async () => {
      idp.misbehave = { noEmail: true };
      idp.user = { sub: 'corp-no-email', name: 'X' };
      await refused('corp', /no email address/);
    });
    it('an existing user whose email the provider did not verify is not linked', async () => {
      idp.misbehave = {};
      ids.other = Number(await pg.sql(`SELECT aistudio.create_user('other@corp.example', 'Other', NULL, 'developer')`));
      idp.user = { sub: 'corp-other', email: 'other@corp.example', email_verified: false };
      await refused('corp', /not verified/);
      assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.user_identities WHERE subject = 'corp-other'`)), 0);
    });
    it('an email domain the provider does not allow', async () => {
      idp.user = { sub: 'corp-outsider', email: 'someone@gmail.example', email_verified: true };
      await refused('corp', /domain "gmail.example" is not allowed/);
    });
    it('a deactivated user', async () => {
      idp.user = { sub: 'corp-gone', email: 'gone@corp.example', email_verified: true };
      await refused('corp', /deactivated/);
    });
    it('no account and no provisioning', async () => {
      idp.user = { sub: 'corp-stranger', email: 'stranger@corp.example', email_verified: true };
      await refused('corp', /no account for this single sign-on identity/);
      assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.users WHERE email = 'stranger@corp.example'`)), 0);
    });

    it('a replayed callback (the same state) fails', async () => {
      idp.user = { sub: 'corp-dev-1', email: 'dev@corp.example', email_verified: true };
      const b = new Browser();
      const first = await signIn(b, 'corp');
      assert.equal(first.to, '/');
      const stateCookie = new URL(first.back).searchParams.get('state');
      const replay = new Browser();
      replay.jar.set('aistudio_sso_state', { value: stateCookie, path: '/api/v1/auth/sso' });
      const before = await sessions();
      const r = await replay.get(first.back);
      assert.equal(r.status, 302);
      assert.match(ssoError(r.location), /login state unknown or expired/);
      assert.equal(replay.cookie('aistudio_session'), null);
      assert.equal(await sessions(), before);
    });

    it('a state cookie that does not match (or is missing) fails, and the state is not used up', async () => {
      const b = new Browser();
      const { back } = await toCallback(b, 'corp');
      const state = new URL(back).searchParams.get('state');
      const attacker = new Browser();
      attacker.jar.set('aistudio_sso_state', { value: `aiso_${'0'.repeat(64)}`, path: '/api/v1/auth/sso' });
      let r = await attacker.get(back);
      assert.match(ssoError(r.location), /another browser or has expired/);
      r = await new Browser().get(back);
      assert.match(ssoError(r.location), /another browser or has expired/);
      assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.sso_states
        WHERE state_hash = sha256(convert_to('${state}', 'UTF8'))`)), 1);
      // the rightful browser still completes it
      r = await b.get(back);
      assert.equal(r.location, '/');
      assert.ok(b.cookie('aistudio_session'));
    });

    it('a callback for another provider than the login started with fails', async () => {
      const b = new Browser();
      const back = new URL((await toCallback(b, 'corp')).back);
      back.pathname = back.pathname.replace('/corp/', '/okta/');
      const r = await b.get(back.toString());
      assert.match(ssoError(r.location), /another provider/);
      assert.equal(b.cookie('aistudio_session'), null);
    });

    it('an expired pending login fails', async () => {
      const b = new Browser();
      const { back } = await toCallback(b, 'corp');
      await pg.sql(`UPDATE aistudio.sso_states SET created_at = now() - interval '11 minutes'`);
      const r = await b.get(back);
      assert.match(ssoError(r.location), /login state unknown or expired/);
    });
  });

  it('discovery failures are 502 on login and nothing is redirected', async () => {
    idp.misbehave = {};
    const b = new Browser();
    // a fresh issuer (nothing cached): a provider whose discovery names another issuer
    const other = await startIdp({ clientId: 'c', path: '/t2' });
    try {
      await createProvider(root, { slug: 'mismatch', display_name: 'Mismatch', issuer: other.issuer, client_id: 'c' });
      other.misbehave = { wrongIssuer: true };
      let r = await b.get('/api/v1/auth/sso/mismatch/login');
      assert.equal(r.status, 502, r.text);
      assert.match(r.json.error.message, /names another issuer/);
      other.misbehave = { discoveryDown: true };
      r = await b.get('/api/v1/auth/sso/mismatch/login');
      assert.equal(r.status, 502);
      assert.match(r.json.error.message, /HTTP 503/);
    } finally {
      await other.close();
    }
    await createProvider(root, { slug: 'nowhere', display_name: 'Nowhere', issuer: 'http://127.0.0.1:9/none', client_id: 'c' });
    const r = await b.get('/api/v1/auth/sso/nowhere/login');
    assert.equal(r.status, 502);
  });

  it('no secret, code or token appears in any response or log line', async () => {
    const codes = [...idp.tokenRequests, ...pub.tokenRequests].map((t) => t.form.code).filter(Boolean);
    const tokens = [...idp.issued, ...pub.issued];
    assert.ok(codes.length >= 5 && tokens.length >= 5);
    const everything = seen.join('\n');
    const logs = gw.logs();
    for (const [what, hay] of [['responses', everything], ['gatewayd logs', logs]]) {
      assert.ok(!hay.includes(SECRET), `the client secret in ${what}`);
      for (const c of codes) assert.ok(!hay.includes(c), `an authorization code in ${what}`);
      for (const t of tokens) assert.ok(!hay.includes(t.split('.')[2] || t.split('.')[1]), `an ID token in ${what}`);
    }
    assert.match(logs, /sso corp: sign-in failed/, 'failures are logged');
    assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.audit_log WHERE strpos(row_to_json(audit_log)::text, '${SECRET}') > 0`)), 0);
  });
});
