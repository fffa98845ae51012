// regress/e2e/requests.test.mjs: the request log through the REST API
// (GET /api/v1/requests, GET /api/v1/requests/{request_id}) against the
// real gatewayd, a real cluster and the mock upstream:
//   - the x-request-id a client sees opens its request (timings, tokens,
//     cost, status), also for an error;
//   - keyset paging over the REST API: every row once, in order, with 25
//     rows sharing one timestamp; filters (app, model, status, errors, error
//     code, time range, request id) alone and combined;
//   - who sees what: a developer their apps and their own chat, a chat user
//     their own chat, another developer's request is a 404;
//   - bad input: a broken cursor, a non-uuid id, limit 0, unknown format
//     (400), an unknown request (404), no session (401);
//   - ?format=csv of the log and of the analytics views: a parseable CSV
//     (RFC 4180 quoting of commas, quotes and line breaks, formulas
//     defused), the same rows as JSON, the filters applied, streamed past
//     one fetch batch (2,500 rows).
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, withLogs, sqlLit } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-requests';
let mock;
let pg;
let gw;
let ids;
let api;      // base URL of the REST API
const tokens = {};
const users = {};
const it = withLogs(nodeIt, () => [gw, pg]);

async function tokenFor(userId) {
  return (await pg.sql(`SELECT set_config('pg_aistudio.acting_user', '${userId}', false);
    SELECT token FROM aistudio.create_api_token('requests-test')`)).split('\n').pop();
}

async function get(who, pathAndQuery) {
  const headers = who ? { authorization: `Bearer ${tokens[who]}` } : {};
  const res = await fetch(`${api}${pathAndQuery}`, { headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV */ }
  return { status: res.status, headers: res.headers, text, json };
}

// RFC 4180 parser (quoted fields, doubled quotes, CRLF inside quotes).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    assert.ok(c !== '"' && c !== '\n' && c !== '\r', `a bare ${JSON.stringify(c)} at ${i}`);
    field += c; i++;
  }
  assert.equal(field, '', 'the file ends with CRLF');
  assert.equal(row.length, 0, 'the file ends with CRLF');
  return rows;
}

async function proxyCall(app, { model = 'gpt-4o', stream = false } = {}) {
  const res = await fetch(`${gw.url}/llm/rest/${ids.llms.Open.slug}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ids.apps[app].key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 16, stream, messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.text();
  return { status: res.status, rid: res.headers.get('x-request-id') };
}

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 4 });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [{ name: 'Open', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', allowedModels: ['gpt-4o', 'gpt-4o-mini'] }],
    prices: [['openai', 'gpt-4o', 2.5, 10]],
    apps: [{ name: 'app-one', llms: ['Open'] }, { name: 'app-two', llms: ['Open'] }],
  });
  users.dev = ids.ownerId;
  users.admin = Number(await pg.sql(`SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin')`));
  users.dev2 = Number(await pg.sql(`SELECT aistudio.create_user('dev2@example.com', 'Dev Two', role => 'developer')`));
  users.chat = Number(await pg.sql(`SELECT aistudio.create_user('chat@example.com', 'Chat', role => 'chat_user')`));
  ids.apps.other = { id: Number(await pg.sql(`SELECT aistudio.create_app('dev2-app', ${users.dev2}, '{${ids.llms.Open.id}}')`)) };
  for (const who of ['admin', 'dev', 'dev2', 'chat']) tokens[who] = await tokenFor(users[who]);
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

// events written straight into the log (fixed instants and texts)
async function ingest(events) {
  const r = await pg.one(`SELECT * FROM aistudio.ingest_events(${sqlLit(JSON.stringify(events))}::jsonb)`);
  assert.equal(Number(r.inserted), events.length, JSON.stringify(r));
}
const uuid = (n, prefix = '0195') => `${prefix}0000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('the request log', () => {
  it('the x-request-id of a proxied call opens its request', async () => {
    const okCall = await proxyCall('app-one');
    assert.equal(okCall.status, 200);
    assert.match(okCall.rid, /^[0-9a-f-]{36}$/);
    const bad = await proxyCall('app-one', { model: 'not-allowed-model' });
    assert.ok(bad.status >= 400 && bad.status < 500, `refused: ${bad.status}`);
    assert.equal((await waitEvent(pg, okCall.rid)).length, 1);
    assert.equal((await waitEvent(pg, bad.rid)).length, 1);

    const r = await get('admin', `/requests/${okCall.rid}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.request_id, okCall.rid);
    assert.equal(r.json.status_code, 200);
    assert.equal(r.json.app_name, 'app-one');
    assert.equal(r.json.llm_name, 'Open');
    assert.equal(r.json.model_name, 'gpt-4o');
    assert.equal(r.json.interaction_type, 'proxy');
    assert.ok(r.json.prompt_tokens > 0 && r.json.response_tokens > 0, r.text);
    assert.ok(Number(r.json.cost) > 0 && r.json.priced === true, r.text);
    assert.ok(r.json.latency_ms >= 0);
    assert.equal(r.json.error_code, null);

    const e = await get('dev', `/requests/${bad.rid}`);
    assert.equal(e.status, 200, e.text);
    assert.equal(e.json.status_code, bad.status);
    assert.ok(e.json.error_code && e.json.error.startsWith(`${e.json.error_code}:`), e.text);
    // the list filtered by that error code finds it
    const byCode = await get('admin', `/requests?error_code=${encodeURIComponent(e.json.error_code)}`);
    assert.deepEqual(byCode.json.data.map((x) => x.request_id), [bad.rid]);
  });

  it('pages by keyset: every row once and in order, 25 rows sharing a timestamp', async () => {
    const at = new Date(Date.now() - 3600e3).toISOString();
    await ingest(Array.from({ length: 25 }, (_, i) => ({
      timestamp: at, request_id: uuid(i + 1), app_id: ids.apps['app-two'].id, user_id: users.dev,
      llm_id: ids.llms.Open.id, vendor: 'openai', model_name: i % 2 ? 'gpt-4o-mini' : 'gpt-4o',
      prompt_tokens: 10, response_tokens: 5, status_code: i % 5 === 0 ? 502 : 200,
      error: i % 5 === 0 ? `upstream_error: bad gateway ${i}` : null, latency_ms: 100 + i,
    })));
    const whole = await get('admin', '/requests?app_id=' + ids.apps['app-two'].id + '&limit=1000');
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.data.length, 25);
    assert.equal(whole.json.next, null, 'no next after the last page');
    const seen = [];
    let after = null;
    let pages = 0;
    for (;;) {
      const r = await get('admin', `/requests?app_id=${ids.apps['app-two'].id}&limit=4${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      pages++;
      seen.push(...r.json.data.map((x) => x.request_id));
      if (!r.json.next) break;
      assert.equal(r.json.data.length, 4);
      after = r.json.next;
      assert.ok(pages < 20, 'paging ends');
    }
    assert.equal(pages, 7);
    assert.deepEqual(seen, whole.json.data.map((x) => x.request_id), 'the pages together are the whole list, in order');
    assert.equal(new Set(seen).size, 25);
  });

  it('filters alone and combined', async () => {
    const two = ids.apps['app-two'].id;
    const count = async (q) => {
      const r = await get('admin', `/requests?limit=1000&${q}`);
      assert.equal(r.status, 200, r.text);
      return r.json.data.length;
    };
    assert.equal(await count(`app_id=${two}&model=gpt-4o-mini`), 12);
    assert.equal(await count(`app_id=${two}&status=502`), 5);
    assert.equal(await count(`app_id=${two}&errors=true`), 5);
    assert.equal(await count(`app_id=${two}&error_code=upstream_error&model=gpt-4o`), 3);
    assert.equal(await count(`request_id=${uuid(7)}`), 1);
    assert.equal(await count(`app_id=${two}&from=${encodeURIComponent(new Date(Date.now() - 600e3).toISOString())}`), 0);
    assert.equal(await count(`app_id=${two}&to=${encodeURIComponent(new Date().toISOString())}&interaction_type=proxy`), 25);
  });

  it('who sees what', async () => {
    await ingest([
      { timestamp: new Date().toISOString(), request_id: uuid(1, '0196'), user_id: users.dev, llm_id: ids.llms.Open.id, vendor: 'openai', model_name: 'gpt-4o', interaction_type: 'chat', status_code: 200 },
      { timestamp: new Date().toISOString(), request_id: uuid(2, '0196'), user_id: users.chat, llm_id: ids.llms.Open.id, vendor: 'openai', model_name: 'gpt-4o', interaction_type: 'chat', status_code: 200 },
      { timestamp: new Date().toISOString(), request_id: uuid(3, '0196'), app_id: ids.apps.other.id, user_id: users.dev2, llm_id: ids.llms.Open.id, vendor: 'openai', model_name: 'gpt-4o', status_code: 200 },
    ]);
    const all = (await get('admin', '/requests?limit=1000')).json.data;
    const dev = (await get('dev', '/requests?limit=1000')).json.data;
    const chat = (await get('chat', '/requests?limit=1000')).json.data;
    assert.ok(all.some((x) => x.request_id === uuid(3, '0196')));
    assert.equal(dev.length, all.length - 2, 'the developer: all but the chat user\'s chat and dev2\'s app');
    assert.ok(dev.some((x) => x.request_id === uuid(1, '0196')), 'their own chat');
    assert.deepEqual(chat.map((x) => x.request_id), [uuid(2, '0196')]);
    assert.equal((await get('dev', `/requests/${uuid(3, '0196')}`)).status, 404);
    assert.equal((await get('dev2', `/requests/${uuid(3, '0196')}`)).status, 200);
    assert.equal((await get('chat', `/requests/${uuid(1, '0196')}`)).status, 404);
  });

  it('bad input gets a clear error and the right status', async () => {
    const cases = [
      ['/requests?after=garbage', 400],
      ['/requests?after=2025-01-01T00:00:00Z~nope', 400],
      ['/requests?limit=0', 400],
      ['/requests?limit=20000', 400],
      ['/requests?status=abc', 400],
      ['/requests?interaction_type=batch', 400],
      ['/requests?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 400],
      ['/requests?format=xml', 400],
      ['/requests?bogus=1', 400],
      ['/requests/not-a-uuid', 400],
      [`/requests/${uuid(999, '0197')}`, 404],
    ];
    for (const [p, status] of cases) {
      const r = await get('admin', p);
      assert.equal(r.status, status, `${p}: ${r.text}`);
      assert.ok(r.json?.error?.message, `${p}: an error message: ${r.text}`);
    }
    assert.equal((await get(null, '/requests')).status, 401);
    assert.equal((await get(null, '/requests?format=csv')).status, 401);
    // the gateway is still fine
    assert.equal((await proxyCall('app-one')).status, 200);
  });
});

describe('CSV exports', () => {
  it('the request log as CSV: parseable, quoted, the same rows as JSON, filtered', async () => {
    const at = new Date(Date.now() - 7200e3).toISOString();
    const nasty = [
      'tricky: a, comma',
      'tricky: "quoted" text',
      'tricky: two\r\nlines',
      '=HYPERLINK("http://x","y")',
    ];
    await ingest(nasty.map((error, i) => ({
      timestamp: at, request_id: uuid(100 + i), app_id: ids.apps['app-one'].id, llm_id: ids.llms.Open.id,
      vendor: 'openai', model_name: i === 3 ? '@model, "x"' : 'gpt-4o', status_code: 500, error,
    })));
    const r = await get('admin', `/requests?format=csv&app_id=${ids.apps['app-one'].id}&status=500`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/csv/);
    assert.match(r.headers.get('content-disposition'), /attachment; filename="requests.csv"/);
    const rows = parseCsv(r.text);
    const head = rows[0];
    assert.deepEqual(head.slice(0, 5), ['timestamp', 'request_id', 'interaction_type', 'status_code', 'error_code']);
    const col = (name) => head.indexOf(name);
    assert.equal(rows.length, 1 + 4);
    const byId = Object.fromEntries(rows.slice(1).map((x) => [x[col('request_id')], x]));
    for (let i = 0; i < 3; i++) assert.equal(byId[uuid(100 + i)][col('error')], nasty[i], 'text kept exactly');
    assert.equal(byId[uuid(103)][col('error')], `'${nasty[3]}`, 'a formula is defused');
    assert.equal(byId[uuid(103)][col('model_name')], `'@model, "x"`);
    assert.equal(byId[uuid(101)][col('error_code')], 'tricky');
    assert.equal(byId[uuid(101)][col('app_name')], 'app-one');
    assert.equal(byId[uuid(101)][col('user_id')], '', 'NULL is an empty field');
    // the same rows and order as the JSON list
    const json = await get('admin', `/requests?app_id=${ids.apps['app-one'].id}&status=500`);
    assert.deepEqual(rows.slice(1).map((x) => x[col('request_id')]), json.json.data.map((x) => x.request_id));
  });

  it('a long export is streamed in chunks past one fetch batch; a developer exports only their rows', async () => {
    const r = await pg.one(`SELECT * FROM aistudio.ingest_events((SELECT jsonb_agg(jsonb_build_object(
        'timestamp', now() - interval '1 day' + g * interval '1 second',
        'request_id', ('01940000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid,
        'app_id', ${ids.apps.other.id}, 'user_id', ${users.dev2}, 'llm_id', ${ids.llms.Open.id},
        'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 200, 'prompt_tokens', 3, 'response_tokens', 4))
      FROM generate_series(1, 2500) g))`);
    assert.equal(Number(r.inserted), 2500);
    const res = await fetch(`${api}/requests?format=csv&app_id=${ids.apps.other.id}`,
      { headers: { authorization: `Bearer ${tokens.dev2}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const rows = parseCsv(await res.text());
    assert.equal(rows.length, 1 + 2501, 'every row of the app (2,500 + the earlier one)');
    assert.equal(new Set(rows.slice(1).map((x) => x[1])).size, 2501);
    const limited = parseCsv((await get('dev2', `/requests?format=csv&app_id=${ids.apps.other.id}&limit=10`)).text);
    assert.equal(limited.length, 11);
    // another developer's app: no rows, only the header
    const none = parseCsv((await get('dev', `/requests?format=csv&app_id=${ids.apps.other.id}`)).text);
    assert.equal(none.length, 1);
    // ?format=json is the JSON list
    assert.ok(Array.isArray((await get('dev', '/requests?format=json')).json.data));
  });

  it('analytics views as CSV: the rows of the JSON answer', async () => {
    await pg.sql('SELECT aistudio.rollup_now()');
    const from = encodeURIComponent(new Date(Date.now() - 3 * 86400e3).toISOString());
    for (const p of [`/analytics/usage?group_by=app&from=${from}`, `/analytics/top-models?from=${from}`,
      `/analytics/top-apps?from=${from}`, `/analytics/top-users?from=${from}`, '/analytics/budgets?all=true']) {
      const json = await get('admin', p);
      assert.equal(json.status, 200, `${p}: ${json.text}`);
      const csv = await get('admin', `${p}&format=csv`);
      assert.equal(csv.status, 200, `${p}: ${csv.text}`);
      const rows = parseCsv(csv.text);
      assert.equal(rows.length, 1 + json.json.data.length, p);
      const head = rows[0];
      assert.ok(json.json.data.length > 0, `${p}: some rows`);
      const first = json.json.data[0];
      for (const [k, v] of Object.entries(first)) {
        const i = head.indexOf(k);
        assert.ok(i >= 0, `${p}: column ${k} in ${head}`);
        if (v !== null && typeof v !== 'object') assert.equal(Number.isNaN(Number(v)) ? rows[1][i] : Number(rows[1][i]), Number.isNaN(Number(v)) ? String(v) : Number(v), `${p}: ${k}`);
      }
    }
    // a bad parameter is a JSON 400, not a broken file
    const bad = await get('admin', '/analytics/usage?group_by=planet&format=csv');
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json.error.message);
  });
});
