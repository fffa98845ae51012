// regress/e2e/gateway-protocol.test.mjs: HTTP/1.1 framing and input rules on
// every server gatewayd runs (proxy PROXY_PORT, admin SERVER_PORT, docs
// DOCS_PORT), driven with exact bytes (lib/rawhttp.mjs):
//   - request smuggling primitives get 400 and the connection is closed, so
//     bytes after them are never read as a next request: two Content-Length
//     headers with different values, a malformed Content-Length,
//     Content-Length together with Transfer-Encoding, a Transfer-Encoding
//     other than exactly "chunked", two Transfer-Encoding headers,
//     Transfer-Encoding in HTTP/1.0, and a head with more header fields than
//     civetweb keeps (431); a repeated identical Content-Length and a plain
//     chunked body are accepted;
//   - a percent-encoded control character (%00–%1F, %7F) or a bad escape in
//     the path is 400 invalid_path on every server (never a truncated path);
//   - a model name with a control character (also \u0000) or longer than 255
//     bytes is 400 invalid_request on each vendor's pass-through route (the
//     body's "model", Google's model in the path), on /ai/{slug}/… and on the
//     chat of the admin server, and nothing reaches the upstream; a 255-byte
//     model is accepted and recorded whole.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, waitEvent, withLogs, sqlLit as q } from './lib/gatewayd.mjs';
import { rawRequest } from './lib/rawhttp.mjs';

const VKEY = 'sk-vendor-protocol-31';
const PW = 'protocol password 0123';
let mock;
let pg;
let gw;
let ids;
let userToken;
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 3 });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Strict', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', allowedModels: ['^gpt-4o$'] },
      { name: 'Open', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Claude', vendor: 'anthropic', endpoint: mock.url, key: 'secret' },
      { name: 'Gemini', vendor: 'google_ai', endpoint: mock.url, key: 'secret' },
      { name: 'Vertex', vendor: 'vertex', endpoint: mock.url, key: 'secret' },
      { name: 'Tgi', vendor: 'huggingface', endpoint: mock.url, key: 'secret' },
      { name: 'Llama', vendor: 'ollama', endpoint: mock.url, key: 'none' },
    ],
    apps: [{ name: 'proto-app', llms: ['Strict', 'Open', 'Claude', 'Gemini', 'Vertex', 'Tgi', 'Llama'] }],
  });
  // a signed-in user whose group grants the LLMs, for the admin server's chat
  if (await pg.sql(`SELECT has_function_privilege('aistudio_gateway', 'aistudio.can_use_llm(bigint, bigint)', 'EXECUTE')`) !== 't') {
    await pg.sql('GRANT EXECUTE ON FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway');
  }
  const uid = Number(await pg.sql(`SELECT aistudio.create_user('proto@example.com', 'Proto', ${q(PW)}, 'chat_user')`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${uid}, ${ids.groupId})`);
  gw = await startGatewayd(pg);

  const base = `http://127.0.0.1:${gw.serverPort}`;
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'proto@example.com', password: PW }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('aistudio_csrf='))?.split('=')[1];
  const tok = await fetch(`${base}/api/v1/me/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf },
    body: JSON.stringify({ name: 'protocol' }),
  });
  assert.equal(tok.status, 201, await tok.clone().text());
  userToken = (await tok.json()).token;
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

const KEY = () => ids.apps['proto-app'].key;
const slug = (n) => ids.llms[n].slug;

// The servers and a path each of them routes.
const servers = () => [
  ['proxy', gw.proxyPort, `/llm/rest/${slug('Open')}/v1/chat/completions`],
  ['admin', gw.serverPort, '/api/v1/auth/login'],
  ['docs', gw.docsPort, '/configuration'],
];

function jsonError(res, status, code) {
  assert.equal(res.status, status, `status: ${res.status} ${res.text.slice(0, 200)}`);
  let j;
  try { j = JSON.parse(res.text); } catch { assert.fail(`error body is not JSON: ${res.text.slice(0, 200)}`); }
  assert.ok(j.error && typeof j.error.message === 'string' && typeof j.error.type === 'string', res.text);
  if (code) assert.equal(j.error.code, code, res.text);
  return j.error;
}

// One 400 (or `status`), announced and real close, nothing after it.
function refusedAndClosed(r, what, status = 400) {
  assert.equal(r.responses.length, 1,
    `${what}: exactly one response, got ${r.responses.map((x) => x.status).join(',')} ${r.raw.toString('latin1').slice(0, 400)}`);
  const e = jsonError(r.responses[0], status, status === 400 ? 'invalid_request' : 'request_header_fields_too_large');
  assert.equal(r.responses[0].headers.connection, 'close', `${what}: Connection: close announced`);
  assert.notEqual(r.closed, 'open', `${what}: the server closed the connection`);
  assert.equal(r.trailing.length, 0, `${what}: nothing after the response`);
  return e;
}

const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

describe('request smuggling primitives: 400 and the connection closed', () => {
  it('two Content-Length headers with different values', async () => {
    for (const [name, port, path] of servers()) {
      const body = 'hello';
      const req = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
        + `Content-Length: ${body.length}\r\nContent-Length: ${body.length + smuggled.length}\r\n\r\n${body}${smuggled}`;
      const r = await rawRequest(port, req);
      const e = refusedAndClosed(r, `${name}: CL 5 + CL 39`);
      assert.match(e.message, /Content-Length/);
    }
    // the other order too
    const r = await rawRequest(gw.proxyPort, `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 2\r\n\r\n{}${smuggled}`);
    refusedAndClosed(r, 'proxy: CL 0 + CL 2');
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
  });

  it('a repeated identical Content-Length is accepted and the connection stays usable', async () => {
    for (const [name, port] of servers()) {
      const r = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n${smuggled}`);
      assert.deepEqual(r.responses.map((x) => x.status === 400), [false, false], `${name}: both answered, neither 400`);
    }
  });

  it('a malformed Content-Length', async () => {
    for (const v of ['5abc', '+5', '-1', '5, 5', '0x5', '99999999999999999999999', '']) {
      for (const [name, port, path] of servers()) {
        const r = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${v}\r\n\r\nhello${smuggled}`);
        assert.equal(r.responses.length, 1, `${name}: CL "${v}": one response`);
        assert.equal(r.responses[0].status >= 400 && r.responses[0].status < 500, true, `${name}: CL "${v}": ${r.responses[0].status}`);
        jsonError(r.responses[0], r.responses[0].status);
        assert.notEqual(r.closed, 'open', `${name}: CL "${v}": closed`);
      }
    }
  });

  it('Content-Length with Transfer-Encoding: chunked (RFC 9112 §6.1): the smuggled request is not answered', async () => {
    for (const [name, port, path] of servers()) {
      const req = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n`
        + `Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`;
      const r = await rawRequest(port, req);
      const e = refusedAndClosed(r, `${name}: CL + TE`);
      assert.match(e.message, /Transfer-Encoding/);
      // Transfer-Encoding first
      const r2 = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n`
        + `Content-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`);
      refusedAndClosed(r2, `${name}: TE + CL`);
    }
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
  });

  it('a Transfer-Encoding other than exactly chunked, or two of them', async () => {
    const bad = [
      ['chunked, identity'], ['identity'], ['xchunked'], ['chunked, chunked'], ['gzip, chunked'], ['chunkedx'],
      ['chunked', 'chunked'], ['identity', 'chunked'], ['chunked', 'identity'],
    ];
    for (const tes of bad) {
      for (const [name, port, path] of servers()) {
        const h = tes.map((t) => `Transfer-Encoding: ${t}\r\n`).join('');
        const r = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\n${h}\r\n0\r\n\r\n${smuggled}`);
        refusedAndClosed(r, `${name}: TE ${JSON.stringify(tes)}`);
      }
    }
  });

  it('Transfer-Encoding in an HTTP/1.0 request', async () => {
    for (const [name, port, path] of servers()) {
      const r = await rawRequest(port, `POST ${path} HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
      refusedAndClosed(r, `${name}: HTTP/1.0 + TE`);
    }
  });

  it('more header fields than the server keeps: 431 and closed (none is silently ignored)', async () => {
    const many = Array.from({ length: 70 }, (_, i) => `X-Filler-${i}: ${i}\r\n`).join('');
    for (const [name, port, path] of servers()) {
      const r = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\n${many}Content-Length: 2\r\n\r\n{}${smuggled}`);
      refusedAndClosed(r, `${name}: 72 header fields`, 431);
    }
  });

  it('a chunked body alone is still read (and proxied)', async () => {
    await mock.resetLedger();
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a b c' }] });
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const r = await rawRequest(gw.proxyPort, `POST /llm/rest/${slug('Open')}/v1/chat/completions HTTP/1.1\r\nHost: x\r\n`
      + `Authorization: Bearer ${KEY()}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}${smuggled}`);
    assert.deepEqual(r.responses.map((x) => x.status), [200, 200], r.raw.toString('latin1').slice(0, 600));
    assert.equal(r.closed, 'open', 'keep-alive after a well-framed request');
    assert.equal((await mock.ledger()).length, 1);
  });
});

describe('percent-encoded control characters in the path: 400 invalid_path', () => {
  it('on every server, whatever follows them', async () => {
    const cases = [
      ['proxy', gw.proxyPort, `/llm/rest/${slug('Open')}/v1/chat/completions%00`],
      ['proxy', gw.proxyPort, `/llm/rest/${slug('Open')}/v1/chat%00/completions`],
      ['proxy', gw.proxyPort, `/ai/${slug('Open')}/v1/chat/completions%01`],
      ['proxy', gw.proxyPort, '/healthz%00'],
      ['proxy', gw.proxyPort, '/metrics%0a'],
      ['admin', gw.serverPort, '/api/v1/apps/1%00'],
      ['admin', gw.serverPort, '/api/v1/apps/1%0d%0aX:%20y'],
      ['admin', gw.serverPort, '/app/main.js%00.css'],
      ['admin', gw.serverPort, '/api/v1/chat/completions%7f'],
      ['admin', gw.serverPort, '/index.html%1F'],
      ['docs', gw.docsPort, '/configuration%00'],
      ['docs', gw.docsPort, '/%00'],
      ['docs', gw.docsPort, '/gateway%01.md'],
      ['docs', gw.docsPort, '/configuration%zz'],
      ['proxy', gw.proxyPort, '/llm/rest/x/v1/models%2'],
    ];
    await mock.resetLedger();
    for (const [name, port, path] of cases) {
      for (const method of ['GET', 'POST']) {
        const body = method === 'POST' ? '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}' : '';
        const r = await rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY()}\r\n`
          + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}${smuggled}`);
        assert.ok(r.responses.length >= 1, `${name} ${method} ${path}: answered`);
        jsonError(r.responses[0], 400, 'invalid_path');
        // the framing was fine: the connection goes on with the next request
        assert.equal(r.responses.length, 2, `${name} ${method} ${path}: the next request is served`);
      }
    }
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
  });

  it('ordinary escapes still work (the admin API decodes a name segment)', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1/me`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.equal(res.status, 200);
    const r = await fetch(`http://127.0.0.1:${gw.serverPort}/api/v1/%6de`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.equal(r.status, 200, 'an encoded unreserved character in a segment is decoded');
  });
});

describe('the model name: no control characters, at most 255 bytes', () => {
  const msg = [{ role: 'user', content: 'hello there' }];
  const badModels = [
    ['gpt-4o\u0000-mini', /control characters/],
    ['gpt-4o\u0001', /control characters/],
    ['gpt-4o\n', /control characters/],
    ['gpt\u007f4o', /control characters/],
    ['g'.repeat(256), /longer than 255 bytes/],
    ['é'.repeat(128), /longer than 255 bytes/],
  ];

  async function send(port, path, body, auth = `Bearer ${KEY()}`) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body,
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  // Pass-through routes whose body names the model.
  const bodyRoutes = () => [
    ['openai', `/llm/rest/${slug('Open')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['openai allow-list', `/llm/rest/${slug('Strict')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['openai stream', `/llm/stream/${slug('Open')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['openai call', `/llm/call/${slug('Open')}/v1/chat/completions`, (m) => ({ model: m, messages: msg, stream: true })],
    ['huggingface', `/llm/rest/${slug('Tgi')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['anthropic', `/llm/rest/${slug('Claude')}/v1/messages`, (m) => ({ model: m, max_tokens: 10, messages: msg })],
    ['ollama', `/llm/rest/${slug('Llama')}/api/chat`, (m) => ({ model: m, messages: msg, stream: false })],
    ['ai openai', `/ai/${slug('Open')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['ai anthropic', `/ai/${slug('Claude')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['ai google', `/ai/${slug('Gemini')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['ai vertex', `/ai/${slug('Vertex')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
    ['ai ollama', `/ai/${slug('Llama')}/v1/chat/completions`, (m) => ({ model: m, messages: msg })],
  ];

  it('is refused on every vendor\'s pass-through route and on /ai/, and never forwarded', async () => {
    await mock.resetLedger();
    for (const [name, path, mk] of bodyRoutes()) {
      for (const [model, re] of badModels) {
        const r = await send(gw.proxyPort, path, JSON.stringify(mk(model)));
        const e = jsonError(r, 400, 'invalid_request');
        assert.match(e.message, re, `${name}: ${JSON.stringify(model).slice(0, 40)}: ${e.message}`);
        const ev = await waitEvent(pg, r.headers.get('x-request-id'), { settleMs: 0 });
        assert.equal(ev.length, 1, `${name}: one event`);
        assert.equal(ev[0].status_code, 400);
        assert.ok(ev[0].model_name === '' || ev[0].model_name === null, `${name}: no truncated model recorded: ${ev[0].model_name}`);
      }
      const nonString = await send(gw.proxyPort, path, JSON.stringify(mk(42)));
      jsonError(nonString, 400, 'invalid_request');
    }
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
  });

  it('the NUL trick does not pass the allow-list (was: allowed as "gpt-4o", forwarded whole)', async () => {
    await mock.resetLedger();
    const r = await send(gw.proxyPort, `/llm/rest/${slug('Strict')}/v1/chat/completions`,
      '{"model":"gpt-4o\\u0000-mini","messages":[{"role":"user","content":"hi"}]}');
    jsonError(r, 400, 'invalid_request');
    const ok = await send(gw.proxyPort, `/llm/rest/${slug('Strict')}/v1/chat/completions`,
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}');
    assert.equal(ok.status, 200, ok.text);
    const ledger = await mock.ledger();
    assert.deepEqual(ledger.map((e) => e.model), ['gpt-4o']);
  });

  it('Google\'s model in the path (google_ai and vertex)', async () => {
    await mock.resetLedger();
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a b' }] }] });
    const long = 'g'.repeat(256);
    const cases = [
      [`/llm/rest/${slug('Gemini')}/v1beta/models/${long}:generateContent`, 'invalid_request', /longer than 255 bytes/],
      [`/llm/rest/${slug('Vertex')}/v1/projects/p/locations/l/publishers/google/models/${long}:generateContent`, 'invalid_request', /longer than 255 bytes/],
      [`/llm/rest/${slug('Gemini')}/v1beta/models/gemini%00x:generateContent`, 'invalid_path', /./],
      [`/llm/stream/${slug('Gemini')}/v1beta/models/gemini%01:streamGenerateContent`, 'invalid_path', /./],
      [`/llm/rest/${slug('Vertex')}/v1/projects/p/locations/l/publishers/google/models/g%7f:generateContent`, 'invalid_path', /./],
    ];
    for (const [path, code, re] of cases) {
      const r = await send(gw.proxyPort, path, body);
      const e = jsonError(r, 400, code);
      assert.match(e.message, re);
    }
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
    // an escaped model name is read as the upstream will read it
    const esc = await send(gw.proxyPort, `/llm/rest/${slug('Gemini')}/v1beta/models/gemini-2.0-fl%61sh:generateContent`, body);
    assert.equal(esc.status, 200, esc.text);
    const ev = await waitEvent(pg, esc.headers.get('x-request-id'), { settleMs: 0 });
    assert.equal(ev[0].model_name, 'gemini-2.0-flash');
  });

  it('is refused on the admin server\'s chat', async () => {
    await mock.resetLedger();
    for (const [model, re] of badModels) {
      const r = await send(gw.serverPort, '/api/v1/chat/completions',
        JSON.stringify({ llm: slug('Open'), model, messages: msg }), `Bearer ${userToken}`);
      const e = jsonError(r, 400, 'invalid_request');
      assert.match(e.message, re);
    }
    assert.equal((await mock.ledger()).length, 0, 'nothing reached the upstream');
  });

  it('a 255-byte model is accepted, forwarded and recorded whole', async () => {
    const model = `m${'x'.repeat(253)}z`;
    assert.equal(Buffer.byteLength(model), 255);
    const twoByte = `${'é'.repeat(127)}z`; // 255 bytes of UTF-8
    for (const m of [model, twoByte]) {
      await mock.resetLedger();
      const r = await send(gw.proxyPort, `/llm/rest/${slug('Open')}/v1/chat/completions`, JSON.stringify({ model: m, messages: msg }));
      assert.equal(r.status, 200, r.text);
      const ledger = await mock.ledger();
      assert.equal(ledger.length, 1);
      assert.equal(ledger[0].model, m, 'the upstream got the model as sent');
      const ev = await waitEvent(pg, r.headers.get('x-request-id'), { settleMs: 0 });
      assert.equal(ev[0].model_name, m, 'recorded whole (not cut at 127 bytes)');
    }
    const chat = await send(gw.serverPort, '/api/v1/chat/completions',
      JSON.stringify({ llm: slug('Open'), model, messages: msg }), `Bearer ${userToken}`);
    assert.equal(chat.status, 200, chat.text);
  });
});
