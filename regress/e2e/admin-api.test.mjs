// regress/e2e/admin-api.test.mjs: the REST API on SERVER_PORT against the
// real gatewayd and a real cluster. Per role (super_admin, admin, developer,
// chat_user): allowed and forbidden actions (403); login, the session
// cookie and its rotation, logout, expiry; CSRF on cookie-authenticated
// writes (API tokens need none); throttled logins (429); bad inputs
// (malformed JSON, wrong types, unknown fields, oversized bodies, unknown
// ids, duplicates, another user's app, a developer granting themselves an
// LLM or a role). Every refusal is checked in the database: nothing changed.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from './lib/gatewayd.mjs';

let pg;
let gw;
let base;
const ids = {};
const it = withLogs(nodeIt, () => [gw, pg]);

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
const PW = {
  root: 'root password 0123',
  ada: 'admin password 0123',
  dev: 'dev password 012345',
  dev2: 'dev2 password 01234',
  chat: 'chat password 01234',
  victim: 'victim password 0123',
};

// docs/openapi.json: every 2xx JSON body the tests receive is checked
// against the documented schema of its operation (problems collected in
// schemaProblems and asserted at the end).
const openapi = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
const documented = Object.entries(openapi.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => ({
  method: m.toUpperCase(), path: p, op: ops[m],
  re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`),
})));
const schemaProblems = [];
const seenOps = new Set();

function resolve(schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 8; i++) s = s.$ref.split('/').slice(1).reduce((o, k) => o[k], openapi);
  return s;
}

function checkSchema(schema, v, where, errs) {
  const s = resolve(schema);
  if (!s) return;
  if (s.allOf) { for (const part of s.allOf) checkSchema(part, v, where, errs); return; }
  if (v === null) { if (!s.nullable) errs.push(`${where}: null`); return; }
  const t = s.type;
  if (t === 'integer' && !Number.isInteger(v)) errs.push(`${where}: not an integer: ${JSON.stringify(v)}`);
  if (t === 'number' && typeof v !== 'number') errs.push(`${where}: not a number: ${JSON.stringify(v)}`);
  if (t === 'string' && typeof v !== 'string') errs.push(`${where}: not a string: ${JSON.stringify(v)}`);
  if (t === 'string' && s.format === 'date-time' && typeof v === 'string' && Number.isNaN(Date.parse(v))) errs.push(`${where}: not a date-time`);
  if (t === 'boolean' && typeof v !== 'boolean') errs.push(`${where}: not a boolean`);
  if (s.enum && !s.enum.includes(v)) errs.push(`${where}: ${JSON.stringify(v)} not in ${s.enum}`);
  if (t === 'array') {
    if (!Array.isArray(v)) errs.push(`${where}: not an array`);
    else v.forEach((x, i) => checkSchema(s.items, x, `${where}[${i}]`, errs));
  }
  if (t === 'object' || s.properties) {
    if (typeof v !== 'object' || Array.isArray(v)) { errs.push(`${where}: not an object`); return; }
    for (const k of s.required || []) if (!(k in v)) errs.push(`${where}: missing ${k}`);
    for (const [k, x] of Object.entries(v)) {
      if (s.properties && k in s.properties) checkSchema(s.properties[k], x, `${where}.${k}`, errs);
      else if (s.additionalProperties === false) errs.push(`${where}: undocumented property ${k}`);
    }
  }
}

function checkResponse(method, url, status, json) {
  const p = new URL(url).pathname;
  const d = documented.find((x) => x.method === method && x.re.test(p));
  if (!d) { if (status < 400) schemaProblems.push(`${method} ${p}: ${status} but not documented`); return; }
  seenOps.add(`${d.method} ${d.path}`);
  const r = d.op.responses[String(status)];
  if (!r) { schemaProblems.push(`${method} ${p}: status ${status} not documented`); return; }
  const resp = resolve(r);
  const schema = resp.content?.['application/json']?.schema;
  if (status >= 200 && status < 300 && schema) {
    const errs = [];
    checkSchema(schema, json, `${method} ${d.path} ${status}`, errs);
    schemaProblems.push(...errs);
  }
}

// A client of the API: keeps cookies like a browser (and the CSRF token
// from the aistudio_csrf cookie), or uses a personal API token.
class Client {
  constructor(token = null) {
    this.cookies = {};
    this.token = token;
  }

  get csrf() { return this.cookies.aistudio_csrf ?? null; }

  get session() { return this.cookies.aistudio_session ?? null; }

  absorb(res) {
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      const i = kv.indexOf('=');
      const k = kv.slice(0, i);
      if (/;\s*Max-Age=0/i.test(c)) delete this.cookies[k];
      else this.cookies[k] = kv.slice(i + 1);
    }
  }

  // opts: csrf (false: no header; a string: that value), headers, raw (send body as is)
  async req(method, path, body, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const jar = Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    if (jar && !this.token) headers.cookie = jar;
    if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    if (method !== 'GET' && opts.csrf !== false && !this.token && this.csrf) {
      headers['x-csrf-token'] = typeof opts.csrf === 'string' ? opts.csrf : this.csrf;
    }
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : (opts.raw ? body : JSON.stringify(body)),
    });
    this.absorb(res);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    checkResponse(method, `${base}${path}`, res.status, json);
    return { status: res.status, json, text, headers: res.headers };
  }

  get(path, opts) { return this.req('GET', `/api/v1${path}`, undefined, opts); }
  post(path, body, opts) { return this.req('POST', `/api/v1${path}`, body, opts); }
  patch(path, body, opts) { return this.req('PATCH', `/api/v1${path}`, body, opts); }
  put(path, body, opts) { return this.req('PUT', `/api/v1${path}`, body, opts); }
  del(path, opts) { return this.req('DELETE', `/api/v1${path}`, undefined, opts); }

  async login(email, password) {
    return this.post('/auth/login', { email, password }, { csrf: false });
  }
}

async function loggedIn(who) {
  const c = new Client();
  const r = await c.login(`${who}@example.com`, PW[who]);
  assert.equal(r.status, 200, `login ${who}: ${r.text}`);
  return c;
}

const count = async (from) => Number(await pg.sql(`SELECT count(*) FROM ${from}`));
const counts = async () => pg.one(`SELECT
  (SELECT count(*) FROM aistudio.users)::int AS users, (SELECT count(*) FROM aistudio.groups)::int AS groups,
  (SELECT count(*) FROM aistudio.group_members)::int AS members, (SELECT count(*) FROM aistudio.group_llms)::int AS grants,
  (SELECT count(*) FROM aistudio.llms)::int AS llms, (SELECT count(*) FROM aistudio.apps)::int AS apps,
  (SELECT count(*) FROM aistudio.app_llms)::int AS app_llms, (SELECT count(*) FROM aistudio.credentials)::int AS credentials,
  (SELECT count(*) FROM aistudio.secrets)::int AS secrets, (SELECT count(*) FROM aistudio.model_prices)::int AS prices,
  (SELECT count(*) FROM aistudio.filters)::int AS filters, (SELECT count(*) FROM aistudio.audit_log)::int AS audit,
  (SELECT string_agg(u.role, ',' ORDER BY u.id) FROM aistudio.users u) AS roles,
  (SELECT string_agg(a.name, ',' ORDER BY a.id) FROM aistudio.apps a) AS app_names`);

function assertError(r, status, { code, match } = {}) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.ok(r.json && r.json.error, `error body: ${r.text}`);
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(typeof r.json.error.type, 'string');
  assert.ok('code' in r.json.error);
  if (code) assert.equal(r.json.error.code, code, r.text);
  if (match) assert.match(r.json.error.message, match);
}

before(async () => {
  pg = await startCluster();
  const user = async (email, name, role) => Number(await pg.sql(
    `SELECT aistudio.create_user('${email}@example.com', '${name}', '${PW[email]}', '${role}')`));
  ids.root = await user('root', 'Root', 'super_admin');
  ids.ada = await user('ada', 'Ada', 'admin');
  ids.dev = await user('dev', 'Dev', 'developer');
  ids.dev2 = await user('dev2', 'Dev Two', 'developer');
  ids.chat = await user('chat', 'Chat', 'chat_user');
  ids.victim = await user('victim', 'Victim', 'chat_user');
  await pg.sql(`SELECT aistudio.set_secret('OPENAI_KEY', 'sk-e2e-admin-plaintext-0042')`);
  ids.gpt = Number(await pg.sql(`SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1', '$SECRET/OPENAI_KEY')`));
  ids.claude = Number(await pg.sql(`SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com')`));
  ids.eng = Number(await pg.sql(`SELECT aistudio.create_group('eng')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${ids.dev}, ${ids.eng}); SELECT aistudio.add_user_to_group(${ids.chat}, ${ids.eng});
                SELECT aistudio.grant_llm_to_group(${ids.eng}, ${ids.gpt})`);
  ids.otherApp = Number(await pg.sql(`SELECT aistudio.create_app('other-app', ${ids.dev2}, '{}', monthly_budget => 1)`));
  gw = await startGatewayd(pg);
  base = `http://127.0.0.1:${gw.serverPort}`;
  const probe = await fetch(`${base}/api/v1/me`);
  if (probe.status === 404) throw new Error(`the REST API is not served on SERVER_PORT ${gw.serverPort} (gw_admin_start not wired into main.c?)`);
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

describe('authentication and sessions', () => {
  it('unauthenticated requests get 401 and change nothing', async () => {
    const before = await counts();
    const anon = new Client();
    assertError(await anon.get('/me'), 401, { code: 'unauthenticated' });
    assertError(await anon.post('/groups', { name: 'anon' }), 401);
    const forged = new Client();
    forged.cookies.aistudio_session = `aiss_${'ab'.repeat(32)}`;
    assertError(await forged.get('/me'), 401, { code: 'session_expired' });
    forged.cookies.aistudio_session = 'garbage';
    assertError(await forged.get('/me'), 401);
    assertError(await new Client(`aisu_${'0'.repeat(64)}`).get('/me'), 401, { code: 'invalid_token' });
    assertError(await new Client('not-a-token').get('/me'), 401, { code: 'invalid_token' });
    const basic = await fetch(`${base}/api/v1/me`, { headers: { authorization: 'Basic cm9vdDpyb290' } });
    assert.equal(basic.status, 401);
    assert.deepEqual(await counts(), before);
  });

  it('GET /info tells anyone where the gateway and the docs are, without a session', async () => {
    const anon = new Client();
    const r = await anon.get('/info');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.proxy_port, gw.proxyPort);
    assert.equal(r.json.docs_port, gw.docsPort);
    assert.equal(r.json.gateway_url, null);
    assert.equal(r.json.public_url, `http://127.0.0.1:${gw.serverPort}`);
    assert.equal(r.json.mode, 'standalone');
    assert.equal(r.json.grpc_port, gw.grpcPort);
    assertError(await anon.post('/info', {}), 405);
  });

  it('login sets an HttpOnly SameSite=Strict session cookie and stores only hashes', async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ROOT@example.com', password: PW.root }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.user.id, ids.root);
    assert.equal(body.user.role, 'super_admin');
    assert.match(body.csrf_token, /^[0-9a-f]{64}$/);
    assert.ok(Date.parse(body.expires_at) > Date.now() + 6.9 * 86400e3);
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('aistudio_session='));
    const csrf = cookies.find((c) => c.startsWith('aistudio_csrf='));
    assert.ok(session && csrf, cookies.join(' | '));
    assert.match(session, /; HttpOnly/);
    assert.match(session, /; SameSite=Strict/);
    assert.match(session, /; Path=\//);
    assert.doesNotMatch(session, /Secure/);
    assert.doesNotMatch(csrf, /HttpOnly/);
    assert.match(csrf, /; SameSite=Strict/);
    const token = session.split(';')[0].split('=')[1];
    assert.match(token, /^aiss_[0-9a-f]{64}$/);
    assert.equal(csrf.split(';')[0].split('=')[1], body.csrf_token);
    // the database holds the hashes, never the tokens
    const row = await pg.one(`SELECT encode(token_hash, 'hex') AS token_h, encode(csrf_hash, 'hex') AS csrf_h, ip, user_id
      FROM aistudio.sessions WHERE token_hash = sha256(convert_to('${token}', 'UTF8'))`);
    assert.equal(row.token_h, sha256(token));
    assert.equal(row.csrf_h, sha256(body.csrf_token));
    assert.equal(row.user_id, ids.root);
    assert.equal(row.ip, '127.0.0.1');
    assert.equal(await count(`aistudio.sessions s WHERE strpos(row_to_json(s)::text, '${token}') > 0
      OR strpos(row_to_json(s)::text, '${body.csrf_token}') > 0`), 0);
  });

  it('a wrong password or unknown email is 401 without a cookie', async () => {
    const c = new Client();
    const r = await c.login('root@example.com', 'not the password');
    assertError(r, 401, { code: 'invalid_credentials' });
    assert.equal(r.headers.getSetCookie().length, 0);
    assertError(await c.login('nobody@example.com', 'whatever password'), 401, { code: 'invalid_credentials' });
    assertError(await c.post('/auth/login', { email: 'root@example.com' }, { csrf: false }), 400, { code: 'missing_field' });
    assertError(await c.post('/auth/login', { email: 'root@example.com', password: 1 }, { csrf: false }), 400, { code: 'invalid_type' });
    await pg.sql('DELETE FROM aistudio.login_attempts');
  });

  it('login rotates the session: a new cookie each time, the old session dead', async () => {
    const c = new Client();
    assert.equal((await c.login('dev@example.com', PW.dev)).status, 200);
    const first = c.session;
    const firstCsrf = c.csrf;
    assert.equal((await c.login('dev@example.com', PW.dev)).status, 200);
    assert.notEqual(c.session, first);
    assert.notEqual(c.csrf, firstCsrf);
    const old = new Client();
    old.cookies.aistudio_session = first;
    assertError(await old.get('/me'), 401, { code: 'session_expired' });
    assert.equal(await count(`aistudio.sessions WHERE token_hash = sha256(convert_to('${first}', 'UTF8'))`), 0);
    assert.equal((await c.get('/me')).json.email, 'dev@example.com');
    // fixation: a session id chosen by someone else is never adopted
    const planted = `aiss_${'c'.repeat(64)}`;
    const victim = new Client();
    victim.cookies.aistudio_session = planted;
    assert.equal((await victim.login('dev@example.com', PW.dev)).status, 200);
    assert.notEqual(victim.session, planted);
    assert.equal(await count(`aistudio.sessions WHERE token_hash = sha256(convert_to('${planted}', 'UTF8'))`), 0);
  });

  it('logout needs the CSRF token, ends the session and clears the cookies', async () => {
    const c = await loggedIn('dev');
    const token = c.session;
    assertError(await c.post('/auth/logout', undefined, { csrf: false }), 403, { code: 'csrf_failed' });
    assert.equal((await c.get('/me')).status, 200);
    const r = await c.post('/auth/logout');
    assert.equal(r.status, 204);
    assert.equal(c.session, null, 'the session cookie is cleared');
    assert.equal(await count(`aistudio.sessions WHERE token_hash = sha256(convert_to('${token}', 'UTF8'))`), 0);
    const again = new Client();
    again.cookies.aistudio_session = token;
    assertError(await again.get('/me'), 401);
    // logging out without a live session just clears the cookies
    assert.equal((await again.post('/auth/logout')).status, 204);
  });

  it('expired and idle sessions are refused', async () => {
    const c = await loggedIn('chat');
    assert.equal((await c.get('/me')).status, 200);
    await pg.sql(`UPDATE aistudio.sessions SET expires_at = now() - interval '1 second'
      WHERE token_hash = sha256(convert_to('${c.session}', 'UTF8'))`);
    assertError(await c.get('/me'), 401, { code: 'session_expired' });
    const d = await loggedIn('chat');
    await pg.sql(`UPDATE aistudio.sessions SET last_seen_at = now() - interval '13 hours'
      WHERE token_hash = sha256(convert_to('${d.session}', 'UTF8'))`);
    assertError(await d.get('/me'), 401, { code: 'session_expired' });
  });

  it('failed logins are throttled: 429 with Retry-After, nothing else written', async () => {
    const c = new Client();
    for (let i = 0; i < 5; i++) assertError(await c.login('victim@example.com', `wrong password ${i}`), 401);
    const r = await c.login('victim@example.com', PW.victim);
    assertError(r, 429, { code: '55P03', match: /too many failed login attempts/ });
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 900, `Retry-After ${retry}`);
    assert.equal(r.headers.getSetCookie().length, 0);
    assert.equal(await count(`aistudio.login_attempts WHERE email = 'victim@example.com'`), 5);
    assert.equal(await count(`aistudio.sessions WHERE user_id = ${ids.victim}`), 0);
    // other users are not affected
    assert.equal((await new Client().login('ada@example.com', PW.ada)).status, 200);
    await pg.sql('DELETE FROM aistudio.login_attempts');
    assert.equal((await c.login('victim@example.com', PW.victim)).status, 200);
  });

  it('deactivating a user ends their sessions; their API tokens stop working while inactive', async () => {
    const c = await loggedIn('dev2');
    const token = c.session;
    const t = await c.post('/me/tokens', { name: 'script' });
    assert.equal(t.status, 201);
    const bearer = new Client(t.json.token);
    assert.equal((await bearer.get('/me')).status, 200);
    const admin = await loggedIn('ada');
    assert.equal((await admin.patch(`/users/${ids.dev2}`, { active: false })).status, 200);
    assertError(await c.get('/me'), 401, { code: 'session_expired' });
    assertError(await bearer.get('/me'), 401);
    assert.equal(await count(`aistudio.sessions WHERE user_id = ${ids.dev2}`), 0);
    assert.equal((await admin.patch(`/users/${ids.dev2}`, { active: true })).status, 200);
    const old = new Client();
    old.cookies.aistudio_session = token;
    assertError(await old.get('/me'), 401);
    assert.equal((await bearer.get('/me')).status, 200);
    assert.equal((await (await loggedIn('dev2')).get('/me')).status, 200);
  });
});

describe('CSRF and API tokens', () => {
  it('cookie-authenticated writes need X-CSRF-Token; reads do not', async () => {
    const c = await loggedIn('ada');
    const before = await counts();
    assertError(await c.post('/groups', { name: 'csrf-a' }, { csrf: false }), 403, { code: 'csrf_failed' });
    assertError(await c.post('/groups', { name: 'csrf-a' }, { csrf: 'f'.repeat(64) }), 403, { code: 'csrf_failed' });
    assertError(await c.post('/groups', { name: 'csrf-a' }, { csrf: 'short' }), 403, { code: 'csrf_failed' });
    const other = await loggedIn('root');
    assertError(await c.post('/groups', { name: 'csrf-a' }, { csrf: other.csrf }), 403, { code: 'csrf_failed' });
    assertError(await c.patch(`/groups/${ids.eng}`, { name: 'renamed' }, { csrf: false }), 403);
    assertError(await c.del(`/apps/${ids.otherApp}`, { csrf: false }), 403);
    assert.deepEqual(await counts(), before);
    assert.equal(await pg.sql(`SELECT name FROM aistudio.groups WHERE id = ${ids.eng}`), 'eng');
    assert.equal((await c.get('/groups')).status, 200);
    const ok = await c.post('/groups', { name: 'csrf-a' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.name, 'csrf-a');
  });

  it('personal API tokens: shown once, only a hash stored, no CSRF needed, revocable', async () => {
    const c = await loggedIn('ada');
    const r = await c.post('/me/tokens', { name: 'ci' });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.token, /^aisu_[0-9a-f]{64}$/);
    assert.equal(r.json.name, 'ci');
    assert.equal(r.json.token_prefix, r.json.token.slice(0, 12));
    const row = await pg.one(`SELECT encode(token_hash, 'hex') AS h, user_id FROM aistudio.api_tokens WHERE id = ${r.json.id}`);
    assert.equal(row.h, sha256(r.json.token));
    assert.equal(row.user_id, ids.ada);
    assert.equal(await count(`aistudio.api_tokens t WHERE strpos(row_to_json(t)::text, '${r.json.token}') > 0`), 0);
    const list = await c.get('/me/tokens');
    assert.equal(list.status, 200);
    assert.ok(list.json.data.some((t) => t.id === r.json.id && t.active && t.token_prefix === r.json.token_prefix));
    assert.ok(!list.text.includes(r.json.token));
    assertError(await c.post('/me/tokens', { name: 'ci' }), 409);

    const bearer = new Client(r.json.token);
    const g = await bearer.post('/groups', { name: 'via-token' });
    assert.equal(g.status, 201, g.text);
    assert.equal((await bearer.get('/me')).json.id, ids.ada);
    assert.equal((await c.del(`/me/tokens/${r.json.id}`)).status, 204);
    assertError(await bearer.get('/me'), 401, { code: 'invalid_token' });
    assertError(await bearer.post('/groups', { name: 'after-revoke' }), 401);
    assert.equal(await count(`aistudio.groups WHERE name = 'after-revoke'`), 0);
  });
});

describe('roles', () => {
  it('super admin: admins, the audit log, everything', async () => {
    const c = await loggedIn('root');
    const u = await c.post('/users', { email: 'admin2@example.com', name: 'Admin Two', password: 'admin2 password 0', role: 'admin' });
    assert.equal(u.status, 201, u.text);
    assert.equal(u.json.role, 'admin');
    ids.admin2 = u.json.id;
    const log = await c.get('/audit-log?object_type=users&page_size=2');
    assert.equal(log.status, 200, log.text);
    assert.equal(log.json.data.length, 2);
    assert.ok(log.json.total >= 7);
    assert.equal(log.json.data[0].object_type, 'users');
    assert.ok(!log.text.includes('admin2 password'));
    const p = await c.patch(`/users/${ids.ada}`, { name: 'Ada L.' });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.name, 'Ada L.');
    assert.equal((await c.get('/users?role=admin')).json.total, 2);
  });

  it('admin: users, groups, LLMs, prices, secrets, filters, plugins, edges; not admins, not the audit log', async () => {
    const c = await loggedIn('ada');
    let before = await counts();
    assertError(await c.get('/audit-log'), 403, { code: '42501' });
    assertError(await c.post('/users', { email: 'boss@example.com', name: 'Boss', role: 'admin' }), 403);
    assertError(await c.post('/users', { email: 'boss@example.com', name: 'Boss', role: 'super_admin' }), 403);
    assertError(await c.patch(`/users/${ids.root}`, { name: 'Not Root' }), 403);
    assertError(await c.patch(`/users/${ids.ada}`, { role: 'super_admin' }), 403);
    assertError(await c.del(`/users/${ids.admin2}`), 403);
    assert.deepEqual(await counts(), before);

    const dev3 = await c.post('/users', { email: 'dev3@example.com', name: 'Dev Three', password: 'dev3 password 0123', role: 'developer' });
    assert.equal(dev3.status, 201, dev3.text);
    assert.ok(!('password' in dev3.json) && !('password_hash' in dev3.json));

    // secrets: write-only
    const s = await c.post('/secrets', { name: 'ANTHROPIC_KEY', value: 'sk-ant-e2e-plaintext-77' });
    assert.equal(s.status, 201, s.text);
    assert.equal(s.json.name, 'ANTHROPIC_KEY');
    const secrets = await c.get('/secrets');
    assert.deepEqual(secrets.json.data.map((x) => x.name).sort(), ['ANTHROPIC_KEY', 'OPENAI_KEY']);
    assert.ok(!secrets.text.includes('plaintext'));
    assert.ok(secrets.json.data.every((x) => !('value' in x)));
    assertError(await c.post('/secrets', { name: 'ANTHROPIC_KEY', value: 'again' }), 409);
    const put = await c.put('/secrets/ANTHROPIC_KEY', { value: 'sk-ant-e2e-rotated-78' });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.version, 2);
    assert.ok(!put.text.includes('rotated'));
    assert.equal((await c.get('/secrets/ANTHROPIC_KEY')).json.version, 2);
    assertError(await c.get('/secrets/NOPE'), 404);

    // LLMs
    const l = await c.post('/llms', { name: 'Claude 2', vendor: 'anthropic', api_endpoint: 'https://api.anthropic.com',
      api_key: '$SECRET/ANTHROPIC_KEY', allowed_models: ['^claude'], monthly_budget: 25 });
    assert.equal(l.status, 201, l.text);
    assert.equal(l.json.slug, 'claude-2');
    assert.equal(l.json.api_key_ref, '$SECRET/ANTHROPIC_KEY');
    assert.equal(l.json.monthly_budget, 25);
    ids.claude2 = l.json.id;
    const lp = await c.patch(`/llms/${ids.claude2}`, { default_model: 'claude-3-5-sonnet', monthly_budget: null });
    assert.equal(lp.status, 200, lp.text);
    assert.equal(lp.json.default_model, 'claude-3-5-sonnet');
    assert.equal(lp.json.monthly_budget, null);
    const lit = await c.post('/llms', { name: 'Literal', vendor: 'openai', api_endpoint: 'https://api.openai.com/v1', api_key: 'sk-literal-e2e-99' });
    assert.equal(lit.status, 201);
    assert.equal(lit.json.has_api_key, true);
    assert.ok(!lit.text.includes('sk-literal'));
    assert.equal((await c.del(`/llms/${lit.json.id}`)).status, 204);
    assertError(await c.get(`/llms/${lit.json.id}`), 404);

    // prices
    const p = await c.post('/model-prices', { vendor: 'openai', model_name: 'gpt-4o', input_per_mtok: 2.5, output_per_mtok: 10 });
    assert.equal(p.status, 201, p.text);
    assert.equal(p.json.input_per_mtok, 2.5);
    const pp = await c.patch(`/model-prices/${p.json.id}`, { cache_read_per_mtok: 1.25 });
    assert.equal(pp.json.cache_read_per_mtok, 1.25);
    const pr = await c.patch(`/model-prices/${p.json.id}`, { cache_read_per_mtok: null });
    assert.equal(pr.json.cache_read_per_mtok, null);
    const p2 = await c.post('/model-prices', { vendor: 'anthropic', model_name: 'claude-3-5-sonnet', input_per_mtok: 3, output_per_mtok: 15 });
    assert.equal((await c.del(`/model-prices/${p2.json.id}`)).status, 204);
    await pg.sql(`SELECT aistudio.set_model_price('anthropic', 'claude-3-5-sonnet', 3, 15)`);

    // filters and plugins, attached to an LLM
    const f = await c.post('/filters', { name: 'no-ssn', filter_type: 'regex', config: { patterns: ['\\d{3}-\\d{2}-\\d{4}'] } });
    assert.equal(f.status, 201, f.text);
    assert.equal((await c.post(`/llms/${ids.gpt}/filters`, { filter_id: f.json.id, position: 1 })).status, 204);
    assert.deepEqual((await c.get(`/filters/${f.json.id}`)).json.llm_ids, [ids.gpt]);
    assert.equal((await c.patch(`/filters/${f.json.id}`, { active: false })).json.active, false);
    assert.equal((await c.del(`/llms/${ids.gpt}/filters/${f.json.id}`)).status, 204);
    // tried on sample text by the gateway's filter code (docs/filters.md)
    const ft = await c.post(`/filters/${f.json.id}/test`, { text: 'ssn 123-45-6789' });
    assert.equal(ft.status, 200, ft.text);
    assert.equal(ft.json.action, 'block');
    const pl = await c.post('/plugins', { name: 'tagger', hook: 'post_auth', command: 'grpc://127.0.0.1:7000', config: { k: 'v' } });
    assert.equal(pl.status, 201, pl.text);
    assert.deepEqual(pl.json.config, { k: 'v' });

    // namespaces and edges
    const ns = await c.post('/namespaces', { name: 'eu', description: 'EU edges' });
    assert.equal(ns.status, 201, ns.text);
    assert.equal(ns.json.name, 'eu');
    const e = await c.post('/edges', { edge_id: 'edge-eu-1', namespace: 'eu' });
    assert.equal(e.status, 201, e.text);
    assert.equal(e.json.status, 'unknown');
    const edges = await c.get('/edges?namespace=eu');
    assert.equal(edges.json.total, 1);
    assert.equal(edges.json.data[0].edge_id, 'edge-eu-1');
    const push = await c.post('/edges/push', { namespace: 'eu' });
    assert.equal(push.status, 201, push.text);
    assert.equal(push.json.targets, 0); // enrolled, never connected: nothing to signal
    assertError(await c.del('/namespaces/eu'), 409);
    assert.equal((await c.del('/edges/edge-eu-1')).status, 204);
    assert.equal((await c.del('/namespaces/eu')).status, 204);

    // groups, members, LLM grants
    const g = await c.post('/groups', { name: 'support' });
    assert.equal(g.status, 201);
    const m = await c.post(`/groups/${g.json.id}/members`, { user_id: dev3.json.id });
    assert.deepEqual(m.json.member_ids, [dev3.json.id]);
    const gr = await c.post(`/groups/${g.json.id}/llms`, { llm_id: ids.claude2 });
    assert.deepEqual(gr.json.llm_ids, [ids.claude2]);
    assert.equal((await c.del(`/groups/${g.json.id}/members/${dev3.json.id}`)).status, 204);
    assert.equal((await c.patch(`/groups/${g.json.id}`, { name: 'support-2' })).json.name, 'support-2');
    assert.equal((await c.del(`/groups/${g.json.id}`)).status, 204);

    // every app, and anyone's key
    assert.ok((await c.get('/apps')).json.total >= 1);
    assert.equal((await c.get(`/apps/${ids.otherApp}`)).status, 200);
  });

  it('developer: granted LLMs, own apps, keys and usage; nothing else', async () => {
    const c = await loggedIn('dev');
    const before = await counts();
    const llms = await c.get('/llms');
    assert.equal(llms.status, 200);
    assert.deepEqual(llms.json.data.map((l) => l.name), ['GPT']);
    assert.equal(llms.json.data[0].api_key_ref, null);
    assertError(await c.get(`/llms/${ids.claude}`), 403);
    assertError(await c.post('/llms', { name: 'Mine', vendor: 'openai', api_endpoint: 'https://x.io' }), 403);
    assertError(await c.get('/users'), 403);
    assertError(await c.get('/secrets'), 403);
    assertError(await c.post('/secrets', { name: 'MINE', value: 'v' }), 403);
    assertError(await c.get('/audit-log'), 403);
    assertError(await c.get('/edges'), 403);
    assertError(await c.post('/model-prices', { vendor: 'openai', model_name: 'x', input_per_mtok: 0, output_per_mtok: 0 }), 403);
    assert.equal((await c.get('/model-prices')).status, 200);
    // another user's app
    assertError(await c.get(`/apps/${ids.otherApp}`), 403);
    assertError(await c.patch(`/apps/${ids.otherApp}`, { name: 'mine-now' }), 403);
    assertError(await c.del(`/apps/${ids.otherApp}`), 403);
    assertError(await c.post(`/apps/${ids.otherApp}/credentials`), 403);
    assertError(await c.get(`/apps/${ids.otherApp}/credentials`), 403);
    assertError(await c.post('/apps', { name: 'for-dev2', owner_id: ids.dev2 }), 403);
    // an LLM no group grants them
    assertError(await c.post('/apps', { name: 'sneaky', llm_ids: [ids.claude] }), 403);
    // granting themselves an LLM, a group, a role
    assertError(await c.post(`/groups/${ids.eng}/llms`, { llm_id: ids.claude }), 403);
    assertError(await c.post(`/groups/${ids.eng}/members`, { user_id: ids.dev }), 403);
    assertError(await c.patch(`/users/${ids.dev}`, { role: 'admin' }), 403);
    assertError(await c.post('/users', { email: 'x@example.com', name: 'X', role: 'developer' }), 403);
    assert.deepEqual(await counts(), before);
    assert.equal(await pg.sql(`SELECT role FROM aistudio.users WHERE id = ${ids.dev}`), 'developer');

    // their own app and keys
    const a = await c.post('/apps', { name: 'dev-app', llm_ids: [ids.gpt], description: 'my bot', monthly_budget: 0.01 });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.json.owner_id, ids.dev);
    assert.equal(a.json.description, 'my bot');
    assert.deepEqual(a.json.llm_ids, [ids.gpt]);
    ids.devApp = a.json.id;
    const mine = await c.get('/apps');
    assert.deepEqual(mine.json.data.map((x) => x.name), ['dev-app']);
    assert.equal(mine.json.total, 1);
    const n0 = await count('aistudio.app_llms');
    assertError(await c.patch(`/apps/${ids.devApp}`, { llm_ids: [ids.gpt, ids.claude] }), 403);
    assert.equal(await count('aistudio.app_llms'), n0);
    assert.equal((await c.patch(`/apps/${ids.devApp}`, { name: 'dev-app-2' })).json.name, 'dev-app-2');

    const k = await c.post(`/apps/${ids.devApp}/credentials`);
    assert.equal(k.status, 201, k.text);
    assert.match(k.json.key, /^ais_/);
    assert.ok(k.json.key.startsWith(k.json.key_prefix));
    const stored = await pg.one(`SELECT encode(key_hash, 'hex') AS h FROM aistudio.credentials WHERE id = ${k.json.id}`);
    assert.equal(stored.h, sha256(k.json.key));
    const creds = await c.get(`/apps/${ids.devApp}/credentials`);
    assert.equal(creds.json.total, 1);
    assert.ok(!creds.text.includes(k.json.key));
    const rot = await c.post(`/apps/${ids.devApp}/credentials/${k.json.id}/rotate`);
    assert.equal(rot.status, 201, rot.text);
    assert.notEqual(rot.json.key, k.json.key);
    const after = await c.get(`/apps/${ids.devApp}/credentials`);
    assert.deepEqual(after.json.data.map((x) => [x.id, x.active]), [[k.json.id, false], [rot.json.id, true]]);
    assert.equal((await c.del(`/apps/${ids.devApp}/credentials/${rot.json.id}`)).status, 204);
    assert.equal(await pg.sql(`SELECT active FROM aistudio.credentials WHERE id = ${rot.json.id}`), 'f');
    assertError(await c.del(`/apps/${ids.otherApp}/credentials/${k.json.id}`), 403);
    assertError(await c.post(`/apps/${ids.devApp}/credentials/999999/rotate`), 404);
    const budget = await c.get(`/apps/${ids.devApp}/budget`);
    assert.equal(budget.status, 200, budget.text);
    assert.equal(budget.json.monthly_budget, 0.01);
    assert.equal((await c.get('/analytics/usage')).status, 200);
    assertError(await c.get(`/apps/${ids.otherApp}/budget`), 403);
  });

  it('chat user: the chat page only', async () => {
    const c = await loggedIn('chat');
    const before = await counts();
    assert.equal((await c.get('/me')).json.role, 'chat_user');
    assert.deepEqual((await c.get('/llms')).json.data.map((l) => l.name), ['GPT']);
    for (const path of ['/apps', '/users', '/groups', '/secrets', '/model-prices', '/filters', '/plugins',
      '/namespaces', '/edges', '/audit-log', '/notifications', '/analytics/usage', '/analytics/budgets']) {
      assertError(await c.get(path), 403);
    }
    assertError(await c.post('/apps', { name: 'chat-app' }), 403);
    assertError(await c.post('/groups', { name: 'chatters' }), 403);
    assertError(await c.patch(`/users/${ids.chat}`, { role: 'developer' }), 403);
    assert.deepEqual(await counts(), before);
  });
});

describe('bad input', () => {
  it('400/404/405/409/413/415 with a clear message, and nothing changed', async () => {
    const c = await loggedIn('ada');
    const before = await counts();
    const bad = async (r, status, code, match) => assertError(r, status, { code, match });
    await bad(await c.req('POST', '/api/v1/groups', '{"name": "x"', { raw: true }), 400, 'invalid_json', /invalid JSON/);
    await bad(await c.req('POST', '/api/v1/groups', '[1]', { raw: true }), 400, 'invalid_json', /JSON object/);
    await bad(await c.req('POST', '/api/v1/groups', '{"name":"a","name":"b"}', { raw: true }), 400, 'invalid_json', /more than once/);
    await bad(await c.req('POST', '/api/v1/groups', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff]), Buffer.from('"}')]),
      { raw: true }), 400, 'invalid_json', /UTF-8/);
    await bad(await c.post('/groups', { name: 5 }), 400, 'invalid_type', /"name" must be a string/);
    await bad(await c.post('/groups', { name: null }), 400, 'invalid_type', /"name" must not be null/);
    await bad(await c.post('/groups', {}), 400, 'missing_field', /"name"/);
    await bad(await c.post('/groups', { name: 'x', colour: 'red' }), 400, 'unknown_field', /unknown field "colour"/);
    await bad(await c.post('/apps', { name: 'x', llm_ids: ['1'] }), 400, 'invalid_type', /"llm_ids" must be an array of integers/);
    await bad(await c.post('/apps', { name: 'x', llm_ids: 1 }), 400, 'invalid_type');
    await bad(await c.post('/apps', { name: 'x', monthly_budget: '10' }), 400, 'invalid_type', /"monthly_budget" must be a number/);
    await bad(await c.patch(`/apps/${ids.otherApp}`, { active: 'yes' }), 400, 'invalid_type', /"active" must be true or false/);
    await bad(await c.post('/llms', { name: 'x', vendor: 'openai', api_endpoint: 'https://x.io', allowed_models: [1] }), 400, 'invalid_type');
    await bad(await c.post('/filters', { name: 'x', filter_type: 'regex', config: [] }), 400, 'invalid_type', /"config" must be an object/);
    let deep = { patterns: ['a'] };
    for (let i = 0; i < 40; i++) deep = { x: deep };
    await bad(await c.post('/filters', { name: 'deep', filter_type: 'regex', config: deep }), 400, 'invalid_json', /nested deeper/);
    await bad(await c.post('/groups', { name: 'x'.repeat(129) }), 400, 'too_long');
    // values the database refuses
    await bad(await c.post('/llms', { name: 'x', vendor: 'nope', api_endpoint: 'https://x.io' }), 400, '22023', /unknown vendor/);
    await bad(await c.post('/llms', { name: 'x', vendor: 'openai', api_endpoint: 'ftp://x.io' }), 400, '22023');
    await bad(await c.post('/users', { email: 'not-an-email', name: 'X' }), 400, '22023');
    await bad(await c.post('/model-prices', { vendor: 'openai', model_name: 'm', input_per_mtok: -1, output_per_mtok: 1 }), 400, '22023');
    await bad(await c.patch(`/llms/${ids.gpt}`, { budget_start_date: 'someday' }), 400);
    await bad(await c.get('/users?search=' + encodeURIComponent('%'.repeat(1001))), 400, 'too_long');
    // oversized
    const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
    await bad(await c.req('POST', '/api/v1/groups', huge, { raw: true }), 413, 'payload_too_large');
    // media type, methods, routes, ids, query parameters
    await bad(await c.req('POST', '/api/v1/groups', 'name=x', { raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    const m = await c.put(`/groups/${ids.eng}`, { name: 'x' });
    await bad(m, 405, 'method_not_allowed');
    assert.equal(m.headers.get('allow'), 'GET, PATCH, DELETE');
    await bad(await c.get('/no-such-thing'), 404, 'not_found');
    await bad(await c.get('/apps/abc'), 400, 'invalid_id');
    await bad(await c.get('/apps/0'), 400, 'invalid_id');
    await bad(await c.get('/apps/99999999999999999999'), 400, 'invalid_id');
    await bad(await c.get('/groups?colour=red'), 400, 'unknown_parameter');
    await bad(await c.get('/groups?page_size=0'), 400, 'invalid_parameter');
    await bad(await c.get('/groups?page_size=1001'), 400, 'invalid_parameter');
    await bad(await c.get('/groups?page=-1'), 400, 'invalid_parameter');
    await bad(await c.get('/users?role=admin&role=developer'), 400, 'invalid_parameter');
    // unknown ids and duplicates
    await bad(await c.get('/apps/999999'), 404, 'P0002');
    await bad(await c.patch('/groups/999999', { name: 'x' }), 404, 'P0002');
    await bad(await c.del('/llms/999999'), 404, 'P0002');
    await bad(await c.post(`/groups/${ids.eng}/members`, { user_id: 999999 }), 404, 'P0002');
    await bad(await c.post('/groups', { name: 'eng' }), 409, '23505', /already exists/);
    await bad(await c.post('/users', { email: 'DEV@example.com', name: 'Dup' }), 409, '23505');
    await bad(await c.post('/apps', { name: 'other-app', owner_id: ids.dev }), 409, '23505');
    assert.deepEqual(await counts(), before);
    // the server still answers normally on the same connection pool
    assert.equal((await c.get('/me')).status, 200);
  });
});

describe('lists, analytics, notifications', () => {
  it('lists are paged and carry the total', async () => {
    const c = await loggedIn('ada');
    for (let i = 0; i < 5; i++) assert.equal((await c.post('/groups', { name: `page-${i}` })).status, 201);
    const total = await count('aistudio.groups');
    const p1 = await c.get('/groups?page_size=2');
    assert.equal(p1.json.data.length, 2);
    assert.equal(p1.json.total, total);
    assert.equal(p1.json.page, 1);
    assert.equal(p1.json.page_size, 2);
    const p2 = await c.get('/groups?page=2&page_size=2');
    assert.notEqual(p2.json.data[0].id, p1.json.data[0].id);
    const past = await c.get('/groups?page=100&page_size=2');
    assert.deepEqual(past.json.data, []);
    assert.equal(past.json.total, total);
    const s = await c.get('/users?search=DEV&page_size=10');
    assert.ok(s.json.data.every((u) => /dev/i.test(u.email) || /dev/i.test(u.name)));
  });

  it('analytics come from the rollups; a developer sees only their own apps', async () => {
    const now = new Date();
    const ev = (n, app, user, vendor, model, pt, rt) => ({
      timestamp: new Date(now.getTime() - 3600e3).toISOString(), request_id: `00000000-0000-7000-8000-00000000000${n}`,
      app_id: app, user_id: user, llm_id: vendor === 'openai' ? ids.gpt : ids.claude2, vendor, model_name: model,
      prompt_tokens: pt, response_tokens: rt, latency_ms: 100, status_code: 200,
    });
    const events = [ev(1, ids.devApp, ids.dev, 'openai', 'gpt-4o', 1000, 1000), ev(2, ids.devApp, ids.dev, 'openai', 'gpt-4o', 2000, 0),
      ev(3, ids.otherApp, ids.dev2, 'anthropic', 'claude-3-5-sonnet', 1000000, 0)];
    await pg.sql(`SELECT * FROM aistudio.ingest_events('${JSON.stringify(events)}'::jsonb)`);
    await pg.sql('SELECT aistudio.rollup_now()');

    const admin = await loggedIn('ada');
    const byApp = await admin.get('/analytics/usage?group_by=app');
    assert.equal(byApp.status, 200, byApp.text);
    const apps = Object.fromEntries(byApp.json.data.map((r) => [r.label, r]));
    assert.equal(apps['dev-app-2'].requests, 2);
    assert.equal(apps['dev-app-2'].total_tokens, 4000);
    assert.equal(apps['other-app'].cost, 3);
    const days = await admin.get('/analytics/usage?group_by=day');
    assert.equal(days.json.data.reduce((s, r) => s + r.requests, 0), 3);
    const hours = await admin.get(`/analytics/usage?group_by=hour&from=${encodeURIComponent(new Date(now.getTime() - 86400e3).toISOString())}`);
    assert.equal(hours.json.data.reduce((s, r) => s + r.requests, 0), 3);
    const top = await admin.get('/analytics/top-models?limit=1');
    assert.deepEqual(top.json.data.map((r) => r.label), ['claude-3-5-sonnet']);
    assert.equal((await admin.get('/analytics/top-users')).json.data[0].label, 'dev2@example.com');
    const budgets = await admin.get('/analytics/budgets?subject=app');
    assert.deepEqual(budgets.json.data.map((b) => b.name).sort(), ['dev-app-2', 'other-app']);
    assert.equal(budgets.json.data.find((b) => b.name === 'other-app').percent_used, 300);
    assertError(await admin.get('/analytics/usage?group_by=week'), 400, { code: '22023' });
    assertError(await admin.get('/analytics/usage?from=not-a-date'), 400);

    const dev = await loggedIn('dev');
    const mine = await dev.get('/analytics/usage?group_by=app');
    assert.deepEqual(mine.json.data.map((r) => r.label), ['dev-app-2']);
    assert.deepEqual((await dev.get('/analytics/usage?group_by=vendor')).json.data.map((r) => r.key), ['openai']);
    assert.deepEqual((await dev.get(`/analytics/usage?app_id=${ids.otherApp}`)).json.data, []);
    assert.deepEqual((await dev.get('/analytics/budgets')).json.data.map((b) => b.name), ['dev-app-2']);

    // budget notifications: the thresholds both apps crossed
    const notes = await admin.get('/notifications?page_size=100');
    assert.equal(notes.status, 200, notes.text);
    assert.ok(notes.json.total >= 8, notes.text);
    const devNotes = await dev.get('/notifications?page_size=100');
    assert.ok(devNotes.json.data.length >= 4 && devNotes.json.data.every((n) => n.subject_name === 'dev-app-2'));
    assertError(await dev.post(`/notifications/${devNotes.json.data[0].id}/acknowledge`), 403);
    const id = notes.json.data[0].id;
    assert.equal((await admin.post(`/notifications/${id}/acknowledge`)).status, 204);
    const open = await admin.get('/notifications?open=true&page_size=100');
    assert.equal(open.json.total, notes.json.total - 1);
    assert.ok(!open.json.data.some((n) => n.id === id));
  });
});

describe('edges: enrolment, status, sync trail, metrics, pushes, revocation (docs/hub-and-edge.md)', () => {
  // what a hub does when an edge connects and heartbeats (gatewayd/src/sync calls these)
  const connect = (id, ns, checksum) => pg.sql(`SELECT * FROM aistudio.edge_register('${id}', '${ns}', '1.4.2', ${checksum}, 'hub-a', 5)`);
  const heartbeat = (id, checksum, metrics) => pg.sql(`SELECT * FROM aistudio.edge_heartbeats(ARRAY['${id}'], ARRAY[${checksum}],
    ARRAY['1.4.2'], ARRAY['${JSON.stringify(metrics)}'::jsonb], 'hub-a')`);

  it('an admin enrols an edge and gets its token once; only its hash is stored', async () => {
    const c = await loggedIn('ada');
    await pg.sql(`SELECT aistudio.create_namespace('apac')`);
    const e = await c.post('/edges', { edge_id: 'edge-apac-1', namespace: 'apac' });
    assert.equal(e.status, 201, e.text);
    assert.match(e.json.token, /^aie_[A-Za-z0-9_-]{43}$/);
    assert.equal(e.json.edge_id, 'edge-apac-1');
    assert.equal(e.json.namespace, 'apac');
    assert.equal(e.json.status, 'unknown');
    assert.equal(e.json.token_enrolled, true);
    assert.equal(e.json.connected, false);
    assert.equal(e.json.revoked, false);
    assert.equal(await pg.sql(`SELECT token_sha256 FROM aistudio.edges WHERE edge_id = 'edge-apac-1'`), sha256(e.json.token));
    // never shown again, nor written anywhere readable
    const one = await c.get('/edges/edge-apac-1');
    assert.equal(one.status, 200, one.text);
    assert.ok(!('token' in one.json));
    assert.ok(!(await c.get('/edges?page_size=1000')).text.includes(e.json.token));
    assert.ok(!(await c.get('/edges/events?edge=edge-apac-1')).text.includes(e.json.token));
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.audit_log WHERE changes::text LIKE '%${e.json.token}%'`), '0');
    // the token authenticates its edge, in its namespace only
    const auth = (token, ns = 'apac') => pg.sql(`SELECT ok || ':' || coalesce(reason, '') FROM aistudio.edge_authenticate('edge-apac-1', '${ns}', '${sha256(token)}', false)`);
    assert.equal(await auth(e.json.token), 'true:');
    assert.equal(await auth(e.json.token, ''), 'false:wrong_namespace');
    // enrolling again re-keys it: the old token stops working
    const again = await c.post('/edges', { edge_id: 'edge-apac-1', namespace: 'apac' });
    assert.equal(again.status, 201, again.text);
    assert.notEqual(again.json.token, e.json.token);
    assert.equal(await auth(e.json.token), 'false:bad_token');
    assert.equal(await auth(again.json.token), 'true:');
  });

  it('refuses bad enrolments and lookups with a clear status, changing nothing', async () => {
    const c = await loggedIn('ada');
    const before = await count('aistudio.edges');
    assertError(await c.post('/edges', { edge_id: 'bad id!', namespace: 'apac' }), 400, { code: '22023' });
    assertError(await c.post('/edges', { edge_id: 'edge-x', namespace: 'nowhere' }), 400, { code: '22023' });
    assertError(await c.post('/edges', { namespace: 'apac' }), 400);
    assertError(await c.post('/edges', { edge_id: 'edge-x', version: '1.0' }), 400);
    assertError(await c.post('/edges', { edge_id: 'x'.repeat(129) }), 400);
    assertError(await c.post('/edges/push', { namespace: 'nowhere' }), 400, { code: '22023' });
    assertError(await c.get('/edges/no-such-edge'), 404);
    assertError(await c.post('/edges/no-such-edge/revoke'), 404);
    assertError(await c.get('/edges/no-such-edge/metrics'), 404);
    assertError(await c.get('/edges/edge-apac-1/metrics?limit=0'), 400, { code: '22023' });
    assertError(await c.get('/edges/edge-apac-1/metrics?limit=61'), 400, { code: '22023' });
    assertError(await c.get('/edges/edge-apac-1/metrics?limit=x'), 400);
    assertError(await c.get('/edges/events?bogus=1'), 400);
    assertError(await c.get('/pushes/999999'), 404);
    assertError(await c.get('/pushes/0'), 400);
    assertError(await c.del('/edges/no-such-edge'), 404);
    assert.equal(await count('aistudio.edges'), before);
    // developers and chat users see none of it
    for (const who of ['dev', 'chat']) {
      const u = await loggedIn(who);
      assertError(await u.post('/edges', { edge_id: 'edge-mine', namespace: 'apac' }), 403);
      assertError(await u.get('/edges/events'), 403);
      assertError(await u.get('/edges/edge-apac-1/metrics'), 403);
      assertError(await u.post('/edges/edge-apac-1/revoke'), 403);
      assertError(await u.post('/edges/push', {}), 403);
      assertError(await u.get('/pushes'), 403);
    }
    assert.equal(await count('aistudio.edges'), before);
    assert.equal(await pg.sql(`SELECT revoked_at IS NULL FROM aistudio.edges WHERE edge_id = 'edge-apac-1'`), 't');
  });

  it('shows each edge\'s status, connection, checksums, version and metrics', async () => {
    const c = await loggedIn('ada');
    assert.equal((await c.post('/edges', { edge_id: 'edge-apac-2', namespace: 'apac' })).status, 201);
    await connect('edge-apac-1', 'apac', "aistudio.snapshot_checksum('apac')");
    await connect('edge-apac-2', 'apac', `'${'a'.repeat(64)}'`);
    await heartbeat('edge-apac-1', "aistudio.snapshot_checksum('apac')",
      { requests: 120, errors: 3, p50_ms: 14, p99_ms: 95.5, prompt_tokens: 5000, response_tokens: 900, since_ms: 5000 });
    await heartbeat('edge-apac-1', "aistudio.snapshot_checksum('apac')",
      { requests: 80, errors: 0, p50_ms: 12, p99_ms: 60, prompt_tokens: 3000, response_tokens: 700, since_ms: 5000 });
    const expected = await pg.sql(`SELECT aistudio.snapshot_checksum('apac')`);
    const e1 = (await c.get('/edges/edge-apac-1')).json;
    assert.equal(e1.status, 'in_sync');
    assert.equal(e1.connected, true);
    assert.equal(e1.hub_id, 'hub-a');
    assert.equal(e1.version, '1.4.2');
    assert.equal(e1.loaded_checksum, expected);
    assert.equal(e1.expected_checksum, expected);
    assert.equal(e1.last_metrics.requests, 80);
    assert.ok(Date.parse(e1.last_heartbeat) > Date.now() - 60000);
    const e2 = (await c.get('/edges/edge-apac-2')).json;
    assert.equal(e2.status, 'pending');
    assert.equal(e2.loaded_checksum, 'a'.repeat(64));
    assert.ok(e2.pending_since);
    const pending = await c.get('/edges?status=pending&namespace=apac');
    assert.deepEqual(pending.json.data.map((x) => x.edge_id), ['edge-apac-2']);
    // the metrics history, oldest first
    const m = await c.get('/edges/edge-apac-1/metrics');
    assert.equal(m.status, 200, m.text);
    assert.deepEqual(m.json.data.map((x) => x.requests), [120, 80]);
    assert.deepEqual(m.json.data.map((x) => x.p99_ms), [95.5, 60]);
    assert.deepEqual((await c.get('/edges/edge-apac-1/metrics?limit=1')).json.data.map((x) => x.requests), [80]);
    assert.deepEqual((await c.get('/edges/edge-apac-2/metrics')).json.data, []);
    // an edge whose stream ended
    await pg.sql(`SELECT aistudio.edge_disconnected('edge-apac-2', 'hub-a')`);
    assert.equal((await c.get('/edges/edge-apac-2')).json.connected, false);
    await connect('edge-apac-2', 'apac', `'${'a'.repeat(64)}'`);
  });

  it('a push signals the connected edges in scope; its progress per edge is readable', async () => {
    const c = await loggedIn('ada');
    const push = await c.post('/edges/push', { namespace: 'apac' });
    assert.equal(push.status, 201, push.text);
    assert.equal(push.json.namespace, 'apac');
    assert.equal(push.json.targets, 2);
    const id = push.json.push_id;
    assert.equal(await pg.sql(`SELECT string_agg(edge_id, ',' ORDER BY edge_id) FROM aistudio.push_targets(${id}, 'hub-a')`), 'edge-apac-1,edge-apac-2');
    let p = await c.get(`/pushes/${id}`);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.signalled, 2);
    assert.deepEqual(p.json.edges.map((x) => [x.edge_id, x.phase]), [['edge-apac-1', 'signalled'], ['edge-apac-2', 'signalled']]);
    // the edges report their phases (the hub records them from the stream)
    await pg.sql(`SELECT aistudio.push_progress(${id}, 'edge-apac-1', 'pulling', '', '');
                  SELECT aistudio.push_progress(${id}, 'edge-apac-1', 'applied', aistudio.snapshot_checksum('apac'), '');
                  SELECT aistudio.push_progress(${id}, 'edge-apac-2', 'pulling', '', '');
                  SELECT aistudio.push_progress(${id}, 'edge-apac-2', 'failed', '', 'snapshot checksum mismatch')`);
    p = await c.get(`/pushes/${id}`);
    assert.deepEqual([p.json.targets, p.json.signalled, p.json.pulling, p.json.applied, p.json.failed], [2, 0, 0, 1, 1]);
    const [a, f] = p.json.edges;
    assert.equal(a.phase, 'applied');
    assert.equal(a.checksum, await pg.sql(`SELECT aistudio.snapshot_checksum('apac')`));
    assert.equal(f.phase, 'failed');
    assert.equal(f.reason, 'snapshot checksum mismatch');
    const list = await c.get('/pushes?page_size=5');
    assert.equal(list.status, 200, list.text);
    const mine = list.json.data.find((x) => x.push_id === id);
    assert.deepEqual([mine.namespace, mine.targets, mine.applied, mine.failed, mine.pushed_by], ['apac', 2, 1, 1, ids.ada]);
    assert.equal(list.json.data[0].push_id, id, 'newest first');
    // all namespaces: null namespace
    const all = await c.post('/edges/push', {});
    assert.equal(all.status, 201, all.text);
    assert.equal(all.json.namespace, null);
    assert.ok(all.json.targets >= 2);
    // the sync trail, newest first: this edge's push and acknowledgement
    const ev = await c.get('/edges/events?edge=edge-apac-1&page_size=100');
    assert.equal(ev.status, 200, ev.text);
    const kinds = ev.json.data.map((x) => x.event);
    for (const k of ['enrolled', 'connected', 'push', 'ack']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    assert.ok(ev.json.data.every((x) => x.edge_id === 'edge-apac-1'));
    assert.ok(Date.parse(ev.json.data[0].at) >= Date.parse(ev.json.data.at(-1).at));
    const every = await c.get('/edges/events?page_size=100');
    assert.ok(every.json.data.some((x) => x.event === 'push_failed' && x.edge_id === 'edge-apac-2'
      && x.detail.reason === 'snapshot checksum mismatch'));
  });

  it('revoking an edge refuses its token at once and leaves it out of pushes; deleting forgets it', async () => {
    const c = await loggedIn('ada');
    const token = (await c.post('/edges', { edge_id: 'edge-apac-3', namespace: 'apac' })).json.token;
    await connect('edge-apac-3', 'apac', "aistudio.snapshot_checksum('apac')");
    const r = await c.post('/edges/edge-apac-3/revoke');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revoked, true);
    assert.equal(await pg.sql(`SELECT ok || ':' || reason FROM aistudio.edge_authenticate('edge-apac-3', 'apac', '${sha256(token)}', false)`), 'false:revoked');
    assert.equal((await c.post('/edges/edge-apac-3/revoke')).status, 200, 'idempotent');
    const push = await c.post('/edges/push', { namespace: 'apac' });
    assert.ok(!(await c.get(`/pushes/${push.json.push_id}`)).json.edges.some((x) => x.edge_id === 'edge-apac-3'));
    assert.ok((await c.get('/edges/events?edge=edge-apac-3')).json.data.some((x) => x.event === 'revoked'));
    assert.equal((await c.del('/edges/edge-apac-3')).status, 204);
    assertError(await c.get('/edges/edge-apac-3'), 404);
    assert.ok((await c.get('/edges/events?edge=edge-apac-3')).json.data.some((x) => x.event === 'deleted'), 'the trail outlives the edge');
    // cleanup for the namespace tests elsewhere
    for (const id of ['edge-apac-1', 'edge-apac-2']) assert.equal((await c.del(`/edges/${id}`)).status, 204);
  });
});

describe('the OpenAPI document (docs/openapi.json)', () => {
  it('documents exactly the operations of the route tables', () => {
    const src = ['admin/admin_resources.c', 'admin/admin_analytics.c', 'admin/admin_alerts.c', 'gateway/chat.c', 'gateway/llmcheck.c']
      .map((f) => readFileSync(path.join(ROOT, 'gatewayd', 'src', ...f.split('/')), 'utf8')).join('\n');
    const norm = (p) => p.replace(/\{[^}]+\}/g, '{}');
    const rows = [...src.matchAll(/\.method = "(\w+)",\s*\.path = "([^"]+)"/g)].map((m) => [m[1], m[2]]);
    // the row shapes of admin_resources.c: OP_LIST/OP_GET are GETs, OP_CREATE a POST, OP_DELETE a DELETE, OP_CHANGE names its method
    const shapes = { OP_LIST: 'GET', OP_GET: 'GET', OP_CREATE: 'POST', OP_DELETE: 'DELETE' };
    for (const m of src.matchAll(/\b(OP_LIST|OP_GET|OP_CREATE|OP_DELETE)\(\s*"([^"]+)"/g)) rows.push([shapes[m[1]], m[2]]);
    for (const m of src.matchAll(/\bOP_CHANGE\(\s*"(\w+)",\s*"([^"]+)"/g)) rows.push([m[1], m[2]]);
    // admin_analytics.c's TOP_OP rows are GETs
    for (const m of src.matchAll(/\bTOP_OP\(\s*"([^"]+)"/g)) rows.push(['GET', m[1]]);
    const routed = new Set(rows.map(([method, p]) => `${method} /api/v1/${norm(p)}`));
    const docs = new Set(documented.map((d) => `${d.method} ${norm(d.path)}`));
    assert.ok(routed.size > 60, `${routed.size} routes found`);
    assert.deepEqual([...routed].filter((x) => !docs.has(x)), [], 'routed but not documented');
    assert.deepEqual([...docs].filter((x) => !routed.has(x)), [], 'documented but not routed');
  });

  it('routes every documented operation (401 without credentials, never 404/405)', async () => {
    for (const d of documented) {
      const url = `${base}${d.path.replace(/\{[^}]+\}/g, '1')}`;
      const res = await fetch(url, { method: d.method, headers: d.method === 'GET' || d.method === 'DELETE' ? {} : { 'content-type': 'application/json' },
        body: d.method === 'GET' || d.method === 'DELETE' ? undefined : '{}', redirect: 'manual' });
      const text = await res.text();
      // public: login/logout answer 204/400; the single sign-on GETs 200, 302 or 404 for an unknown provider (not the router's not_found)
      if (d.op.security && d.op.security.length === 0) {
        assert.ok([200, 204, 302, 400, 404].includes(res.status), `${d.method} ${d.path}: ${res.status}`);
        if (res.status === 404) assert.notEqual(JSON.parse(text).error.code, 'not_found', `${d.method} ${d.path}: not routed`);
      } else assert.equal(res.status, 401, `${d.method} ${d.path}`);
    }
  });

  it('every response the tests received matches its documented schema', () => {
    assert.deepEqual(schemaProblems, []);
    assert.ok(seenOps.size >= 60, `only ${seenOps.size} documented operations exercised`);
  });
});
