// regress/e2e/gateway-reliability.test.mjs: the gateway's promises under
// stress and faults (DESIGN §6):
//   - budget concurrency: 50 concurrent requests against a nearly spent app
//     budget never overspend it (checked in the database after a rollup), and
//     some are refused with 429 budget_exceeded;
//   - PostgreSQL restarted during a 2,000-request load: rows stored =
//     requests sent, zero duplicates (analytics spool + idempotent replay);
//   - client disconnect mid-stream: exactly one row, status 499, the usage
//     seen so far, and the upstream call aborted within ~1 s;
//   - upstream reset mid-stream: the SDK throws (error event, not a clean
//     end), one row;
//   - configuration changes reach the gateway without a restart
//     (update_llm allowed_models), and a revoked credential gets 401 shortly
//     after.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, pollValue, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-reliability';
let mock;   // fast
let paced;  // 40 frames, 50 ms apart (2 s streams)
let pg;
let gw;
let ids;
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 8, threads: 2 });
  paced = await startMock({ expectKey: VKEY, frames: 40, frameIntervalMs: 50 });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Fast', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Slow OpenAI', vendor: 'openai', endpoint: `${paced.url}/v1`, key: 'secret' },
      { name: 'Slow Claude', vendor: 'anthropic', endpoint: paced.url, key: 'literal' },
      { name: 'Cfg', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', allowedModels: ['gpt-4o-mini'] },
    ],
    prices: [
      ['openai', 'gpt-4o', 1000, 1000],          // 0.001 USD per token: budgets bite fast
      ['openai', 'gpt-4o-mini', 0.15, 0.60, null, 0.075],
      ['anthropic', 'claude-mock-1', 3, 15, 3.75, 0.30],
    ],
    apps: [
      { name: 'load-app', llms: ['Fast'] },
      { name: 'budget-app', llms: ['Fast'], budget: 1.0 },
      { name: 'stream-app', llms: ['Slow OpenAI', 'Slow Claude', 'Fast'] },
      { name: 'cfg-app', llms: ['Cfg', 'Fast'] },
    ],
  });
  gw = await startGatewayd(pg);
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await paced?.stop();
    await pg?.cleanup();
  }
});

const KEY = (app) => ids.apps[app].key;
const slug = (n) => ids.llms[n].slug;

async function chatOnce(app, llm, model, extra = {}) {
  const res = await fetch(`${gw.url}/llm/rest/${slug(llm)}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY(app)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra }),
  });
  const text = await res.text();
  return { status: res.status, rid: res.headers.get('x-request-id'), text };
}

// Runs n requests with the given concurrency; onProgress(done) after each.
async function load(n, concurrency, fn, onProgress) {
  const results = new Array(n);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      try {
        results[i] = await fn(i);
      } catch (e) {
        results[i] = { status: 0, error: e.message };
      }
      done++;
      if (onProgress) await onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe('budgets', () => {
  it('50 concurrent requests against a nearly spent budget never overspend it', async (t) => {
    const app = ids.apps['budget-app'];
    // 0.9 of the 1.0 USD budget is already spent (900 tokens at 0.001)
    await pg.sql(`SELECT * FROM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
      'timestamp', now(), 'request_id', '${randomUUID()}', 'app_id', ${app.id}, 'llm_id', ${ids.llms.Fast.id},
      'user_id', ${ids.ownerId}, 'vendor', 'openai', 'model_name', 'gpt-4o', 'prompt_tokens', 900,
      'response_tokens', 0, 'status_code', 200, 'latency_ms', 1)))`);
    assert.equal(Number(await pg.sql(`SELECT spent FROM aistudio.budget_status(${app.id})`)), 0.9);

    // each call costs 13 tokens (5 prompt + 8 completion) = 0.013; worst case >= 0.01
    const res = await load(50, 50, () => chatOnce('budget-app', 'Fast', 'gpt-4o', { max_tokens: 10 }));
    const by = {};
    for (const r of res) by[r.status] = (by[r.status] || 0) + 1;
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[429] > 0, `some refused: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0, `some admitted: ${JSON.stringify(by)}`);
    assert.equal((by[200] || 0) + (by[429] || 0), 50, JSON.stringify(by));
    for (const r of res.filter((x) => x.status === 429)) {
      assert.ok(['budget_exceeded', 'request_exceeds_remaining_budget'].includes(JSON.parse(r.text).error.code), r.text);
    }

    const n = await pollValue(pg, `SELECT count(*) FROM aistudio.llm_interactions WHERE app_id = ${app.id}`, (v) => v === '51');
    assert.equal(n, '51', 'one row per request (+ the seeded one)');
    await pg.sql('SELECT aistudio.rollup_now()');
    const st = await pg.one(`SELECT spent::text, remaining::text FROM aistudio.budget_status(${app.id})`);
    const sum = await pg.sql(`SELECT sum(cost) FROM aistudio.llm_interactions WHERE app_id = ${app.id}`);
    assert.ok(Number(st.spent) <= 1.0, `spent ${st.spent} <= budget 1.0`);
    assert.ok(Number(sum) <= 1.0, `recorded cost ${sum} <= budget 1.0`);
    assert.equal(Number(sum), Number(st.spent));
    t.diagnostic(`spent ${st.spent} of 1.0 (remaining ${st.remaining})`);
  });
});

describe('analytics are lossless', () => {
  it('PostgreSQL restarted during a 2,000-request load: rows = requests, no duplicates', async (t) => {
    const app = ids.apps['load-app'];
    const N = 2000;
    // warm the credential cache
    assert.equal((await chatOnce('load-app', 'Fast', 'gpt-4o-mini')).status, 200);
    let restart = null;
    const t0 = Date.now();
    const res = await load(N, 16, () => chatOnce('load-app', 'Fast', 'gpt-4o-mini'), (done) => {
      if (done === 300 && !restart) restart = pg.restart({ downMs: 1500 });
    });
    await restart;
    const elapsed = Date.now() - t0;
    const statuses = {};
    for (const r of res) statuses[r.status] = (statuses[r.status] || 0) + 1;
    assert.equal(statuses[200], N, `every proxied call succeeds while the DB is down: ${JSON.stringify(statuses)}`);
    const rids = new Set(res.map((r) => r.rid));
    assert.equal(rids.size, N, 'distinct request ids');

    const want = String(N + 1);
    const got = await pollValue(pg, `SELECT count(*) FROM aistudio.llm_interactions WHERE app_id = ${app.id}`,
      (v) => Number(v) >= N + 1, { timeoutMs: 60000, intervalMs: 250 });
    await sleep(1000); // a late duplicate would show now
    const row = await pg.one(`SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS d
      FROM aistudio.llm_interactions WHERE app_id = ${app.id}`);
    const rejects = await pg.sql(`SELECT count(*) FROM aistudio.ingest_rejects`);
    t.diagnostic(`load of ${N} took ${elapsed} ms; rows ${row.n}, distinct ${row.d}`);
    let metrics = '';
    try { metrics = (await gw.metrics()).split('\n').filter((l) => /analytics|spool|dropped/.test(l) && !l.startsWith('#')).join('\n'); } catch { /* no metrics */ }
    assert.equal(String(row.n), want, `rows stored = requests (${got}); load took ${elapsed} ms; rejects ${rejects}\n${metrics}`);
    assert.equal(row.d, row.n, 'zero duplicates');
    const stored = new Set((await pg.json(`SELECT request_id::text AS r FROM aistudio.llm_interactions WHERE app_id = ${app.id}`)).map((x) => x.r));
    for (const r of rids) assert.ok(stored.has(r), `request ${r} stored`);
    t.diagnostic(metrics.replace(/\n/g, '; '));
    if (metrics) {
      const dropped = /dropped\S*\s+(\d+)/.exec(metrics);
      if (dropped) assert.equal(Number(dropped[1]), 0, 'no dropped events');
    }
  });
});

describe('streams', () => {
  let openaiAbortRow = null;
  it('client disconnect mid-stream (openai SDK): one row, status 499, upstream aborted within 1 s', async () => {
    await paced.resetLedger();
    const client = new OpenAI({ apiKey: KEY('stream-app'), baseURL: `${gw.url}/llm/stream/${slug('Slow OpenAI')}/v1`, maxRetries: 0 });
    const ac = new AbortController();
    const { data: stream, response } = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'tell me a long story' }], stream: true },
      { signal: ac.signal }).withResponse();
    const rid = response.headers.get('x-request-id');
    let n = 0;
    let abortedAt = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) n++;
        if (n === 1) { abortedAt = Date.now(); ac.abort(); }
      }
    } catch { /* aborted */ }
    assert.ok(abortedAt > 0, 'got a first chunk');
    const entry = await paced.waitLedger((es) => es.find((e) => e.outcome !== undefined), 5000);
    assert.equal(entry.outcome, 'client_gone', 'the upstream call was aborted');
    assert.ok(entry.frames_sent < 40, `not run to the end (${entry.frames_sent} frames)`);
    assert.ok(entry.ts_ms - abortedAt <= 1200, `upstream closed ${entry.ts_ms - abortedAt} ms after the client left`);
    const evs = await waitEvent(pg, rid);
    assert.equal(evs.length, 1, JSON.stringify(evs));
    assert.equal(evs[0].kind, 'stored');
    assert.equal(evs[0].status_code, 499);
    openaiAbortRow = evs[0];
  });

  it('client disconnect mid-stream (openai SDK): partial response tokens > 0', async () => {
    assert.ok(openaiAbortRow, 'the previous test recorded the row');
    assert.ok(Number(openaiAbortRow.response_tokens) > 0,
      `partial usage recorded (prompt ${openaiAbortRow.prompt_tokens}, response ${openaiAbortRow.response_tokens}; ` +
      'an OpenAI stream reports usage only at its end, so the gateway has to count what it relayed)');
  });

  it('client disconnect mid-stream (anthropic SDK): the usage seen so far (message_start) is recorded', async () => {
    await paced.resetLedger();
    const client = new Anthropic({ apiKey: KEY('stream-app'), baseURL: `${gw.url}/llm/stream/${slug('Slow Claude')}`, maxRetries: 0 });
    const ac = new AbortController();
    const { data: stream, response } = await client.messages.create(
      { model: 'claude-mock-1', max_tokens: 100, messages: [{ role: 'user', content: 'a long story please' }], stream: true },
      { signal: ac.signal }).withResponse();
    const rid = response.headers.get('x-request-id');
    let abortedAt = 0;
    try {
      for await (const ev of stream) {
        if (ev.type === 'content_block_delta') { abortedAt = Date.now(); ac.abort(); }
      }
    } catch { /* aborted */ }
    assert.ok(abortedAt > 0);
    const entry = await paced.waitLedger((es) => es.find((e) => e.outcome !== undefined), 5000);
    assert.equal(entry.outcome, 'client_gone');
    assert.ok(entry.ts_ms - abortedAt <= 1200, `upstream closed ${entry.ts_ms - abortedAt} ms after the client left`);
    const evs = await waitEvent(pg, rid);
    assert.equal(evs.length, 1, JSON.stringify(evs));
    assert.equal(evs[0].status_code, 499);
    assert.equal(Number(evs[0].prompt_tokens), 3 + 4, 'input tokens from message_start');
    assert.ok(Number(evs[0].response_tokens) > 0, `response tokens so far (${evs[0].response_tokens})`);
  });

  it('upstream reset mid-stream: the SDK throws, one row', async () => {
    await mock.resetLedger();
    const client = new OpenAI({ apiKey: KEY('stream-app'), baseURL: `${gw.url}/llm/stream/${slug('Fast')}/v1`, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create(
      { model: 'gpt-4o-mini-fault-reset', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    const items = [];
    let error = null;
    try {
      for await (const c of stream) items.push(c);
    } catch (e) { error = e; }
    assert.ok(error, 'the stream ends with an error, not a clean end');
    assert.equal(items.length, 2, 'the 2 frames before the reset were relayed');
    const evs = await waitEvent(pg, response.headers.get('x-request-id'));
    assert.equal(evs.length, 1, JSON.stringify(evs));
    assert.ok(evs[0].error, 'the row says what went wrong');
    assert.ok([200, 502].includes(evs[0].status_code), `status ${evs[0].status_code}`);
  });
});

describe('configuration without restart', () => {
  it('update_llm allowed_models is seen by the next requests', async () => {
    assert.equal((await chatOnce('cfg-app', 'Cfg', 'gpt-4o-mini')).status, 200);
    assert.equal((await chatOnce('cfg-app', 'Cfg', 'llama-3')).status, 403);
    await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Cfg.id}, allowed_models => '{llama-3}')`);
    const end = Date.now() + 5000;
    let a;
    let b;
    do {
      await sleep(50);
      [a, b] = [await chatOnce('cfg-app', 'Cfg', 'llama-3'), await chatOnce('cfg-app', 'Cfg', 'gpt-4o-mini')];
    } while (!(a.status === 200 && b.status === 403) && Date.now() < end);
    assert.equal(a.status, 200, 'newly allowed model');
    assert.equal(b.status, 403, 'no longer allowed model');
  });

  it('a revoked credential gets 401 shortly after', async () => {
    const app = ids.apps['cfg-app'];
    const key2 = await pg.sql(`SELECT aistudio.issue_credential(${app.id})`);
    const cred2 = Number(await pg.sql(`SELECT max(id) FROM aistudio.list_credentials(${app.id})`));
    const call = async (key) => (await fetch(`${gw.url}/llm/rest/${slug('Fast')}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }) })).status;
    assert.equal(await call(key2), 200);
    assert.equal(await call(key2), 200, 'cached');
    await pg.sql(`SELECT aistudio.revoke_credential(${cred2})`);
    const t0 = Date.now();
    let s;
    do {
      await sleep(50);
      s = await call(key2);
    } while (s !== 401 && Date.now() - t0 < 5000);
    assert.equal(s, 401, 'revoked key refused');
    assert.ok(Date.now() - t0 < 3000, `within ${Date.now() - t0} ms`);
    assert.equal(await call(app.key), 200, 'the other key still works');
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: a stream in flight finishes, new requests are refused, the event is flushed, exit 0', async () => {
    await paced.resetLedger();
    const res = await fetch(`${gw.url}/llm/stream/${slug('Slow OpenAI')}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY('stream-app')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(res.status, 200);
    const rid = res.headers.get('x-request-id');
    const reader = res.body.getReader();
    const first = await reader.read();
    assert.ok(!first.done);
    gw.child.kill('SIGTERM');
    await sleep(200);
    // new requests: refused (503) or the listener is already closed
    let refused;
    try {
      refused = (await chatOnce('load-app', 'Fast', 'gpt-4o-mini')).status;
    } catch {
      refused = 'closed';
    }
    assert.ok(refused === 503 || refused === 'closed', `new request during shutdown: ${refused}`);
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /data: \[DONE\]\s*$/, 'the stream ended cleanly');
    const exit = await gw.stop({ timeoutMs: 15000 });
    assert.equal(exit.code, 0);
    const evs = await waitEvent(pg, rid);
    assert.equal(evs.length, 1, 'the in-flight stream was recorded before exit');
    assert.equal(evs[0].status_code, 200);
    assert.equal(Number(evs[0].response_tokens), 40);
  });
});
