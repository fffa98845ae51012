// regress/e2e/gateway-sync.test.mjs: the control plane end to end (issue 10,
// "What it must show"). A real hub (gatewayd GATEWAY_MODE=control) and real
// edges (GATEWAY_MODE=edge), separate processes, each on its own database of
// one PostgreSQL server (lib/cluster.mjs createDatabase), the mock upstream
// behind them; an independent gRPC client and a lying hub written with
// Debian's python3-grpcio from proto/aistudio/v1 (lib/sync_client.py).
//
// In order: enrolled edges are Unknown before their first heartbeat; three
// edges in two namespaces register, pull and turn In Sync; each receives its
// namespace and the global objects only, vendor keys re-sealed under its own
// key; pull on miss; a configuration change turns a namespace's edges
// Pending and a push to it reaches only them; Stale after a short
// edge_stale_after; a revoked key or a deactivated app stops working on
// connected edges at once (not at the cache's TTL); the python client calls
// the hub (every method, refusals, malformed and oversized messages, a
// stream that never heartbeats); a wrong edge token is refused and a
// revoked edge loses its stream; a second hub on the same database (over
// TLS) signals its edges of a push made through the first; two edges hammering one
// small budget never overspend it, with the hub up and with the hub down;
// with the hub killed, edges serve the keys they know, an edge restarted
// meanwhile serves from its database (snapshot, keys, budget lease),
// unknown keys get 503
// control_plane_unavailable, and when the hub returns the backlog drains:
// the hub's rows equal the edges' requests, none twice; a snapshot whose
// checksum does not match is never applied, and a hub that speaks garbage
// crashes nothing. Every process stops cleanly (also under ASan:
// GATEWAYD_BIN=../../gatewayd/gatewayd-asan).
import { describe, it as baseIt, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, sleep, lit } from './lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from './lib/gatewayd.mjs';
import { startMock } from './lib/mock.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = `shared-${randomBytes(12).toString('hex')}`;
const VENDOR_KEY = 'sk-mock-sync';

let pg, mock, hubA, hubB, hubAId;
const procs = new Set(); // every gatewayd started, for the logs of a failing test
const dbs = {};
const toks = {};
const keys = {};
const ids = {};
const slugs = {};
let PY = null;
let GEN = null;

const it = withLogs(baseIt, () => [...procs, pg]);

// ---- helpers ----

const sha = (s) => createHash('sha256').update(s).digest('hex');
const keyId = (raw) => createHash('sha256').update(raw).digest('hex').slice(0, 16);
const edgeKeyId = (token, edgeId) =>
  keyId(Buffer.from(hkdfSync('sha256', Buffer.from(token), Buffer.from(edgeId), Buffer.from('aistudio edge key v1'), 32)));

async function waitFor(fn, pred, { timeoutMs = 20000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(intervalMs);
  }
}

async function statuses() {
  const rows = await pg.json(`SELECT edge_id, status, connected, hub_id, loaded_checksum, expected_checksum
                                FROM aistudio.edge_status ORDER BY edge_id`);
  return Object.fromEntries(rows.map((r) => [r.edge_id, r]));
}

async function startHub(env = {}) {
  const gw = await startGatewayd(pg, { env: { GATEWAY_MODE: 'control', GRPC_AUTH_TOKEN: SHARED, ...env } });
  procs.add(gw);
  return gw;
}

const EDGES = {
  'edge-eu-1': { ns: 'eu', db: 'edge_eu_1' },
  'edge-eu-2': { ns: 'eu', db: 'edge_eu_2' },
  'edge-us-1': { ns: 'us', db: 'edge_us_1' },
  'edge-eu-4': { ns: 'eu', db: 'edge_eu_4' },
  'edge-eu-5': { ns: 'eu', db: 'edge_eu_5' },
  'edge-eu-6': { ns: 'eu', db: 'edge_eu_6' },
  'edge-eu-7': { ns: 'eu', db: 'edge_eu_7' },
};
const gws = {};

async function startEdge(id, { hub = hubA, token = toks[id], wait = true, endpoint, env = {} } = {}) {
  const e = EDGES[id];
  if (!dbs[id]) dbs[id] = await pg.createDatabase(e.db);
  const gw = await startGatewayd(null, {
    wait,
    env: {
      GATEWAY_MODE: 'edge',
      DATABASE_URL: dbs[id].gatewayUrl,
      AISTUDIO_SECRET_KEY_FILE: '', // an edge never holds the master key
      CONTROL_ENDPOINT: endpoint || `127.0.0.1:${hub.grpcPort}`,
      EDGE_ID: id,
      EDGE_NAMESPACE: e.ns,
      EDGE_TOKEN: token,
      EDGE_HEARTBEAT_INTERVAL: '1',
      ...env,
    },
  });
  procs.add(gw);
  gws[id] = gw;
  return gw;
}

async function stopProc(gw, opts) {
  if (!gw) return;
  try { await gw.stop(opts); } finally { procs.delete(gw); }
}

// /readyz (200 or 503) of a gateway, once its proxy listens.
async function readyz(gw) {
  return waitFor(() => fetch(`${gw.url}/readyz`).then((r) => r.json(), () => null).catch(() => null), (x) => x !== null,
    { timeoutMs: 15000, what: 'the proxy to listen' });
}

// One chat completion through a gateway; { status, code, rid }.
async function call(gw, key, slug = slugs.global, { maxTokens = 20 } = {}) {
  const res = await fetch(`${gw.url}/llm/rest/${slug}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello edge' }] }),
  });
  const text = await res.text();
  let code = null;
  try { code = JSON.parse(text)?.error?.code ?? null; } catch { /* a stream or not JSON */ }
  return { status: res.status, code, rid: res.headers.get('x-request-id'), text };
}

function findPython() {
  for (const py of [process.env.GW_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import grpc, google.protobuf'], { stdio: 'ignore' });
      return py;
    } catch { /* next */ }
  }
  return null;
}

function runPython(args, { timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, [path.join(here, 'lib', 'sync_client.py'), GEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`python timed out\n${out}\n${err}`)); }, timeoutMs);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      if (code !== 0) reject(new Error(`python exited ${code}\n${out}\n${err}`));
      else resolve(lines);
    });
  });
}

// A python process that keeps running (the lying hub); lines() so far.
function startPython(args) {
  const child = spawn(PY, [path.join(here, 'lib', 'sync_client.py'), GEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  process.on('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  return {
    child,
    // complete lines only: a chunk may end in the middle of one
    lines: () => out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    stderr: () => err,
    kill: () => new Promise((r) => { child.once('exit', r); child.kill('SIGKILL'); }),
  };
}

// Waits until the hub holds as many rows of the edge as the edge itself;
// on a timeout, says which events are missing and where they are.
async function waitUploaded(id) {
  try {
    // both read again each time: the edge's writer may still be storing its
    // last events (it flushes every ANALYTICS_FLUSH_MS, 200 ms); equal twice
    // 400 ms apart, so that nothing is still on its way
    await sleep(400);
    for (;;) {
      const [mine] = await waitFor(async () => [await localRows(id), await hubRowsOf(id)], ([m, h]) => m === h && m > 0,
        { what: `${id}: the hub holding as many rows as the edge` });
      await sleep(400);
      if ((await localRows(id)) === mine && (await hubRowsOf(id)) === mine) break;
    }
  } catch (e) {
    const mine = await dbs[id].json(`SELECT request_id::text AS rid, status_code, app_id,
      EXISTS (SELECT 1 FROM aistudio.edge_outbox o WHERE o.request_id = i.request_id) AS queued
      FROM aistudio.llm_interactions i`);
    const theirs = new Set((await pg.json(`SELECT request_id::text AS rid FROM aistudio.llm_interactions WHERE edge_id = ${lit(id)}`)).map((r) => r.rid));
    const missing = mine.filter((r) => !theirs.has(r.rid));
    const rejects = await pg.json(`SELECT request_id::text AS rid, reason FROM aistudio.ingest_rejects WHERE edge_id = ${lit(id)}`);
    // the missing events under another edge's name on the hub, if anywhere
    const elsewhere = missing.length === 0 ? [] : await pg.json(`SELECT request_id::text AS rid, edge_id, namespace
      FROM aistudio.llm_interactions WHERE request_id IN (${missing.map((r) => lit(r.rid)).join(', ')})`);
    throw new Error(`${e.message}\nmissing on the hub: ${JSON.stringify(missing)}\nhub rejects: ${JSON.stringify(rejects)}\n`
      + `on the hub under another edge: ${JSON.stringify(elsewhere)}`);
  }
}

async function hubRowsOf(edgeId) {
  return Number(await pg.sql(`SELECT count(*) FROM aistudio.llm_interactions WHERE edge_id = ${lit(edgeId)}`));
}
async function localRows(id) {
  return Number(await dbs[id].sql('SELECT count(*) FROM aistudio.llm_interactions'));
}

// ---- setup ----

describe('hub and edges', { concurrency: false }, () => {
  before(async () => {
    PY = findPython();
    pg = await startCluster();
    mock = await startMock({ expectKey: VENDOR_KEY });
    await pg.sql(`SELECT aistudio.create_namespace('eu', 'Europe'); SELECT aistudio.create_namespace('us', 'America')`);
    ids.owner = Number(await pg.sql(`SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer')`));
    ids.admin = Number(await pg.sql(`SELECT aistudio.create_user('ada@example.com', 'Ada', role => 'admin')`));
    await pg.sql(`SELECT aistudio.set_secret('MockKey', ${lit(VENDOR_KEY)}, allowed_hosts => ARRAY['127.0.0.1'])`);
    // 1000 USD per million tokens: a request costs a few cents, small budgets fill fast
    await pg.sql(`SELECT aistudio.set_model_price('openai', 'gpt-4o', 1000, 1000)`);
    const llm = async (name, ns, key) => {
      const id = Number(await pg.sql(`SELECT aistudio.create_llm(${lit(name)}, 'openai', ${lit(`${mock.url}/v1`)},
        api_key => ${lit(key)}, default_model => 'gpt-4o', namespace => ${lit(ns)})`));
      slugs[name] = await pg.sql(`SELECT slug FROM aistudio.llms WHERE id = ${id}`);
      return id;
    };
    ids.global = await llm('Global GPT', '', '$SECRET/MockKey');
    ids.eu = await llm('EU GPT', 'eu', VENDOR_KEY); // a literal key, sealed on the LLM
    ids.us = await llm('US GPT', 'us', '$SECRET/MockKey');
    slugs.global = slugs['Global GPT'];
    const app = async (name, ns, llms, budget = null) => {
      const id = Number(await pg.sql(`SELECT aistudio.create_app(${lit(name)}, ${ids.owner}, '{${llms.join(',')}}'::bigint[],
        monthly_budget => ${budget ?? 'NULL'}, namespace => ${lit(ns)})`));
      keys[name] = await pg.sql(`SELECT aistudio.issue_credential(${id})`);
      ids[name] = id;
      return id;
    };
    await app('global-app', '', [ids.global, ids.eu, ids.us]);
    await app('eu-app', 'eu', [ids.global, ids.eu]);
    await app('us-app', 'us', [ids.global, ids.us]);
    await app('temp-app', '', [ids.global]);
    await app('budget-app', '', [ids.global], 1);
    await app('budget-app-2', '', [ids.global], 1);
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1', 'edge-eu-4', 'edge-eu-5']) {
      toks[id] = await pg.sql(`SELECT aistudio.enroll_edge(${lit(id)}, ${lit(EDGES[id].ns)})`);
    }
    hubA = await startHub();
    hubAId = null;
  });

  after(async () => {
    // SYNC_TEST_LOGS=dir keeps every process's log there (debugging)
    if (process.env.SYNC_TEST_LOGS) {
      for (const [id, gw] of Object.entries(gws)) writeFileSync(path.join(process.env.SYNC_TEST_LOGS, `${id}.log`), gw.logs());
      for (const [n, gw] of [['hubA', hubA], ['hubB', hubB]]) if (gw) writeFileSync(path.join(process.env.SYNC_TEST_LOGS, `${n}.log`), gw.logs());
    }
    for (const gw of procs) { try { await gw.kill(); } catch { /* gone */ } }
    if (mock) await mock.stop();
    if (pg) await pg.cleanup();
    if (GEN) rmSync(GEN, { recursive: true, force: true });
  });

  it('an enrolled edge that never reported a checksum is Unknown', async () => {
    const st = await statuses();
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1']) {
      assert.equal(st[id].status, 'unknown', id);
      assert.equal(st[id].connected, false, id);
    }
  });

  it('three edges in two namespaces register, pull their snapshot and turn In Sync', async () => {
    await Promise.all(['edge-eu-1', 'edge-eu-2', 'edge-us-1'].map((id) => startEdge(id)));
    const want = { eu: await pg.sql(`SELECT aistudio.snapshot_checksum('eu')`), us: await pg.sql(`SELECT aistudio.snapshot_checksum('us')`) };
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1']) {
      const r = await readyz(gws[id]);
      assert.equal(r.mode, 'edge');
      assert.equal(r.snapshot_checksum, want[EDGES[id].ns], `${id} serves its namespace's snapshot`);
    }
    const st = await waitFor(statuses, (s) => ['edge-eu-1', 'edge-eu-2', 'edge-us-1']
      .every((id) => s[id].status === 'in_sync' && s[id].connected), { what: 'three edges in sync' });
    hubAId = st['edge-eu-1'].hub_id;
    assert.match(hubAId, /:\d+$/, 'the hub id is host:pid');
  });

  it('an edge receives its namespace and the global objects only, vendor keys re-sealed under its own key', async () => {
    const masterKeyId = keyId(Buffer.from(readFileSync(pg.keyFile, 'utf8').trim(), 'hex'));
    for (const id of ['edge-eu-1', 'edge-us-1']) {
      const doc = JSON.parse(await dbs[id].sql(`SELECT aistudio.snapshot_decode(snapshot) FROM aistudio.edge_stored_snapshot()`));
      assert.equal(doc.namespace, EDGES[id].ns);
      const bytesHex = await dbs[id].sql(`SELECT encode(snapshot, 'hex') FROM aistudio.edge_stored_snapshot()`);
      const bytes = Buffer.from(bytesHex, 'hex');
      const mine = EDGES[id].ns === 'eu' ? ['EU GPT', 'eu-app'] : ['US GPT', 'us-app'];
      const theirs = EDGES[id].ns === 'eu' ? ['US GPT', 'us-app'] : ['EU GPT', 'eu-app'];
      for (const name of ['Global GPT', 'global-app', ...mine]) assert.ok(bytes.includes(Buffer.from(name)), `${id} has ${name}`);
      for (const name of theirs) assert.equal(bytes.includes(Buffer.from(name)), false, `${id} has no ${name}`);
      assert.equal(bytes.includes(Buffer.from(masterKeyId)), false, `${id}: nothing sealed under the hub's master key`);
      assert.equal(bytes.includes(Buffer.from(edgeKeyId(toks[id], id))), true, `${id}: vendor keys sealed under its key`);
      // what the edge verified and stored has the hub's checksum (sealed values are not in it)
      assert.equal(await dbs[id].sql(`SELECT aistudio.snapshot_checksum_of(snapshot) = checksum FROM aistudio.edge_stored_snapshot()`), 't');
      // the edge's prices are the hub's (local analytics are priced like the hub)
      assert.equal(await dbs[id].sql(`SELECT input_per_mtok::text FROM aistudio.model_prices WHERE model_name = 'gpt-4o'`), '1000');
    }
    // the keys open: the mock refuses any other vendor key
    assert.equal((await call(gws['edge-eu-1'], keys['global-app'], slugs['Global GPT'])).status, 200, 'a $SECRET key');
    assert.equal((await call(gws['edge-eu-1'], keys['global-app'], slugs['EU GPT'])).status, 200, 'a literal key');
    const other = await call(gws['edge-eu-1'], keys['global-app'], slugs['US GPT']);
    assert.equal(other.status, 404, 'an LLM of another namespace is not there');
    assert.equal(other.code, 'llm_not_found');
  });

  it('pull on miss: the hub answers for keys of global apps and of the edge\'s namespace only', async () => {
    assert.equal((await call(gws['edge-eu-1'], keys['eu-app'])).status, 200);
    assert.equal((await call(gws['edge-eu-2'], keys['eu-app'])).status, 200);
    assert.equal((await call(gws['edge-us-1'], keys['us-app'])).status, 200);
    assert.equal((await call(gws['edge-us-1'], keys['temp-app'])).status, 200);
    const out = await call(gws['edge-eu-1'], keys['us-app']);
    assert.equal(out.status, 401, 'an app of another namespace is unknown here');
    assert.equal((await call(gws['edge-eu-1'], 'sk-not-a-key-at-all')).status, 401);
    // the answers are kept in the edge's database: a hash, never the key
    const rows = await dbs['edge-eu-1'].json(`SELECT key_sha256, found FROM aistudio.edge_credential_cache ORDER BY found`);
    assert.ok(rows.some((r) => r.key_sha256 === sha(keys['eu-app']) && r.found), JSON.stringify(rows));
    assert.ok(rows.some((r) => r.key_sha256 === sha(keys['us-app']) && !r.found), 'the negative answer too');
    assert.equal(await dbs['edge-eu-1'].sql(`SELECT count(*) FROM aistudio.edge_credential_cache WHERE cred::text LIKE ${lit(`%${keys['eu-app']}%`)}`), '0');
  });

  it('a change turns a namespace\'s edges Pending; a push to it reaches only them, each reports its new checksum', async () => {
    const usBefore = await dbs['edge-us-1'].sql(`SELECT stored_at FROM aistudio.edge_stored_snapshot()`);
    await pg.sql(`SELECT aistudio.update_llm(${ids.eu}, default_model => 'gpt-4o-mini')`);
    const newEu = await pg.sql(`SELECT aistudio.snapshot_checksum('eu')`);
    let st = await waitFor(statuses, (s) => s['edge-eu-1'].status === 'pending' && s['edge-eu-2'].status === 'pending',
      { what: 'eu edges pending' });
    assert.equal(st['edge-us-1'].status, 'in_sync', 'another namespace is not affected');
    await sleep(1500); // changes never push by themselves
    st = await statuses();
    assert.equal(st['edge-eu-1'].status, 'pending');
    assert.notEqual((await readyz(gws['edge-eu-1'])).snapshot_checksum, newEu);

    const t0 = Date.now();
    const pushId = Number(await pg.sql(`SELECT aistudio.push_config('eu')`));
    const progress = await waitFor(() => pg.json(`SELECT edge_id, phase, checksum, reason FROM aistudio.get_push(${pushId}) ORDER BY edge_id`),
      (rows) => rows.length === 2 && rows.every((r) => r.phase === 'applied'), { what: 'push applied' });
    const ms = Date.now() - t0;
    process.stderr.write(`# push to 2 edges applied in ${ms} ms\n`);
    assert.deepEqual(progress.map((r) => [r.edge_id, r.checksum]), [['edge-eu-1', newEu], ['edge-eu-2', newEu]]);
    st = await waitFor(statuses, (s) => s['edge-eu-1'].status === 'in_sync' && s['edge-eu-2'].status === 'in_sync', { what: 'in sync' });
    assert.equal((await readyz(gws['edge-eu-2'])).snapshot_checksum, newEu);
    assert.equal(await dbs['edge-us-1'].sql(`SELECT stored_at FROM aistudio.edge_stored_snapshot()`), usBefore, 'the us edge did not pull');
    assert.equal(st['edge-us-1'].status, 'in_sync');
    const trail = await pg.json(`SELECT event FROM aistudio.edge_events WHERE edge_id = 'edge-eu-1' ORDER BY id`);
    for (const ev of ['connected', 'out_of_sync', 'push', 'ack']) assert.ok(trail.some((r) => r.event === ev), `trail has ${ev}`);
  });

  it('an edge pending longer than edge_stale_after is Stale, until a push', async () => {
    await pg.sql(`SELECT aistudio.update_llm(${ids.us}, default_model => 'gpt-4o-mini')`);
    await waitFor(statuses, (s) => s['edge-us-1'].status === 'pending', { what: 'us edge pending' });
    await sleep(2200);
    const stale = await pg.sql(`SET pg_aistudio.edge_stale_after = '2s';
      SELECT status FROM aistudio.edge_status WHERE edge_id = 'edge-us-1'`);
    assert.equal(stale, 'stale');
    assert.equal(await pg.sql(`SELECT status FROM aistudio.edge_status WHERE edge_id = 'edge-us-1'`), 'pending', 'default: 15 min');
    await pg.sql(`SELECT aistudio.push_config('us')`);
    await waitFor(statuses, (s) => s['edge-us-1'].status === 'in_sync', { what: 'us edge in sync again' });
  });

  it('a revoked key and a deactivated app stop working on connected edges at once, not at the cache\'s TTL', async () => {
    const k2 = await pg.sql(`SELECT aistudio.issue_credential(${ids['eu-app']})`);
    const c2 = Number(await pg.sql(`SELECT max(id) FROM aistudio.list_credentials(${ids['eu-app']})`));
    assert.equal((await call(gws['edge-eu-1'], k2)).status, 200);
    assert.equal((await call(gws['edge-eu-2'], k2)).status, 200);
    let t0 = Date.now();
    await pg.sql(`SELECT aistudio.revoke_credential(${c2})`);
    await waitFor(() => call(gws['edge-eu-1'], k2), (r) => r.status === 401, { timeoutMs: 3000, intervalMs: 50, what: 'revoked key refused' });
    process.stderr.write(`# a revoked key refused by a connected edge ${Date.now() - t0} ms after the commit\n`);
    assert.equal((await call(gws['edge-eu-2'], k2)).status, 401);
    for (const id of ['edge-eu-1', 'edge-eu-2']) {
      assert.equal(await dbs[id].sql(`SELECT count(*) FROM aistudio.edge_credential_cache WHERE key_sha256 = ${lit(sha(k2))} AND found`), '0',
        `${id} forgot the key`);
    }
    assert.equal((await call(gws['edge-eu-1'], keys['eu-app'])).status, 200, 'the app\'s other key still works');

    t0 = Date.now();
    await pg.sql(`SELECT aistudio.update_app(${ids['temp-app']}, active => false)`);
    const r = await waitFor(() => call(gws['edge-us-1'], keys['temp-app']), (x) => x.status !== 200,
      { timeoutMs: 3000, intervalMs: 50, what: 'deactivated app refused' });
    process.stderr.write(`# a deactivated app refused by a connected edge ${Date.now() - t0} ms after the commit\n`);
    assert.equal(r.status, 403);
    assert.equal(r.code, 'app_inactive');
  });

  it('an independent gRPC client (python3-grpcio, code generated from sync.proto) calls the hub', async (t) => {
    if (!PY) { t.skip('python3-grpcio is not installed (apt-get install python3-grpcio python3-protobuf)'); return; }
    GEN = mkdtempSync(path.join(os.tmpdir(), 'sync-py-'));
    execFileSync('protoc', [`-I${ROOT}/proto`, `--python_out=${GEN}`, `${ROOT}/proto/aistudio/v1/snapshot.proto`, `${ROOT}/proto/aistudio/v1/sync.proto`]);
    const rid = randomUUID();
    const spec = {
      shared_token: SHARED, edge_id: 'edge-python', ns: 'eu', other_ns: 'us', enrolled_edge: 'edge-eu-4',
      key_hashes: { eu: sha(keys['eu-app']), us: sha(keys['us-app']), global: sha(keys['global-app']), bogus: sha('nope') },
      event: { timestamp: new Date().toISOString(), request_id: rid, app_id: ids['eu-app'], llm_id: ids.global },
      lease_app_id: ids['budget-app'],
    };
    const specFile = path.join(GEN, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const lines = await runPython(['client', `127.0.0.1:${hubA.grpcPort}`, specFile]);
    const one = (check, f = () => true) => lines.find((l) => l.check === check && f(l));
    const euSum = await pg.sql(`SELECT aistudio.snapshot_checksum('eu')`);

    assert.equal(one('register').expected, euSum);
    assert.equal(one('register').hub_id, hubAId);
    const pull = one('pull');
    assert.equal(pull.checksum, euSum);
    assert.equal(pull.namespace, 'eu');
    assert.deepEqual(pull.llms, ['EU GPT', 'Global GPT']);
    assert.deepEqual(pull.key_ids, [edgeKeyId(SHARED, 'edge-python')], 'sealed under HKDF(shared token, edge id)');
    assert.equal(one('pull_unchanged').unchanged, true);
    assert.equal(one('pull_unchanged').bytes, 0);
    assert.equal(one('pull_other_namespace').code, 'PERMISSION_DENIED');
    assert.equal(one('validate', (l) => l.key === 'eu').found, true);
    assert.equal(one('validate', (l) => l.key === 'eu').app_id, ids['eu-app']);
    assert.equal(one('validate', (l) => l.key === 'global').found, true);
    assert.equal(one('validate', (l) => l.key === 'us').found, false, 'another namespace\'s app');
    assert.equal(one('validate', (l) => l.key === 'bogus').found, false);
    assert.deepEqual([one('upload', (l) => l.attempt === 1).inserted, one('upload', (l) => l.attempt === 2).duplicates], [1, 1]);
    assert.deepEqual(one('upload', (l) => l.attempt === 2).acked, [rid]);
    assert.equal(await pg.sql(`SELECT count(*) || ' ' || min(edge_id) || ' ' || min(namespace) FROM aistudio.llm_interactions WHERE request_id = ${lit(rid)}`),
      '1 edge-python eu', 'stored once, edge and namespace from the edge\'s row');
    assert.equal(one('lease').has_budget, true);
    assert.ok(one('lease').granted > 0 && one('lease').granted <= 1e9, JSON.stringify(one('lease')));
    assert.equal(one('lease_bad_op').code, 'INVALID_ARGUMENT');
    assert.equal(one('refused', (l) => l.case === 'wrong_token').code, 'UNAUTHENTICATED');
    assert.match(one('refused', (l) => l.case === 'wrong_token').details, /bad_token/);
    assert.equal(one('refused', (l) => l.case === 'unknown_edge').code, 'UNAUTHENTICATED');
    assert.match(one('refused', (l) => l.case === 'unknown_edge').details, /unknown_edge/);
    assert.equal(one('refused', (l) => l.case === 'no_metadata').code, 'UNAUTHENTICATED');
    assert.equal(one('bad_input', (l) => l.case === 'malformed').code, 'INVALID_ARGUMENT');
    assert.equal(one('bad_input', (l) => l.case === 'oversized').code, 'RESOURCE_EXHAUSTED');
    assert.equal(one('stream_malformed').code, 'INVALID_ARGUMENT');
    assert.equal(one('stream_silent').code, 'DEADLINE_EXCEEDED', JSON.stringify(one('stream_silent')));
    const hb = one('stream_heartbeats');
    assert.ok(hb.acks.length >= 1, JSON.stringify(hb));
    assert.equal(hb.acks[0].expected, euSum);
    assert.equal(hb.acks[0].in_sync, true);
    // the hub kept the heartbeat's metrics; the refusals are in the trail
    const m = await pg.one(`SELECT requests, errors, p50_ms::float8 AS p50 FROM aistudio.edge_metrics('edge-python') ORDER BY at DESC LIMIT 1`);
    assert.deepEqual([m.requests, m.errors, m.p50], [3, 1, 12.5]);
    assert.ok(Number(await pg.sql(`SELECT count(*) FROM aistudio.edge_events WHERE event = 'auth_failed'`)) >= 2);
    // nothing crashed: the hub still serves its edges
    assert.equal((await call(gws['edge-eu-1'], keys['eu-app'])).status, 200);
    assert.equal(hubA.exit, null, 'the hub is alive');
  });

  it('a wrong edge token is refused; revoking an edge ends its stream at once', async () => {
    const bad = await startEdge('edge-eu-4', { token: 'aie_wrong-token-for-this-edge', wait: false });
    await waitFor(() => pg.sql(`SELECT count(*) FROM aistudio.edge_events WHERE event = 'auth_failed' AND detail ->> 'edge_id' = 'edge-eu-4'`),
      (n) => Number(n) >= 1, { what: 'the refusal in the trail' });
    assert.equal((await readyz(bad)).snapshot_loaded, false, 'a refused edge serves nothing');
    // the hub records the refusal before it answers: the edge's line may come a moment later
    await waitFor(() => bad.stderr(), (s) => /UNAUTHENTICATED bad_token/.test(s), { timeoutMs: 5000, what: 'the edge logging the refusal' });
    await stopProc(bad);

    await startEdge('edge-eu-4');
    await waitFor(statuses, (s) => s['edge-eu-4'].connected, { what: 'edge-eu-4 connected' });
    const t0 = Date.now();
    await pg.sql(`SELECT aistudio.revoke_edge('edge-eu-4')`);
    await waitFor(statuses, (s) => !s['edge-eu-4'].connected, { timeoutMs: 3000, intervalMs: 50, what: 'the revoked edge disconnected' });
    process.stderr.write(`# a revoked edge's stream ended ${Date.now() - t0} ms after the commit\n`);
    await waitFor(() => gws['edge-eu-4'].stderr(), (s) => /the edge was revoked/.test(s), { what: 'the edge told why' });
    await stopProc(gws['edge-eu-4']);
  });

  it('a second hub on the same database (over TLS) signals its edges of a push made through the first', async () => {
    // hub B speaks TLS (a self-signed certificate); its edge verifies it with GRPC_TLS_CA_FILE
    const tlsDir = mkdtempSync(path.join(os.tmpdir(), 'sync-tls-'));
    const cert = path.join(tlsDir, 'hub.crt');
    const key = path.join(tlsDir, 'hub.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    hubB = await startHub({ GRPC_TLS_CERT_FILE: cert, GRPC_TLS_KEY_FILE: key });
    await startEdge('edge-eu-5', { hub: hubB, env: { GRPC_TLS_CA_FILE: cert } });
    const st = await waitFor(statuses, (s) => s['edge-eu-5'].connected && s['edge-eu-5'].status === 'in_sync', { what: 'edge-eu-5 on hub B' });
    assert.notEqual(st['edge-eu-5'].hub_id, hubAId, 'connected to the other hub');
    await pg.sql(`SELECT aistudio.update_llm(${ids.eu}, default_model => 'gpt-4o')`);
    const newEu = await pg.sql(`SELECT aistudio.snapshot_checksum('eu')`);
    await waitFor(statuses, (s) => s['edge-eu-5'].status === 'pending' && s['edge-eu-1'].status === 'pending', { what: 'pending' });
    // the push goes through hub A's REST API, with an admin's personal API token
    const token = (await pg.sql(`SELECT set_config('pg_aistudio.acting_user', '${ids.admin}', false);
      SELECT token FROM aistudio.create_api_token('sync-test')`)).split('\n').pop();
    const res = await fetch(`http://127.0.0.1:${hubA.serverPort}/api/v1/edges/push`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ namespace: 'eu' }),
    });
    assert.ok(res.status === 200 || res.status === 201, `push through hub A: ${res.status} ${await res.text()}`);
    await waitFor(statuses, (s) => ['edge-eu-1', 'edge-eu-2', 'edge-eu-5'].every((id) => s[id].status === 'in_sync'),
      { what: 'every eu edge, on either hub, in sync' });
    assert.equal((await readyz(gws['edge-eu-5'])).snapshot_checksum, newEu);
    assert.match(gws['edge-eu-5'].stderr(), /over TLS/);
    await stopProc(gws['edge-eu-5']);
    await stopProc(hubB);
    hubB = null;
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it('two edges hammering one small budget never spend more than it, the hub up', async () => {
    const spent = await hammer('budget-app', ['edge-eu-1', 'edge-us-1'], 40);
    process.stderr.write(`# budget 1: ${spent.ok} requests admitted, ${spent.refused} refused; hub spend ${spent.total}\n`);
    assert.ok(spent.ok > 0, 'some requests fit');
    assert.ok(spent.refused > 0, 'the budget ran out');
    assert.ok(Number(spent.total) <= 1, `spent ${spent.total} of a budget of 1`);
  });

  it('the hub down: edges serve known keys (also after a restart), unknown keys get 503, budgets hold; the hub back: the backlog drains, nothing lost or doubled', async () => {
    // leases are held before the hub goes away
    for (const id of ['edge-eu-1', 'edge-us-1']) assert.equal((await call(gws[id], keys['budget-app-2'])).status, 200);
    const grpcPort = hubA.grpcPort;
    await hubA.kill();
    procs.delete(hubA);
    await waitFor(() => Promise.resolve(gws['edge-eu-1'].stderr()), (s) => /stream ended/.test(s), { what: 'the edge noticed' });

    assert.equal((await call(gws['edge-eu-1'], keys['eu-app'])).status, 200, 'a known key');
    const fresh = await pg.sql(`SELECT aistudio.issue_credential(${ids['eu-app']})`);
    const unknown = await call(gws['edge-eu-1'], fresh);
    assert.equal(unknown.status, 503);
    assert.equal(unknown.code, 'control_plane_unavailable');

    const first = await hammer('budget-app-2', ['edge-eu-1', 'edge-us-1'], 24, { hubDown: true });

    // an edge restarted while the hub is down serves from its own database:
    // its snapshot, the keys it knew, the budget lease it holds
    const before = (await readyz(gws['edge-us-1'])).snapshot_checksum;
    await stopProc(gws['edge-us-1']);
    await startEdge('edge-us-1', { endpoint: `127.0.0.1:${grpcPort}` });
    assert.equal((await readyz(gws['edge-us-1'])).snapshot_checksum, before);
    assert.equal((await call(gws['edge-us-1'], keys['us-app'])).status, 200, 'a key it knew before the restart');
    const second = await hammer('budget-app-2', ['edge-eu-1', 'edge-us-1'], 24, { hubDown: true });
    const spent = { ok: first.ok + second.ok, refused: first.refused + second.refused };
    process.stderr.write(`# budget 2 (hub down, an edge restarted): ${spent.ok} requests admitted, ${spent.refused} refused\n`);
    assert.ok(spent.ok > 0 && spent.refused > 0, JSON.stringify(spent));

    hubA = await startHub({ GRPC_PORT: String(grpcPort) });
    await waitFor(statuses, (s) => ['edge-eu-1', 'edge-eu-2', 'edge-us-1'].every((id) => s[id].connected), { what: 'edges back' });
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1']) await waitUploaded(id);
    assert.equal(await pg.sql(`SELECT count(*) FROM (SELECT request_id FROM aistudio.llm_interactions GROUP BY request_id HAVING count(*) > 1) d`), '0',
      'no event stored twice');
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1']) {
      assert.equal(await dbs[id].sql('SELECT count(*) FROM aistudio.edge_outbox'), '0', `${id}: outbox drained`);
    }
    const total = await pg.sql(`SELECT coalesce(sum(cost), 0) FROM aistudio.llm_interactions WHERE app_id = ${ids['budget-app-2']}`);
    assert.ok(Number(total) <= 1, `spent ${total} of a budget of 1, with the hub down`);
    // the new key works now that the hub answers again
    assert.equal((await call(gws['edge-eu-1'], fresh)).status, 200);
    // what the edges served reached the hub with their heartbeats
    const served = await pg.one(`SELECT sum(requests)::int AS requests, sum(errors)::int AS errors,
      sum(prompt_tokens)::int AS prompt, max(p99_ms)::float8 AS p99 FROM aistudio.edge_metrics('edge-eu-1')`);
    assert.ok(served.requests > 0 && served.errors > 0 && served.prompt > 0 && served.p99 > 0, JSON.stringify(served));
  });

  it('a snapshot whose checksum does not match is never applied; a hub speaking garbage crashes nothing', async (t) => {
    if (!PY || !GEN) { t.skip('python3-grpcio is not installed'); return; }
    const snapHex = await pg.sql(`SELECT encode(aistudio.snapshot('eu'), 'hex')`);
    const portFile = path.join(GEN, 'fakehub.port');
    const specFile = path.join(GEN, 'fakehub.json');
    writeFileSync(specFile, JSON.stringify({ mode: 'bad_checksum', snapshot_hex: snapHex, announced: 'ab'.repeat(32) }));
    const fake = startPython(['fakehub', portFile, specFile]);
    try {
      const port = await waitFor(() => Promise.resolve(existsSync(portFile) ? readFileSync(portFile, 'utf8') : ''), (p) => p !== '',
        { what: 'the lying hub' });
      const edge = await startEdge('edge-eu-6', { endpoint: `127.0.0.1:${port}`, token: 'aie_any', wait: false });
      const failed = await waitFor(() => Promise.resolve(fake.lines()), (ls) => ls.some((l) => l.call === 'progress' && l.phase === 'FAILED'),
        { what: 'a FAILED report' });
      const f = failed.find((l) => l.call === 'progress' && l.phase === 'FAILED');
      assert.equal(f.push_id, 77);
      assert.match(f.reason, /does not match its checksum.*nothing applied/);
      assert.equal(await dbs['edge-eu-6'].sql('SELECT count(*) FROM aistudio.edge_state'), '0', 'nothing stored');
      assert.equal(await dbs['edge-eu-6'].sql(`SELECT count(*) FROM aistudio.model_prices`), '0', 'no price taken from it either');
      assert.equal((await readyz(edge)).snapshot_loaded, false, 'nothing served');
      await stopProc(edge);
    } finally {
      await fake.kill();
    }

    rmSync(portFile, { force: true });
    writeFileSync(specFile, JSON.stringify({ mode: 'garbage', snapshot_hex: snapHex, announced: 'ab'.repeat(32) }));
    const liar = startPython(['fakehub', portFile, specFile]);
    try {
      const port = await waitFor(() => Promise.resolve(existsSync(portFile) ? readFileSync(portFile, 'utf8') : ''), (p) => p !== '',
        { what: 'the lying hub' });
      const edge = await startEdge('edge-eu-7', { endpoint: `127.0.0.1:${port}`, token: 'aie_any', wait: false });
      await waitFor(() => Promise.resolve(edge.stderr()), (s) => /malformed HubMessage/.test(s), { what: 'the garbage noticed' });
      await waitFor(() => Promise.resolve(liar.lines().filter((l) => l.call === 'Connect').length), (n) => n >= 2,
        { what: 'a new stream after the garbage' });
      assert.equal(edge.exit, null, 'the edge is alive');
      await stopProc(edge);
    } finally {
      await liar.kill();
    }
  });

  it('every process stops cleanly (exit 0, no sanitizer report)', async () => {
    for (const id of ['edge-eu-1', 'edge-eu-2', 'edge-us-1']) await stopProc(gws[id]);
    await stopProc(hubA);
    // a clean edge stop gave back what its leases did not spend
    assert.ok(Number(await pg.sql(`SELECT count(*) FROM aistudio.edge_events WHERE event = 'disconnected'`)) >= 3);
  });
});

// Requests on several edges at once against one app with a small budget;
// returns what was admitted and what the hub counts once every event is in.
async function hammer(app, edgeIds, perEdge, { hubDown = false } = {}) {
  let ok = 0;
  let refused = 0;
  const other = [];
  await Promise.all(edgeIds.map(async (id) => {
    for (let i = 0; i < perEdge; i += 4) {
      const rs = await Promise.all([0, 1, 2, 3].map(() => call(gws[id], keys[app])));
      for (const r of rs) {
        if (r.status === 200) ok++;
        else if (r.status === 429 && (r.code === 'budget_exceeded' || r.code === 'request_exceeds_remaining_budget')) refused++;
        else other.push(`${r.status} ${r.code}`);
      }
    }
  }));
  assert.deepEqual(other, [], 'only admitted or refused by the budget (budget_exceeded or request_exceeds_remaining_budget)');
  if (hubDown) return { ok, refused };
  for (const id of edgeIds) await waitUploaded(id);
  const total = await pg.sql(`SELECT coalesce(sum(cost), 0) FROM aistudio.llm_interactions WHERE app_id = ${ids[app]}`);
  return { ok, refused, total };
}
