// regress/e2e/lib/gatewayd.mjs: run the real gatewayd binary against a test
// cluster (lib/cluster.mjs).
//
//   const gw = await startGatewayd(pg, { env: { MAX_BODY_BYTES: '4096' } });
//   gw.url               http://127.0.0.1:PROXY_PORT
//   gw.logs()            stdout + stderr so far
//   await gw.metrics()   GET /metrics as text
//   await gw.stop()      SIGTERM; asserts exit 0 and no sanitizer report
//   await gw.kill()      SIGKILL (no assertion)
//
// The binary is gatewayd/gatewayd, or $GATEWAYD_BIN (e.g. gatewayd/gatewayd-asan
// for the sanitizer pass). Ports are free ones picked here; SPOOL_DIR is a
// fresh temporary directory. The process is always killed: on stop()/kill(),
// on process exit, and by the kernel (PR_SET_PDEATHSIG is not reachable from
// node, so a watchdog shell kills it when the test process dies).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from './cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const GATEWAYD_BIN = process.env.GATEWAYD_BIN
  ? path.resolve(ROOT, process.env.GATEWAYD_BIN)
  : path.join(ROOT, 'gatewayd', 'gatewayd');

// What a sanitizer prints when it finds something.
export const SANITIZER_RE = /ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)/;

const LOG_CAP = 8 * 1024 * 1024;
const live = new Set();
process.on('exit', () => {
  for (const g of live) {
    try { g.child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

// Builds gatewayd/gatewayd (or gatewayd-asan) when it is missing; an existing
// binary is used as it is (`make` at the top level builds it).
export function buildGatewayd(bin = GATEWAYD_BIN) {
  const dir = path.join(ROOT, 'gatewayd');
  if (path.dirname(bin) !== dir) throw new Error(`gatewayd binary not found: ${bin}`);
  const args = ['-C', dir, '--no-print-directory'];
  if (path.basename(bin) === 'gatewayd-asan') args.push('SANITIZE=1');
  execFileSync('make', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(bin)) throw new Error(`gatewayd binary not built: ${bin}`);
}

// opts: env (extra/override settings), bin, readyTimeoutMs, wait (false: do
//       not wait for /readyz), logLevel
export async function startGatewayd(cluster, opts = {}) {
  const bin = opts.bin || GATEWAYD_BIN;
  if (!existsSync(bin)) buildGatewayd(bin);
  const [proxyPort, serverPort, docsPort, grpcPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const spoolDir = mkdtempSync(path.join(process.env.AISTUDIO_TEST_WORK && existsSync(process.env.AISTUDIO_TEST_WORK)
    ? process.env.AISTUDIO_TEST_WORK : os.tmpdir(), 'e2e-spool-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || '/tmp',
    DATABASE_URL: cluster ? cluster.gatewayUrl : '',
    AISTUDIO_SECRET_KEY_FILE: cluster ? cluster.keyFile : '',
    PROXY_PORT: String(proxyPort),
    SERVER_PORT: String(serverPort),
    DOCS_PORT: String(docsPort),
    GRPC_PORT: String(grpcPort),
    LISTEN_HOST: '127.0.0.1',
    SPOOL_DIR: spoolDir,
    LOG_LEVEL: opts.logLevel || process.env.GATEWAYD_LOG_LEVEL || 'info',
    SHUTDOWN_GRACE_MS: '5000',
    // sanitizer runs: report and fail on the first error, keep going otherwise
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'abort_on_error=0:detect_leaks=1:halt_on_error=1',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
    ...(opts.env || {}),
  };
  for (const k of Object.keys(env)) if (env[k] === undefined || env[k] === null) delete env[k];

  const child = spawn(bin, opts.args || [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { if (out.length < LOG_CAP) out += d; });
  child.stderr.on('data', (d) => { if (err.length < LOG_CAP) err += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((x) => { exitInfo = x; live.delete(gw); });

  // watchdog: kill gatewayd when this test process goes away without cleanup
  const wd = spawn('bash', ['-c',
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; ` +
    `kill -9 ${child.pid} 2>/dev/null; rm -rf '${spoolDir}'`], { detached: true, stdio: 'ignore' });
  wd.unref();

  const url = `http://127.0.0.1:${proxyPort}`;
  const gw = {
    bin, child, env, url, proxyPort, serverPort, docsPort, grpcPort, spoolDir,
    get exit() { return exitInfo; },
    logs() { return `--- gatewayd stdout ---\n${out}\n--- gatewayd stderr ---\n${err}`; },
    stderr() { return err; },
    stdout() { return out; },
    sanitizerReport() {
      const m = SANITIZER_RE.exec(err) || SANITIZER_RE.exec(out);
      return m ? (err + out).slice(Math.max(0, (err + out).indexOf(m[0]) - 200), (err + out).indexOf(m[0]) + 6000) : null;
    },
    async metrics() {
      const res = await fetch(`${url}/metrics`);
      return res.text();
    },
    // Value of a Prometheus sample (first line whose name+labels start with `prefix`); NaN when absent.
    async metric(prefix) {
      const text = await this.metrics();
      for (const line of text.split('\n')) {
        if (line.startsWith('#')) continue;
        if (line.startsWith(prefix)) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return NaN;
    },
    async waitReady(timeoutMs = opts.readyTimeoutMs || 30000) {
      const end = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < end) {
        if (exitInfo) throw new Error(`gatewayd exited (${exitInfo.code ?? exitInfo.signal}) before ready\n${this.logs()}`);
        try {
          // bounded: a listener that accepts nothing must not hang the wait
          const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
          last = `${res.status} ${await res.text()}`;
          if (res.status === 200) return;
        } catch (e) { last = e.message; }
        await sleep(50);
      }
      throw new Error(`gatewayd not ready within ${timeoutMs} ms (last: ${last})\n${this.logs()}`);
    },
    // SIGTERM; resolves with the exit; throws when the exit is not 0 or a
    // sanitizer reported something.
    async stop({ timeoutMs = 30000, assertClean = true } = {}) {
      if (!exitInfo) {
        child.kill('SIGTERM');
        const t = await Promise.race([exited, sleep(timeoutMs).then(() => null)]);
        if (!t) {
          child.kill('SIGKILL');
          await exited;
          cleanupSpool();
          throw new Error(`gatewayd did not exit within ${timeoutMs} ms of SIGTERM\n${this.logs()}`);
        }
      }
      cleanupSpool();
      if (assertClean) {
        const rep = this.sanitizerReport();
        if (rep) throw new Error(`sanitizer report in gatewayd output:\n${rep}`);
        if (exitInfo.code !== 0) {
          throw new Error(`gatewayd exited with ${exitInfo.code ?? exitInfo.signal} after SIGTERM\n${this.logs().slice(-8000)}`);
        }
      }
      return exitInfo;
    },
    async kill(sig = 'SIGKILL') {
      if (!exitInfo) child.kill(sig);
      await exited;
      cleanupSpool();
      return exitInfo;
    },
  };
  function cleanupSpool() {
    try { process.kill(wd.pid, 'SIGKILL'); } catch { /* gone */ }
    if (!process.env.KEEP_TEST_DIRS) rmSync(spoolDir, { recursive: true, force: true });
  }
  live.add(gw);
  if (opts.wait !== false) {
    try {
      await gw.waitReady();
    } catch (e) {
      await gw.kill();
      throw e;
    }
  }
  return gw;
}

// Wrap node:test's `it` so that a failing test prints the tail of the logs of
// the processes given by getProcs() (gateway, cluster) before rethrowing.
export function withLogs(it, getProcs) {
  const wrapped = (name, a, b) => {
    const fn = typeof a === 'function' ? a : b;
    const opts = { timeout: 60000, ...(typeof a === 'function' ? {} : a) };
    const dump = (why) => {
      for (const p of getProcs()) {
        if (!p) continue;
        if (p.logs) process.stderr.write(`\n[${name}] (${why}) ${p.logs().slice(-12000)}\n`);
        else if (p.serverLog) process.stderr.write(`\n[${name}] (${why}) --- postgres log ---\n${p.serverLog().slice(-4000)}\n`);
      }
    };
    return it(name, opts, async (t) => {
      // a test that times out never throws here: its logs are printed just
      // before node:test gives up on it
      const watch = Number.isFinite(opts.timeout) && opts.timeout > 5000 ? setTimeout(() => dump('about to time out'), opts.timeout - 2000) : null;
      try {
        return await fn(t);
      } catch (e) {
        dump('failed');
        throw e;
      } finally {
        if (watch) clearTimeout(watch);
      }
    });
  };
  wrapped.skip = it.skip;
  wrapped.todo = it.todo;
  return wrapped;
}

// ---------------------------------------------------------------------------
// Test data: users, a group, LLMs, prices, apps and their keys.

const q = (v) => {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `ARRAY[${v.map(q).join(',')}]::text[]`;
  return `'${String(v).replace(/'/g, "''")}'`;
};
export { q as sqlLit };

/*
 * spec = {
 *   vendorKey: 'sk-…',            the key the mock expects (--expect-key), stored as the secret
 *                                  MockVendorKey, which may go to vendorKeyHosts (default every
 *                                  port of 127.0.0.1)
 *   owner: { email, name },        default dev@example.com (role developer)
 *   llms: [{ name, vendor, endpoint, key: 'secret' | 'literal' | 'none',
 *            defaultModel, allowedModels: [], active, budget }],
 *   apps: [{ name, llms: [llm names], budget, active }],
 *   prices: [[vendor, model, in, out, cacheWrite, cacheRead]],
 * }
 * Returns { ownerId, groupId, llms: {name: {id, slug, vendor}}, apps: {name: {id, key, credentialId}} }.
 */
export async function seed(pg, spec) {
  const out = { llms: {}, apps: {} };
  const owner = spec.owner || { email: 'dev@example.com', name: 'Dev' };
  out.ownerId = Number(await pg.sql(
    `SELECT aistudio.create_user(${q(owner.email)}, ${q(owner.name)}, role => 'developer')`));
  out.groupId = Number(await pg.sql(`SELECT aistudio.create_group(${q(`g-${owner.email}`)})`));
  await pg.sql(`SELECT aistudio.add_user_to_group(${out.ownerId}, ${out.groupId})`);
  if (spec.vendorKey) {
    // the test's mocks all listen on loopback, each on its own port
    await pg.sql(`SELECT aistudio.set_secret('MockVendorKey', ${q(spec.vendorKey)},
      allowed_hosts => ${q(spec.vendorKeyHosts || ['127.0.0.1'])})`);
  }
  for (const l of spec.llms || []) {
    let key = 'NULL';
    if (l.key === 'secret') key = q('$SECRET/MockVendorKey');
    else if (l.key === 'literal') key = q(spec.vendorKey);
    else if (typeof l.key === 'string' && l.key !== 'none') key = q(l.key);
    const id = Number(await pg.sql(`SELECT aistudio.create_llm(${q(l.name)}, ${q(l.vendor)}, ${q(l.endpoint)},
      api_key => ${key}, default_model => ${q(l.defaultModel ?? null)},
      allowed_models => ${l.allowedModels ? q(l.allowedModels) : "'{}'::text[]"},
      active => ${l.active === false ? 'false' : 'true'})`));
    if (l.budget != null) await pg.sql(`SELECT aistudio.update_llm(${id}, monthly_budget => ${l.budget})`);
    await pg.sql(`SELECT aistudio.grant_llm_to_group(${out.groupId}, ${id})`);
    const slug = await pg.sql(`SELECT slug FROM aistudio.llms WHERE id = ${id}`);
    out.llms[l.name] = { id, slug, vendor: l.vendor };
  }
  for (const p of spec.prices || []) {
    const [vendor, model, inp, outp, cw = null, cr = null] = p;
    await pg.sql(`SELECT aistudio.set_model_price(${q(vendor)}, ${q(model)}, ${inp}, ${outp}, ${cw ?? 'NULL'}, ${cr ?? 'NULL'})`);
  }
  for (const a of spec.apps || []) {
    const ids = (a.llms || []).map((n) => out.llms[n].id);
    const id = Number(await pg.sql(`SELECT aistudio.create_app(${q(a.name)}, ${out.ownerId}, '{${ids.join(',')}}'::bigint[],
      monthly_budget => ${a.budget ?? 'NULL'})`));
    if (a.active === false) await pg.sql(`SELECT aistudio.update_app(${id}, active => false)`);
    const key = await pg.sql(`SELECT aistudio.issue_credential(${id})`);
    const credentialId = Number(await pg.sql(`SELECT max(id) FROM aistudio.list_credentials(${id})`));
    out.apps[a.name] = { id, key, credentialId };
  }
  return out;
}

// Every recorded event for request ids: stored rows and rejected ones.
export async function eventsFor(pg, requestIds) {
  const ids = requestIds.map((r) => `'${String(r).replace(/[^0-9a-fA-F-]/g, '')}'`).join(',');
  if (!ids) return [];
  return pg.json(`
    SELECT request_id::text, 'stored' AS kind, status_code, app_id, llm_id, user_id, vendor, model_name,
           prompt_tokens, response_tokens, total_tokens, cache_write_tokens, cache_read_tokens,
           cost::text AS cost, interaction_type, latency_ms, error, NULL AS reason
      FROM aistudio.llm_interactions WHERE request_id::text IN (${ids})
    UNION ALL
    SELECT request_id::text, 'rejected', status_code, app_id, llm_id, user_id, vendor, model_name,
           prompt_tokens, response_tokens, NULL, cache_write_tokens, cache_read_tokens,
           NULL, interaction_type, latency_ms, error, reason
      FROM aistudio.ingest_rejects WHERE request_id::text IN (${ids})`);
}

// Poll until the request's event is in the database (writer thread); returns
// the events found (stored and rejected) for it; [] after timeoutMs.
export async function waitEvent(pg, requestId, { timeoutMs = 10000, settleMs = 300 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ev = await eventsFor(pg, [requestId]);
    if (ev.length > 0) {
      // give a duplicate (a bug) the chance to show up too
      if (settleMs > 0) { await sleep(settleMs); return eventsFor(pg, [requestId]); }
      return ev;
    }
    if (Date.now() > end) return [];
    await sleep(50);
  }
}

// Poll a scalar query until pred(value) holds; returns the last value.
export async function pollValue(pg, query, pred, { timeoutMs = 15000, intervalMs = 100 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await pg.sql(query);
    if (pred(v)) return v;
    if (Date.now() > end) return v;
    await sleep(intervalMs);
  }
}
