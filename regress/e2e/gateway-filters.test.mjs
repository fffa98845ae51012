// regress/e2e/gateway-filters.test.mjs: content filters that run (issue 11),
// against the real gatewayd, a real cluster and the C mock upstream.
//   - each built-in filter on each vendor's pass-through route (openai,
//     anthropic, google_ai, vertex, huggingface, ollama), on /ai/… and on the
//     chat: a regex block (400 blocked_by_filter, in the vendor's own error
//     shape on pass-through routes, OpenAI's on /ai and the chat); a keywords
//     block at pre_auth, before the API key is checked; pii redaction of the
//     prompt (the mock's ledger shows what went upstream); max_prompt (413);
//   - blocked requests: one analytics event naming the filter, no tokens, no
//     cost, the mock saw nothing, and the budget reservation is released;
//   - answers: pii on_response redacts JSON answers and streams, a card
//     number or an address split over two frames (the mock's x-mock-answer
//     with '|') replaced whole, each SSE / NDJSON / JSON array unit still
//     valid; held text released at the end; a regex on_response stops the
//     answer;
//   - the order of attached filters, namespace scoping (a gateway of
//     namespace eu runs the eu filter and the global one), the test endpoint
//     POST /api/v1/filters/{id}/test (admins only, the same code), bad
//     configs refused by SQL (22023) and REST (400).
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, withLogs, sqlLit as q } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-filters-e2e-31';
const PW = 'filters password 0123';
const VENDORS = ['openai', 'anthropic', 'google_ai', 'vertex', 'huggingface', 'ollama'];

let mock;
let pg;
let gw;
let gwEu;
let ids;
let key;
const filters = {};
const it = withLogs(nodeIt, () => [gw, gwEu, pg]);

const llmName = (v) => `Filt ${v}`;
const slug = (v) => ids.llms[llmName(v)].slug;

// ---- each vendor's pass-through request and answer ----

const gpath = (prefix, s) => `${prefix}/models/gemini-2.0-flash:${s ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
const oaiBody = (model) => (p, s) => ({ model, stream: s, messages: [{ role: 'user', content: p }] });
const PT = {
  openai: { path: () => '/v1/chat/completions', body: oaiBody('gpt-4o-mini') },
  anthropic: {
    path: () => '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    body: (p, s) => ({ model: 'claude-mock-1', max_tokens: 64, stream: s, system: 'Be terse.', messages: [{ role: 'user', content: p }] }),
  },
  google_ai: { path: (s) => gpath('/v1beta', s), body: (p) => ({ contents: [{ role: 'user', parts: [{ text: p }] }] }) },
  vertex: {
    path: (s) => gpath('/v1/projects/p1/locations/us-central1/publishers/google', s),
    body: (p) => ({ contents: [{ role: 'user', parts: [{ text: p }] }] }),
  },
  huggingface: { path: () => '/v1/chat/completions', body: oaiBody('tgi') },
  ollama: { path: () => '/api/chat', body: (p, s) => ({ model: 'llama3.2', stream: s, messages: [{ role: 'user', content: p }] }) },
};

function answerText(vendor, j) {
  if (vendor === 'anthropic') return j.content.map((b) => b.text).join('');
  if (vendor === 'google_ai' || vendor === 'vertex') return j.candidates[0].content.parts.map((p) => p.text).join('');
  if (vendor === 'ollama') return j.message.content;
  return j.choices[0].message.content;
}

// The text of a streamed answer, every unit parsed (a broken unit fails).
function streamText(vendor, body) {
  let out = '';
  if (vendor === 'ollama') {
    for (const line of body.split('\n').filter(Boolean)) out += JSON.parse(line).message?.content ?? '';
    return out;
  }
  for (const ev of body.split(/\r?\n\r?\n/).filter((e) => e.trim())) {
    const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data || data === '[DONE]') continue;
    const j = JSON.parse(data);
    if (vendor === 'anthropic') {
      if (j.type === 'content_block_delta' && j.delta.type === 'text_delta') out += j.delta.text;
    } else if (vendor === 'google_ai' || vendor === 'vertex') {
      out += j.candidates?.[0]?.content?.parts?.map((p) => p.text).join('') ?? '';
    } else {
      out += j.choices?.[0]?.delta?.content ?? '';
    }
  }
  return out;
}

// The error code of a block in the vendor's own shape.
function errorCode(vendor, j) {
  if (vendor === 'anthropic') {
    assert.equal(j.type, 'error', 'the Anthropic error shape');
    return j.error.code;
  }
  if (vendor === 'google_ai' || vendor === 'vertex') {
    assert.equal(typeof j.error.status, 'string', 'the Google error shape');
    return j.error.details[0].reason;
  }
  if (vendor === 'ollama') {
    assert.equal(typeof j.error, 'string', 'the Ollama error shape');
    return j.error.split(':')[0];
  }
  return j.error.code;
}

async function call(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* a stream or not JSON */ }
  return { status: res.status, text, json, rid: res.headers.get('x-request-id'), headers: res.headers };
}

// A pass-through request to vendor v's LLM (or another LLM of v's kind).
function passThrough(v, prompt, { stream = false, headers = {}, llm = llmName(v), base = gw.url } = {}) {
  const pt = PT[v];
  return call(`${base}/llm/rest/${ids.llms[llm].slug}${pt.path(stream)}`, pt.body(prompt, stream), { ...(pt.headers || {}), ...headers });
}

function ai(v, prompt, { stream = false, headers = {} } = {}) {
  return call(`${gw.url}/ai/${slug(v)}/v1/chat/completions`,
    { messages: [{ role: 'user', content: prompt }], stream, max_tokens: 64 }, headers);
}

// ---- the chat (a signed-in chat user) ----

let chatCookies = '';
let chatCsrf = '';
async function chatLogin() {
  const res = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'chatter@example.com', password: PW }),
  });
  assert.equal(res.status, 200, await res.text());
  const jar = {};
  for (const c of res.headers.getSetCookie()) { const kv = c.split(';')[0]; const i = kv.indexOf('='); jar[kv.slice(0, i)] = kv.slice(i + 1); }
  chatCookies = Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; ');
  chatCsrf = jar.aistudio_csrf;
}

async function chat(v, prompt, { stream = false, headers = {} } = {}) {
  const res = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { cookie: chatCookies, 'x-csrf-token': chatCsrf, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ llm: slug(v), messages: [{ role: 'user', content: prompt }], stream }),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* stream */ }
  return { status: res.status, text, json, rid: res.headers.get('x-request-id') };
}

// ---- the REST API as an admin ----

let adminCookies = '';
let adminCsrf = '';
async function adminLogin(email) {
  const res = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PW }),
  });
  assert.equal(res.status, 200, await res.text());
  const jar = {};
  for (const c of res.headers.getSetCookie()) { const kv = c.split(';')[0]; const i = kv.indexOf('='); jar[kv.slice(0, i)] = kv.slice(i + 1); }
  return { cookies: Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; '), csrf: jar.aistudio_csrf };
}

async function rest(method, path, body, who = { cookies: adminCookies, csrf: adminCsrf }) {
  const res = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1${path}`, {
    method,
    headers: { cookie: who.cookies, 'x-csrf-token': who.csrf, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* empty */ }
  return { status: res.status, json, text };
}

// ---- helpers ----

// The one event of a blocked request: the status, the filter's name in
// error, no tokens, no cost.
async function assertBlockedEvent(rid, status, filterName) {
  const evs = await waitEvent(pg, rid);
  assert.equal(evs.length, 1, `exactly one event for ${rid}: ${JSON.stringify(evs)}`);
  const e = evs[0];
  assert.equal(e.kind, 'stored', JSON.stringify(e));
  assert.equal(e.status_code, status);
  assert.match(e.error, new RegExp(`'${filterName}'`), `the event names filter ${filterName}: ${e.error}`);
  assert.equal(Number(e.prompt_tokens), 0);
  assert.equal(Number(e.response_tokens), 0);
  assert.equal(Number(e.cost ?? 0), 0, 'no cost');
}

// Waits until the gateway (after a configuration change) answers as pred says.
async function until(fn, pred, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  let r;
  for (;;) {
    r = await fn();
    if (pred(r)) return r;
    if (Date.now() > end) assert.fail(`${what}: last answer ${r.status} ${r.text?.slice(0, 300)}`);
    await sleep(100);
  }
}

async function attach(llm, filterId, position) {
  await pg.sql(`SELECT aistudio.attach_filter(${ids.llms[llm].id}, ${filterId}, ${position})`);
}

const CARD = '4111 1111 1111 1111';

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 4 });
  pg = await startCluster();
  // (Vertex: an endpoint with its project path, so that /ai's short paths reach the mock as Vertex)
  const llms = VENDORS.map((v) => ({ name: llmName(v), vendor: v, key: v === 'ollama' ? 'none' : 'secret',
    endpoint: v === 'vertex' ? `${mock.url}/v1/projects/p1/locations/us-central1/publishers/google` : mock.url,
    defaultModel: { openai: 'gpt-4o-mini', anthropic: 'claude-mock-1', google_ai: 'gemini-2.0-flash', vertex: 'gemini-2.0-flash', huggingface: 'tgi', ollama: 'llama3.2' }[v] }));
  llms.push({ name: 'Filt order', vendor: 'openai', endpoint: mock.url, key: 'secret' });
  llms.push({ name: 'Filt budget', vendor: 'openai', endpoint: mock.url, key: 'secret', budget: 1 });
  llms.push({ name: 'Filt plain', vendor: 'openai', endpoint: mock.url, key: 'secret' });
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms,
    apps: [{ name: 'filters-app', llms: llms.map((l) => l.name) }],
    prices: [['openai', 'gpt-4o-mini', 1, 1]],
  });
  key = ids.apps['filters-app'].key;
  // a chat user in the group that is granted every LLM, and an admin
  const chatter = await pg.sql(`SELECT aistudio.create_user('chatter@example.com', 'Chatter', ${q(PW)}, 'chat_user')`);
  await pg.sql(`SELECT aistudio.add_user_to_group(${chatter}, ${ids.groupId})`);
  await pg.sql(`SELECT aistudio.create_user('ada@example.com', 'Ada', ${q(PW)}, 'admin')`);
  await pg.sql(`SELECT aistudio.create_user('dev2@example.com', 'Dev Two', ${q(PW)}, 'developer')`);

  // the filters
  const mk = async (name, type, config, stage, extra = '') => {
    filters[name] = Number(await pg.sql(`SELECT aistudio.create_filter(${q(name)}, ${q(type)}, ${q(JSON.stringify(config))}::jsonb,
      stage => ${q(stage)}${extra})`));
    return filters[name];
  };
  await mk('no-secrets', 'regex', { patterns: ['(?i)top\\s*secret'] }, 'post_auth');
  await mk('no-banned', 'keywords', { keywords: ['Überweisung', 'forbidden-word'], whole_word: true }, 'pre_auth');
  await mk('pii-prompt', 'pii', {}, 'post_auth');
  await mk('pii-answer', 'pii', { placeholders: { card: '[CARD]', email: '[EMAIL]' } }, 'on_response');
  await mk('short-prompts', 'max_prompt', { max_chars: 400 }, 'pre_auth');
  for (const v of VENDORS) {
    for (const [f, pos] of [['no-banned', 0], ['short-prompts', 1], ['no-secrets', 2], ['pii-prompt', 3], ['pii-answer', 4]]) {
      await attach(llmName(v), filters[f], pos);
    }
  }
  await attach('Filt budget', filters['no-secrets'], 0);
  // order: pii first (redacts the address), then a regex that blocks the placeholder
  await mk('mail-placeholder', 'regex', { patterns: ['\\[EMAIL\\]'] }, 'post_auth');
  await attach('Filt order', filters['pii-prompt'], 1);
  await attach('Filt order', filters['mail-placeholder'], 2);
  // a stream stopped on the way
  await mk('no-word-stream', 'regex', { patterns: ['(?i)forbidden answer'] }, 'on_response');
  await attach('Filt plain', filters['no-word-stream'], 0);

  gw = await startGatewayd(pg);
  await chatLogin();
  ({ cookies: adminCookies, csrf: adminCsrf } = await adminLogin('ada@example.com'));
});

after(async () => {
  try {
    if (gwEu) await gwEu.stop();
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

describe('a regex filter blocks on every route', () => {
  it('each vendor\'s pass-through route: 400 blocked_by_filter in the vendor\'s error shape, nothing upstream, one event', async () => {
    await mock.resetLedger();
    for (const v of VENDORS) {
      const r = await passThrough(v, 'this is TOP Secret stuff');
      assert.equal(r.status, 400, `${v}: ${r.text}`);
      assert.equal(errorCode(v, r.json), 'blocked_by_filter', `${v}: ${r.text}`);
      assert.match(r.text, /no-secrets/, `${v}: the message names the filter`);
      await assertBlockedEvent(r.rid, 400, 'no-secrets');
    }
    assert.deepEqual(await mock.ledger(), [], 'the mock saw no request');
    for (const v of VENDORS) {
      const r = await passThrough(v, 'nothing to see here');
      assert.equal(r.status, 200, `${v} clean prompt: ${r.text}`);
    }
  });

  it('/ai/… and the chat: the OpenAI error shape', async () => {
    await mock.resetLedger();
    for (const v of VENDORS) {
      const r = await ai(v, 'top  SECRET plans');
      assert.equal(r.status, 400, `/ai ${v}: ${r.text}`);
      assert.equal(r.json.error.code, 'blocked_by_filter');
      assert.equal(r.json.error.type, 'invalid_request_error');
      await assertBlockedEvent(r.rid, 400, 'no-secrets');
      const c = await chat(v, 'top secret plans');
      assert.equal(c.status, 400, `chat ${v}: ${c.text}`);
      assert.equal(c.json.error.code, 'blocked_by_filter');
      await assertBlockedEvent(c.rid, 400, 'no-secrets');
    }
    assert.deepEqual(await mock.ledger(), [], 'the mock saw no request');
  });

  it('a blocked request releases its budget reservation', async () => {
    // each request reserves about 60% of the LLM's budget of 1 (a 300k-token
    // output cap at 1 per million): a reservation kept by a block would
    // refuse the next request with 429
    const body = (p) => ({ model: 'gpt-4o-mini', max_tokens: 600000, messages: [{ role: 'user', content: p }] });
    const url = `${gw.url}/llm/rest/${ids.llms['Filt budget'].slug}/v1/chat/completions`;
    for (let i = 0; i < 4; i++) {
      const r = await call(url, body('top secret'));
      assert.equal(r.status, 400, `blocked ${i}: ${r.text}`);
    }
    const ok = await call(url, body('hello'));
    assert.equal(ok.status, 200, `the budget is free again: ${ok.text}`);
  });
});

describe('keywords at pre_auth, max_prompt', () => {
  it('a keyword blocks before the API key is checked, case-insensitively, whole words only', async () => {
    const r = await passThrough('openai', 'please do an ÜBERWEISUNG now', { headers: { authorization: 'Bearer not-a-key' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'blocked_by_filter');
    await assertBlockedEvent(r.rid, 400, 'no-banned');
    const bad = await passThrough('openai', 'an überweisung', { headers: { authorization: 'Bearer not-a-key' } });
    assert.equal(bad.status, 400, 'lower case too');
    const inside = await passThrough('openai', 'Überweisungsauftrag is one word');
    assert.equal(inside.status, 200, `not a whole word: ${inside.text}`);
    const clean = await passThrough('openai', 'hello', { headers: { authorization: 'Bearer not-a-key' } });
    assert.equal(clean.status, 401, 'a clean prompt goes on to the key check');
    for (const v of ['anthropic', 'google_ai', 'ollama']) {
      const x = await passThrough(v, 'a forbidden-word here');
      assert.equal(x.status, 400, `${v}: ${x.text}`);
      assert.equal(errorCode(v, x.json), 'blocked_by_filter');
    }
  });

  it('max_prompt: 413 prompt_too_large above 400 characters', async () => {
    const long = 'word '.repeat(100);
    for (const v of VENDORS) {
      const r = await passThrough(v, long);
      assert.equal(r.status, 413, `${v}: ${r.text}`);
      assert.equal(errorCode(v, r.json), 'prompt_too_large');
      await assertBlockedEvent(r.rid, 413, 'short-prompts');
    }
    const a = await ai('anthropic', long);
    assert.equal(a.status, 413);
    assert.match(a.json.error.message, /500 characters, more than the 400 allowed/);
  });
});

describe('pii on the prompt (post_auth)', () => {
  it('the upstream gets the prompt redacted, in its own format, on every route', async () => {
    const prompt = `mail jane.doe@example.com or call +1 555 123 4567, card ${CARD}, IBAN DE89 3704 0044 0532 0130 00`;
    const check = async (what, r) => {
      assert.equal(r.status, 200, `${what}: ${r.text}`);
      const e = await mock.waitLedger((es) => (es.length === 1 ? es[0] : null));
      const body = JSON.parse(e.body);
      const seen = JSON.stringify(body);
      for (const ph of ['[EMAIL]', '[PHONE]', '[CARD]', '[IBAN]']) assert.ok(seen.includes(ph), `${what}: ${ph} upstream: ${seen}`);
      for (const raw of ['jane.doe', '555 123', '4111', 'DE89']) assert.ok(!seen.includes(raw), `${what}: ${raw} not upstream`);
      await mock.resetLedger();
      return body;
    };
    await mock.resetLedger();
    for (const v of VENDORS) {
      const body = await check(v, await passThrough(v, prompt, { headers: { 'x-mock-ledger-body': '1' } }));
      if (v === 'anthropic') assert.equal(body.system, 'Be terse.', 'the other fields are untouched');
    }
    for (const v of VENDORS) await check(`/ai ${v}`, await ai(v, prompt, { headers: { 'x-mock-ledger-body': '1' } }));
    await check('chat', await chat('anthropic', prompt, { headers: { 'x-mock-ledger-body': '1' } }));
  });
});

describe('pii on the answer (on_response)', () => {
  const ANSWER = `Write to bob@corp.example or use card ${CARD} today`;
  const SPLIT = 'Card 4111 11|11 1111 1111 ok, mail jane@exa|mple.com then|' + ' end 5555 5555 5555 4|444';
  const WANT_SPLIT = 'Card [CARD] ok, mail [EMAIL] then end [CARD]';

  it('a JSON answer is redacted (each vendor, /ai, the chat)', async () => {
    const h = { 'x-mock-answer': ANSWER };
    const want = 'Write to [EMAIL] or use card [CARD] today';
    for (const v of VENDORS) {
      const r = await passThrough(v, 'hi', { headers: h });
      assert.equal(r.status, 200, `${v}: ${r.text}`);
      assert.equal(answerText(v, r.json), want, v);
    }
    for (const v of VENDORS) {
      const r = await ai(v, 'hi', { headers: h });
      assert.equal(r.status, 200, `/ai ${v}: ${r.text}`);
      assert.equal(r.json.choices[0].message.content, want, `/ai ${v}`);
    }
    const c = await chat('google_ai', 'hi', { headers: h });
    assert.equal(c.json.choices[0].message.content, want, 'chat');
  });

  it('streams: a number and an address split over two frames are replaced whole', async () => {
    const h = { 'x-mock-answer': SPLIT };
    for (const v of VENDORS) {
      const r = await passThrough(v, 'hi', { stream: true, headers: h });
      assert.equal(r.status, 200, `${v}: ${r.text}`);
      assert.equal(streamText(v, r.text), WANT_SPLIT, `${v}: ${r.text}`);
      assert.doesNotMatch(r.text, /4111|5555|jane@/, `${v}: nothing of the originals`);
    }
    // Gemini without alt=sse: a streamed JSON array
    const g = await call(`${gw.url}/llm/rest/${slug('google_ai')}/v1beta/models/gemini-2.0-flash:streamGenerateContent`,
      PT.google_ai.body('hi'), h);
    assert.equal(g.status, 200, g.text);
    const arr = JSON.parse(g.text);
    assert.equal(arr.map((x) => x.candidates[0].content.parts.map((p) => p.text).join('')).join(''), WANT_SPLIT, 'JSON array');
    for (const v of VENDORS) {
      const r = await ai(v, 'hi', { stream: true, headers: h });
      assert.equal(r.status, 200, `/ai ${v}`);
      assert.equal(streamText('openai', r.text), WANT_SPLIT, `/ai ${v}: ${r.text}`);
      assert.match(r.text, /data: \[DONE\]\s*$/, `/ai ${v} ends cleanly`);
    }
    const c = await chat('anthropic', 'hi', { stream: true, headers: h });
    assert.equal(streamText('openai', c.text), WANT_SPLIT, `chat: ${c.text}`);
  });

  it('ordinary words are not held back beyond the next frame', async () => {
    const r = await passThrough('openai', 'hi', { stream: true, headers: { 'x-mock-answer': 'Hello| there| friend| ok' } });
    const deltas = r.text.split('\n\n').filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content).filter((x) => x !== undefined && x !== '');
    assert.deepEqual(deltas.join(''), 'Hello there friend ok');
    assert.ok(deltas.length >= 3, `released frame by frame: ${JSON.stringify(deltas)}`);
  });

  it('a regex on_response stops a stream with the vendor\'s error event', async () => {
    const url = `${gw.url}/llm/rest/${ids.llms['Filt plain'].slug}/v1/chat/completions`;
    const r = await call(url, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { 'x-mock-answer': 'a fine start| then a FORBIDDEN answer| more' });
    assert.equal(r.status, 200, 'the stream had begun');
    assert.match(r.text, /a fine start/);
    assert.doesNotMatch(r.text, /FORBIDDEN/i);
    assert.match(r.text, /"error"/, 'ended by an error event');
    assert.doesNotMatch(r.text, /\[DONE\]/, 'never a clean end');
    const evs = await waitEvent(pg, r.rid);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].status_code, 502);
    assert.match(evs[0].error, /blocked_by_filter.*no-word-stream/);
    const j = await call(url, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
      { 'x-mock-answer': 'a FORBIDDEN answer' });
    assert.equal(j.status, 502, `a JSON answer is refused whole: ${j.text}`);
    assert.equal(j.json.error.code, 'blocked_by_filter');
  });
});

describe('order and namespaces', () => {
  it('filters of a stage run in the order they were attached at', async () => {
    const name = 'Filt order';
    const url = `${gw.url}/llm/rest/${ids.llms[name].slug}/v1/chat/completions`;
    const send = () => call(url, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mail me at a@b.example' }] },
      { 'x-mock-ledger-body': '1' });
    const r = await send();
    assert.equal(r.status, 400, `pii (1) then the placeholder regex (2): blocked: ${r.text}`);
    assert.match(r.json.error.message, /mail-placeholder/);
    await attach(name, filters['mail-placeholder'], 0); // now before pii
    await mock.resetLedger();
    const r2 = await until(send, (x) => x.status === 200, 'the new order applies');
    const e = await mock.waitLedger((es) => es.find((x) => x.request_id === r2.rid || x.body));
    assert.match(e.body, /\[EMAIL\]/, 'pii still redacted after the regex passed');
  });

  it('a gateway of namespace eu runs the eu filter and the global one; others cannot attach it', async () => {
    await pg.sql(`SELECT aistudio.create_namespace('eu')`);
    const llm = Number(await pg.sql(`SELECT aistudio.create_llm('Filt eu', 'openai', ${q(mock.url)}, api_key => '$SECRET/MockVendorKey', namespace => 'eu')`));
    const app = Number(await pg.sql(`SELECT aistudio.create_app('eu-app', ${ids.ownerId}, '{${llm}}'::bigint[], namespace => 'eu')`));
    const euKey = await pg.sql(`SELECT aistudio.issue_credential(${app})`);
    const euFilter = Number(await pg.sql(`SELECT aistudio.create_filter('eu-words', 'keywords', '{"keywords": ["euro-secret"]}', namespace => 'eu')`));
    await pg.sql(`SELECT aistudio.attach_filter(${llm}, ${euFilter}, 0)`);
    await pg.sql(`SELECT aistudio.attach_filter(${llm}, ${filters['no-secrets']}, 1)`);
    const refused = await pg.sql(`DO $$ BEGIN PERFORM aistudio.attach_filter(${ids.llms['Filt plain'].id}, ${euFilter}, 0);
      EXCEPTION WHEN invalid_parameter_value THEN RAISE NOTICE 'refused'; END $$; SELECT 'done'`);
    assert.match(refused, /done/);
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.llm_filters WHERE filter_id = ${euFilter}`), '1',
      'an eu filter cannot go on a global LLM');
    gwEu = await startGatewayd(pg, { env: { EDGE_NAMESPACE: 'eu' } });
    const url = `${gwEu.url}/llm/rest/filt-eu/v1/chat/completions`;
    const send = (p) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${euKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: p }] }) });
    let r = await send('the euro-secret is out');
    let j = await r.json();
    assert.equal(r.status, 400, JSON.stringify(j));
    assert.match(j.error.message, /eu-words/);
    r = await send('top secret');
    j = await r.json();
    assert.equal(r.status, 400);
    assert.match(j.error.message, /no-secrets/, 'the global filter too');
    r = await send('fine');
    assert.equal(r.status, 200);
  });
});

describe('the test endpoint and bad configs', () => {
  it('POST /api/v1/filters/{id}/test runs the filter on sample text', async () => {
    let r = await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 'it is top secret' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.action, 'block');
    assert.equal(r.json.code, 'blocked_by_filter');
    assert.equal(r.json.status, 400);
    assert.deepEqual(r.json.matches, [{ pattern: 1 }]);
    assert.equal(r.json.output, null);
    r = await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 'nothing' });
    assert.equal(r.json.action, 'pass');
    assert.equal(r.json.output, 'nothing');
    r = await rest('POST', `/filters/${filters['pii-answer']}/test`, { text: `card ${CARD} and x@y.io` });
    assert.equal(r.json.action, 'modify');
    assert.equal(r.json.output, 'card [CARD] and [EMAIL]');
    assert.equal(r.json.stage, 'on_response');
    assert.deepEqual(r.json.matches.map((m) => m.kind), ['card', 'email']);
    r = await rest('POST', `/filters/${filters['short-prompts']}/test`, { text: 'x'.repeat(401) });
    assert.equal(r.json.action, 'block');
    assert.equal(r.json.status, 413);
    r = await rest('POST', `/filters/${filters['no-banned']}/test`, { text: 'eine überweisung', stage: 'post_auth' });
    assert.equal(r.json.action, 'block');
    assert.deepEqual(r.json.matches, [{ keyword: 'überweisung' }]);
    // refusals
    assert.equal((await rest('POST', '/filters/99999/test', { text: 'x' })).status, 404);
    assert.equal((await rest('POST', `/filters/${filters['no-secrets']}/test`, {})).status, 400);
    assert.equal((await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 'x', stage: 'auth' })).status, 400);
    assert.equal((await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 5 })).status, 400);
    assert.equal((await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 'x', extra: 1 })).status, 400);
    const dev = await adminLogin('dev2@example.com');
    const d = await rest('POST', `/filters/${filters['no-secrets']}/test`, { text: 'x' }, dev);
    assert.equal(d.status, 403, `a developer may not: ${d.text}`);
  });

  it('bad configs are refused by SQL (22023) and by REST (400)', async () => {
    const bad = [
      ['regex', { patterns: ['(unclosed'] }, /config\.patterns\[1\]/],
      ['regex', { patterns: [] }, /needs config.patterns/],
      ['keywords', { keywords: [''] }, /needs config.keywords/],
      ['pii', { kinds: ['ssn'] }, /config.kinds/],
      ['max_prompt', {}, /max_chars or config.max_tokens/],
      ['script', {}, /unknown filter type/],
      ['regex', { patterns: ['a'], replacement: 'b' }, /unknown config/],
    ];
    for (const [type, config, msg] of bad) {
      const sqlErr = await pg.sql(`DO $$ BEGIN PERFORM aistudio.create_filter('bad', ${q(type)}, ${q(JSON.stringify(config))}::jsonb);
        EXCEPTION WHEN invalid_parameter_value THEN RAISE NOTICE '22023 %', SQLERRM; END $$`).catch((e) => e.message);
      assert.doesNotMatch(String(sqlErr), /ERROR/, `${type}: raised 22023, nothing else`);
      const r = await rest('POST', '/filters', { name: 'bad', filter_type: type, config });
      assert.equal(r.status, 400, `${type} ${JSON.stringify(config)}: ${r.text}`);
      assert.match(r.json.error.message, msg);
    }
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.filters WHERE name = 'bad'`), '0');
    const st = await rest('POST', '/filters', { name: 'bad', filter_type: 'max_prompt', config: { max_chars: 5 }, stage: 'on_response' });
    assert.equal(st.status, 400);
  });
});
