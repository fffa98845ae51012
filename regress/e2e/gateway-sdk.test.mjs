// regress/e2e/gateway-sdk.test.mjs: each official SDK (openai,
// @anthropic-ai/sdk, @google/genai, ollama) through the gateway's
// pass-through routes /llm/{rest,stream,call}/{slug}/… (only the base URL and
// the key change), JSON and streaming, plus raw Vertex and Hugging Face (TGI)
// calls; and the openai SDK through /ai/{slug}/v1 to an Anthropic, a Google
// and an Ollama LLM. For every call:
//   - the row in aistudio.llm_interactions (the writer is polled) has the
//     exact tokens the mock reported (its ledger) and cost = aistudio.cost();
//   - the mock's ledger shows the vendor key injected the vendor's way and no
//     trace of the client's key;
//   - the x-request-id response header is the row's request_id.
// And the app key's last_used_at, which the database moves as it ingests the
// events (at most once a minute).
// Real processes: PostgreSQL 15 + pg_aistudio, gatewayd ($GATEWAYD_BIN), the C
// mock upstream.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, pollValue, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-e2e-0123456789';
const FRAMES = 5;
const JSON_WORDS = 8;

let mock;
let pg;
let gw;
let ids;
const it = withLogs(nodeIt, () => [gw, pg]);

// Every response from the gateway, captured from the global fetch the SDKs use.
const seen = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await realFetch(input, init);
  const url = typeof input === 'string' ? input : input.url ?? String(input);
  if (gw && url.startsWith(gw.url)) seen.push({ url, status: res.status, headers: res.headers });
  return res;
};
const lastSeen = () => seen.at(-1);

const words = (s) => s.split(/\s+/).filter(Boolean).length;
async function collect(it2) {
  const out = [];
  for await (const x of it2) out.push(x);
  return out;
}

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: FRAMES });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'OpenAI Mock', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', defaultModel: 'gpt-4o-mini' },
      { name: 'Anthropic Mock', vendor: 'anthropic', endpoint: mock.url, key: 'literal', defaultModel: 'claude-mock-1' },
      { name: 'Gemini Mock', vendor: 'google_ai', endpoint: mock.url, key: 'secret', defaultModel: 'gemini-2.0-flash' },
      { name: 'Vertex Mock', vendor: 'vertex', endpoint: mock.url, key: 'literal' },
      { name: 'TGI Mock', vendor: 'huggingface', endpoint: mock.url, key: 'secret' },
      { name: 'Ollama Mock', vendor: 'ollama', endpoint: mock.url, key: 'none', defaultModel: 'llama3.2' },
    ],
    prices: [
      ['openai', 'gpt-4o-mini', 0.15, 0.60, null, 0.075],
      ['anthropic', 'claude-mock-1', 3, 15, 3.75, 0.30],
      ['google_ai', 'gemini-2.0-flash', 0.10, 0.40, null, 0.025],
      ['vertex', 'gemini-2.0-flash', 0.15, 0.60, null, 0.03],
      ['huggingface', 'tgi', 0.5, 1.5],
      ['ollama', 'llama3.2', 0.01, 0.02],
    ],
    apps: [{ name: 'sdk-app', llms: ['OpenAI Mock', 'Anthropic Mock', 'Gemini Mock', 'Vertex Mock', 'TGI Mock', 'Ollama Mock'] }],
  });
  gw = await startGatewayd(pg);
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

const KEY = () => ids.apps['sdk-app'].key;
const slug = (name) => ids.llms[name].slug;
const llmId = (name) => ids.llms[name].id;

// The auth the vendor expects, with the vendor key; and no client key anywhere.
function assertAuth(entry, vendor) {
  const a = entry.auth;
  for (const [k, v] of Object.entries(a)) {
    if (v && String(v).includes('ais_')) assert.fail(`client key forwarded upstream in ${k}`);
  }
  switch (vendor) {
    case 'openai':
    case 'huggingface':
    case 'vertex':
      assert.equal(a.authorization, `Bearer ${VKEY}`, `${vendor}: Authorization`);
      break;
    case 'anthropic':
      assert.equal(a['x-api-key'], VKEY, 'anthropic: x-api-key');
      assert.ok(a['anthropic-version'], 'anthropic-version forwarded or set');
      break;
    case 'google_ai':
      assert.ok(a['x-goog-api-key'] === VKEY || a.query_key === VKEY, 'google: x-goog-api-key or ?key=');
      break;
    case 'ollama':
      assert.equal(a.authorization, null, 'ollama without a key: no Authorization');
      break;
    default:
      assert.fail(`vendor ${vendor}`);
  }
}

// The one ledger entry of the last call (the ledger is reset before each call).
async function oneLedgerEntry() {
  const es = await mock.waitLedger((e) => (e.length >= 1 ? e : null), 5000);
  assert.equal(es.length, 1, `exactly one upstream request (got ${es.length})`);
  return es[0];
}

/*
 * Checks the recorded event of the last call against the ledger and the
 * x-request-id header. Returns the row.
 */
async function checkRecorded({ llm, vendor, model, status = 200, entry }) {
  const resp = lastSeen();
  assert.ok(resp, 'a response from the gateway was seen');
  const rid = resp.headers.get('x-request-id');
  assert.match(rid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'x-request-id is a UUIDv7');
  const evs = await waitEvent(pg, rid);
  assert.equal(evs.length, 1, `exactly one event for ${rid}: ${JSON.stringify(evs)}`);
  const row = evs[0];
  assert.equal(row.kind, 'stored', `stored, not rejected: ${JSON.stringify(row)}`);
  assert.equal(row.request_id, rid);
  assert.equal(row.status_code, status);
  assert.equal(Number(row.app_id), ids.apps['sdk-app'].id);
  assert.equal(Number(row.user_id), ids.ownerId, 'user_id = the app owner');
  assert.equal(Number(row.llm_id), llmId(llm));
  assert.equal(row.vendor, vendor);
  assert.equal(row.model_name, model);
  assert.equal(row.interaction_type, 'proxy');
  assert.equal(Number(row.prompt_tokens), entry.prompt_tokens, 'prompt tokens = upstream');
  assert.equal(Number(row.response_tokens), entry.completion_tokens, 'response tokens = upstream');
  assert.equal(Number(row.cache_read_tokens), entry.cache_read_tokens, 'cache read = upstream');
  assert.equal(Number(row.cache_write_tokens), entry.cache_write_tokens, 'cache write = upstream');
  const cost = await pg.sql(`SELECT aistudio.cost('${vendor}', '${model}', ${row.prompt_tokens}, ${row.response_tokens},
    ${row.cache_write_tokens}, ${row.cache_read_tokens})`);
  assert.equal(Number(row.cost), Number(cost), 'cost = aistudio.cost(tokens)');
  assert.ok(Number(row.cost) > 0, 'priced');
  const st = resp.headers.get('server-timing');
  assert.ok(st && /dur=/.test(st), `Server-Timing header with the gateway's time (got ${st})`);
  return row;
}

async function fresh() {
  await mock.resetLedger();
  seen.length = 0;
}

// First of the calls: the app's key has never been used before it.
describe('the app key\'s last_used_at', () => {
  it('is set by the analytics writer after a call, then not rewritten within a minute', async () => {
    const cred = ids.apps['sdk-app'].credentialId;
    const usedAt = (rid) => pg.sql(`SELECT c.last_used_at IS NOT DISTINCT FROM i."timestamp"
      FROM aistudio.credentials c, aistudio.llm_interactions i WHERE c.id = ${cred} AND i.request_id = '${rid}'`);
    assert.equal(await pg.sql(`SELECT last_used_at IS NULL FROM aistudio.credentials WHERE id = ${cred}`), 't',
      'never used before the first call');
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/rest/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
    const call = async () => {
      await fresh();
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      return lastSeen().headers.get('x-request-id');
    };
    const rid1 = await call();
    const set = await pollValue(pg, `SELECT last_used_at IS NOT NULL FROM aistudio.credentials WHERE id = ${cred}`,
      (v) => v === 't', { timeoutMs: 15000 });
    assert.equal(set, 't', 'last_used_at set within 15 s of the call');
    assert.equal(await usedAt(rid1), 't', 'last_used_at = the time of the event');
    const rid2 = await call();
    assert.equal((await waitEvent(pg, rid2)).length, 1, 'the second event is stored');
    assert.equal(await usedAt(rid1), 't', 'a second call within 60 s does not rewrite it');
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.audit_log
      WHERE object_type = 'credentials' AND action = 'update'`), '0', 'no audit row for it');
  });
});

describe('pass-through: openai SDK', () => {
  const messages = [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say hello to the mock please' },
  ];

  for (const kind of ['rest', 'call']) {
    it(`JSON via /llm/${kind}/ with cached tokens`, async () => {
      await fresh();
      const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/${kind}/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
      const res = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages }, { headers: { 'x-mock-cached-tokens': '4' } });
      assert.equal(res.usage.prompt_tokens, 17 + 4);
      assert.equal(res.usage.completion_tokens, JSON_WORDS);
      assert.equal(res.usage.prompt_tokens_details.cached_tokens, 4);
      const entry = await oneLedgerEntry();
      assertAuth(entry, 'openai');
      assert.equal(entry.path, '/v1/chat/completions', 'endpoint .../v1 + path /v1/... gives one /v1');
      assert.equal(entry.stream, false);
      await checkRecorded({ llm: 'OpenAI Mock', vendor: 'openai', model: 'gpt-4o-mini', entry });
    });
  }

  for (const kind of ['stream', 'call']) {
    it(`stream via /llm/${kind}/ without include_usage: usage recorded, usage chunk not relayed`, async () => {
      await fresh();
      const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/${kind}/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
      const chunks = await collect(await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages, stream: true }, { headers: { 'x-mock-cached-tokens': '2' } }));
      assert.equal(chunks.filter((c) => c.choices[0]?.delta?.content).length, FRAMES);
      assert.ok(chunks.every((c) => !c.usage), 'no usage chunk for a client that did not ask');
      assert.ok(chunks.every((c) => c.choices.length > 0), 'no empty-choices chunk');
      const entry = await oneLedgerEntry();
      assert.equal(entry.stream, true);
      assert.equal(entry.usage_sent, true, 'the gateway asked for include_usage');
      assertAuth(entry, 'openai');
      await checkRecorded({ llm: 'OpenAI Mock', vendor: 'openai', model: 'gpt-4o-mini', entry });
    });
  }

  it('stream with include_usage: the client gets the usage chunk', async () => {
    await fresh();
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/stream/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
    const chunks = await collect(await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }));
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, 17);
    assert.equal(last.usage.completion_tokens, FRAMES);
    const entry = await oneLedgerEntry();
    await checkRecorded({ llm: 'OpenAI Mock', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });
});

describe('pass-through: other OpenAI endpoints', () => {
  it('embeddings: prompt tokens recorded', async () => {
    await fresh();
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/rest/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
    const emb = await client.embeddings.create({ model: 'gpt-4o-mini', input: ['one two three', 'four'] });
    assert.equal(emb.data.length, 2);
    assert.equal(emb.usage.prompt_tokens, 4);
    const entry = await oneLedgerEntry();
    assert.equal(entry.path, '/v1/embeddings');
    assertAuth(entry, 'openai');
    await checkRecorded({ llm: 'OpenAI Mock', vendor: 'openai', model: 'gpt-4o-mini', entry });
  });

  it('GET models (no body) is passed through and recorded', async () => {
    await fresh();
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/rest/${slug('OpenAI Mock')}/v1`, maxRetries: 0 });
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.ok(models.includes('gpt-4o-mini'));
    const entry = await oneLedgerEntry();
    assert.equal(entry.method, 'GET');
    assertAuth(entry, 'openai');
    const rid = lastSeen().headers.get('x-request-id');
    const evs = await waitEvent(pg, rid);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].status_code, 200);
  });
});

describe('pass-through: @anthropic-ai/sdk', () => {
  const system = 'Be brief.';
  const messages = [{ role: 'user', content: 'Count these five words now' }];
  const headers = { 'x-mock-cached-tokens': '7', 'x-mock-cache-write-tokens': '11' };
  const client = () => new Anthropic({ apiKey: KEY(), baseURL: `${gw.url}/llm/rest/${slug('Anthropic Mock')}`, maxRetries: 0 });

  it('messages JSON with cache read and write tokens', async () => {
    await fresh();
    const msg = await client().messages.create({ model: 'claude-mock-1', max_tokens: 64, system, messages }, { headers });
    assert.equal(msg.usage.input_tokens, 13);
    assert.equal(msg.usage.output_tokens, JSON_WORDS);
    assert.equal(msg.usage.cache_read_input_tokens, 7);
    assert.equal(msg.usage.cache_creation_input_tokens, 11);
    const entry = await oneLedgerEntry();
    assertAuth(entry, 'anthropic');
    assert.equal(entry.path, '/v1/messages');
    const row = await checkRecorded({ llm: 'Anthropic Mock', vendor: 'anthropic', model: 'claude-mock-1', entry });
    assert.equal(Number(row.prompt_tokens), 13, 'anthropic input tokens exclude the cache tokens');
  });

  it('messages stream (MessageStream via /llm/stream/): message_start + cumulative message_delta', async () => {
    await fresh();
    const c = new Anthropic({ apiKey: KEY(), baseURL: `${gw.url}/llm/stream/${slug('Anthropic Mock')}`, maxRetries: 0 });
    const stream = c.messages.stream({ model: 'claude-mock-1', max_tokens: 64, system, messages }, { headers });
    const deltas = [];
    stream.on('text', (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    assert.equal(deltas.length, FRAMES);
    assert.equal(msg.usage.output_tokens, FRAMES);
    const entry = await oneLedgerEntry();
    assertAuth(entry, 'anthropic');
    const row = await checkRecorded({ llm: 'Anthropic Mock', vendor: 'anthropic', model: 'claude-mock-1', entry });
    assert.equal(Number(row.response_tokens), FRAMES, 'output tokens are cumulative, not summed');
  });

  it('raw stream events through /llm/call/ arrive in order', async () => {
    await fresh();
    const c = new Anthropic({ apiKey: KEY(), baseURL: `${gw.url}/llm/call/${slug('Anthropic Mock')}`, maxRetries: 0 });
    const types = (await collect(await c.messages.create(
      { model: 'claude-mock-1', max_tokens: 8, messages, stream: true }))).map((e) => e.type);
    assert.deepEqual(types, ['message_start', 'content_block_start', ...Array(FRAMES).fill('content_block_delta'),
      'content_block_stop', 'message_delta', 'message_stop']);
    const entry = await oneLedgerEntry();
    await checkRecorded({ llm: 'Anthropic Mock', vendor: 'anthropic', model: 'claude-mock-1', entry });
  });
});

describe('pass-through: @google/genai', () => {
  const contents = 'Tell me a joke';
  const systemInstruction = 'Be funny';
  const genai = (kind, headers = {}) => new GoogleGenAI({
    apiKey: KEY(), httpOptions: { baseUrl: `${gw.url}/llm/${kind}/${slug('Gemini Mock')}`, headers },
  });

  it('generateContent with cached tokens', async () => {
    await fresh();
    const res = await genai('rest', { 'x-mock-cached-tokens': '3' }).models.generateContent({
      model: 'gemini-2.0-flash', contents, config: { systemInstruction } });
    assert.equal(res.usageMetadata.promptTokenCount, 12 + 3);
    assert.equal(res.usageMetadata.cachedContentTokenCount, 3);
    const entry = await oneLedgerEntry();
    assertAuth(entry, 'google_ai');
    assert.equal(entry.vendor, 'google_ai');
    assert.match(entry.path, /^\/v1(beta)?\/models\/gemini-2\.0-flash:generateContent$/);
    await checkRecorded({ llm: 'Gemini Mock', vendor: 'google_ai', model: 'gemini-2.0-flash', entry });
  });

  for (const kind of ['stream', 'call']) {
    it(`generateContentStream via /llm/${kind}/`, async () => {
      await fresh();
      const chunks = await collect(await genai(kind).models.generateContentStream({
        model: 'gemini-2.0-flash', contents, config: { systemInstruction } }));
      assert.equal(chunks.length, FRAMES);
      assert.equal(chunks.at(-1).usageMetadata.candidatesTokenCount, FRAMES);
      const entry = await oneLedgerEntry();
      assert.equal(entry.stream, true);
      assertAuth(entry, 'google_ai');
      await checkRecorded({ llm: 'Gemini Mock', vendor: 'google_ai', model: 'gemini-2.0-flash', entry });
    });
  }

  it('streamGenerateContent without alt=sse (JSON array) and ?key= client auth', async () => {
    await fresh();
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a b c' }] }] });
    const res = await fetch(`${gw.url}/llm/call/${slug('Gemini Mock')}/v1beta/models/gemini-2.0-flash:streamGenerateContent?key=${KEY()}`,
      { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    const parsed = JSON.parse(await res.text());
    assert.equal(parsed.length, FRAMES);
    const entry = await oneLedgerEntry();
    assertAuth(entry, 'google_ai');
    assert.notEqual(entry.auth.query_key, KEY(), 'the client ?key= is removed');
    await checkRecorded({ llm: 'Gemini Mock', vendor: 'google_ai', model: 'gemini-2.0-flash', entry });
  });
});

describe('pass-through: ollama client', () => {
  const messages = [{ role: 'user', content: 'why is the sky blue' }];
  const client = (kind) => new Ollama({ host: `${gw.url}/llm/${kind}/${slug('Ollama Mock')}`, headers: { Authorization: `Bearer ${KEY()}` } });

  it('chat JSON', async () => {
    await fresh();
    const res = await client('rest').chat({ model: 'llama3.2', messages, stream: false });
    assert.equal(res.prompt_eval_count, 8);
    assert.equal(res.eval_count, JSON_WORDS);
    const entry = await oneLedgerEntry();
    assert.equal(entry.path, '/api/chat');
    assertAuth(entry, 'ollama');
    await checkRecorded({ llm: 'Ollama Mock', vendor: 'ollama', model: 'llama3.2', entry });
  });

  for (const kind of ['stream', 'call']) {
    it(`chat NDJSON stream via /llm/${kind}/`, async () => {
      await fresh();
      const parts = await collect(await client(kind).chat({ model: 'llama3.2', messages, stream: true }));
      assert.equal(parts.length, FRAMES + 1);
      assert.equal(parts.at(-1).eval_count, FRAMES);
      const entry = await oneLedgerEntry();
      await checkRecorded({ llm: 'Ollama Mock', vendor: 'ollama', model: 'llama3.2', entry });
    });
  }

  it('generate JSON', async () => {
    await fresh();
    const gen = await client('rest').generate({ model: 'llama3.2', prompt: 'one two three', stream: false });
    assert.equal(gen.prompt_eval_count, 6);
    const entry = await oneLedgerEntry();
    await checkRecorded({ llm: 'Ollama Mock', vendor: 'ollama', model: 'llama3.2', entry });
  });
});

describe('pass-through: Vertex AI and Hugging Face TGI', () => {
  it('vertex generateContent (raw fetch, x-api-key client auth, Bearer upstream)', async () => {
    await fresh();
    const vpath = '/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent';
    const res = await fetch(`${gw.url}/llm/rest/${slug('Vertex Mock')}${vpath}`, {
      method: 'POST', headers: { 'x-api-key': KEY(), 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a b c' }] }] }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).usageMetadata.promptTokenCount, 6);
    const entry = await oneLedgerEntry();
    assert.equal(entry.vendor, 'vertex');
    assert.equal(entry.path, vpath.replace(/\?.*/, ''));
    assertAuth(entry, 'vertex');
    await checkRecorded({ llm: 'Vertex Mock', vendor: 'vertex', model: 'gemini-2.0-flash', entry });
  });

  it('vertex streamGenerateContent?alt=sse', async () => {
    await fresh();
    const vpath = '/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse';
    const res = await fetch(`${gw.url}/llm/stream/${slug('Vertex Mock')}${vpath}`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a b c' }] }] }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const text = await res.text();
    assert.equal((text.match(/^data: /gm) || []).length, FRAMES);
    const entry = await oneLedgerEntry();
    assertAuth(entry, 'vertex');
    await checkRecorded({ llm: 'Vertex Mock', vendor: 'vertex', model: 'gemini-2.0-flash', entry });
  });

  it('huggingface (TGI, OpenAI-compatible) with the openai SDK, JSON and stream', async () => {
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/call/${slug('TGI Mock')}/v1`, maxRetries: 0 });
    await fresh();
    const res = await client.chat.completions.create({ model: 'tgi', messages: [{ role: 'user', content: 'a b' }] });
    assert.equal(res.usage.prompt_tokens, 5);
    let entry = await oneLedgerEntry();
    assertAuth(entry, 'huggingface');
    assert.equal(entry.path, '/v1/chat/completions', 'endpoint without /v1 + path /v1/...');
    await checkRecorded({ llm: 'TGI Mock', vendor: 'huggingface', model: 'tgi', entry });
    await fresh();
    const chunks = await collect(await client.chat.completions.create(
      { model: 'tgi', messages: [{ role: 'user', content: 'a b' }], stream: true }));
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.content).length, FRAMES);
    entry = await oneLedgerEntry();
    await checkRecorded({ llm: 'TGI Mock', vendor: 'huggingface', model: 'tgi', entry });
  });
});

describe('/ai/{slug}/v1: the openai SDK to other vendors', () => {
  const messages = [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'What is two plus two' },
  ];
  const cases = [
    ['Anthropic Mock', 'anthropic', 'claude-mock-1', /^\/v1\/messages$/],
    ['Gemini Mock', 'google_ai', 'gemini-2.0-flash', /^\/v1(beta)?\/models\/gemini-2\.0-flash:generateContent$/],
    ['Ollama Mock', 'ollama', 'llama3.2', /^\/api\/chat$/],
    ['OpenAI Mock', 'openai', 'gpt-4o-mini', /^\/v1\/chat\/completions$/],
  ];
  for (const [llm, vendor, model, pathRe] of cases) {
    const client = () => new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/ai/${slug(llm)}/v1`, maxRetries: 0 });

    it(`${vendor}: chat.completion JSON (with cache tokens)`, async () => {
      await fresh();
      const res = await client().chat.completions.create({ model, messages, max_tokens: 50, temperature: 0.2 },
        { headers: { 'x-mock-cached-tokens': '3', 'x-mock-cache-write-tokens': '2' } });
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.choices[0].message.role, 'assistant');
      assert.equal(words(res.choices[0].message.content), JSON_WORDS);
      assert.equal(res.choices[0].finish_reason, 'stop');
      const entry = await oneLedgerEntry();
      assert.match(entry.path, pathRe);
      assert.equal(entry.model, model);
      assertAuth(entry, vendor);
      assert.equal(res.usage.completion_tokens, entry.completion_tokens);
      await checkRecorded({ llm, vendor, model, entry });
    });

    it(`${vendor}: chat.completion stream with include_usage`, async () => {
      await fresh();
      const chunks = await collect(await client().chat.completions.create(
        { model, messages, stream: true, stream_options: { include_usage: true } }));
      const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      assert.equal(words(content), FRAMES);
      assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).at(-1)?.choices[0].finish_reason, 'stop');
      const entry = await oneLedgerEntry();
      assert.equal(entry.stream, true);
      assertAuth(entry, vendor);
      const last = chunks.at(-1);
      assert.ok(last.usage, 'usage chunk for include_usage');
      assert.equal(last.usage.completion_tokens, entry.completion_tokens);
      await checkRecorded({ llm, vendor, model, entry });
    });

    it(`${vendor}: stream without include_usage carries no usage`, async () => {
      await fresh();
      const chunks = await collect(await client().chat.completions.create({ model, messages, stream: true }));
      assert.ok(chunks.length >= FRAMES);
      assert.ok(chunks.every((c) => !c.usage), 'no usage chunk');
      const entry = await oneLedgerEntry();
      await checkRecorded({ llm, vendor, model, entry });
    });
  }

  it('the LLM default model applies when the request names none (anthropic)', async () => {
    await fresh();
    const res = await realFetch(`${gw.url}/ai/${slug('Anthropic Mock')}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 200, await res.clone().text());
    const entry = await oneLedgerEntry();
    assert.equal(entry.model, 'claude-mock-1');
  });
});

describe('observability', () => {
  it('/healthz, /readyz and /metrics (Prometheus text) with the required series', async () => {
    assert.equal((await realFetch(`${gw.url}/healthz`)).status, 200);
    const ready = await realFetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    const res = await realFetch(`${gw.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain/);
    const text = await res.text();
    for (const name of ['gatewayd_requests_total', 'gatewayd_overhead_seconds_bucket', 'gatewayd_upstream_latency_seconds_bucket',
      'gatewayd_analytics_queue_depth', 'gatewayd_analytics_spool_bytes', 'gatewayd_analytics_dropped_total']) {
      assert.ok(new RegExp(`^${name}[{ ]`, 'm').test(text), `${name} in /metrics`);
    }
    const okLine = text.split('\n').find((l) => l.startsWith(`gatewayd_requests_total{llm="${slug('OpenAI Mock')}",status="200"}`));
    assert.ok(okLine && Number(okLine.split(' ').at(-1)) >= 5, `requests of the OpenAI LLM counted: ${okLine}`);
    assert.ok(!text.includes(KEY()) && !text.includes(VKEY), 'no keys in /metrics');
    const dropped = text.split('\n').find((l) => l.startsWith('gatewayd_analytics_dropped_total'));
    assert.equal(Number(dropped.split(' ').at(-1)), 0, 'no dropped events');
  });

  it('every request of this file is one stored row, no duplicates', async () => {
    const recorded = Number((await (await realFetch(`${gw.url}/metrics`)).text())
      .split('\n').find((l) => l.startsWith('gatewayd_analytics_recorded_total')).split(' ').at(-1));
    const end = Date.now() + 10000;
    let row;
    do {
      row = await pg.one('SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS d FROM aistudio.llm_interactions');
      if (row.n >= recorded) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < end);
    assert.equal(row.n, recorded, 'rows = events recorded by the gateway');
    assert.equal(row.d, row.n, 'no duplicate request ids');
    assert.equal(await pg.sql('SELECT count(*) FROM aistudio.ingest_rejects'), '0', 'nothing rejected');
  });
});
