// regress/e2e/gateway-plugins.test.mjs: plugins as isolated processes over
// gRPC (issue 11), end to end with the real gatewayd, PostgreSQL and the
// mock upstream; the plugins are the examples of plugins/examples (C and
// Node) and the test plugins of regress/e2e/plugins:
//   - the prompt firewall at post_auth on each vendor's pass-through route,
//     on /ai and on the chat, and at pre_auth (before the API key: no key
//     needed to be refused); a block is the vendor's error shape, nothing
//     goes upstream, and it is recorded once with the plugin's name and no
//     cost;
//   - the PII redactor at post_auth: the prompt reaching the upstream is
//     redacted (the mock's prompt token count shows it);
//   - the signed-header auth plugin: a signed request without an API key is
//     the app it names; a bad signature is 401;
//   - the response logger at on_response: one line per answer, JSON and
//     streamed;
//   - the Node example (team gate) at pre_auth (blocks) and post_auth (a
//     header set on the upstream request: the mock's usage shows it);
//   - a plugin killed under load: the requests of its LLM get 503
//     plugin_unavailable (or pass when attached fail_open), an LLM without
//     it is unaffected, it is back within seconds, gatewayd's RSS stays flat;
//   - a plugin that sleeps: its deadline, 503; garbage and a wrong handshake:
//     a clear error in the log at start, 503 for its LLM; garbage answers:
//     503; a plugin deactivated: stopped, its LLM's requests pass;
//   - PLUGIN_SANDBOX=none and the default (bubblewrap when installed).
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, chmodSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, withLogs, sqlLit as q, ROOT } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-plugins';
const EX = path.join(ROOT, 'plugins/examples/build');
const NODE_PLUGIN = path.join(ROOT, 'plugins/examples/node-team-gate/plugin.mjs');
const TP = path.join(ROOT, 'regress/e2e/plugins');
const SECRET = 'signing-secret-0123456789';
const PW = 'chat password 01234';

let mock;
let pg;
let gw;
let ids;
let logDir;
const plugin = {}; // name -> id
const it = withLogs(nodeIt, () => [gw, pg]);

async function createPlugin(name, hook, command, config, attach = [], failOpen = []) {
  const id = Number(await pg.sql(`SELECT aistudio.create_plugin(${q(name)}, ${q(hook)}, ${q(command)},
    ${q(JSON.stringify(config))}::jsonb)`));
  for (const llm of attach) await pg.sql(`SELECT aistudio.attach_plugin(${ids.llms[llm].id}, ${id})`);
  for (const llm of failOpen) await pg.sql(`SELECT aistudio.attach_plugin(${ids.llms[llm].id}, ${id}, fail_open => true)`);
  plugin[name] = id;
  return id;
}

async function waitLog(g, re, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(g.stderr());
    if (m) return m;
    if (Date.now() > end) assert.fail(`not in gatewayd's log within ${timeoutMs} ms: ${re}`);
    await sleep(50);
  }
}

const chatBody = (text, extra = {}) => ({ model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: text }], ...extra });

async function send(g, urlPath, body, headers = {}) {
  const res = await fetch(`${g.url}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* a stream or not JSON */ }
  return { status: res.status, text, json, rid: res.headers.get('x-request-id') };
}

const bearer = (app = 'app') => ({ authorization: `Bearer ${ids.apps[app].key}` });
const openai = (g, llm, text, headers = bearer(), extra = {}) =>
  send(g, `/llm/rest/${ids.llms[llm].slug}/v1/chat/completions`, chatBody(text, extra), headers);

// The one event of a request: its status, error, and no cost when blocked.
async function oneEvent(rid) {
  const evs = await waitEvent(pg, rid);
  assert.equal(evs.length, 1, `exactly one event for ${rid}: ${JSON.stringify(evs)}`);
  return evs[0];
}

async function assertBlockedOnce(r, status, pluginName) {
  assert.equal(r.status, status, r.text);
  const ev = await oneEvent(r.rid);
  assert.equal(ev.status_code, status);
  assert.match(ev.error ?? '', new RegExp(pluginName), `the event names the plugin: ${ev.error}`);
  assert.equal(Number(ev.cost ?? 0), 0, 'no cost');
  assert.equal(Number(ev.prompt_tokens ?? 0), 0, 'no tokens');
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'plugins/examples')], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('make', ['-s', '-C', TP], { stdio: ['ignore', 'ignore', 'inherit'] });
  mock = await startMock({ expectKey: VKEY, frames: 4, threads: 2 });
  pg = await startCluster();
  const llm = (name, vendor = 'openai', endpoint = `${mock.url}/v1`) => ({ name, vendor, endpoint, key: 'secret' });
  const all = ['Open', 'Claude', 'Gem', 'Llama', 'Plain', 'Slow', 'Broken', 'Garbage', 'FailOpen', 'Team', 'Signed', 'Logged',
    'Redacted'];
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [llm('Open'), llm('Claude', 'anthropic', mock.url), llm('Gem', 'google_ai', mock.url),
      llm('Llama', 'ollama', mock.url), llm('Plain'), llm('Slow'), llm('Broken'), llm('Garbage'), llm('FailOpen'),
      llm('Team'), llm('Signed'), llm('Logged', 'anthropic', mock.url), llm('Redacted')],
    prices: [['openai', 'gpt-4o', 1, 2], ['anthropic', 'claude-x', 3, 15]],
    apps: [{ name: 'app', llms: all }, { name: 'signed-app', llms: ['Signed'] }, { name: 'other-app', llms: ['Plain'] }],
  });
  // the chat: a signed-in user whose group grants the LLMs
  const chatUser = Number(await pg.sql(`SELECT aistudio.create_user('chat@example.com', 'Chat', ${q(PW)}, 'chat_user')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${chatUser}, ${ids.groupId})`);

  logDir = mkdtempSync(path.join(os.tmpdir(), 'e2e-plugin-log-'));
  chmodSync(logDir, 0o777); // plugins run as nobody when the tests run as root
  await createPlugin('fw', 'post_auth', `${EX}/firewall`, { phrases: ['ignore previous instructions'] },
    ['Open', 'Claude', 'Gem', 'Llama'], ['FailOpen']);
  await createPlugin('fw-pre', 'pre_auth', `${EX}/firewall`, { phrases: ['forbidden word'], code: 'refused_early' },
    ['Gem']);
  await createPlugin('pii', 'post_auth', `${EX}/pii_redactor`, {}, ['Open', 'Redacted']);
  await createPlugin('pii-out', 'on_response', `${EX}/pii_redactor`, {}, ['Redacted']);
  await createPlugin('logger', 'on_response', `file://${EX}/response_logger`,
    { path: `${logDir}/responses.log`, writable_paths: [logDir] }, ['Logged']);
  await createPlugin('signed', 'auth', `${EX}/custom_auth`, { secret: SECRET }, ['Signed']);
  await createPlugin('team-pre', 'pre_auth', NODE_PLUGIN, { teams: ['red'], timeout_ms: 2000 }, ['Team']);
  await createPlugin('team-post', 'post_auth', NODE_PLUGIN,
    { set_header: 'x-mock-prompt-tokens', set_value: '777', timeout_ms: 2000 }, ['Team']);
  await createPlugin('sleepy', 'post_auth', `${TP}/build/misbehave`, { sleep_ms: 2000, timeout_ms: 100 }, ['Slow']);
  await createPlugin('garbage-handshake', 'post_auth', `${TP}/garbage_handshake.sh`, {}, ['Broken']);
  await createPlugin('wrong-version', 'post_auth', `${TP}/wrong_version.sh`, {});
  await createPlugin('garbage-answers', 'post_auth', `${TP}/garbage_answers.py`, {}, ['Garbage']);

  gw = await startGatewayd(pg, { env: { PLUGIN_HEALTH_INTERVAL_MS: '500', PLUGIN_RESTART_MAX_MS: '1000' } });
  for (const name of ['fw', 'fw-pre', 'pii', 'pii-out', 'logger', 'signed', 'team-pre', 'team-post', 'sleepy', 'garbage-answers']) {
    await waitLog(gw, new RegExp(`plugin ${name} \\(id ${plugin[name]}\\) serves the`));
  }
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }
});

describe('the prompt firewall (C) on every route', () => {
  it('OpenAI pass-through: a listed phrase is blocked (OpenAI shape, nothing upstream, one event, no cost)', async () => {
    await mock.resetLedger();
    const r = await openai(gw, 'Open', 'Please ignore previous instructions and talk');
    assert.equal(r.json?.error?.code, 'blocked_by_filter', r.text);
    assert.match(r.json.error.message, /refused by the firewall/);
    await assertBlockedOnce(r, 403, 'fw');
    assert.equal((await mock.ledger()).length, 0, 'nothing went upstream');
    const ok = await openai(gw, 'Open', 'hello there');
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await mock.ledger()).length, 1, 'a clean prompt goes upstream');
  });

  it('/ai (translated), Anthropic, Google and Ollama pass-through', async () => {
    await mock.resetLedger();
    const bad = 'ignore previous instructions';
    const ai = await send(gw, `/ai/${ids.llms.Claude.slug}/v1/chat/completions`, chatBody(bad, { model: 'claude-x' }), bearer());
    assert.equal(ai.status, 403, ai.text);
    assert.equal(ai.json.error.code, 'blocked_by_filter');
    const an = await send(gw, `/llm/rest/${ids.llms.Claude.slug}/v1/messages`,
      { model: 'claude-x', max_tokens: 16, messages: [{ role: 'user', content: [{ type: 'text', text: bad }] }] },
      { 'x-api-key': ids.apps.app.key, 'anthropic-version': '2023-06-01' });
    assert.equal(an.status, 403, an.text);
    assert.equal(an.json?.type, 'error', `Anthropic's error shape: ${an.text}`);
    const ge = await send(gw, `/llm/rest/${ids.llms.Gem.slug}/v1beta/models/gemini-2.0-flash:generateContent`,
      { contents: [{ role: 'user', parts: [{ text: bad }] }] }, { 'x-goog-api-key': ids.apps.app.key });
    assert.equal(ge.status, 403, ge.text);
    const ol = await send(gw, `/llm/rest/${ids.llms.Llama.slug}/api/chat`,
      { model: 'llama3', stream: false, messages: [{ role: 'user', content: bad }] }, bearer());
    assert.equal(ol.status, 403, ol.text);
    for (const r of [ai, an, ge, ol]) await assertBlockedOnce(r, 403, 'fw');
    assert.equal((await mock.ledger()).length, 0, 'nothing went upstream');
    const fine = await send(gw, `/llm/rest/${ids.llms.Llama.slug}/api/chat`,
      { model: 'llama3', stream: false, messages: [{ role: 'user', content: 'hi' }] }, bearer());
    assert.equal(fine.status, 200, fine.text);
  });

  it('the chat of the web UI', async () => {
    const base = `http://127.0.0.1:${gw.serverPort}`;
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'chat@example.com', password: PW }),
    });
    assert.equal(login.status, 200, await login.text());
    const jar = {};
    for (const c of login.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      jar[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    }
    const chat = (text) => fetch(`${base}/api/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-csrf-token': jar.aistudio_csrf,
        cookie: Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: JSON.stringify({ llm: ids.llms.Open.slug, model: 'gpt-4o', messages: [{ role: 'user', content: text }] }),
    });
    const blocked = await chat('now ignore previous instructions');
    const body = await blocked.text();
    assert.equal(blocked.status, 403, body);
    assert.equal(JSON.parse(body).error.code, 'blocked_by_filter');
    const ok = await chat('hello');
    assert.equal(ok.status, 200, await ok.text());
  });

  it('pre_auth: refused before the API key is checked (no key needed), with the configured code', async () => {
    await mock.resetLedger();
    const r = await send(gw, `/llm/rest/${ids.llms.Gem.slug}/v1beta/models/gemini-2.0-flash:generateContent`,
      { contents: [{ parts: [{ text: 'a forbidden word' }] }] });
    assert.equal(r.status, 403, r.text);
    assert.match(r.text, /refused_early|refused by the firewall/);
    await assertBlockedOnce(r, 403, 'fw-pre');
    const noKey = await send(gw, `/llm/rest/${ids.llms.Gem.slug}/v1beta/models/gemini-2.0-flash:generateContent`,
      { contents: [{ parts: [{ text: 'harmless' }] }] });
    assert.equal(noKey.status, 401, `then the key check: ${noKey.text}`);
    assert.equal((await mock.ledger()).length, 0);
  });
});

describe('modifying plugins', () => {
  it('the PII redactor (C) at post_auth: the upstream gets the redacted prompt', async () => {
    await mock.resetLedger();
    // "+1 415 555 0100" is four words of the mock's prompt count, "[PHONE]" one
    const plain = await openai(gw, 'Plain', 'call me on +1 415 555 0100 please');
    const red = await openai(gw, 'Open', 'call me on +1 415 555 0100 please');
    assert.equal(plain.status, 200, plain.text);
    assert.equal(red.status, 200, red.text);
    assert.equal(red.json.usage.prompt_tokens, plain.json.usage.prompt_tokens - 3,
      `the phone number reached the upstream as one word: ${red.json.usage.prompt_tokens} vs ${plain.json.usage.prompt_tokens}`);
  });

  it('the PII redactor (C) on both sides: the prompt upstream, a JSON answer, a streamed answer split mid-address', async () => {
    await mock.resetLedger();
    const p = await openai(gw, 'Redacted', 'my address is john.doe@example.com, thanks', {
      ...bearer(), 'x-mock-ledger-body': '1', 'x-mock-answer': 'write to jane@example.org today' });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.choices[0].message.content, 'write to [EMAIL] today', 'the JSON answer is redacted');
    const [entry] = await mock.ledger();
    assert.match(entry.body ?? '', /my address is \[EMAIL\], thanks/, `the upstream got the redacted prompt: ${entry.body}`);
    assert.doesNotMatch(entry.body, /john\.doe/);
    // a stream: the address arrives in two frames, "now" in a third
    const st = await openai(gw, 'Redacted', 'hi', { ...bearer(), 'x-mock-answer': 'mail jo|hn@example.com| now' },
      { stream: true });
    assert.equal(st.status, 200, st.text);
    const deltas = st.text.split('\n\n').filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(deltas, 'mail [EMAIL] now', `the client's text: ${st.text}`);
    assert.doesNotMatch(st.text, /hn@example/);
    assert.match(st.text, /data: \[DONE\]/, 'the stream ends as usual');
  });

  it('the Node plugin: pre_auth blocks without a listed team, post_auth sets an upstream header', async () => {
    const none = await openai(gw, 'Team', 'hi');
    assert.equal(none.status, 400, none.text);
    assert.equal(none.json.error.code, 'team_required');
    await assertBlockedOnce(none, 400, 'team-pre');
    const blue = await openai(gw, 'Team', 'hi', { ...bearer(), 'x-team': 'blue' });
    assert.equal(blue.status, 403, blue.text);
    assert.equal(blue.json.error.code, 'team_not_allowed');
    const red = await openai(gw, 'Team', 'hi', { ...bearer(), 'x-team': 'red' });
    assert.equal(red.status, 200, red.text);
    // x-mock-prompt-tokens: 777, set by the plugin, made the mock report 777
    assert.equal(red.json.usage.prompt_tokens, 777, red.text);
  });

  it('the signed-header auth plugin (C): the app it names, without an API key', async () => {
    const sig = createHmac('sha256', SECRET).update(String(ids.apps['signed-app'].id)).digest('hex');
    const ok = await openai(gw, 'Signed', 'hi', { 'x-signed-app': `${ids.apps['signed-app'].id}.${sig}` });
    assert.equal(ok.status, 200, ok.text);
    const ev = await oneEvent(ok.rid);
    assert.equal(Number(ev.app_id), ids.apps['signed-app'].id, 'recorded as the app it named');
    const bad = await openai(gw, 'Signed', 'hi', { 'x-signed-app': `${ids.apps['signed-app'].id}.${sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a')}` });
    assert.equal(bad.status, 401, bad.text);
    assert.equal(bad.json.error.code, 'invalid_signature');
    await assertBlockedOnce(bad, 401, 'signed');
    // an app that may not use the LLM, validly signed: the access check still applies
    const otherSig = createHmac('sha256', SECRET).update(String(ids.apps['other-app'].id)).digest('hex');
    const other = await openai(gw, 'Signed', 'hi', { 'x-signed-app': `${ids.apps['other-app'].id}.${otherSig}` });
    assert.equal(other.status, 403, other.text);
    // no header: the API key decides
    assert.equal((await openai(gw, 'Signed', 'hi', {})).status, 401);
    assert.equal((await openai(gw, 'Signed', 'hi')).status, 200);
  });

  it('the response logger (C) at on_response: one line per answer, JSON and streamed', async () => {
    const body = (stream) => ({ model: 'claude-x', max_tokens: 16, stream, messages: [{ role: 'user', content: 'hi' }] });
    const hdr = { 'x-api-key': ids.apps.app.key, 'anthropic-version': '2023-06-01' };
    const json = await send(gw, `/llm/rest/${ids.llms.Logged.slug}/v1/messages`, body(false), hdr);
    assert.equal(json.status, 200, json.text);
    const stream = await send(gw, `/llm/rest/${ids.llms.Logged.slug}/v1/messages`, body(true), hdr);
    assert.equal(stream.status, 200, stream.text);
    assert.match(stream.text, /event: message_stop/, 'the stream arrives whole');
    const file = `${logDir}/responses.log`;
    let lines = [];
    for (let i = 0; i < 100 && lines.length < 2; i++) {
      if (existsSync(file)) lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      if (lines.length < 2) await sleep(50);
    }
    const byRid = Object.fromEntries(lines.map((l) => [l.request_id, l]));
    assert.equal(byRid[json.rid]?.streamed, false, JSON.stringify(lines));
    assert.equal(byRid[stream.rid]?.streamed, true, JSON.stringify(lines));
    assert.ok(byRid[stream.rid].chunks > 0 && byRid[stream.rid].chars > 0, JSON.stringify(byRid[stream.rid]));
    assert.equal(byRid[json.rid].app_id, ids.apps.app.id);
  });
});

describe('failures', () => {
  it('a plugin killed under load: 503 plugin_unavailable (fail_open passes), others unaffected, back within seconds, RSS flat', async (t) => {
    const pidOf = async () => Number((await waitLog(gw, new RegExp(`plugin fw \\(id ${plugin.fw}\\) serves the post_auth hook \\(pid (\\d+)\\)(?![\\s\\S]*plugin fw \\(id ${plugin.fw}\\) serves)`)))[1]);
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.child.pid}/status`, 'utf8'))[1]);
    const load = async (llm, ms) => {
      const out = {};
      const end = Date.now() + ms;
      await Promise.all([1, 2, 3].map(async () => {
        while (Date.now() < end) {
          const r = await openai(gw, llm, 'hello');
          const k = r.status === 200 ? '200' : `${r.status} ${r.json?.error?.code}`;
          out[k] = (out[k] || 0) + 1;
        }
      }));
      return out;
    };
    await load('Open', 1500); // warm-up
    const rss0 = rss();
    const pid = await pidOf();
    const loads = Promise.all([load('Open', 3000), load('FailOpen', 3000), load('Plain', 3000)]);
    await sleep(500);
    process.kill(pid, 'SIGKILL');
    const [open, failOpen, plainLoad] = await loads;
    for (const k of Object.keys(open)) assert.ok(k === '200' || k === '503 plugin_unavailable', `Open: ${JSON.stringify(open)}`);
    assert.ok(open['503 plugin_unavailable'] > 0, `Open saw the plugin gone: ${JSON.stringify(open)}`);
    assert.deepEqual(Object.keys(failOpen), ['200'], `fail_open: every request passed: ${JSON.stringify(failOpen)}`);
    assert.deepEqual(Object.keys(plainLoad), ['200'], `an LLM without the plugin: ${JSON.stringify(plainLoad)}`);
    const again = await pidOf();
    assert.notEqual(again, pid, 'a new process');
    const r = await openai(gw, 'Open', 'ignore previous instructions');
    assert.equal(r.status, 403, `it blocks again: ${r.text}`);
    assert.match(gw.stderr(), new RegExp(`plugin fw \\(id ${plugin.fw}\\) is unavailable: the process (was killed by signal 9|exited)`));
    await load('Open', 1500);
    const rss1 = rss();
    t.diagnostic(`gatewayd RSS ${rss0} kB -> ${rss1} kB`);
    // AddressSanitizer keeps freed memory in quarantine (256 MB) and so grows
    // whatever happens; LeakSanitizer checks that run for leaks at its stop
    if (!/-asan$/.test(gw.bin)) assert.ok(rss1 - rss0 < 32 * 1024, `gatewayd's RSS stayed flat: ${rss0} kB -> ${rss1} kB`);
  });

  it('a plugin that sleeps: its deadline, 503 plugin_unavailable, recorded once', async () => {
    await mock.resetLedger();
    const t0 = Date.now();
    const r = await openai(gw, 'Slow', 'hi');
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'plugin_unavailable');
    assert.match(r.json.error.message, /no answer within 100 ms/);
    assert.ok(Date.now() - t0 < 1900, 'answered at the deadline, not when the plugin woke up');
    await assertBlockedOnce(r, 503, 'sleepy');
    assert.equal((await mock.ledger()).length, 0);
  });

  it('garbage and a wrong handshake: a clear error in the log at start, 503 for the LLM', async () => {
    await waitLog(gw, new RegExp(`plugin garbage-handshake \\(id ${plugin['garbage-handshake']}\\) is unavailable: not a plugin handshake: "hello, I am not a plugin"`));
    await waitLog(gw, new RegExp(`plugin wrong-version \\(id ${plugin['wrong-version']}\\) is unavailable: plugin protocol version 2 is not supported`));
    const r = await openai(gw, 'Broken', 'hi');
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'plugin_unavailable');
    assert.match(r.json.error.message, /not a plugin handshake/);
  });

  it('garbage answers: 503 plugin_unavailable', async () => {
    const r = await openai(gw, 'Garbage', 'hi');
    assert.equal(r.status, 503, r.text);
    assert.match(r.json.error.message, /does not decode/);
  });

  it('a plugin deactivated: its process stops and its LLM\'s requests pass', async () => {
    await pg.sql(`SELECT aistudio.update_plugin(${plugin.sleepy}, active => false)`);
    await waitLog(gw, new RegExp(`plugin sleepy \\(id ${plugin.sleepy}\\): no longer configured: stopped`));
    const r = await openai(gw, 'Slow', 'hi');
    assert.equal(r.status, 200, r.text);
  });
});

describe('PLUGIN_SANDBOX=none', () => {
  it('the same plugins run without the sandbox', async () => {
    const g2 = await startGatewayd(pg, { env: { PLUGIN_SANDBOX: 'none' } });
    try {
      assert.match(g2.stderr(), /plugins: run directory .*, sandbox none/);
      // every plugin serves before the LLM is called: the others' start-up
      // (two of them are Node processes) would otherwise share the CPU with
      // the calls to fw and pii, whose deadline is 100 ms
      for (const name of ['fw', 'fw-pre', 'pii', 'pii-out', 'logger', 'signed', 'team-pre', 'team-post', 'garbage-answers']) {
        await waitLog(g2, new RegExp(`plugin ${name} \\(id ${plugin[name]}\\) serves the`));
      }
      const r = await openai(g2, 'Open', 'ignore previous instructions');
      assert.equal(r.status, 403, r.text);
      const ok = await openai(g2, 'Open', 'hello');
      assert.equal(ok.status, 200, ok.text);
    } catch (e) {
      process.stderr.write(`\n[PLUGIN_SANDBOX=none] (failed) ${g2.logs().slice(-12000)}\n`);
      throw e;
    } finally {
      await g2.stop();
    }
    // the default (auto) uses bubblewrap wherever it is installed
    if (existsSync('/usr/bin/bwrap')) assert.match(gw.stderr(), /plugins: run directory .*, sandbox bwrap/);
  });
});
