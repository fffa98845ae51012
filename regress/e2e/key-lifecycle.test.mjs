// regress/e2e/key-lifecycle.test.mjs: the life of an app's key and of a
// personal API token against a real gatewayd and cluster. An expired key is
// refused with 401 api_key_expired (not invalid_api_key) on every route and
// with every way of presenting it, also when the gateway had cached it while
// it was valid; the refusal is recorded with the key's app. Rotation through
// the REST API with an overlap: both keys work during the overlap, the old
// one is refused as expired after it. Keys are issued, renamed and given or
// cleared an expiry through REST; bad input is 400 and changes nothing. An
// expired personal API token gets 401 token_expired from the REST API.
import { before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, withLogs, sqlLit } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-keys-7';
let mock;
let pg;
let gw;
let ids;
let api; // the REST API's base URL
let token; // the developer's personal API token
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Main', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Claude', vendor: 'anthropic', endpoint: mock.url, key: 'secret' },
    ],
    apps: [{ name: 'keys-app', llms: ['Main', 'Claude'] }, { name: 'rot-app', llms: ['Main'] }],
  });
  gw = await startGatewayd(pg);
  api = `http://127.0.0.1:${gw.serverPort}/api/v1`;
  token = await pg.sql(`SET pg_aistudio.acting_user = '${ids.ownerId}';
    SELECT token FROM aistudio.create_api_token('e2e')`);
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

const chatBody = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const claudeBody = JSON.stringify({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

// One request through the gateway; how the key is presented: bearer,
// x-api-key, x-goog-api-key or query.
async function call(key, { route = 'rest', how = 'bearer', llm = 'Main' } = {}) {
  const slug = ids.llms[llm].slug;
  let url;
  let body = chatBody;
  if (route === 'ai') url = `${gw.url}/ai/${slug}/v1/chat/completions`;
  else if (llm === 'Claude') { url = `${gw.url}/llm/${route}/${slug}/v1/messages`; body = claudeBody; }
  else url = `${gw.url}/llm/${route}/${slug}/v1/chat/completions`;
  const headers = { 'content-type': 'application/json' };
  if (how === 'bearer') headers.authorization = `Bearer ${key}`;
  else if (how === 'query') url += `?key=${encodeURIComponent(key)}`;
  else headers[how] = key;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* a stream */ }
  return { status: res.status, json, text, requestId: res.headers.get('x-request-id') };
}

async function rest(method, path, body, { auth = token } = {}) {
  const headers = { authorization: `Bearer ${auth}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

it('an expired key is refused with 401 api_key_expired on every route, also after it was cached', async () => {
  const app = ids.apps['keys-app'];
  // a key valid for 3 more seconds, used (and so cached) while valid
  const key = await pg.sql(`SELECT aistudio.issue_credential(${app.id}, 'short', now() + interval '3 seconds')`);
  const ok = await call(key);
  assert.equal(ok.status, 200, ok.text);
  const okClaude = await call(key, { llm: 'Claude' });
  assert.equal(okClaude.status, 200, okClaude.text);
  const expiresAt = Date.parse(await pg.sql(
    `SELECT to_json(expires_at) #>> '{}' FROM aistudio.credentials WHERE key_prefix = ${sqlLit(key.slice(0, 12))}`));
  await sleep(Math.max(0, expiresAt - Date.now()) + 300);

  const attempts = [
    { route: 'rest' }, { route: 'stream' }, { route: 'call' }, { route: 'ai' },
    { route: 'rest', llm: 'Claude' }, { route: 'rest', how: 'x-api-key' }, { route: 'rest', how: 'x-goog-api-key' },
    { route: 'rest', how: 'query' }, { route: 'ai', llm: 'Claude' },
  ];
  for (const a of attempts) {
    const r = await call(key, a);
    assert.equal(r.status, 401, `${JSON.stringify(a)}: ${r.text}`);
    assert.equal(r.json?.error?.code, 'api_key_expired', `${JSON.stringify(a)}: ${r.text}`);
    assert.match(r.json.error.message, /expired at \d{4}-\d\d-\d\dT/);
    assert.ok(!r.text.includes(key), 'the key is not echoed');
  }
  // distinct from an unknown key
  const bad = await call(`ais_${'0'.repeat(64)}`);
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error.code, 'invalid_api_key');
  // the refusal is recorded once, with its app
  const last = await call(key);
  const ev = await waitEvent(pg, last.requestId);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].status_code, 401);
  assert.equal(Number(ev[0].app_id), app.id);
});

it('an expiry set in the database applies at once (the cache is dropped), and clearing it restores the key', async () => {
  const app = ids.apps['keys-app'];
  assert.equal((await call(app.key)).status, 200);
  await pg.sql(`UPDATE aistudio.credentials SET expires_at = now() - interval '1 second' WHERE id = ${app.credentialId}`);
  let r;
  for (let i = 0; i < 50; i++) { // NOTIFY reaches the gateway asynchronously
    r = await call(app.key);
    if (r.status === 401) break;
    await sleep(100);
  }
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error.code, 'api_key_expired');
  // through REST: a null expires_at clears the expiry
  const p = await rest('PATCH', `/apps/${app.id}/credentials/${app.credentialId}`, { expires_at: null, name: 'main key' });
  assert.equal(p.status, 200, JSON.stringify(p.json));
  assert.equal(p.json.expires_at, null);
  assert.equal(p.json.name, 'main key');
  assert.equal(p.json.expired, false);
  for (let i = 0; i < 50; i++) {
    r = await call(app.key);
    if (r.status === 200) break;
    await sleep(100);
  }
  assert.equal(r.status, 200, r.text);
});

it('rotation with overlap through REST: both keys work during the overlap, the old one is refused after it', async () => {
  const app = ids.apps['rot-app'];
  const list0 = await rest('GET', `/apps/${app.id}/credentials`);
  assert.equal(list0.status, 200);
  const before = list0.json.data.find((c) => c.id === app.credentialId);
  assert.equal(before.key_prefix, app.key.slice(0, 12));

  // bad overlaps: 400, nothing changed
  for (const body of [{ overlap_minutes: -1 }, { overlap_minutes: 20000 }, { overlap_minutes: 'soon' },
    { expires_at: 'someday' }, { expires_at: '2001-01-01T00:00:00Z' }]) {
    const r = await rest('POST', `/apps/${app.id}/credentials/${app.credentialId}/rotate`, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
  }
  assert.equal((await rest('GET', `/apps/${app.id}/credentials`)).json.data.length, 1);

  const rot = await rest('POST', `/apps/${app.id}/credentials/${app.credentialId}/rotate`, { overlap_minutes: 0.05 });
  assert.equal(rot.status, 201, JSON.stringify(rot.json));
  assert.match(rot.json.key, /^ais_[0-9a-f]{64}$/);
  assert.equal(rot.json.key_prefix, rot.json.key.slice(0, 12));
  assert.equal(rot.json.expires_at, null);
  const newKey = rot.json.key;
  const list = (await rest('GET', `/apps/${app.id}/credentials`)).json.data;
  const old = list.find((c) => c.id === app.credentialId);
  assert.ok(old.active && !old.expired && old.expires_at, JSON.stringify(old));
  assert.ok(!JSON.stringify(list).includes(newKey), 'lists never show a key');

  // during the overlap (3 s): both
  assert.equal((await call(app.key)).status, 200);
  assert.equal((await call(newKey)).status, 200);
  await sleep(Math.max(0, Date.parse(old.expires_at) - Date.now()) + 300);
  const r = await call(app.key);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error.code, 'api_key_expired');
  assert.equal((await call(newKey)).status, 200);
  const after = (await rest('GET', `/apps/${app.id}/credentials`)).json.data.find((c) => c.id === app.credentialId);
  assert.equal(after.expired, true);
  // an expired key cannot be rotated again
  assert.equal((await rest('POST', `/apps/${app.id}/credentials/${app.credentialId}/rotate`, {})).status, 400);
});

it('issuing a named key with an expiry through REST; bad input is 400', async () => {
  const app = ids.apps['rot-app'];
  const when = new Date(Date.now() + 7 * 86400e3).toISOString();
  const r = await rest('POST', `/apps/${app.id}/credentials`, { name: 'ci', expires_at: when });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.json.name, 'ci');
  assert.equal(Date.parse(r.json.expires_at), Date.parse(when));
  assert.equal((await call(r.json.key)).status, 200);
  const n = (await rest('GET', `/apps/${app.id}/credentials`)).json.data.length;
  for (const body of [{ expires_at: '2000-01-01T00:00:00Z' }, { expires_at: 'never' }, { name: 'x'.repeat(101) },
    { name: 5 }, { unknown: 1 }]) {
    const b = await rest('POST', `/apps/${app.id}/credentials`, body);
    assert.equal(b.status, 400, `${JSON.stringify(body)} → ${b.status}`);
  }
  assert.equal((await rest('GET', `/apps/${app.id}/credentials`)).json.data.length, n);
  // with no body at all: an unnamed key that never expires (as before)
  const plain = await fetch(`${api}/apps/${app.id}/credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(plain.status, 201);
  const pj = await plain.json();
  assert.equal(pj.name, '');
  assert.equal(pj.expires_at, null);
});

it('personal API tokens: an expiry, 401 token_expired once passed, rotation with overlap', async () => {
  const c = await rest('POST', '/me/tokens', { name: 'short', expires_at: new Date(Date.now() + 2500).toISOString() });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  assert.ok(c.json.expires_at);
  const short = c.json.token;
  assert.equal((await rest('GET', '/me', undefined, { auth: short })).status, 200);
  const rot = await rest('POST', `/me/tokens/${c.json.id}/rotate`, { overlap_minutes: 0.5 });
  assert.equal(rot.status, 201, JSON.stringify(rot.json));
  assert.equal(rot.json.name, 'short');
  assert.equal((await rest('GET', '/me', undefined, { auth: rot.json.token })).status, 200);
  await sleep(Math.max(0, Date.parse(c.json.expires_at) - Date.now()) + 300); // its own expiry came first
  const r = await rest('GET', '/me', undefined, { auth: short });
  assert.equal(r.status, 401);
  assert.equal(r.json.error?.code ?? r.json.code, 'token_expired', JSON.stringify(r.json));
  assert.equal((await rest('GET', '/me', undefined, { auth: rot.json.token })).status, 200);
  const list = (await rest('GET', '/me/tokens')).json.data;
  const old = list.find((t) => t.id === c.json.id);
  assert.equal(old.expired, true);
  assert.equal((await rest('POST', `/me/tokens/${c.json.id}/rotate`, {})).status, 400);
  assert.equal((await rest('POST', '/me/tokens', { name: 'late', expires_at: '2001-01-01T00:00:00Z' })).status, 400);
});
