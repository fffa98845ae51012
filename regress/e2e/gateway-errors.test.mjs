// regress/e2e/gateway-errors.test.mjs: every error the gateway answers, each
// in the OpenAI error shape {"error":{"message","type","code"}}, with an
// x-request-id, and recorded as exactly one analytics event with the status
// the client got: 401 (missing / invalid key, identical bodies), 403
// (inactive LLM, LLM not allowed for the app, model not allowed, inactive
// app), 404 (unknown slug, unknown route), 413 (body over MAX_BODY_BYTES,
// without reading it all), 400 (malformed JSON), 429 budget_exceeded /
// request_exceeds_remaining_budget,
// 502 (upstream down), 504 (upstream slower than UPSTREAM_TIMEOUT_MS), a
// stream stalled past STREAM_STALL_MS (error event, not a clean end), and
// upstream 500/429 relayed.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import { startMock } from './lib/mock.mjs';
import { startCluster, freePort, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, eventsFor, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-errors-42';
const MAX_BODY = 4096;
let mock;
let pg;
let gw;
let ids;
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 4 });
  pg = await startCluster();
  const closed = await freePort(); // nothing listens there
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Main', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', allowedModels: ['^gpt-4o', 'claude'] },
      { name: 'Faults', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Sleeping', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', active: false },
      { name: 'Other', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Down', vendor: 'openai', endpoint: `http://127.0.0.1:${closed}/v1`, key: 'secret' },
      { name: 'Claude', vendor: 'anthropic', endpoint: mock.url, key: 'secret' },
      { name: 'Pricey', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', budget: 0.00001 },
    ],
    prices: [['openai', 'gpt-4o', 1000, 1000], ['anthropic', 'claude-x', 3, 15]],
    apps: [
      { name: 'err-app', llms: ['Main', 'Faults', 'Sleeping', 'Down', 'Claude', 'Pricey'] },
      { name: 'poor-app', llms: ['Main'], budget: 0.00001 },
      { name: 'broke-app', llms: ['Main'], budget: 0 },
      { name: 'off-app', llms: ['Main'], active: false },
    ],
  });
  gw = await startGatewayd(pg, {
    env: { MAX_BODY_BYTES: String(MAX_BODY), UPSTREAM_TIMEOUT_MS: '1000', STREAM_STALL_MS: '500',
      UPSTREAM_CONNECT_TIMEOUT_MS: '1000', MAX_STREAMS_PER_APP: '2', MAX_SSE_LINE_BYTES: '4096',
      MAX_HEADER_BYTES: '8192' },
  });
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

const KEY = (app = 'err-app') => ids.apps[app].key;
const slug = (n) => ids.llms[n].slug;
const chat = (model = 'gpt-4o', extra = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

async function post(path, { body = chat(), headers = {}, key = KEY() } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', body, headers: h });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

// The OpenAI error shape; returns the parsed error.
function errorShape(r, code) {
  let j;
  try { j = JSON.parse(r.text); } catch { assert.fail(`error body is not JSON: ${r.text.slice(0, 200)}`); }
  assert.ok(j.error && typeof j.error.message === 'string' && typeof j.error.type === 'string',
    `OpenAI error shape: ${r.text.slice(0, 300)}`);
  assert.ok('code' in j.error, 'error.code present');
  if (code) assert.equal(j.error.code, code);
  assert.ok(!r.text.includes('ais_'), 'no key in the error');
  assert.ok(!r.text.includes(VKEY), 'no vendor key in the error');
  return j.error;
}

// Exactly one event for the response's x-request-id, with this status.
// allowRejected: the event may end in ingest_rejects (no vendor is known for
// an unknown slug or route, and the extension rejects an unknown vendor).
async function recordedOnce(r, status, { allowRejected = false } = {}) {
  const rid = r.headers.get('x-request-id');
  assert.match(rid ?? '', /^[0-9a-f-]{36}$/, `x-request-id on a ${r.status}`);
  const evs = await waitEvent(pg, rid);
  assert.equal(evs.length, 1, `exactly one event for ${rid} (${r.status}): ${JSON.stringify(evs)}`);
  if (!allowRejected) assert.equal(evs[0].kind, 'stored', `stored: ${JSON.stringify(evs[0])}`);
  assert.equal(evs[0].status_code, status);
  return evs[0];
}

describe('401', () => {
  it('missing and invalid keys get the same 401 body', async () => {
    const p = `/llm/rest/${slug('Main')}/v1/chat/completions`;
    const missing = await post(p, { key: null });
    const invalid = await post(p, { key: `ais_${'0'.repeat(64)}` });
    const garbage = await post(p, { key: 'not-a-key' });
    const viaXApiKey = await post(p, { key: null, headers: { 'x-api-key': `ais_${'1'.repeat(64)}` } });
    for (const r of [missing, invalid, garbage, viaXApiKey]) {
      assert.equal(r.status, 401);
      errorShape(r);
    }
    assert.equal(invalid.text, missing.text, 'identical bodies');
    assert.equal(garbage.text, missing.text, 'identical bodies');
    assert.equal(viaXApiKey.text, missing.text, 'identical bodies');
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
    for (const r of [missing, invalid, garbage]) {
      const ev = await recordedOnce(r, 401);
      assert.equal(ev.app_id, null, 'no app for a 401');
    }
  });
});

describe('403', () => {
  it('inactive LLM', async () => {
    const r = await post(`/llm/rest/${slug('Sleeping')}/v1/chat/completions`);
    assert.equal(r.status, 403);
    errorShape(r);
    await recordedOnce(r, 403);
  });

  it('LLM not allowed for the app', async () => {
    const r = await post(`/llm/rest/${slug('Other')}/v1/chat/completions`);
    assert.equal(r.status, 403);
    errorShape(r);
    const ev = await recordedOnce(r, 403);
    assert.equal(Number(ev.app_id), ids.apps['err-app'].id);
  });

  it('model not allowed by the LLM', async () => {
    const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`, { body: chat('gpt-3.5-turbo') });
    assert.equal(r.status, 403);
    errorShape(r);
    await recordedOnce(r, 403);
    const r2 = await post(`/ai/${slug('Main')}/v1/chat/completions`, { body: chat('o1-mini') });
    assert.equal(r2.status, 403);
    await recordedOnce(r2, 403);
  });

  it('allowed_models are PostgreSQL regexes that must match (search, as `~`), not full matches', async () => {
    // Main allows '^gpt-4o' and 'claude': the documented example ('^gpt-4o')
    // is meant to allow every gpt-4o model
    for (const model of ['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-mini', 'my-claude-3']) {
      const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`, { body: chat(model) });
      assert.equal(r.status, 200, `${model}: ${r.text}`);
    }
    for (const model of ['gpt-4', 'o1', 'x-gpt-4o']) {
      const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`, { body: chat(model) });
      assert.equal(r.status, 403, `${model}: ${r.text}`);
    }
  });

  it('inactive app', async () => {
    const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`, { key: KEY('off-app') });
    assert.ok([401, 403].includes(r.status), `inactive app refused (got ${r.status})`);
    errorShape(r);
    await recordedOnce(r, r.status);
  });
});

describe('404', () => {
  it('unknown slug', async () => {
    const r = await post('/llm/rest/no-such-llm/v1/chat/completions');
    assert.equal(r.status, 404);
    errorShape(r);
    await recordedOnce(r, 404, { allowRejected: true });
  });

  it('unknown routes', async () => {
    for (const p of ['/nope', '/llm/bogus/x/v1/chat/completions', `/ai/${slug('Main')}/v1/embeddingz`, '/v1/chat/completions']) {
      const r = await post(p);
      assert.equal(r.status, 404, `${p}: ${r.status}`);
      errorShape(r);
      await recordedOnce(r, 404, { allowRejected: true });
    }
  });
});

describe('413 and 400', () => {
  it('a body over MAX_BODY_BYTES gets 413', async () => {
    await mock.resetLedger();
    const big = chat('gpt-4o', { pad: 'x'.repeat(MAX_BODY * 2) });
    const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`, { body: big });
    assert.equal(r.status, 413);
    errorShape(r);
    await recordedOnce(r, 413);
    assert.equal((await mock.ledger()).length, 0, 'not sent upstream');
  });

  it('413 is answered without reading a huge body (Content-Length and chunked)', async () => {
    for (const framing of ['length', 'chunked']) {
      const t0 = Date.now();
      const out = await new Promise((resolve, reject) => {
        const sock = net.connect(gw.proxyPort, '127.0.0.1');
        let buf = '';
        const timer = setTimeout(() => { sock.destroy(); resolve(buf); }, 5000);
        sock.on('connect', () => {
          const head = `POST /llm/rest/${slug('Main')}/v1/chat/completions HTTP/1.1\r\nHost: x\r\n` +
            `Authorization: Bearer ${KEY()}\r\nContent-Type: application/json\r\n` +
            (framing === 'length' ? `Content-Length: ${1024 * 1024 * 1024}\r\n\r\n` : 'Transfer-Encoding: chunked\r\n\r\n');
          sock.write(head);
          // send a little more than the limit, then stop (the rest never comes)
          const chunk = 'a'.repeat(MAX_BODY + 512);
          sock.write(framing === 'length' ? chunk : `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        });
        sock.on('data', (d) => { buf += d; if (/\r\n\r\n/.test(buf)) { clearTimeout(timer); sock.destroy(); resolve(buf); } });
        sock.on('error', (e) => (buf ? resolve(buf) : reject(e)));
      });
      assert.match(out, /^HTTP\/1\.[01] 413 /, `${framing}: ${out.slice(0, 100)}`);
      assert.ok(Date.now() - t0 < 4000, `${framing}: answered promptly`);
    }
  });

  it('JSON that does not parse gets 400', async () => {
    await mock.resetLedger();
    for (const path of [`/llm/rest/${slug('Main')}/v1/chat/completions`, `/ai/${slug('Main')}/v1/chat/completions`]) {
      const r = await post(path, { body: '{"model": "gpt-4o", "messages": [' });
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      errorShape(r);
      await recordedOnce(r, 400);
    }
    assert.equal((await mock.ledger()).length, 0, 'not sent upstream');
  });
});

describe('other limits', () => {
  it('a request head over MAX_HEADER_BYTES is refused, and the gateway lives on', async () => {
    const out = await new Promise((resolve, reject) => {
      const sock = net.connect(gw.proxyPort, '127.0.0.1');
      let buf = '';
      const timer = setTimeout(() => { sock.destroy(); resolve(buf); }, 5000);
      sock.on('connect', () => sock.write(`POST /llm/rest/${slug('Main')}/v1/chat/completions HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${KEY()}\r\nX-Pad: ${'p'.repeat(16384)}\r\nContent-Length: 2\r\n\r\n{}`));
      sock.on('data', (d) => { buf += d; });
      sock.on('close', () => { clearTimeout(timer); resolve(buf); });
      sock.on('error', (e) => (buf ? resolve(buf) : reject(e)));
    });
    assert.match(out, /^HTTP\/1\.[01] (400|413|431) /, `refused: ${out.slice(0, 80)}`);
    const h = await fetch(`${gw.url}/healthz`);
    assert.equal(h.status, 200);
  });

  it('JSON nested too deep gets 400, and the gateway lives on', async () => {
    const deep = `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"x":${'['.repeat(1500)}${']'.repeat(1500)}}`;
    for (const path of [`/llm/rest/${slug('Faults')}/v1/chat/completions`, `/ai/${slug('Faults')}/v1/chat/completions`]) {
      const r = await post(path, { body: deep });
      assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 200)}`);
      errorShape(r);
      await recordedOnce(r, 400);
    }
  });

  it('an SSE line over MAX_SSE_LINE_BYTES: an error (502 before the first byte, else an error event)', async () => {
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/stream/${slug('Faults')}/v1`, maxRetries: 0 });
    let error = null;
    let rid = null;
    try {
      const { data: stream, response } = await client.chat.completions.create(
        { model: 'gpt-4o-big-64', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
      rid = response.headers.get('x-request-id');
      for await (const c of stream) void c;
    } catch (e) {
      error = e;
      if (!rid) {
        assert.equal(e.status, 502, `refused before the first byte: ${e.message}`);
        rid = e.headers?.get('x-request-id');
      }
    }
    assert.ok(error, 'the SDK sees an error, not a clean end');
    const evs = await waitEvent(pg, rid);
    assert.equal(evs.length, 1, JSON.stringify(evs));
    assert.ok(evs[0].error, 'the event says why');
  });

  it('MAX_STREAMS_PER_APP: a third concurrent stream of the app gets 429', async () => {
    const open = () => fetch(`${gw.url}/llm/stream/${slug('Faults')}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-delay-300', stream: true, messages: [{ role: 'user', content: 'x' }] }) });
    const rs = await Promise.all([open(), open(), open()]);
    const statuses = rs.map((r) => r.status).sort();
    const bodies = await Promise.all(rs.map((r) => r.text()));
    assert.deepEqual(statuses, [200, 200, 429], `statuses ${statuses}`);
    const refused = rs.findIndex((r) => r.status === 429);
    errorShape({ text: bodies[refused] });
    await recordedOnce(rs[refused], 429);
  });
});

describe('429 budget', () => {
  it('a worst case above what is left: 429 request_exceeds_remaining_budget with the numbers, no upstream call', async () => {
    await mock.resetLedger();
    const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`,
      { key: KEY('poor-app'), body: chat('gpt-4o', { max_tokens: 500 }) });
    assert.equal(r.status, 429, r.text);
    errorShape(r, 'request_exceeds_remaining_budget');
    const msg = JSON.parse(r.text).error.message;
    assert.match(msg, /could cost up to [0-9.]+ /, msg);
    assert.match(msg, /more than the 0\.00001 left of the app's monthly budget of 0\.00001; lower max_tokens/, msg);
    const ev = await recordedOnce(r, 429);
    assert.equal(Number(ev.app_id), ids.apps['poor-app'].id);
    assert.equal((await mock.ledger()).length, 0);
  });

  it('nothing left: 429 budget_exceeded', async () => {
    await mock.resetLedger();
    const r = await post(`/llm/rest/${slug('Main')}/v1/chat/completions`,
      { key: KEY('broke-app'), body: chat('gpt-4o', { max_tokens: 1 }) });
    assert.equal(r.status, 429, r.text);
    errorShape(r, 'budget_exceeded');
    assert.match(JSON.parse(r.text).error.message, /the monthly budget of the app \(0\) is spent/);
    await recordedOnce(r, 429);
    assert.equal((await mock.ledger()).length, 0);
  });
});

describe('429 LLM budget', () => {
  it("a worst case above what is left of the LLM's budget: 429 request_exceeds_remaining_budget", async () => {
    await mock.resetLedger();
    const r = await post(`/llm/rest/${slug('Pricey')}/v1/chat/completions`, { body: chat('gpt-4o', { max_tokens: 500 }) });
    assert.equal(r.status, 429, r.text);
    errorShape(r, 'request_exceeds_remaining_budget');
    assert.match(JSON.parse(r.text).error.message, /left of the LLM's monthly budget of 0\.00001/);
    const ev = await recordedOnce(r, 429);
    assert.equal(Number(ev.llm_id), ids.llms.Pricey.id);
    assert.equal((await mock.ledger()).length, 0);
  });
});

describe('upstream failures', () => {
  it('upstream down: 502', async () => {
    const r = await post(`/llm/rest/${slug('Down')}/v1/chat/completions`);
    assert.equal(r.status, 502);
    errorShape(r);
    await recordedOnce(r, 502);
  });

  it('upstream slower than UPSTREAM_TIMEOUT_MS: 504', async () => {
    const t0 = Date.now();
    const r = await post(`/llm/rest/${slug('Faults')}/v1/chat/completions`, { body: chat('delay-3000') });
    assert.equal(r.status, 504, r.text);
    assert.ok(Date.now() - t0 < 2900, 'timed out before the upstream answered');
    errorShape(r);
    await recordedOnce(r, 504);
  });

  it('stream stalled past STREAM_STALL_MS: an error event, not a clean end; the upstream is closed', async () => {
    await mock.resetLedger();
    const client = new OpenAI({ apiKey: KEY(), baseURL: `${gw.url}/llm/stream/${slug('Faults')}/v1`, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create(
      { model: 'fault-stall', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    const items = [];
    let error = null;
    const t0 = Date.now();
    try {
      for await (const c of stream) items.push(c);
    } catch (e) { error = e; }
    assert.ok(error, 'the SDK sees an error, not a clean end');
    assert.equal(items.length, 1);
    assert.ok(Date.now() - t0 < 5000, 'cut after the stall timeout');
    const entry = await mock.waitLedger((es) => es.find((e) => e.fault === 'fault-stall'), 5000);
    assert.equal(entry.outcome, 'client_gone', 'the gateway closed the upstream');
    const evs = await waitEvent(pg, response.headers.get('x-request-id'));
    assert.equal(evs.length, 1);
    assert.ok([200, 504].includes(evs[0].status_code), `status ${evs[0].status_code}`);
    assert.ok(evs[0].error, 'the event says what went wrong');
  });

  it('upstream 500 and 429 are relayed with their bodies', async () => {
    const r5 = await post(`/llm/rest/${slug('Faults')}/v1/chat/completions`, { body: chat('fault-500') });
    assert.equal(r5.status, 500);
    assert.equal(JSON.parse(r5.text).error.type, 'server_error', 'the vendor body is relayed');
    await recordedOnce(r5, 500);
    const r4 = await post(`/llm/rest/${slug('Faults')}/v1/chat/completions`, { body: chat('fault-429') });
    assert.equal(r4.status, 429);
    assert.equal(r4.headers.get('retry-after'), '1');
    assert.equal(JSON.parse(r4.text).error.code, 'rate_limit_exceeded');
    await recordedOnce(r4, 429);
    const ra = await fetch(`${gw.url}/llm/rest/${slug('Claude')}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY(), 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-fault-500', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }) });
    const ta = await ra.text();
    assert.equal(ra.status, 500);
    assert.equal(JSON.parse(ta).error.type, 'api_error');
  });

  it('the vendor key is never in the gateway logs', async () => {
    await sleep(100);
    assert.ok(!gw.logs().includes(VKEY), 'vendor key not logged');
    for (const a of Object.values(ids.apps)) assert.ok(!gw.logs().includes(a.key), 'client key not logged');
  });
});

describe('accounting', () => {
  it('every request of this file is exactly one event (stored or rejected), no duplicates', async (t) => {
    const recorded = await gw.metric('gatewayd_analytics_recorded_total');
    assert.ok(recorded > 0, 'gatewayd counts recorded events');
    const end = Date.now() + 10000;
    let row;
    do {
      row = await pg.one(`SELECT (SELECT count(*) FROM aistudio.llm_interactions)::int AS stored,
        (SELECT count(*) FROM aistudio.ingest_rejects)::int AS rejected,
        (SELECT count(*) - count(DISTINCT request_id) FROM aistudio.llm_interactions)::int AS dups`);
      if (row.stored + row.rejected >= recorded) break;
      await sleep(100);
    } while (Date.now() < end);
    const reasons = await pg.json('SELECT reason, status_code, count(*)::int AS n FROM aistudio.ingest_rejects GROUP BY 1, 2 ORDER BY 1, 2');
    t.diagnostic(`stored ${row.stored}, rejected ${row.rejected} ${JSON.stringify(reasons)}`);
    assert.equal(row.stored + row.rejected, recorded, 'events in the database = events recorded');
    assert.equal(row.dups, 0);
    assert.equal(await gw.metric('gatewayd_analytics_dropped_total'), 0);
  });
});
