// regress/e2e/gateway-secrets.test.mjs: secrets that cannot leak and usage
// that is never lost, against the real gatewayd, a real cluster and the C
// mock upstream.
//   - usage that breaks the vendor's rules (cached reads above the prompt, a
//     negative count; the mock's x-mock-prompt-tokens) is stored with the
//     counts clamped, flagged in error, priced from the clamped counts and
//     counted in the app's budget; nothing goes to ingest_rejects;
//   - an upstream that echoes the credentials it received (the mock's
//     echo-headers mode: in the JSON content, every stream frame, error
//     messages and an x-ratelimit-* header) never gets the vendor key (a
//     canary) back to the client, on every route (/llm/rest, /llm/stream,
//     /llm/call, /ai, the chat) and vendor shape, nor into the stored error
//     texts, the gateway's log, or a pg_dump of the database;
//   - who can read a secret, through the REST API: an admin cannot bind
//     another admin's unbound secret, nor point an LLM that uses a bound one
//     at another port of 127.0.0.1, nor change its hosts; the admin who set
//     it binds it by using it; a super admin changes the hosts (audited);
//   - the gateway's own check: an LLM whose endpoint was moved behind the
//     extension's back (a superuser's UPDATE) gets 502
//     secret_host_not_allowed and the other upstream sees no request, while
//     a literal key may go anywhere.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { startMock } from './lib/mock.mjs';
import { startCluster, PGBIN, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, eventsFor, withLogs, sqlLit as q } from './lib/gatewayd.mjs';

const execFileP = promisify(execFile);
const CANARY = `sk-CANARY-${randomBytes(12).toString('hex')}`;
const ALICE_VALUE = `sk-CANARY-alice-${randomBytes(8).toString('hex')}`;
const PW = 'a long test password 42';

let mock;
let thief;
let pg;
let gw;
let ids;
let api;
const users = {};
const it = withLogs(nodeIt, () => [gw, pg]);

// A browser-like REST client: cookies and the CSRF token.
class Client {
  constructor() { this.cookies = {}; }

  async req(method, p, body) {
    const headers = {};
    const jar = Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    if (jar) headers.cookie = jar;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.cookies.aistudio_csrf) headers['x-csrf-token'] = this.cookies.aistudio_csrf;
    const res = await fetch(`${api}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      const i = kv.indexOf('=');
      this.cookies[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  }

  static async login(email) {
    const c = new Client();
    const r = await c.req('POST', '/auth/login', { email, password: PW });
    assert.equal(r.status, 200, `login ${email}: ${r.text}`);
    return c;
  }
}

const slug = (n) => ids.llms[n].slug;
const KEY = (app = 'main-app') => ids.apps[app].key;
const messages = [{ role: 'user', content: 'hello there' }];

// A gateway call with an app key; the answer's text and every header.
async function gwPost(p, body, { headers = {}, key = KEY() } = {}) {
  const res = await fetch(`${gw.url}${p}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });
  const text = await res.text();
  const head = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  return { status: res.status, text, head, rid: res.headers.get('x-request-id'), headers: res.headers };
}

before(async () => {
  mock = await startMock({ expectKey: CANARY, frames: 3 });
  thief = await startMock({ frames: 3 }); // another port of 127.0.0.1
  pg = await startCluster();
  for (const [who, role] of [['root', 'super_admin'], ['alice', 'admin'], ['mallory', 'admin'], ['chat', 'chat_user']]) {
    users[who] = Number(await pg.sql(`SELECT aistudio.create_user('${who}@example.com', ${q(who)}, ${q(PW)}, '${role}')`));
  }
  ids = await seed(pg, {
    vendorKey: CANARY,
    vendorKeyHosts: [`127.0.0.1:${mock.port}`], // the mock's port only
    llms: [
      { name: 'GPT', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Claude', vendor: 'anthropic', endpoint: mock.url, key: 'secret' },
      { name: 'Gem', vendor: 'google_ai', endpoint: mock.url, key: 'secret' },
      { name: 'Moved', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Literal', vendor: 'openai', endpoint: `${thief.url}/v1`, key: 'literal-key-for-the-thief' },
    ],
    prices: [['openai', 'gpt-4o', 2.5, 10, null, 1.25], ['anthropic', 'claude-x', 3, 15]],
    apps: [
      { name: 'main-app', llms: ['GPT', 'Claude', 'Gem', 'Moved', 'Literal'] },
      { name: 'usage-app', llms: ['GPT'], budget: 100 },
    ],
  });
  // the chat user may use GPT
  const g = Number(await pg.sql(`SELECT aistudio.create_group('chatters')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${users.chat}, ${g}); SELECT aistudio.grant_llm_to_group(${g}, ${ids.llms.GPT.id})`);
  gw = await startGatewayd(pg);
  api = `http://127.0.0.1:${gw.serverPort}`;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await thief?.stop();
    await pg?.cleanup();
  }
});

describe('usage that breaks the vendor\'s rules is stored, not lost', () => {
  const rids = [];

  it('cached reads above the prompt: clamped to the prompt, flagged, priced from the clamped counts', async () => {
    const r = await gwPost(`/llm/rest/${slug('GPT')}/v1/chat/completions`, { model: 'gpt-4o', messages },
      { key: KEY('usage-app'), headers: { 'x-mock-cached-tokens': '900', 'x-mock-prompt-tokens': '500' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).usage.prompt_tokens_details.cached_tokens, 900, 'the upstream said 900 cached');
    const evs = await waitEvent(pg, r.rid);
    assert.equal(evs.length, 1, JSON.stringify(evs));
    const e = evs[0];
    assert.equal(e.kind, 'stored', JSON.stringify(e));
    assert.equal(Number(e.prompt_tokens), 500);
    assert.equal(Number(e.cache_read_tokens), 500, 'cache reads clamped to the prompt');
    assert.match(e.error, /usage clamped: cache_read_tokens 900 > prompt_tokens 500/);
    const cost = await pg.sql(`SELECT aistudio.cost('openai', 'gpt-4o', 500, ${e.response_tokens}, 0, 500)`);
    assert.equal(Number(e.cost), Number(cost));
    assert.ok(Number(e.cost) > 0);
    rids.push(r.rid);
  });

  it('a negative count: clamped to 0 and flagged', async () => {
    const r = await gwPost(`/llm/rest/${slug('GPT')}/v1/chat/completions`, { model: 'gpt-4o', messages },
      { key: KEY('usage-app'), headers: { 'x-mock-prompt-tokens': '-7' } });
    assert.equal(r.status, 200, r.text);
    const evs = await waitEvent(pg, r.rid);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].kind, 'stored', JSON.stringify(evs[0]));
    assert.equal(Number(evs[0].prompt_tokens), 0);
    assert.match(evs[0].error, /usage clamped: prompt_tokens -7 < 0/);
    rids.push(r.rid);
  });

  it('both count in the app\'s budget, and nothing was rejected', async () => {
    const evs = await eventsFor(pg, rids);
    assert.equal(evs.filter((e) => e.kind === 'rejected').length, 0);
    const sum = evs.reduce((s, e) => s + Number(e.cost), 0);
    const spent = Number(await pg.sql(`SELECT spent FROM aistudio.budget_status(${ids.apps['usage-app'].id})`));
    assert.ok(Math.abs(spent - sum) < 1e-12 && spent > 0, `budget spent ${spent} = events ${sum}`);
  });
});

describe('the vendor key never comes back from the upstream', () => {
  const seen = []; // every answer the clients got
  const rids = [];
  const call = async (what, p, body, { status = 200, headers } = {}) => {
    const r = await gwPost(p, body, { headers });
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
    assert.ok(!r.text.includes(CANARY) && !r.head.includes(CANARY), `${what}: the key is in the answer`);
    assert.ok(r.text.includes('[REDACTED]'), `${what}: the echo is there, redacted: ${r.text.slice(0, 400)}`);
    seen.push(r.text, r.head);
    rids.push(r.rid);
    return r;
  };

  it('OpenAI pass-through: JSON 200 (body and relayed header), error 500, SSE stream, auto-detected stream', async () => {
    const p = `/llm/rest/${slug('GPT')}/v1/chat/completions`;
    const r = await call('openai json', p, { model: 'echo-headers', messages });
    assert.match(r.headers.get('x-ratelimit-echo') ?? '', /authorization=Bearer \[REDACTED\]/, 'the relayed header is redacted');
    await call('openai 500', p, { model: 'echo-headers-fault-500', messages }, { status: 500 });
    await call('openai 429', p, { model: 'echo-headers-fault-429', messages }, { status: 429 });
    await call('openai sse', `/llm/stream/${slug('GPT')}/v1/chat/completions`, { model: 'echo-headers', messages, stream: true });
    await call('openai call', `/llm/call/${slug('GPT')}/v1/chat/completions`, { model: 'echo-headers', messages, stream: true });
  });

  it('Anthropic: pass-through JSON and error, /ai translated JSON, stream and error', async () => {
    const p = `/llm/rest/${slug('Claude')}/v1/messages`;
    const h = { 'anthropic-version': '2023-06-01' };
    await call('anthropic json', p, { model: 'echo-headers', max_tokens: 20, messages }, { headers: h });
    await call('anthropic 500', p, { model: 'echo-headers-fault-500', max_tokens: 20, messages }, { status: 500, headers: h });
    const ai = `/ai/${slug('Claude')}/v1/chat/completions`;
    await call('/ai json', ai, { model: 'echo-headers', messages });
    await call('/ai stream', ai, { model: 'echo-headers', messages, stream: true });
    await call('/ai 429', ai, { model: 'echo-headers-fault-429', messages }, { status: 429 });
  });

  it('Google AI: generateContent, the SSE stream and an error', async () => {
    const b = { contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] };
    await call('gemini json', `/llm/rest/${slug('Gem')}/v1beta/models/echo-headers:generateContent`, b);
    await call('gemini sse', `/llm/stream/${slug('Gem')}/v1beta/models/echo-headers:streamGenerateContent?alt=sse`, b);
    await call('gemini 500', `/llm/rest/${slug('Gem')}/v1beta/models/echo-headers-fault-500:generateContent`, b,
      { status: 500 });
  });

  it('the chat of a signed-in user', async () => {
    const c = await Client.login('chat@example.com');
    for (const body of [{ llm: 'GPT', model: 'echo-headers', messages },
      { llm: 'GPT', model: 'echo-headers', messages, stream: true },
      { llm: 'GPT', model: 'echo-headers-fault-500', messages }]) {
      const r = await c.req('POST', '/chat/completions', body);
      const head = [...r.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
      assert.ok(!r.text.includes(CANARY) && !head.includes(CANARY), `chat: the key is in the answer: ${r.text.slice(0, 300)}`);
      assert.ok(r.text.includes('[REDACTED]'), `chat: the echo is there, redacted: ${r.text.slice(0, 300)}`);
      rids.push(r.headers.get('x-request-id'));
    }
  });

  it('the upstream did receive the key (so the echoes held it)', async () => {
    const es = await mock.ledger();
    const echoed = es.filter((e) => /echo-headers/.test(e.model ?? ''));
    assert.ok(echoed.length >= 15, `echo requests in the ledger: ${echoed.length}`);
    assert.ok(echoed.every((e) => JSON.stringify(e.auth).includes(CANARY)), 'each carried the vendor key');
  });

  it('the stored events, the gateway log and a pg_dump hold no copy of the key', async () => {
    const evs = [];
    for (const rid of rids.filter(Boolean)) evs.push(...await waitEvent(pg, rid, { settleMs: 0 }));
    assert.equal(evs.length, rids.filter(Boolean).length, 'one event per request');
    assert.ok(evs.every((e) => !JSON.stringify(e).includes(CANARY)), 'no key in the events');
    const errs = evs.filter((e) => e.status_code >= 400);
    assert.ok(errs.length >= 6 && errs.every((e) => /\[REDACTED\]/.test(e.error ?? '')),
      `the upstream's error texts are stored redacted: ${JSON.stringify(errs.map((e) => e.error))}`);
    assert.equal(Number(await pg.sql(`SELECT count(*) FROM aistudio.llm_interactions WHERE strpos(error, ${q(CANARY)}) > 0`)), 0);
    assert.ok(!gw.logs().includes(CANARY), 'no key in the gateway log');
    const { stdout } = await execFileP(path.join(PGBIN, 'pg_dump'),
      ['-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', '-d', pg.database], { maxBuffer: 256 * 1024 * 1024 });
    assert.ok(stdout.includes('llm_interactions'), 'the dump has the analytics');
    assert.ok(!stdout.includes(CANARY), 'no key in pg_dump');
    assert.ok(!stdout.includes(CANARY.slice(10)), 'not even its random part');
  });
});

describe('who can read a secret', () => {
  let alice;
  let mallory;
  let root;
  let aliceLlm;
  const otherPort = () => thief.port;

  before(async () => {
    alice = await Client.login('alice@example.com');
    mallory = await Client.login('mallory@example.com');
    root = await Client.login('root@example.com');
  });

  it('an admin cannot bind another admin\'s unbound secret to a server of their own', async () => {
    let r = await alice.req('POST', '/secrets', { name: 'ALICE_KEY', value: ALICE_VALUE });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.allowed_hosts, null, 'created unbound');
    assert.equal(r.json.value_set_by, users.alice);
    assert.ok(!r.text.includes(ALICE_VALUE));
    r = await mallory.req('POST', '/llms', { name: 'Steal', vendor: 'openai', api_endpoint: `http://127.0.0.1:${otherPort()}/v1`,
      api_key: '$SECRET/ALICE_KEY' });
    assert.equal(r.status, 403, r.text);
    assert.match(r.json.error.message, /permission denied to bind secret "ALICE_KEY"/);
    assert.match(r.text, /alice@example\.com/, 'the answer says who may bind it');
    r = await alice.req('GET', '/secrets/ALICE_KEY');
    assert.equal(r.json.allowed_hosts, null, 'still unbound');
  });

  it('the admin who set it binds it by using it; then nobody points it at another port', async () => {
    let r = await alice.req('POST', '/llms', { name: 'Alice GPT', vendor: 'openai', api_endpoint: `${mock.url}/v1`,
      api_key: '$SECRET/ALICE_KEY' });
    assert.equal(r.status, 201, r.text);
    aliceLlm = r.json.id;
    r = await alice.req('GET', '/secrets/ALICE_KEY');
    assert.deepEqual(r.json.allowed_hosts, [`127.0.0.1:${mock.port}`], 'bound to the endpoint\'s host:port');
    r = await mallory.req('POST', '/llms', { name: 'Steal', vendor: 'openai', api_endpoint: `http://127.0.0.1:${otherPort()}/v1`,
      api_key: '$SECRET/ALICE_KEY' });
    assert.equal(r.status, 403, r.text);
    assert.match(r.json.error.message, new RegExp(`secret "ALICE_KEY" may only be sent to host\\(s\\) 127\\.0\\.0\\.1:${mock.port}`));
    r = await mallory.req('PATCH', `/llms/${aliceLlm}`, { api_endpoint: `http://127.0.0.1:${otherPort()}/v1` });
    assert.equal(r.status, 403, r.text);
    r = await mallory.req('PATCH', `/llms/${aliceLlm}`, { api_endpoint: `http://localhost:${mock.port}/v1` });
    assert.equal(r.status, 403, `another name for the same machine is another host: ${r.text}`);
    r = await mallory.req('GET', `/llms/${aliceLlm}`);
    assert.equal(r.json.api_endpoint, `${mock.url}/v1`, 'unchanged');
    // replacing the value is allowed and keeps the hosts
    r = await mallory.req('PUT', '/secrets/ALICE_KEY', { value: `${ALICE_VALUE}-2` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.allowed_hosts, [`127.0.0.1:${mock.port}`]);
    r = await mallory.req('PUT', '/secrets/ALICE_KEY', { value: `${ALICE_VALUE}-3`, allowed_hosts: ['127.0.0.1'] });
    assert.equal(r.status, 403, `other hosts with a new value: super admin only: ${r.text}`);
  });

  it('only a super admin changes the hosts, and it is audited', async () => {
    let r = await mallory.req('PUT', '/secrets/ALICE_KEY/hosts', { allowed_hosts: [`127.0.0.1:${otherPort()}`] });
    assert.equal(r.status, 403, r.text);
    r = await alice.req('PUT', '/secrets/ALICE_KEY/hosts', { allowed_hosts: [`127.0.0.1:${otherPort()}`] });
    assert.equal(r.status, 403, r.text);
    r = await root.req('PUT', '/secrets/ALICE_KEY/hosts', { allowed_hosts: ['bad host'] });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /invalid allowed_hosts entry "bad host"/);
    r = await root.req('PUT', '/secrets/ALICE_KEY/hosts', { allowed_hosts: [`127.0.0.1:${otherPort()}`] });
    assert.equal(r.status, 400, `Alice's LLM would be left out: ${r.text}`);
    assert.match(r.text, /Alice GPT/);
    r = await root.req('PUT', '/secrets/ALICE_KEY/hosts', { allowed_hosts: [`127.0.0.1:${mock.port}`, `127.0.0.1:${otherPort()}`] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.allowed_hosts, [`127.0.0.1:${mock.port}`, `127.0.0.1:${otherPort()}`].sort());
    r = await root.req('GET', '/audit-log?object_type=secrets');
    assert.equal(r.status, 200, r.text);
    const rows = r.json.data.filter((a) => a.changes && a.changes.allowed_hosts && a.changes.allowed_hosts.old);
    assert.ok(rows.some((a) => Number(a.actor_id) === users.root), `audit rows: ${JSON.stringify(r.json.data.slice(0, 5))}`);
    r = await mallory.req('PATCH', `/llms/${aliceLlm}`, { api_endpoint: `http://127.0.0.1:${otherPort()}/v1` });
    assert.equal(r.status, 200, `now allowed: ${r.text}`);
  });

  it('the gateway checks again: an endpoint moved behind the extension\'s back gets 502, and nothing is sent', async () => {
    await thief.resetLedger();
    await pg.sql(`UPDATE aistudio.llms SET api_endpoint = ${q(`${thief.url}/v1`)} WHERE id = ${ids.llms.Moved.id}`);
    const p = `/llm/rest/${slug('Moved')}/v1/chat/completions`;
    let r;
    const end = Date.now() + 15000;
    for (;;) { // until the gateway reloaded the configuration
      r = await gwPost(p, { model: 'gpt-4o', messages });
      if (r.status === 502 || Date.now() > end) break;
      await sleep(100);
    }
    assert.equal(r.status, 502, r.text);
    const err = JSON.parse(r.text).error;
    assert.equal(err.code, 'secret_host_not_allowed');
    assert.match(err.message, new RegExp(`may not be sent to 127\\.0\\.0\\.1:${thief.port}`));
    assert.ok(!r.text.includes(CANARY));
    const evs = await waitEvent(pg, r.rid);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].status_code, 502);
    assert.match(evs[0].error, /^secret_host_not_allowed/);
    assert.equal((await thief.ledger()).length, 0, 'the other upstream saw no request');
    // a literal key goes anywhere: whoever typed it knows it
    r = await gwPost(`/llm/rest/${slug('Literal')}/v1/chat/completions`, { model: 'gpt-4o', messages });
    assert.equal(r.status, 200, r.text);
    assert.equal((await thief.ledger()).length, 1);
  });
});
