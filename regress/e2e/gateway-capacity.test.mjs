// regress/e2e/gateway-capacity.test.mjs: the connection guard of every
// listener (gatewayd/src/http/connguard.c, docs/operations.md "Capacity")
// against the real binary, with raw sockets from several loopback addresses
// (127.0.0.x):
//   - a few hundred idle and slow-header connections at once: a normal
//     request (a real chat completion through the mock) is still served, and
//     every one of them is cut at the head deadline (408 for a partial head,
//     however slowly it keeps dripping; a silent close for nothing at all);
//   - the per-address limit: the connection over MAX_CONNECTIONS_PER_ADDRESS
//     gets 429 too_many_connections with Retry-After; another address is
//     served; the address is served again once its connections close;
//   - overload: every worker in a request (streams from a slow upstream), a
//     new connection gets 503 overloaded with Retry-After at once instead of
//     waiting in a queue, and is served once the streams end; every worker
//     held by slow heads: the oldest is closed to make room and a normal
//     request is served;
//   - the admin and docs servers: the same per-address limit and head
//     deadline;
//   - /metrics: workers, busy/idle, connections by state, refusals by
//     reason, head timeouts, reclaims, per server.
// Bounds are functional and generous (seconds, tens of seconds under ASan):
// nothing here measures speed.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { startMock } from './lib/mock.mjs';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, seed, withLogs } from './lib/gatewayd.mjs';
import { splitResponses } from './lib/rawhttp.mjs';

const VKEY = 'sk-vendor-capacity';
const HEAD_MS = 3000;      // REQUEST_HEAD_TIMEOUT_MS of both gateways
const PER_ADDRESS = 16;    // MAX_CONNECTIONS_PER_ADDRESS of gateway A
const SMALL_POOL = 16;     // WORKER_THREADS of gateway B
let mock;
let paced;
let pg;
let gwA;   // 512 workers: holds a few hundred connections
let gwB;   // 16 workers: overload
let ids;
let docsDir;
const it = withLogs(nodeIt, () => [gwA, gwB, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 4 });
  // 60 frames 100 ms apart: 6-second streams that hold their workers
  paced = await startMock({ expectKey: VKEY, frames: 60, frameIntervalMs: 100 });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Fast', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Slow', vendor: 'openai', endpoint: `${paced.url}/v1`, key: 'secret' },
    ],
    prices: [['openai', 'gpt-4o-mini', 0.15, 0.60]],
    apps: [{ name: 'cap-app', llms: ['Fast', 'Slow'] }],
  });
  docsDir = mkdtempSync(path.join(os.tmpdir(), 'e2e-capdocs-'));
  writeFileSync(path.join(docsDir, 'index.html'), '<!doctype html><title>docs</title><p>docs</p>\n');
  const common = {
    REQUEST_HEAD_TIMEOUT_MS: String(HEAD_MS),
    KEEP_ALIVE_TIMEOUT_MS: '60000',
    DOCS_DIR: docsDir,
  };
  [gwA, gwB] = await Promise.all([
    startGatewayd(pg, { env: { ...common, WORKER_THREADS: '512', MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS) } }),
    startGatewayd(pg, { env: { ...common, WORKER_THREADS: String(SMALL_POOL), MAX_CONNECTIONS_PER_ADDRESS: '100' } }),
  ]);
});

after(async () => {
  try {
    if (gwA) await gwA.stop();
    if (gwB) await gwB.stop();
  } finally {
    await mock?.stop();
    await paced?.stop();
    await pg?.cleanup();
    if (docsDir) rmSync(docsDir, { recursive: true, force: true });
  }
});

const KEY = () => ids.apps['cap-app'].key;
const slug = (n) => ids.llms[n].slug;

// One raw connection from a chosen loopback address. It records what the
// server sends and how the connection ended.
//   c.connected   resolves once connected (rejects on a connect error)
//   c.ended       resolves with 'eof' | 'reset' when the server closed it
//   c.responses() the complete responses received so far
function conn(port, localAddress = '127.0.0.1') {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  const chunks = [];
  let state = 'open';
  let drip = null;
  const c = {
    sock,
    get state() { return state; },
    connected: new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    }),
    ended: null,
    responses() { return splitResponses(Buffer.concat(chunks)).responses; },
    send(s) { if (!sock.destroyed) sock.write(s); },
    // a slow head: the request line, then one more header line every `ms`, forever
    dripHead(ms = 200) {
      c.send('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let i = 0;
      drip = setInterval(() => c.send(`X-Slow-${i++}: a\r\n`), ms);
    },
    destroy() { if (drip) clearInterval(drip); sock.destroy(); },
  };
  c.connected.catch(() => {});
  sock.on('data', (d) => chunks.push(d));
  c.ended = new Promise((resolve) => {
    sock.on('error', (e) => { state = e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : e.code || 'error'; });
    sock.on('close', () => {
      if (drip) clearInterval(drip);
      if (state === 'open') state = 'eof';
      resolve(state);
    });
  });
  return c;
}

// A complete GET on a connection kept alive; resolves with its response.
async function getKeepAlive(c, p) {
  await c.connected;
  const before = c.responses().length;
  c.send(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const end = Date.now() + 20000;
  while (c.responses().length === before) {
    if (c.state !== 'open') throw new Error(`connection closed (${c.state}) before the response to ${p}`);
    if (Date.now() > end) throw new Error(`no response to ${p} within 20 s`);
    await sleep(10);
  }
  return c.responses()[before];
}

// The first response on a fresh connection that sends a request (or nothing).
async function firstAnswer(port, localAddress, request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`) {
  const c = conn(port, localAddress);
  await c.connected;
  if (request) c.send(request);
  const how = await Promise.race([c.ended, sleep(20000).then(() => 'open')]);
  c.destroy();
  return { how, res: c.responses()[0] };
}

async function chat(gw, llm = 'Fast', extra = {}) {
  const res = await fetch(`${gw.url}/llm/rest/${slug(llm)}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], ...extra }),
  });
  return { status: res.status, text: await res.text() };
}

// All samples of a metric family, as { 'labels': value }.
async function family(gw, name) {
  const out = {};
  for (const line of (await gw.metrics()).split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    out[line.slice(name.length, line.lastIndexOf(' '))] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

function assertRefusal(res, status, code) {
  assert.ok(res, `a ${status} answer was read (not a reset)`);
  assert.equal(res.status, status);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.headers.connection, 'close');
  assert.equal(JSON.parse(res.text).error.code, code);
}

describe('a few hundred idle and slow-header connections', () => {
  it('a normal request is still served; each of them is cut at the head deadline', { timeout: 120000 }, async () => {
    const idle = [];
    const slow = [];
    // 300 connections from 20 addresses (15 each: under the per-address limit)
    for (let a = 0; a < 20; a++) {
      const addr = `127.0.0.${10 + a}`;
      for (let k = 0; k < 15; k++) {
        const c = conn(gwA.proxyPort, addr);
        (k % 2 ? slow : idle).push(c);
      }
    }
    await Promise.all([...idle, ...slow].map((c) => c.connected));
    for (const c of slow) c.dripHead(250);
    const held = await until('the 300 connections are held', async () => {
      const m = await family(gwA, 'gatewayd_http_connections');
      return m['{server="proxy",state="head"}'] >= 300 ? m : null;
    });
    assert.equal(held['{server="proxy",state="queued"}'], 0, 'none waits for a worker');

    // a normal request, while all of them are held
    const r = await chat(gwA);
    assert.equal(r.status, 200, r.text);
    assert.equal((await firstAnswer(gwA.proxyPort, '127.0.0.9')).res?.status, 200, '/healthz served');

    // the deadline: every one of them ends, the slow heads with a 408
    const ends = await Promise.race([
      Promise.all([...idle, ...slow].map((c) => c.ended)),
      sleep(HEAD_MS + 30000).then(() => null),
    ]);
    assert.ok(ends, 'every idle and slow-header connection was closed after the head deadline');
    for (const c of slow) {
      const res = c.responses()[0];
      assert.equal(res?.status, 408, 'a slow head gets 408');
      assert.equal(JSON.parse(res.text).error.code, 'request_timeout');
      assert.match(JSON.parse(res.text).error.message, new RegExp(`within ${HEAD_MS} ms`));
    }
    for (const c of idle) assert.equal(c.responses().length, 0, 'a silent connection is closed without an answer');
    const timeouts = await family(gwA, 'gatewayd_http_head_timeouts_total');
    assert.ok(timeouts['{server="proxy"}'] >= 300, `head timeouts counted (${timeouts['{server="proxy"}']})`);
    const after = await family(gwA, 'gatewayd_http_connections');
    assert.ok(after['{server="proxy",state="head"}'] < 300, 'the records are gone');
  });

  it('a complete head sent slowly but within the deadline is served', async () => {
    const c = conn(gwA.proxyPort, '127.0.0.40');
    await c.connected;
    c.send('GET /healthz HTTP/1.1\r\n');
    await sleep(Math.floor(HEAD_MS / 3));
    c.send('Host: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await Promise.race([c.ended, sleep(20000)]);
    assert.equal(c.responses()[0]?.status, 200);
  });
});

describe('per-address limit', () => {
  for (const server of ['proxy', 'admin', 'docs']) {
    it(`${server}: the connection over the limit gets 429 with Retry-After; another address is served`, async () => {
      const port = { proxy: gwA.proxyPort, admin: gwA.serverPort, docs: gwA.docsPort }[server];
      const p = { proxy: '/healthz', admin: '/', docs: '/' }[server];
      const addr = { proxy: '127.0.0.50', admin: '127.0.0.51', docs: '127.0.0.52' }[server];
      const limit = PER_ADDRESS;
      // hold the limit with kept-alive connections (no head deadline on them)
      const held = [];
      for (let i = 0; i < limit; i++) held.push(conn(port, addr));
      const first = await Promise.all(held.map((c) => getKeepAlive(c, p)));
      for (const res of first) assert.notEqual(res.status, 429);
      const over = await firstAnswer(port, addr);
      assertRefusal(over.res, 429, 'too_many_connections');
      assert.notEqual(over.how, 'reset', 'the refusal is read, not reset');
      const other = await firstAnswer(port, '127.0.0.53', `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      assert.ok(other.res && other.res.status !== 429 && other.res.status !== 503, `another address served (${other.res?.status})`);
      for (const c of held) c.destroy();
      await until('the address is served again once its connections closed', async () => {
        const again = await firstAnswer(port, addr, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        return again.res && again.res.status !== 429 ? again : null;
      });
      const refused = await family(gwA, 'gatewayd_http_connections_refused_total');
      assert.ok(refused[`{server="${server}",reason="per_address"}`] >= 1, `counted for ${server}`);
    });
  }
});

describe('head deadline on the admin and docs servers', () => {
  for (const server of ['admin', 'docs']) {
    it(`${server}: a partial head gets 408; nothing at all is closed`, async () => {
      const port = server === 'admin' ? gwA.serverPort : gwA.docsPort;
      const partial = conn(port, '127.0.0.60');
      const silent = conn(port, '127.0.0.60');
      await Promise.all([partial.connected, silent.connected]);
      partial.dripHead(250);
      const both = await Promise.race([Promise.all([partial.ended, silent.ended]), sleep(HEAD_MS + 30000).then(() => null)]);
      assert.ok(both, 'both closed after the deadline');
      assert.equal(partial.responses()[0]?.status, 408);
      assert.equal(silent.responses().length, 0);
      const timeouts = await family(gwA, 'gatewayd_http_head_timeouts_total');
      assert.ok(timeouts[`{server="${server}"}`] >= 2);
    });
  }
});

describe('overload', () => {
  it('every worker in a request: a new connection gets 503 overloaded at once, and is served once one is free', { timeout: 120000 }, async () => {
    const streams = [];
    for (let i = 0; i < SMALL_POOL; i++) {
      // each from its own address: the per-address limit stays out of the way
      streams.push(conn(gwB.proxyPort, `127.0.1.${i + 1}`));
    }
    await Promise.all(streams.map((c) => c.connected));
    const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for (const c of streams) {
      c.send(`POST /llm/rest/${slug('Slow')}/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${KEY()}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`);
    }
    // the streams have started (their first bytes arrived)
    await until('every worker streams', async () => streams.every((c) => c.sock.bytesRead > 0), 30000);
    const refused = await firstAnswer(gwB.proxyPort, '127.0.1.100');
    assertRefusal(refused.res, 503, 'overloaded');
    assert.notEqual(refused.how, 'open', 'the refused connection is closed, not queued');
    assert.ok(streams.every((c) => c.state === 'open'), 'no stream was cut to make room');

    const done = await Promise.race([Promise.all(streams.map((c) => c.ended)), sleep(60000).then(() => null)]);
    assert.ok(done, 'the streams ended');
    for (const c of streams) {
      assert.equal(c.responses()[0]?.status, 200);
      assert.match(c.responses()[0].text, /data: \[DONE\]/, 'each stream ran to its end');
    }
    const r = await chat(gwB);
    assert.equal(r.status, 200, 'served once workers are free');
    const m = await family(gwB, 'gatewayd_http_connections_refused_total');
    assert.ok(m['{server="proxy",reason="overload"}'] >= 1);
  });

  it('every worker held by slow heads: the oldest is closed to make room, a normal request is served', { timeout: 120000 }, async () => {
    const slow = [];
    for (let i = 0; i < SMALL_POOL; i++) slow.push(conn(gwB.proxyPort, `127.0.2.${i + 1}`));
    await Promise.all(slow.map((c) => c.connected));
    for (const c of slow) c.dripHead(200);
    // older than the eviction age (1 s), younger than the head deadline
    await sleep(1200);
    const r = await firstAnswer(gwB.proxyPort, '127.0.2.100');
    assert.equal(r.res?.status, 200, `served by making room (${r.res?.status})`);
    // the close reaches the client on its own socket, maybe after the answer on this one
    await until('a slow head was closed to make room', async () => slow.some((c) => c.state !== 'open'), 5000);
    await Promise.race([Promise.all(slow.map((c) => c.ended)), sleep(HEAD_MS + 30000)]);
    for (const c of slow) c.destroy();
    const m = await family(gwB, 'gatewayd_http_connections_reclaimed_total');
    assert.ok(m['{server="proxy",state="head"}'] >= 1, 'counted');
  });
});

describe('/metrics', () => {
  it('workers, busy and idle, connections by state and refusals, per server', async () => {
    const workers = await family(gwA, 'gatewayd_http_workers');
    assert.deepEqual(workers, { '{server="proxy"}': 512, '{server="admin"}': 32, '{server="docs"}': 16 });
    const busy = await family(gwA, 'gatewayd_http_workers_busy');
    const idle = await family(gwA, 'gatewayd_http_workers_idle');
    for (const s of ['proxy', 'admin', 'docs']) {
      assert.equal(busy[`{server="${s}"}`] + idle[`{server="${s}"}`], workers[`{server="${s}"}`], s);
    }
    assert.ok(busy['{server="proxy"}'] >= 1, 'this request holds a proxy worker');
    const text = await gwA.metrics();
    for (const f of ['gatewayd_http_connections', 'gatewayd_http_connections_accepted_total',
      'gatewayd_http_connections_refused_total', 'gatewayd_http_head_timeouts_total',
      'gatewayd_http_connections_reclaimed_total', 'gatewayd_upstream_calls', 'gatewayd_upstream_calls_max']) {
      assert.match(text, new RegExp(`^# TYPE ${f} (gauge|counter)$`, 'm'), f);
    }
  });
});
