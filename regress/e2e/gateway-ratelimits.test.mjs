// regress/e2e/gateway-ratelimits.test.mjs: rate limits of apps and LLMs
// (rate_limit_rpm / rate_limit_tpm) through a real gatewayd, PostgreSQL
// and the mock upstream:
//   - an app with 5 requests per minute hit by 20 concurrent requests:
//     exactly 5 answered, 15 refused with 429 rate_limited, Retry-After and
//     the x-ratelimit-* headers, each refusal recorded in analytics;
//   - the headers' values on an admitted request (requests and tokens),
//     in place of an upstream's headers of the same names;
//   - an LLM's limit counts the requests of every app using it (and of the
//     chat);
//   - a tokens-per-minute limit refuses once the answers' usage (the
//     mock's, prompt + completion) has used it up, and admits again after
//     the refill;
//   - the refusal in the vendor's error shape (Anthropic pass-through) and
//     through the official openai SDK on /ai;
//   - a limit changed over REST takes effect with the next snapshot (and a
//     raised limit resizes the bucket, never refills it), a null removes it;
//   - bad values refused over REST with 400 and nothing changed.
import { before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, pollValue, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-ratelimits';
let mock;
let pg;
let gw;
let ids;
let api;
let adminToken;
let devToken; // the apps' owner, who may chat with the seeded LLMs
let upstream; // an upstream that sends its own x-ratelimit-* headers
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, threads: 2 });
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-ratelimit-limit-requests': '10000',
        'x-ratelimit-remaining-requests': '9999',
        'x-ratelimit-reset-requests': '6ms',
        'x-ratelimit-limit-tokens': '30000000',
      });
      res.end(JSON.stringify({
        id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-4o',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      }));
    });
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  pg = await startCluster();
  const llm = (name, vendor = 'openai') => ({
    name, vendor, endpoint: vendor === 'openai' ? `${mock.url}/v1` : mock.url, key: 'secret',
  });
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [llm('Open'), llm('Shared'), llm('Claude', 'anthropic'),
      { name: 'Own headers', vendor: 'openai', endpoint: `http://127.0.0.1:${upstream.address().port}/v1`, key: 'literal' }],
    apps: [
      { name: 'burst', llms: ['Open'] },
      { name: 'headers', llms: ['Open'] },
      { name: 'shared-1', llms: ['Shared'] },
      { name: 'shared-2', llms: ['Shared'] },
      { name: 'tokens', llms: ['Open'] },
      { name: 'claude-app', llms: ['Claude'] },
      { name: 'sdk-app', llms: ['Open'] },
      { name: 'rest-app', llms: ['Open'] },
      { name: 'relay-app', llms: ['Own headers'] },
    ],
  });
  const limit = (app, rpm, tpm) => pg.sql(`SELECT aistudio.update_app(${ids.apps[app].id},
    rate_limit_rpm => ${rpm ?? 'NULL'}, rate_limit_tpm => ${tpm ?? 'NULL'})`);
  await limit('burst', 5);
  await limit('headers', 60, 1000);
  await limit('tokens', null, 600);
  await limit('claude-app', 1);
  await limit('sdk-app', 1);
  await limit('relay-app', 30);
  await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Shared.id}, rate_limit_rpm => 4)`);
  const admin = await pg.sql(`SELECT aistudio.create_user('limits@example.com', 'Limits', role => 'admin')`);
  adminToken = await pg.sql(`SET pg_aistudio.acting_user = '${admin}'; SELECT token FROM aistudio.create_api_token('limits')`);
  devToken = await pg.sql(`SET pg_aistudio.acting_user = '${ids.ownerId}'; SELECT token FROM aistudio.create_api_token('chat')`);
  gw = await startGatewayd(pg);
  api = `http://127.0.0.1:${gw.serverPort}/api/v1`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    upstream?.close();
    await pg?.cleanup();
  }
});

// One chat completion on the pass-through route; the mock reports
// prompt = 3 + words of the message, completion = 8.
async function call(app, llm = 'Open', { words = 2 } = {}) {
  const content = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const res = await fetch(`${gw.url}/llm/rest/${ids.llms[llm].slug}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ids.apps[app].key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content }] }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
}

async function rest(method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}

function assertRefusal(r, { subject, kind }) {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error.code, 'rate_limited', r.text);
  assert.match(r.json.error.message, new RegExp(`the ${subject}'s limit of \\d+ ${kind} per minute`), r.text);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After: ${r.headers.get('retry-after')}`);
  return retry;
}

it('an app with 5 requests per minute, 20 concurrent requests: exactly 5 answered, 15 refused', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, () => call('burst')));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status !== 200);
  assert.equal(ok.length, 5, results.map((r) => r.status).join(','));
  assert.equal(refused.length, 15);
  for (const r of refused) {
    const retry = assertRefusal(r, { subject: 'app', kind: 'requests' });
    assert.ok(retry <= 12, `Retry-After ${retry} (one request refills in 12 s)`);
    assert.equal(r.headers.get('x-ratelimit-limit-requests'), '5');
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(r.headers.get('x-ratelimit-limit-tokens'), null, 'no TPM limit: no tokens headers');
  }
  // every refusal is an analytics event like other refusals
  const app = ids.apps.burst.id;
  const n = await pollValue(pg, `SELECT count(*) FROM aistudio.llm_interactions
    WHERE app_id = ${app} AND status_code = 429 AND error LIKE 'rate_limited: %'`, (v) => Number(v) >= 15);
  assert.equal(Number(n), 15);
  assert.equal(Number(await pollValue(pg, `SELECT count(*) FROM aistudio.llm_interactions WHERE app_id = ${app}`,
    (v) => Number(v) >= 20)), 20, 'one event per request');
});

it('the headers on an admitted request: requests and tokens, OpenAI style', async () => {
  const first = await call('headers');
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-ratelimit-limit-requests'), '60');
  assert.equal(first.headers.get('x-ratelimit-remaining-requests'), '59');
  assert.equal(first.headers.get('x-ratelimit-reset-requests'), '1s');
  assert.equal(first.headers.get('x-ratelimit-limit-tokens'), '1000');
  assert.equal(first.headers.get('x-ratelimit-remaining-tokens'), '1000');
  assert.equal(first.headers.get('x-ratelimit-reset-tokens'), '0s');
  assert.equal(first.headers.get('retry-after'), null);
  const usage = first.json.usage.prompt_tokens + first.json.usage.completion_tokens;
  assert.equal(usage, 13, JSON.stringify(first.json.usage));
  await sleep(200); // the usage is charged when the request ends
  const second = await call('headers');
  assert.equal(second.status, 200, second.text);
  const rem = Number(second.headers.get('x-ratelimit-remaining-requests'));
  assert.ok(rem === 58 || rem === 59, `remaining requests ${rem}`);
  const tok = Number(second.headers.get('x-ratelimit-remaining-tokens'));
  assert.ok(tok >= 1000 - 13 && tok < 1000, `remaining tokens ${tok} after 13 used`);
  assert.match(second.headers.get('x-ratelimit-reset-tokens'), /^\d+(\.\d+)?s$|^\d+ms$/);
  // one set of headers: the upstream's x-ratelimit-* never doubles them
  assert.ok(!second.headers.get('x-ratelimit-limit-requests').includes(','));
});

it("the gateway's own headers replace the upstream's of the same names; the others are relayed", async () => {
  const r = await call('relay-app', 'Own headers');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-ratelimit-limit-requests'), '30');
  assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '29');
  assert.equal(r.headers.get('x-ratelimit-reset-requests'), '2s');
  // no TPM limit here: the upstream's tokens header passes as before
  assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '30000000');
  const plain = await fetch(`${gw.url}/llm/rest/${ids.llms['Own headers'].slug}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ids.apps['relay-app'].key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(plain.headers.get('x-ratelimit-limit-requests'), '30');
  await pg.sql(`SELECT aistudio.clear_app_rate_limits(${ids.apps['relay-app'].id})`);
  let h;
  for (let i = 0; i < 200; i++) {
    const x = await call('relay-app', 'Own headers');
    h = x.headers.get('x-ratelimit-limit-requests');
    if (h === '10000') break;
    await sleep(50);
  }
  assert.equal(h, '10000', 'without a limit of its own the gateway relays the upstream\'s headers');
});

it("an LLM's limit counts the requests of every app using it, and the chat's", async () => {
  const statuses = [];
  for (let i = 0; i < 10; i++) {
    const r = await call(i % 2 === 0 ? 'shared-1' : 'shared-2', 'Shared');
    if (r.status !== 200) assertRefusal(r, { subject: 'LLM', kind: 'requests' });
    statuses.push(r.status);
  }
  assert.equal(statuses.filter((s) => s === 200).length, 4, statuses.join(','));
  assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
  // the chat (no app) counts against the LLM's limit too
  const res = await fetch(`${api}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${devToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ llm: ids.llms.Shared.slug, model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const chat = { status: res.status, headers: res.headers, text: await res.text() };
  chat.json = JSON.parse(chat.text);
  assertRefusal(chat, { subject: 'LLM', kind: 'requests' });
  assert.equal(chat.headers.get('x-ratelimit-limit-requests'), '4');
});

it('a tokens-per-minute limit refuses once the usage used it up, and admits again after the refill', async () => {
  // 600 tokens per minute (10 per second); each call uses 13
  let admitted = 0;
  let refusal = null;
  for (let i = 0; i < 80 && !refusal; i++) {
    const r = await call('tokens');
    if (r.status === 200) {
      admitted++;
      assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '600');
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), null, 'no RPM limit: no requests headers');
    } else refusal = r;
  }
  assert.ok(refusal, `refused after ${admitted} calls`);
  const retry = assertRefusal(refusal, { subject: 'app', kind: 'tokens' });
  assert.equal(refusal.headers.get('x-ratelimit-remaining-tokens'), '0');
  // 600 / 13 = 46.2: the 47th call leaves the bucket below 0 (a few more
  // may pass while earlier usage is charged and the bucket refills)
  assert.ok(admitted >= 47 && admitted <= 55, `admitted ${admitted}`);
  assert.ok(retry <= 3, `Retry-After ${retry}: at most one call's 13 tokens to refill at 10 per second`);
  const again = await call('tokens');
  if (again.status === 429) assertRefusal(again, { subject: 'app', kind: 'tokens' });
  await sleep(retry * 1000 + 300);
  const after = await call('tokens');
  assert.equal(after.status, 200, `after ${retry} s: ${after.text}`);
});

it("the refusal in the vendor's shape: Anthropic on its pass-through route", async () => {
  const send = () => fetch(`${gw.url}/llm/rest/${ids.llms.Claude.slug}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': ids.apps['claude-app'].key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-3-5-haiku', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const first = await send();
  assert.equal(first.status, 200, await first.text());
  const second = await send();
  const body = await second.json();
  assert.equal(second.status, 429, JSON.stringify(body));
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'rate_limit_error');
  assert.equal(body.error.code, 'rate_limited');
  assert.match(body.error.message, /app's limit of 1 requests per minute/);
  assert.ok(Number(second.headers.get('retry-after')) >= 1);
});

it('the official openai SDK on /ai gets a RateLimitError with the headers', async () => {
  const client = new OpenAI({ apiKey: ids.apps['sdk-app'].key, baseURL: `${gw.url}/ai/${ids.llms.Open.slug}/v1`, maxRetries: 0 });
  const ok = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(ok.object, 'chat.completion');
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limited');
      assert.ok(Number(err.headers.get('retry-after')) >= 1);
      assert.equal(err.headers.get('x-ratelimit-limit-requests'), '1');
      return true;
    });
});

it('a limit changed over REST applies with the next snapshot; raised, the bucket is resized, not refilled', async () => {
  const id = ids.apps['rest-app'].id;
  const before = await call('rest-app');
  assert.equal(before.status, 200);
  assert.equal(before.headers.get('x-ratelimit-limit-requests'), null, 'no limit yet');

  const set = await rest('PATCH', `/apps/${id}`, { rate_limit_rpm: 2 });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.rate_limit_rpm, 2);
  assert.equal(set.json.rate_limit_tpm, null);
  // the reload follows the NOTIFY: call until the limit shows, then it refuses
  let r;
  for (let i = 0; i < 200; i++) {
    r = await call('rest-app');
    if (r.status === 429) break;
    await sleep(50);
  }
  assertRefusal(r, { subject: 'app', kind: 'requests' });
  assert.equal(r.headers.get('x-ratelimit-limit-requests'), '2');

  const raised = await rest('PATCH', `/apps/${id}`, { rate_limit_rpm: 1000 });
  assert.equal(raised.status, 200, raised.text);
  let limitSeen = null;
  for (let i = 0; i < 200; i++) {
    r = await call('rest-app');
    limitSeen = r.headers.get('x-ratelimit-limit-requests');
    if (limitSeen === '1000') break;
    await sleep(50);
  }
  assert.equal(limitSeen, '1000');
  // the emptied bucket keeps its level: still refused at first (it refills
  // at 1000/min), or admitted with few left — never 999 left
  if (r.status !== 200) assertRefusal(r, { subject: 'app', kind: 'requests' });
  const rem = Number(r.headers.get('x-ratelimit-remaining-requests'));
  assert.ok(rem < 500, `remaining ${rem}: the emptied bucket was resized, not refilled to 1000`);
  await sleep(1000); // 16 requests refilled
  r = await call('rest-app');
  assert.equal(r.status, 200, r.text);

  const cleared = await rest('PATCH', `/apps/${id}`, { rate_limit_rpm: null });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.json.rate_limit_rpm, null);
  for (let i = 0; i < 200; i++) {
    r = await call('rest-app');
    if (r.headers.get('x-ratelimit-limit-requests') === null) break;
    await sleep(50);
  }
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-ratelimit-limit-requests'), null, 'the limit is gone');

  // LLMs over REST: set, read back, clear one of the two
  const llm = ids.llms.Shared.id;
  const l1 = await rest('PATCH', `/llms/${llm}`, { rate_limit_rpm: 100, rate_limit_tpm: 5000 });
  assert.equal(l1.status, 200, l1.text);
  assert.equal(l1.json.rate_limit_rpm, 100);
  assert.equal(l1.json.rate_limit_tpm, 5000);
  const l2 = await rest('PATCH', `/llms/${llm}`, { rate_limit_tpm: null });
  assert.equal(l2.json.rate_limit_rpm, 100);
  assert.equal(l2.json.rate_limit_tpm, null);
  const created = await rest('POST', '/apps', { name: 'rest-created', llm_ids: [ids.llms.Open.id], rate_limit_rpm: 7, rate_limit_tpm: 70 });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.rate_limit_rpm, 7);
  assert.equal(created.json.rate_limit_tpm, 70);
  const list = await rest('GET', '/apps?search=rest-created');
  assert.equal(list.json.data[0].rate_limit_tpm, 70);
});

it('bad values are refused over REST with 400, nothing changed', async () => {
  const id = ids.apps['rest-app'].id;
  const llm = ids.llms.Open.id;
  for (const [method, path, body, re] of [
    ['PATCH', `/apps/${id}`, { rate_limit_rpm: 0 }, /rate_limit_rpm must be between 1 and 1000000000/],
    ['PATCH', `/apps/${id}`, { rate_limit_tpm: 1000000001 }, /rate_limit_tpm must be between 1 and 1000000000/],
    ['PATCH', `/apps/${id}`, { rate_limit_rpm: -3 }, /rate_limit_rpm must be between/],
    ['PATCH', `/apps/${id}`, { rate_limit_rpm: 'ten' }, /rate_limit_rpm/],
    ['PATCH', `/apps/${id}`, { rate_limit_rpm: 2.5 }, /rate_limit_rpm/],
    ['PATCH', `/llms/${llm}`, { rate_limit_rpm: 0 }, /rate_limit_rpm must be between/],
    ['PATCH', `/llms/${llm}`, { rate_limit_tpm: 99999999999 }, /rate_limit_tpm must be between/],
    ['POST', '/apps', { name: 'bad-limits', llm_ids: [], rate_limit_tpm: 0 }, /rate_limit_tpm must be between/],
    ['POST', '/llms', { name: 'Bad limits', vendor: 'openai', api_endpoint: `${mock.url}/v1`, rate_limit_rpm: 0 }, /rate_limit_rpm must be between/],
  ]) {
    const r = await rest(method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
    assert.match(r.json.error.message, re, r.text);
  }
  assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.apps WHERE name = 'bad-limits'`), '0');
  assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.llms WHERE name = 'Bad limits'`), '0');
  assert.equal(await pg.sql(`SELECT coalesce(rate_limit_rpm::text, 'none') FROM aistudio.apps WHERE id = ${id}`), 'none');
  assert.equal(await pg.sql(`SELECT coalesce(rate_limit_rpm::text, 'none') FROM aistudio.llms WHERE id = ${llm}`), 'none');
});
