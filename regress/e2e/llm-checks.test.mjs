// regress/e2e/llm-checks.test.mjs: "Test connection" (POST
// /api/v1/llms/{id}/test) and "fetch models" (GET /api/v1/llms/{id}/models)
// against the mock upstream, through a real gatewayd: success with the
// status, latency and model count; a wrong vendor key (401 from the mock
// with --expect-key: the upstream's message, never the key); an unreachable
// endpoint; an endpoint that never answers (bounded by the deadline); each
// vendor's model list format (OpenAI, Anthropic, Google, Ollama), Vertex
// (no list: tested with a one-token chat); admins only.
import { before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMock } from './lib/mock.mjs';
import { startCluster, freePort } from './lib/cluster.mjs';
import { startGatewayd, seed, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-checks-5';
const WRONG = 'sk-wrong-vendor-key-0123456789';
let mock;
let pg;
let gw;
let ids;
let api;
let adminToken;
let devToken;
let silent; // accepts connections, never answers
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY });
  silent = net.createServer(() => {});
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  pg = await startCluster();
  const closed = await freePort();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'OpenAI', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Wrong key', vendor: 'openai', endpoint: `${mock.url}/v1`, key: WRONG },
      { name: 'Claude', vendor: 'anthropic', endpoint: mock.url, key: 'secret' },
      { name: 'Gemini', vendor: 'google_ai', endpoint: mock.url, key: 'secret' },
      { name: 'Llama', vendor: 'ollama', endpoint: mock.url, key: 'none' },
      { name: 'Vertex', vendor: 'vertex', endpoint: `${mock.url}/v1/projects/p/locations/l/publishers/google`, key: 'secret', defaultModel: 'gemini-2.0-flash' },
      { name: 'Down', vendor: 'openai', endpoint: `http://127.0.0.1:${closed}/v1`, key: 'secret' },
      { name: 'Silent', vendor: 'openai', endpoint: `http://127.0.0.1:${silent.address().port}/v1`, key: 'secret' },
    ],
  });
  const admin = await pg.sql(`SELECT aistudio.create_user('checker@example.com', 'Checker', role => 'admin')`);
  adminToken = await pg.sql(`SET pg_aistudio.acting_user = '${admin}'; SELECT token FROM aistudio.create_api_token('checks')`);
  devToken = await pg.sql(`SET pg_aistudio.acting_user = '${ids.ownerId}'; SELECT token FROM aistudio.create_api_token('dev')`);
  gw = await startGatewayd(pg, { env: { UPSTREAM_TIMEOUT_MS: '1500', UPSTREAM_CONNECT_TIMEOUT_MS: '1000' } });
  api = `http://127.0.0.1:${gw.serverPort}/api/v1`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    silent?.close();
    await mock?.stop();
    await pg?.cleanup();
  }
});

async function call(method, path, token = adminToken) {
  const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}
const test = (name, token) => call('POST', `/llms/${ids.llms[name].id}/test`, token);
const models = (name, token) => call('GET', `/llms/${ids.llms[name].id}/models`, token);

it('test connection: success with the upstream status, latency and model count', async () => {
  const r = await test('OpenAI');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  assert.equal(r.json.status, 200);
  assert.ok(Number.isInteger(r.json.latency_ms) && r.json.latency_ms >= 0);
  assert.equal(r.json.error, null);
  assert.equal(r.json.method, 'GET');
  assert.equal(r.json.path, '/v1/models');
  assert.equal(r.json.models, 3);
  assert.ok(!r.text.includes(VKEY));
});

it('test connection: a wrong vendor key shows the upstream 401 and its message, never the key', async () => {
  const r = await test('Wrong key');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, false);
  assert.equal(r.json.status, 401);
  assert.equal(r.json.code, 'upstream_unauthorized');
  assert.match(r.json.error, /Incorrect API key/);
  assert.ok(!r.text.includes(WRONG) && !r.text.includes(VKEY), 'no key in the answer');
});

it('test connection: an unreachable endpoint and one that never answers (bounded by the deadline)', async () => {
  const down = await test('Down');
  assert.equal(down.status, 200, down.text);
  assert.equal(down.json.ok, false);
  assert.equal(down.json.status, null);
  assert.equal(down.json.code, 'upstream_unreachable');
  const t0 = Date.now();
  const slow = await test('Silent');
  const took = Date.now() - t0;
  assert.equal(slow.json.ok, false, slow.text);
  assert.equal(slow.json.code, 'upstream_timeout');
  assert.ok(took < 10000, `answered after ${took} ms (UPSTREAM_TIMEOUT_MS is 1500)`);
});

it('test connection on Vertex (no model list): a one-token chat with the default model', async () => {
  const r = await test('Vertex');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true, r.text);
  assert.equal(r.json.method, 'POST');
  assert.match(r.json.path, /gemini-2\.0-flash:generateContent$/);
  assert.equal(r.json.models, null);
  const m = await models('Vertex');
  assert.equal(m.status, 501, m.text);
});

it('fetch models: each vendor\'s list format', async () => {
  const want = {
    OpenAI: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'],
    Claude: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
    Gemini: ['gemini-2.0-flash', 'gemini-1.5-pro'],
    Llama: ['llama3.2:latest'],
  };
  for (const [name, list] of Object.entries(want)) {
    const r = await models(name);
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    assert.deepEqual(r.json.data, list, name);
    const t = await test(name);
    assert.equal(t.json.ok, true, `${name}: ${t.text}`);
    assert.equal(t.json.models, list.length, name);
  }
  const bad = await models('Wrong key');
  assert.equal(bad.status, 502);
  assert.match(bad.json.error.message, /HTTP 401: Incorrect API key/);
  assert.ok(!bad.text.includes(WRONG));
});

it('admins only; unknown LLMs and bad ids are refused', async () => {
  assert.equal((await test('OpenAI', devToken)).status, 403);
  assert.equal((await models('OpenAI', devToken)).status, 403);
  assert.equal((await call('POST', '/llms/999999/test')).status, 404);
  assert.equal((await call('GET', '/llms/999999/models')).status, 404);
  assert.equal((await call('POST', '/llms/abc/test')).status, 400);
  assert.equal((await call('GET', `/llms/${ids.llms.OpenAI.id}/test`)).status, 405);
  assert.equal((await fetch(`${api}/llms/${ids.llms.OpenAI.id}/test`, { method: 'POST' })).status, 401);
});
