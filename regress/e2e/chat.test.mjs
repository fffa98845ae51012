// regress/e2e/chat.test.mjs: POST /api/v1/chat/completions on SERVER_PORT,
// the chat of signed-in users, against the real gatewayd, a real cluster and
// the C mock upstream.
//   - a chat_user whose group grants an LLM logs in (POST /api/v1/auth/login)
//     and chats with the session cookie + X-CSRF-Token: JSON, and a stream
//     read as server-sent events (content deltas, then data: [DONE]); an
//     Anthropic LLM through the OpenAI shape, named by its name or by id;
//   - every such call is one row of aistudio.llm_interactions with
//     interaction_type 'chat', the user's id, app_id NULL, the LLM, and the
//     exact tokens of the mock's ledger (cost = aistudio.cost); the vendor key
//     is injected upstream and nothing of the caller's credentials goes there;
//   - refusals: no session 401, no / wrong CSRF token 403 (nothing upstream,
//     no row), an LLM no group of the user grants 403 llm_not_allowed (also an
//     admin's: a role grants no LLM), inactive 403, unknown 404, model not
//     allowed 403, malformed body / missing llm 400, a non-JSON body 415,
//     GET 405, the LLM's budget 429, too many streams of one user 429;
//   - the access cache follows grants at once (NOTIFY), and a database that
//     refuses the access check gives 503 access_check_unavailable;
//   - a stream cut upstream ends with an error event, a client that goes
//     away is recorded as 499; at most 24 chats at once (503 chat_busy) so the
//     REST API keeps workers;
//   - the openai SDK with a personal API token (baseURL …/api/v1, extra body
//     field llm), JSON and stream.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, waitEvent, withLogs, sqlLit as q } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-chat-e2e-777';
const FRAMES = 6;
const JSON_WORDS = 8;
const PW = { chat: 'chat password 01234', ada: 'admin password 0123' };

let mock;
let pg;
let gw;
let base;
const ids = { llm: {} };
const it = withLogs(nodeIt, () => [gw, pg]);

// A browser-like client: keeps the cookies and sends the CSRF token.
class Client {
  constructor(token = null) { this.cookies = {}; this.token = token; }

  get csrf() { return this.cookies.aistudio_csrf ?? null; }

  absorb(res) {
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      const i = kv.indexOf('=');
      if (/;\s*Max-Age=0/i.test(c)) delete this.cookies[kv.slice(0, i)];
      else this.cookies[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }

  // opts: csrf (false: none; a string: that one), headers, raw (body as is), method
  async fetch(path, body, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const jar = Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    if (jar && !this.token) headers.cookie = jar;
    if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    const method = opts.method || 'POST';
    if (method !== 'GET' && opts.csrf !== false && !this.token && this.csrf) {
      headers['x-csrf-token'] = typeof opts.csrf === 'string' ? opts.csrf : this.csrf;
    }
    const res = await fetch(`${base}${path}`, {
      method, headers, signal: opts.signal,
      body: body === undefined ? undefined : (opts.raw ? body : JSON.stringify(body)),
    });
    this.absorb(res);
    return res;
  }

  async req(path, body, opts = {}) {
    const res = await this.fetch(path, body, opts);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  }

  chat(body, opts) { return this.req('/api/v1/chat/completions', body, opts); }

  async login(email, password) {
    const r = await this.req('/api/v1/auth/login', { email, password }, { csrf: false });
    assert.equal(r.status, 200, `login ${email}: ${r.text}`);
    return r;
  }
}

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the mock' },
];

async function loggedIn(who) {
  const c = new Client();
  await c.login(`${who}@example.com`, PW[who]);
  assert.ok(c.csrf, 'the CSRF cookie is set');
  return c;
}

// The vendor key went upstream the vendor's way; nothing of the caller did.
function assertUpstreamAuth(entry, vendor) {
  for (const [k, v] of Object.entries(entry.auth)) {
    if (v && /aiss_|aisu_|ais_/.test(String(v))) assert.fail(`caller credential forwarded upstream in ${k}`);
  }
  if (vendor === 'openai') assert.equal(entry.auth.authorization, `Bearer ${VKEY}`);
  if (vendor === 'anthropic') assert.equal(entry.auth['x-api-key'], VKEY);
}

async function oneLedgerEntry() {
  const es = await mock.waitLedger((e) => (e.length >= 1 ? e : null), 5000);
  assert.equal(es.length, 1, `exactly one upstream request (got ${es.length})`);
  return es[0];
}

// The one row of a request: a chat row of this user, no app, the ledger's tokens.
async function checkChatRow(rid, { llm, vendor, model, entry, status = 200, user = ids.chat }) {
  assert.match(rid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'x-request-id is a UUIDv7');
  const evs = await waitEvent(pg, rid);
  assert.equal(evs.length, 1, `exactly one event for ${rid}: ${JSON.stringify(evs)}`);
  const row = evs[0];
  assert.equal(row.kind, 'stored', JSON.stringify(row));
  assert.equal(row.interaction_type, 'chat');
  assert.equal(Number(row.user_id), user, 'user_id = the signed-in user');
  assert.equal(row.app_id, null, 'no app');
  assert.equal(row.status_code, status);
  if (llm) assert.equal(Number(row.llm_id), ids.llm[llm]);
  if (vendor) assert.equal(row.vendor, vendor);
  if (model) assert.equal(row.model_name, model);
  if (entry) {
    assert.equal(Number(row.prompt_tokens), entry.prompt_tokens, 'prompt tokens = upstream');
    assert.equal(Number(row.response_tokens), entry.completion_tokens, 'response tokens = upstream');
    assert.equal(Number(row.cache_read_tokens), entry.cache_read_tokens, 'cache read = upstream');
    assert.equal(Number(row.cache_write_tokens), entry.cache_write_tokens, 'cache write = upstream');
    const cost = await pg.sql(`SELECT aistudio.cost('${vendor}', '${model}', ${row.prompt_tokens}, ${row.response_tokens},
      ${row.cache_write_tokens}, ${row.cache_read_tokens})`);
    assert.equal(Number(row.cost), Number(cost), 'cost = aistudio.cost(tokens)');
    assert.ok(Number(row.cost) > 0, 'priced');
  }
  return row;
}

function assertError(r, status, code) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.ok(r.json && r.json.error, `error body: ${r.text}`);
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(typeof r.json.error.type, 'string');
  if (code) assert.equal(r.json.error.code, code, r.text);
}

// data: lines of an SSE body → parsed chunks, and whether it ended with [DONE].
function parseSse(text) {
  const chunks = [];
  let done = false;
  let errorEvent = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') { done = true; continue; }
    const j = JSON.parse(data);
    if (j.error) errorEvent = j.error;
    else chunks.push(j);
  }
  return { chunks, done, errorEvent };
}

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: FRAMES });
  pg = await startCluster({ conf: ["track_functions = 'all'"] }); // counts the access checks
  // The gateway's role calls aistudio.can_use_llm(); grant it when this
  // build of the extension does not yet.
  if (await pg.sql(`SELECT has_function_privilege('aistudio_gateway', 'aistudio.can_use_llm(bigint, bigint)', 'EXECUTE')`) !== 't') {
    await pg.sql('GRANT EXECUTE ON FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway');
  }
  const user = async (who, name, role) => Number(await pg.sql(
    `SELECT aistudio.create_user('${who}@example.com', ${q(name)}, ${q(PW[who])}, '${role}')`));
  ids.chat = await user('chat', 'Chat User', 'chat_user');
  ids.ada = await user('ada', 'Ada Admin', 'admin');
  ids.group = Number(await pg.sql(`SELECT aistudio.create_group('chatters')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${ids.chat}, ${ids.group})`);
  await pg.sql(`SELECT aistudio.set_secret('MockKey', ${q(VKEY)})`);
  const llm = async (name, vendor, endpoint, { defaultModel = null, allowed = null, active = true, budget = null, grant = true } = {}) => {
    const id = Number(await pg.sql(`SELECT aistudio.create_llm(${q(name)}, ${q(vendor)}, ${q(endpoint)},
      api_key => '$SECRET/MockKey', default_model => ${q(defaultModel)},
      allowed_models => ${allowed ? q(allowed) : "'{}'::text[]"}, active => ${active})`));
    if (budget != null) await pg.sql(`SELECT aistudio.update_llm(${id}, monthly_budget => ${budget})`);
    if (grant) await pg.sql(`SELECT aistudio.grant_llm_to_group(${ids.group}, ${id})`);
    ids.llm[name] = id;
    return id;
  };
  await llm('Chat GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini' });
  await llm('Chat Claude', 'anthropic', mock.url, { defaultModel: 'claude-mock-1' });
  await llm('Secret GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini', grant: false });
  await llm('Sleepy GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini', active: false });
  await llm('Strict GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini', allowed: ['^gpt-4o-mini$'] });
  await llm('Pricey GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini', budget: 0.000001 });
  await llm('Late GPT', 'openai', `${mock.url}/v1`, { defaultModel: 'gpt-4o-mini' });
  await pg.sql(`SELECT aistudio.set_model_price('openai', 'gpt-4o-mini', 0.15, 0.60, NULL, 0.075)`);
  await pg.sql(`SELECT aistudio.set_model_price('anthropic', 'claude-mock-1', 3, 15, 3.75, 0.30)`);
  // every client of these tests connects from 127.0.0.1, like many users
  // behind one proxy: the per-address limit is raised as docs/configuration.md
  // says to (the default, 16 on the admin server, would cut the 24 chats below)
  gw = await startGatewayd(pg, { env: { STREAM_STALL_MS: '1000', MAX_STREAMS_PER_APP: '2', MAX_CONNECTIONS_PER_ADDRESS: '64' } });
  base = `http://127.0.0.1:${gw.serverPort}`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

describe('chat with a session (cookie + X-CSRF-Token)', () => {
  let c;
  before(async () => { c = await loggedIn('chat'); });

  it('JSON: an OpenAI chat.completion, recorded as a chat row with the exact tokens', async () => {
    await mock.resetLedger();
    const r = await c.chat({ llm: 'chat-gpt', model: 'gpt-4o-mini', messages, max_tokens: 50, temperature: 0.3 },
      { headers: { 'x-mock-cached-tokens': '4' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.choices[0].message.role, 'assistant');
    assert.equal(r.json.choices[0].message.content.split(/\s+/).filter(Boolean).length, JSON_WORDS);
    assert.equal(r.json.usage.completion_tokens, JSON_WORDS);
    assert.equal(r.json.usage.prompt_tokens_details.cached_tokens, 4);
    assert.match(r.headers.get('server-timing') ?? '', /gw;dur=/);
    const entry = await oneLedgerEntry();
    assert.equal(entry.path, '/v1/chat/completions');
    assert.equal(entry.model, 'gpt-4o-mini');
    assert.equal(entry.stream, false);
    assertUpstreamAuth(entry, 'openai');
    await checkChatRow(r.headers.get('x-request-id'), { llm: 'Chat GPT', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });

  it('stream: SSE deltas, the finish reason, the usage chunk, then data: [DONE]', async () => {
    await mock.resetLedger();
    const res = await c.fetch('/api/v1/chat/completions',
      { llm: 'chat-gpt', messages, stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const { chunks, done, errorEvent } = parseSse(await res.text());
    assert.equal(errorEvent, null);
    assert.ok(done, 'ends with data: [DONE]');
    const deltas = chunks.filter((x) => x.choices[0]?.delta?.content);
    assert.equal(deltas.length, FRAMES, 'one delta per upstream frame');
    assert.ok(chunks.every((x) => x.object === 'chat.completion.chunk'));
    assert.equal(chunks.filter((x) => x.choices[0]?.finish_reason).at(-1).choices[0].finish_reason, 'stop');
    const usage = chunks.at(-1).usage;
    assert.ok(usage, 'the usage chunk comes last');
    const entry = await oneLedgerEntry();
    assert.equal(entry.stream, true);
    assert.equal(usage.completion_tokens, entry.completion_tokens);
    assertUpstreamAuth(entry, 'openai');
    await checkChatRow(res.headers.get('x-request-id'), { llm: 'Chat GPT', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });

  it('stream without include_usage: no usage chunk, usage still recorded', async () => {
    await mock.resetLedger();
    const res = await c.fetch('/api/v1/chat/completions', { llm: 'chat-gpt', messages, stream: true });
    const { chunks, done } = parseSse(await res.text());
    assert.ok(done);
    assert.ok(chunks.every((x) => !x.usage), 'no usage chunk');
    const entry = await oneLedgerEntry();
    assert.equal(entry.usage_sent, true, 'the gateway asked the vendor for the usage');
    await checkChatRow(res.headers.get('x-request-id'), { llm: 'Chat GPT', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });

  it('an Anthropic LLM named by its name: translated both ways, cache tokens recorded', async () => {
    await mock.resetLedger();
    const r = await c.chat({ llm: 'Chat Claude', messages, max_tokens: 64 },
      { headers: { 'x-mock-cached-tokens': '3', 'x-mock-cache-write-tokens': '2' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    const entry = await oneLedgerEntry();
    assert.equal(entry.path, '/v1/messages');
    assert.equal(entry.model, 'claude-mock-1', 'the LLM default model');
    assertUpstreamAuth(entry, 'anthropic');
    await checkChatRow(r.headers.get('x-request-id'), { llm: 'Chat Claude', vendor: 'anthropic', model: 'claude-mock-1', entry });
  });

  it('an Anthropic stream by llm_id', async () => {
    await mock.resetLedger();
    const res = await c.fetch('/api/v1/chat/completions',
      { llm_id: ids.llm['Chat Claude'], messages, stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    const { chunks, done } = parseSse(await res.text());
    assert.ok(done);
    assert.equal(chunks.filter((x) => x.choices[0]?.delta?.content).length, FRAMES);
    const entry = await oneLedgerEntry();
    await checkChatRow(res.headers.get('x-request-id'), { llm: 'Chat Claude', vendor: 'anthropic', model: 'claude-mock-1', entry });
  });

  it('llm and llm_id naming the same LLM are fine; different ones are 400', async () => {
    const ok = await c.chat({ llm: 'chat-gpt', llm_id: String(ids.llm['Chat GPT']), messages });
    assert.equal(ok.status, 200, ok.text);
    assertError(await c.chat({ llm: 'chat-gpt', llm_id: ids.llm['Chat Claude'], messages }), 400, 'invalid_request');
  });
});

describe('refusals', () => {
  let c;
  before(async () => { c = await loggedIn('chat'); });

  it('no session: 401, nothing upstream', async () => {
    await mock.resetLedger();
    const anon = new Client();
    assertError(await anon.chat({ llm: 'chat-gpt', messages }), 401, 'unauthenticated');
    assertError(await new Client('aisu_' + '0'.repeat(64)).chat({ llm: 'chat-gpt', messages }), 401, 'invalid_token');
    const stale = new Client();
    stale.cookies.aistudio_session = `aiss_${'1'.repeat(64)}`;
    assertError(await stale.chat({ llm: 'chat-gpt', messages }), 401, 'session_expired');
    assert.deepEqual(await mock.ledger(), []);
  });

  it('no or a wrong CSRF token: 403 csrf_failed, nothing upstream, no row', async () => {
    await mock.resetLedger();
    const before = await gw.metric('gatewayd_analytics_recorded_total');
    assertError(await c.chat({ llm: 'chat-gpt', messages }, { csrf: false }), 403, 'csrf_failed');
    assertError(await c.chat({ llm: 'chat-gpt', messages }, { csrf: 'f'.repeat(64) }), 403, 'csrf_failed');
    assert.equal(await gw.metric('gatewayd_analytics_recorded_total'), before, 'refused before any event');
    assert.deepEqual(await mock.ledger(), []);
  });

  it('an LLM no group of the user grants: 403 llm_not_allowed, recorded, nothing upstream', async () => {
    await mock.resetLedger();
    const r = await c.chat({ llm: 'secret-gpt', messages });
    assertError(r, 403, 'llm_not_allowed');
    await checkChatRow(r.headers.get('x-request-id'), { llm: 'Secret GPT', status: 403 });
    assert.deepEqual(await mock.ledger(), []);
  });

  it('an admin whose groups grant nothing: 403 as well (a role grants no LLM)', async () => {
    const admin = await loggedIn('ada');
    const r = await admin.chat({ llm: 'chat-gpt', messages });
    assertError(r, 403, 'llm_not_allowed');
    await checkChatRow(r.headers.get('x-request-id'), { llm: 'Chat GPT', status: 403, user: ids.ada });
  });

  it('inactive 403, unknown 404, model not allowed 403', async () => {
    assertError(await c.chat({ llm: 'sleepy-gpt', messages }), 403, 'llm_inactive');
    assertError(await c.chat({ llm: 'no-such-llm', messages }), 404, 'llm_not_found');
    assertError(await c.chat({ llm_id: 999999, messages }), 404, 'llm_not_found');
    assertError(await c.chat({ llm: 'strict-gpt', model: 'gpt-4o', messages }), 403, 'model_not_allowed');
    const r = await c.chat({ llm: 'strict-gpt', model: 'gpt-4o-mini', messages });
    assert.equal(r.status, 200, r.text);
  });

  it('malformed bodies and a missing llm: 400, nothing upstream', async () => {
    await mock.resetLedger();
    assertError(await c.chat('{"llm": "chat-gpt", "messages": [', { raw: true }), 400, 'invalid_request');
    assertError(await c.chat('[1, 2]', { raw: true }), 400, 'invalid_request');
    assertError(await c.chat('', { raw: true }), 400, 'invalid_request');
    const missing = await c.chat({ messages });
    assertError(missing, 400, 'llm_required');
    await checkChatRow(missing.headers.get('x-request-id'), { status: 400 });
    assertError(await c.chat({ llm: 42, messages }), 400, 'invalid_request');
    assertError(await c.chat({ llm: 'chat-gpt' }), 400, 'invalid_request');
    assertError(await c.chat({ llm: 'chat-gpt', messages: [] }), 400, 'invalid_request');
    assertError(await c.chat({ llm: 'chat-gpt', messages, max_tokens: -1 }), 400, 'invalid_request');
    assertError(await c.chat({ llm: 'chat-gpt', messages, stream: 'yes' }), 400, 'invalid_request');
    assertError(await c.chat(JSON.stringify({ llm: 'chat-gpt', messages }), { raw: true, headers: { 'content-type': 'text/plain' } }),
      415, 'unsupported_media_type');
    assert.deepEqual(await mock.ledger(), []);
  });

  it('GET is 405 with Allow: POST', async () => {
    const r = await c.req('/api/v1/chat/completions', undefined, { method: 'GET' });
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'POST');
  });

  it("the LLM's monthly budget applies: 429 request_exceeds_remaining_budget before the upstream", async () => {
    await mock.resetLedger();
    const r = await c.chat({ llm: 'pricey-gpt', messages });
    assertError(r, 429, 'request_exceeds_remaining_budget');
    assert.match(r.json.error.message, /LLM/);
    assert.deepEqual(await mock.ledger(), []);
    await checkChatRow(r.headers.get('x-request-id'), { llm: 'Pricey GPT', status: 429 });
  });
});

describe('access follows the configuration', () => {
  let c;
  before(async () => { c = await loggedIn('chat'); });

  // calls of aistudio.can_use_llm so far (backends report their counts within ~1 s)
  const accessChecks = () => pg.sql(`SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
    WHERE schemaname = 'aistudio' AND funcname = 'can_use_llm'`).then(Number);
  async function settledChecks(want) {
    const end = Date.now() + 6000;
    let n;
    do { n = await accessChecks(); if (n >= want) break; await sleep(100); } while (Date.now() < end);
    await sleep(1200);
    return accessChecks();
  }

  it('access answers are cached per user and LLM: five chats, one can_use_llm call', async () => {
    // a new LLM, granted in the same transaction (one NOTIFY, no answer cached yet)
    await pg.sql(`SELECT aistudio.grant_llm_to_group(${ids.group}, aistudio.create_llm('Cache GPT', 'openai',
      ${q(`${mock.url}/v1`)}, api_key => '$SECRET/MockKey', default_model => 'gpt-4o-mini'))`);
    const before = await settledChecks(0);
    let r;
    const end = Date.now() + 5000;
    do { r = await c.chat({ llm: 'cache-gpt', messages }); } while (r.status === 404 && Date.now() < end && await sleep(50) === undefined);
    assert.equal(r.status, 200, r.text);
    for (let i = 0; i < 4; i++) assert.equal((await c.chat({ llm: 'cache-gpt', messages })).status, 200);
    assert.equal(await settledChecks(before + 1), before + 1, 'one access check for five chats');
  });

  it('a revoked grant refuses at once (cache dropped on NOTIFY), a new grant allows', async () => {
    const id = ids.llm['Late GPT'];
    assert.equal((await c.chat({ llm: 'late-gpt', messages })).status, 200, 'granted and cached');
    await pg.sql(`SELECT aistudio.revoke_llm_from_group(${ids.group}, ${id})`);
    let r;
    const end = Date.now() + 5000;
    do {
      r = await c.chat({ llm: 'late-gpt', messages });
      if (r.status === 403) break;
      await sleep(50);
    } while (Date.now() < end);
    assertError(r, 403, 'llm_not_allowed');
    await pg.sql(`SELECT aistudio.grant_llm_to_group(${ids.group}, ${id})`);
    const end2 = Date.now() + 5000;
    do {
      r = await c.chat({ llm: 'late-gpt', messages });
      if (r.status === 200) break;
      await sleep(50);
    } while (Date.now() < end2);
    assert.equal(r.status, 200, `allowed again well within the 30 s TTL: ${r.text}`);
  });

  it('removed from the group: refused at once (group_members notifies), added back: allowed', async () => {
    assert.equal((await c.chat({ llm: 'late-gpt', messages })).status, 200, 'granted and cached');
    await pg.sql(`SELECT aistudio.remove_user_from_group(${ids.chat}, ${ids.group})`);
    let r;
    const end = Date.now() + 5000;
    do {
      r = await c.chat({ llm: 'late-gpt', messages });
      if (r.status === 403) break;
      await sleep(50);
    } while (Date.now() < end);
    assertError(r, 403, 'llm_not_allowed');
    await pg.sql(`SELECT aistudio.add_user_to_group(${ids.chat}, ${ids.group})`);
    const end2 = Date.now() + 5000;
    do {
      r = await c.chat({ llm: 'late-gpt', messages });
      if (r.status === 200) break;
      await sleep(50);
    } while (Date.now() < end2);
    assert.equal(r.status, 200, `allowed again well within the 30 s TTL: ${r.text}`);
  });

  it('the database refusing the access check: 503 access_check_unavailable, logged', async () => {
    await pg.sql('REVOKE EXECUTE ON FUNCTION aistudio.can_use_llm(bigint, bigint) FROM aistudio_gateway');
    try {
      // a (user, LLM) pair not asked before, so not cached
      const admin = await loggedIn('ada');
      const r = await admin.chat({ llm: 'secret-gpt', messages });
      assertError(r, 503, 'access_check_unavailable');
      assert.match(gw.stderr() + gw.stdout(), /GRANT EXECUTE ON FUNCTION aistudio\.can_use_llm/);
    } finally {
      await pg.sql('GRANT EXECUTE ON FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway');
    }
  });
});

describe('streams: failures and limits', () => {
  let c;
  before(async () => { c = await loggedIn('chat'); });

  it('a stream cut upstream ends with an error event, not [DONE]', async () => {
    await mock.resetLedger();
    const res = await c.fetch('/api/v1/chat/completions', { llm: 'chat-gpt', model: 'fault-reset', messages, stream: true });
    assert.equal(res.status, 200);
    const { done, errorEvent } = parseSse(await res.text());
    assert.equal(done, false, 'no clean end');
    assert.ok(errorEvent, 'an error event');
    const evs = await waitEvent(pg, res.headers.get('x-request-id'));
    assert.equal(evs.length, 1);
    assert.equal(evs[0].interaction_type, 'chat');
    assert.equal(evs[0].status_code, 502);
  });

  it('a client that goes away mid-stream: the upstream is closed, the row says 499', async () => {
    await mock.resetLedger();
    const ac = new AbortController();
    const res = await c.fetch('/api/v1/chat/completions', { llm: 'chat-gpt', model: 'fault-stall', messages, stream: true },
      { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    await reader.read(); // the first frame
    ac.abort();
    const entry = await mock.waitLedger((es) => es.find((e) => e.fault === 'fault-stall'), 5000);
    assert.equal(entry.outcome, 'client_gone');
    const evs = await waitEvent(pg, res.headers.get('x-request-id'));
    assert.equal(evs.length, 1);
    assert.ok([499, 504].includes(evs[0].status_code), `status ${evs[0].status_code}`);
    assert.equal(evs[0].interaction_type, 'chat');
  });

  it('MAX_STREAMS_PER_APP applies per user: the third concurrent stream is 429', async () => {
    // two streams wait 3 s for their first byte; a third one is refused at once
    const acs = [new AbortController(), new AbortController()];
    const pending = acs.map((ac) => c.fetch('/api/v1/chat/completions',
      { llm: 'chat-gpt', model: 'delay-3000', messages, stream: true }, { signal: ac.signal }).catch(() => null));
    await sleep(700);
    const t0 = Date.now();
    const third = await c.chat({ llm: 'chat-gpt', messages, stream: true });
    const took = Date.now() - t0;
    for (const ac of acs) ac.abort();
    await Promise.all(pending);
    assertError(third, 429, 'too_many_streams');
    assert.match(third.json.error.message, /user/);
    assert.ok(took < 1500, `answered at once (${took} ms)`);
  });
});

describe('the REST API keeps its threads', () => {
  it('at most 24 chats at once (of the 32 workers of SERVER_PORT): the next one is 503 chat_busy, the API still answers', async () => {
    const c = await loggedIn('chat');
    // requests of earlier tests whose clients went away end within ~1 s
    const quiet = Date.now() + 5000;
    while (await gw.metric('gatewayd_requests_in_flight') > 0 && Date.now() < quiet) await sleep(50);
    const pending = Array.from({ length: 24 }, () => c.req('/api/v1/chat/completions',
      { llm: 'chat-gpt', model: 'delay-4000', messages }).catch((e) => e));
    const t0 = Date.now();
    let inflight;
    do { await sleep(50); inflight = await gw.metric('gatewayd_requests_in_flight'); } while (inflight < 24 && Date.now() - t0 < 3500);
    assert.equal(inflight, 24, 'the 24 chats are in progress');
    const busy = await c.chat({ llm: 'chat-gpt', messages });
    const me = await c.req('/api/v1/me', undefined, { method: 'GET' });
    assert.ok(Date.now() - t0 < 3900, 'both answered while the 24 chats still ran');
    const done = await Promise.all(pending);
    assertError(busy, 503, 'chat_busy');
    await checkChatRow(busy.headers.get('x-request-id'), { status: 503 });
    assert.equal(me.status, 200, 'the REST API answers meanwhile');
    assert.ok(done.every((r) => r.status === 200), `the 24 chats completed: ${done.map((r) => r.status ?? r.message)}`);
  });
});

describe('the openai SDK with a personal API token', () => {
  let token;
  let client;
  before(async () => {
    const c = await loggedIn('chat');
    const r = await c.req('/api/v1/me/tokens', { name: 'sdk' });
    assert.equal(r.status, 201, r.text);
    token = r.json.token;
    assert.match(token, /^aisu_[0-9a-f]{64}$/);
    client = new OpenAI({ apiKey: token, baseURL: `${base}/api/v1`, maxRetries: 0 });
  });

  it('chat.completions.create with the extra body field llm', async () => {
    await mock.resetLedger();
    const { data, response } = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages, llm: 'chat-gpt' }).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.usage.completion_tokens, JSON_WORDS);
    const entry = await oneLedgerEntry();
    assertUpstreamAuth(entry, 'openai');
    await checkChatRow(response.headers.get('x-request-id'), { llm: 'Chat GPT', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });

  it('streaming through the SDK', async () => {
    await mock.resetLedger();
    const { data: stream, response } = await client.chat.completions.create(
      { messages, llm: 'chat-claude', stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks = [];
    for await (const x of stream) chunks.push(x);
    assert.equal(chunks.filter((x) => x.choices[0]?.delta?.content).length, FRAMES);
    assert.ok(chunks.at(-1).usage);
    const entry = await oneLedgerEntry();
    await checkChatRow(response.headers.get('x-request-id'), { llm: 'Chat Claude', vendor: 'anthropic', model: 'claude-mock-1', entry });
  });

  it('SDK errors: an LLM not granted is a PermissionDeniedError, a bad token an AuthenticationError', async () => {
    await assert.rejects(client.chat.completions.create({ messages, llm: 'secret-gpt' }),
      (e) => e.status === 403 && e.code === 'llm_not_allowed');
    const bad = new OpenAI({ apiKey: `aisu_${'a'.repeat(64)}`, baseURL: `${base}/api/v1`, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ messages, llm: 'chat-gpt' }), (e) => e.status === 401);
  });
});

describe('the record', () => {
  it('every chat row has interaction_type chat and no app; no event was dropped or rejected', async () => {
    const rows = await pg.json(`SELECT interaction_type, app_id, user_id FROM aistudio.llm_interactions`);
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    assert.ok(rows.every((r) => r.interaction_type === 'chat' && r.app_id === null && r.user_id !== null),
      JSON.stringify(rows.filter((r) => r.interaction_type !== 'chat' || r.app_id !== null).slice(0, 3)));
    assert.equal(await pg.sql('SELECT count(*) FROM aistudio.ingest_rejects'), '0');
    assert.equal(await gw.metric('gatewayd_analytics_dropped_total'), 0);
  });
});
