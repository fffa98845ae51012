// regress/e2e/request-bodies.test.mjs: request/response body capture per LLM
// (docs/gateway.md "Body capture") against the real gatewayd, a real cluster
// and the C mock upstream:
//   - off by default: the event is stored, no row in aistudio.request_bodies;
//   - on: the JSON request as sent upstream and the JSON answer as the client
//     got it, and a streamed answer (the SSE frames relayed);
//   - a pii filter's redaction is what is stored (the prompt the upstream saw);
//   - the cap cuts both bodies and flags them truncated;
//   - an answer an on_response filter refuses is never stored: a JSON one
//     not at all, a stream only up to what the client got (its error event);
//   - the vendor key never reaches the table (an upstream echoing it);
//   - REST: GET /api/v1/requests/{id} has the bodies for an admin and the
//     app's owner, another developer gets 404, an uncaptured request has
//     nulls; the LLM fields on /api/v1/llms, a bad cap is a 400;
//   - the chat: captured too; its user sees the bodies of their own chat;
//   - retention: purge_request_bodies (what the rollup worker calls) deletes
//     the rows older than pg_aistudio.body_retention_days, and only those;
//     the rollup worker runs it (body_retention_days = 0: every body goes).
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, pollValue, withLogs, sqlLit as q } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-bodies-e2e-77';
const CHAT_PW = 'bodies chat password 0123';
let mock;
let pg;
let gw;
let ids;
let api;
const tokens = {};
const users = {};
const it = withLogs(nodeIt, () => [gw, pg]);

async function tokenFor(userId) {
  return (await pg.sql(`SELECT set_config('pg_aistudio.acting_user', '${userId}', false);
    SELECT token FROM aistudio.create_api_token('bodies-test')`)).split('\n').pop();
}

async function rest(who, method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* empty */ }
  return { status: res.status, text, json };
}

async function call(llm, prompt, { stream = false, model = 'gpt-4o', answer, app = 'bodies-app' } = {}) {
  const headers = { authorization: `Bearer ${ids.apps[app].key}`, 'content-type': 'application/json' };
  if (answer) headers['x-mock-answer'] = answer;
  const res = await fetch(`${gw.url}/llm/rest/${ids.llms[llm].slug}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, max_tokens: 16, stream, messages: [{ role: 'user', content: prompt }] }),
  });
  const text = await res.text();
  return { status: res.status, text, rid: res.headers.get('x-request-id') };
}

// The stored bodies of a request (null: no row), once its event is in.
async function bodiesOf(rid) {
  assert.equal((await waitEvent(pg, rid)).length, 1, `the event of ${rid}`);
  const rows = await pg.json(`SELECT request_body, response_body, request_truncated, response_truncated,
      octet_length(request_body) AS req_bytes, octet_length(response_body) AS resp_bytes
    FROM aistudio.request_bodies WHERE request_id = ${q(rid)}::uuid`);
  return rows.length ? rows[0] : null;
}

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 4 });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Plain', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Captured', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Small', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Guarded', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
    ],
    apps: [{ name: 'bodies-app', llms: ['Plain', 'Captured', 'Small', 'Guarded'] }],
  });
  await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Captured.id}, capture_bodies => true)`);
  await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Small.id}, capture_bodies => true, capture_max_bytes => 256)`);
  const pii = await pg.sql(`SELECT aistudio.create_filter('pii-prompt', 'pii', '{}'::jsonb, stage => 'post_auth')`);
  await pg.sql(`SELECT aistudio.attach_filter(${ids.llms.Captured.id}, ${pii}, 0)`);
  await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Guarded.id}, capture_bodies => true)`);
  const stop = await pg.sql(`SELECT aistudio.create_filter('answer-guard', 'regex',
    '{"patterns": ["(?i)forbidden answer"]}'::jsonb, stage => 'on_response')`);
  await pg.sql(`SELECT aistudio.attach_filter(${ids.llms.Guarded.id}, ${stop}, 0)`);
  users.dev = ids.ownerId;
  users.admin = Number(await pg.sql(`SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin')`));
  users.dev2 = Number(await pg.sql(`SELECT aistudio.create_user('dev2@example.com', 'Dev Two', role => 'developer')`));
  for (const who of ['admin', 'dev', 'dev2']) tokens[who] = await tokenFor(users[who]);
  users.chat = Number(await pg.sql(`SELECT aistudio.create_user('chat@example.com', 'Chat', ${q(CHAT_PW)}, 'chat_user')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${users.chat}, ${ids.groupId})`);
  gw = await startGatewayd(pg);
  api = `http://127.0.0.1:${gw.serverPort}/api/v1`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

describe('body capture', () => {
  it('is off by default: the event is stored, no bodies', async () => {
    assert.equal(await pg.sql(`SELECT capture_bodies FROM aistudio.llms WHERE id = ${ids.llms.Plain.id}`), 'f');
    const r = await call('Plain', 'nothing to keep');
    assert.equal(r.status, 200, r.text);
    assert.equal(await bodiesOf(r.rid), null, 'no row in request_bodies');
    const g = await rest('admin', 'GET', `/requests/${r.rid}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.request_body, null);
    assert.equal(g.json.response_body, null);
    assert.equal(g.json.request_truncated, null);
  });

  it('keeps the JSON request as sent upstream (redacted by the filter) and the JSON answer', async () => {
    const r = await call('Captured', 'write to jane.doe@example.com please', { answer: 'the captured answer' });
    assert.equal(r.status, 200, r.text);
    const b = await bodiesOf(r.rid);
    assert.ok(b, 'a row in request_bodies');
    const sent = JSON.parse(b.request_body);
    assert.equal(sent.model, 'gpt-4o');
    assert.ok(!b.request_body.includes('jane.doe@example.com'), `the stored prompt is the redacted one: ${b.request_body}`);
    assert.match(sent.messages[0].content, /\[EMAIL\]/, 'the placeholder the upstream saw');
    assert.equal(b.response_body, r.text, 'the answer exactly as the client got it');
    assert.equal(JSON.parse(b.response_body).choices[0].message.content, 'the captured answer');
    assert.equal(b.request_truncated, false);
    assert.equal(b.response_truncated, false);
  });

  it('keeps a streamed answer as relayed', async () => {
    const r = await call('Captured', 'stream it', { stream: true, answer: 'one|two|three' });
    assert.equal(r.status, 200, r.text);
    const b = await bodiesOf(r.rid);
    assert.ok(b, 'a row in request_bodies');
    assert.equal(JSON.parse(b.request_body).stream, true);
    assert.equal(b.response_body, r.text, 'the frames exactly as the client got them');
    assert.match(b.response_body, /^data: /m);
    assert.match(b.response_body, /data: \[DONE\]/);
    for (const piece of ['one', 'two', 'three']) assert.ok(b.response_body.includes(piece), piece);
    assert.equal(b.response_truncated, false);
  });

  it('cuts both bodies at the cap and flags them', async () => {
    const r = await call('Small', 'x'.repeat(600), { answer: 'y'.repeat(600) });
    assert.equal(r.status, 200, r.text);
    const b = await bodiesOf(r.rid);
    assert.ok(b, 'a row in request_bodies');
    assert.equal(Number(b.req_bytes), 256);
    assert.equal(Number(b.resp_bytes), 256);
    assert.equal(b.request_truncated, true);
    assert.equal(b.response_truncated, true);
    assert.equal(b.response_body, r.text.slice(0, 256), 'the first bytes of the answer');
    // a streamed answer too
    const s = await call('Small', 'short', { stream: true, answer: `${'z'.repeat(200)}|${'w'.repeat(200)}` });
    const sb = await bodiesOf(s.rid);
    assert.equal(sb.request_truncated, false);
    assert.equal(sb.response_truncated, true);
    assert.equal(sb.response_body, s.text.slice(0, 256));
  });

  it('never stores an answer an on_response filter refused, only what the client got', async () => {
    const j = await call('Guarded', 'x', { answer: 'a FORBIDDEN answer' });
    assert.equal(j.status, 502, j.text);
    const jb = await bodiesOf(j.rid);
    assert.ok(jb, 'the request is captured');
    assert.equal(JSON.parse(jb.request_body).messages[0].content, 'x');
    assert.equal(jb.response_body, null, 'the refused JSON answer is not stored');
    const s = await call('Guarded', 'x', { stream: true, answer: 'a fine start| then a FORBIDDEN answer| more' });
    assert.equal(s.status, 200, 'the stream had begun');
    assert.doesNotMatch(s.text, /FORBIDDEN/i);
    const sb = await bodiesOf(s.rid);
    assert.equal(sb.response_body, s.text, 'exactly the frames and the error event the client got');
    assert.doesNotMatch(sb.response_body, /FORBIDDEN/i);
    assert.match(sb.response_body, /a fine start/);
  });

  it('never stores the vendor key (an upstream echoing it)', async () => {
    const r = await call('Captured', 'echo please', { model: 'echo-headers' });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(VKEY), 'the client never sees it');
    const b = await bodiesOf(r.rid);
    assert.ok(b && b.response_body.length > 0, 'the echoed answer is captured');
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.request_bodies
      WHERE strpos(coalesce(request_body, '') || coalesce(response_body, ''), ${q(VKEY)}) > 0`), '0');
    assert.ok(!b.request_body.toLowerCase().includes('authorization'), 'no header in the request body');
  });

  it('REST: bodies for the admin and the owner, 404 for another developer, LLM fields', async () => {
    const r = await call('Captured', 'who sees me', { answer: 'seen' });
    await bodiesOf(r.rid);
    for (const who of ['admin', 'dev']) {
      const g = await rest(who, 'GET', `/requests/${r.rid}`);
      assert.equal(g.status, 200, g.text);
      assert.equal(JSON.parse(g.json.request_body).messages[0].content, 'who sees me');
      assert.equal(JSON.parse(g.json.response_body).choices[0].message.content, 'seen');
      assert.equal(g.json.request_truncated, false);
      assert.equal(g.json.response_truncated, false);
    }
    const other = await rest('dev2', 'GET', `/requests/${r.rid}`);
    assert.equal(other.status, 404, other.text);
    assert.ok(!other.text.includes('who sees me'));
    // the list never carries bodies
    const list = await rest('admin', 'GET', `/requests?request_id=${r.rid}`);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.data.length, 1);
    assert.ok(!('request_body' in list.json.data[0]), 'no bodies in the list');

    const l = await rest('admin', 'GET', `/llms/${ids.llms.Small.id}`);
    assert.equal(l.status, 200, l.text);
    assert.equal(l.json.capture_bodies, true);
    assert.equal(l.json.capture_max_bytes, 256);
    const p = await rest('admin', 'PATCH', `/llms/${ids.llms.Plain.id}`, { capture_max_bytes: 100 });
    assert.equal(p.status, 400, p.text);
    const c = await rest('admin', 'POST', '/llms', { name: 'Made', vendor: 'openai', api_endpoint: `${mock.url}/v1`,
      capture_bodies: true, capture_max_bytes: 4096 });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.capture_bodies, true);
    assert.equal(c.json.capture_max_bytes, 4096);
    const d = await rest('admin', 'GET', `/llms/${ids.llms.Plain.id}`);
    assert.equal(d.json.capture_bodies, false);
    assert.equal(d.json.capture_max_bytes, null, 'null: the default cap');
  });

  it('the chat is captured and its user sees the bodies of their own chat', async () => {
    const login = await fetch(`${api}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'chat@example.com', password: CHAT_PW }),
    });
    assert.equal(login.status, 200, await login.text());
    const jar = {};
    for (const c of login.headers.getSetCookie()) { const kv = c.split(';')[0]; const i = kv.indexOf('='); jar[kv.slice(0, i)] = kv.slice(i + 1); }
    const cookie = Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${api}/chat/completions`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': jar.aistudio_csrf, 'content-type': 'application/json', 'x-mock-answer': 'chat answer' },
      body: JSON.stringify({ llm: ids.llms.Small.slug, model: 'gpt-4o', messages: [{ role: 'user', content: 'chat question' }] }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const rid = res.headers.get('x-request-id');
    const b = await bodiesOf(rid);
    assert.ok(b, 'the chat request is captured');
    assert.match(b.request_body, /chat question/);
    assert.equal(b.response_body, text.slice(0, 256));
    const mine = await fetch(`${api}/requests/${rid}`, { headers: { cookie } });
    const j = await mine.json();
    assert.equal(mine.status, 200, JSON.stringify(j));
    assert.match(j.request_body, /chat question/);
    assert.equal(j.response_body, b.response_body);
    assert.equal((await rest('dev', 'GET', `/requests/${rid}`)).status, 404, 'not the developer\'s');
    const admin = await rest('admin', 'GET', `/requests/${rid}`);
    assert.match(admin.json.request_body, /chat question/);
  });

  it('retention: purge_request_bodies deletes what is older than body_retention_days', async () => {
    const a = await call('Captured', 'old one');
    const b = await call('Captured', 'new one');
    assert.ok(await bodiesOf(a.rid));
    assert.ok(await bodiesOf(b.rid));
    await pg.sql(`UPDATE aistudio.request_bodies SET "timestamp" = now() - interval '3 days' WHERE request_id = ${q(a.rid)}::uuid`);
    // the default (7 days) keeps both
    assert.equal((await pg.sql('SELECT aistudio.purge_request_bodies()')), '0');
    const purged = (await pg.sql(`SET pg_aistudio.body_retention_days = 2;
      SELECT aistudio.purge_request_bodies()`)).split('\n').pop();
    assert.equal(purged, '1');
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.request_bodies WHERE request_id = ${q(a.rid)}::uuid`), '0');
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.request_bodies WHERE request_id = ${q(b.rid)}::uuid`), '1');
    // the event itself stays
    assert.equal((await waitEvent(pg, a.rid, { settleMs: 0 })).length, 1);
  });

  it('the rollup worker purges: body_retention_days = 0 keeps none', async () => {
    const r = await call('Captured', 'soon gone');
    assert.ok(await bodiesOf(r.rid));
    await pg.sql('ALTER SYSTEM SET pg_aistudio.body_retention_days = 0');
    await pg.sql('ALTER SYSTEM SET pg_aistudio.rollup_interval = 1');
    await pg.sql('SELECT pg_reload_conf()');
    try {
      const left = await pollValue(pg, 'SELECT count(*) FROM aistudio.request_bodies', (v) => v === '0', { timeoutMs: 20000 });
      assert.equal(left, '0', 'the worker deleted every body');
      assert.equal((await waitEvent(pg, r.rid, { settleMs: 0 })).length, 1, 'the event stays');
    } finally {
      await pg.sql('ALTER SYSTEM RESET pg_aistudio.body_retention_days');
      await pg.sql('ALTER SYSTEM RESET pg_aistudio.rollup_interval');
      await pg.sql('SELECT pg_reload_conf()');
    }
  });
});
