// regress/e2e/alerts.test.mjs: budget alerts delivered by two real gatewayd
// processes sharing one database, to a webhook receiver and an SMTP sink of
// ours on loopback. Targets are managed through the REST API (admins;
// secrets never shown again). Checked: one alert for thresholds crossed in
// one rollup; the webhook's body signed with HMAC-SHA256 under the
// target's secret (X-AIStudio-Signature), retried after a 500 with the same
// delivery id, recorded as delivered on the second attempt; the e-mail
// (AUTH PLAIN with the sealed password, sender, recipients, subject, text);
// with many alerts at once, every delivery received exactly once although
// both gatewayd processes poll; a target that always fails is retried and
// then marked failed; acknowledge-all closes every open alert.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, sleep } from './lib/cluster.mjs';
import { startGatewayd, withLogs, pollValue, ROOT } from './lib/gatewayd.mjs';

let pg;
let gw1;
let gw2;
let hook;
let smtp;
const it = withLogs(nodeIt, () => [gw1, gw2, pg]);
const SECRET = 'whsec-e2e-0123456789abcdef';
const SMTP_PASSWORD = 'smtp pass word 42';

// ---- a webhook receiver: records every request; `plan(path)` says what to
// answer (a status) for the n-th request to that path
function startHook() {
  const got = [];
  const fails = new Map(); // path -> how many first requests answer 500 (Infinity: always)
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const seen = got.filter((g) => g.path === req.url).length;
      const status = seen < (fails.get(req.url) ?? 0) ? 500 : 200;
      got.push({ path: req.url, headers: req.headers, body, status, method: req.method });
      // a slow receiver: a batch takes a while, the other gatewayd polls meanwhile
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'try again');
      }, req.url === '/bulk' ? 40 : 0);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    got, fails, port: server.address().port, close: () => new Promise((r) => server.close(r)),
  })));
}

// ---- an SMTP sink: EHLO (AUTH PLAIN), MAIL, RCPT, DATA, RSET, NOOP, QUIT
function startSmtp() {
  const mails = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let data = null; // the message while in DATA
    let authWait = false; // AUTH PLAIN sent without its initial response: the next line is it
    let cur = { from: null, to: [], auth: null };
    const say = (s) => sock.write(`${s}\r\n`);
    say('220 sink.test ESMTP ready');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== null) {
          if (line === '.') {
            mails.push({ ...cur, data: data.join('\r\n') });
            cur = { from: null, to: [], auth: cur.auth };
            data = null;
            say('250 2.0.0 queued');
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        const plain = (b64) => {
          const [, user, pass] = Buffer.from(b64, 'base64').toString('utf8').split('\0');
          cur.auth = { user, pass };
          say(pass === SMTP_PASSWORD ? '235 2.7.0 ok' : '535 5.7.8 bad credentials');
        };
        if (authWait) { authWait = false; plain(line); continue; }
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') { say('250-sink.test'); say('250-AUTH PLAIN'); say('250 8BITMIME'); }
        else if (verb === 'HELO') say('250 sink.test');
        else if (verb === 'AUTH') {
          const [, mech, initial] = line.split(' ');
          if (String(mech).toUpperCase() !== 'PLAIN') say('504 5.5.4 PLAIN only');
          else if (initial) plain(initial);
          else { authWait = true; say('334 '); }
        } else if (verb === 'MAIL') { cur.from = line.replace(/^MAIL FROM:\s*/i, '').replace(/\s.*$/, ''); say('250 ok'); }
        else if (verb === 'RCPT') { cur.to.push(line.replace(/^RCPT TO:\s*/i, '')); say('250 ok'); }
        else if (verb === 'DATA') { data = []; say('354 end with <CRLF>.<CRLF>'); }
        else if (verb === 'RSET') { cur = { from: null, to: [], auth: cur.auth }; say('250 ok'); }
        else if (verb === 'NOOP') say('250 ok');
        else if (verb === 'QUIT') { say('221 bye'); sock.end(); }
        else say('502 5.5.2 not implemented');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    mails, port: server.address().port, close: () => new Promise((r) => server.close(r)),
  })));
}

// ---- the REST API as an admin (session cookie + CSRF)
class Admin {
  constructor(base) { this.base = base; this.cookies = {}; }
  async req(method, p, body) {
    const headers = {};
    const jar = Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    if (jar) headers.cookie = jar;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.cookies.aistudio_csrf) headers['x-csrf-token'] = this.cookies.aistudio_csrf;
    const res = await fetch(`${this.base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      this.cookies[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    }
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null, text };
  }
}
let admin;

// docs/openapi.json: the objects the API returns have exactly the documented
// properties (required ones present, no undocumented ones)
const schemas = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8')).components.schemas;
function documented(name, obj) {
  const s = schemas[name];
  for (const k of s.required || []) assert.ok(k in obj, `${name}: ${k} is missing`);
  for (const k of Object.keys(obj)) assert.ok(k in s.properties, `${name}: ${k} is not documented`);
}

const verify = (body, header) => {
  const want = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
  const got = Buffer.from(String(header || ''));
  return got.length === want.length && timingSafeEqual(got, want);
};

// an app with a budget of 1 USD, spending `usd` (price: 1000 USD per 1M input tokens)
let nApps = 0;
async function appSpending(usd, name = `app-${++nApps}`) {
  const id = Number(await pg.sql(`SELECT aistudio.create_app('${name}', 1, ARRAY[1]::bigint[], monthly_budget => 1.00)`));
  await pg.sql(`SELECT aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
    'timestamp', now(), 'request_id', gen_random_uuid(), 'app_id', ${id}, 'llm_id', 1, 'vendor', 'openai',
    'model_name', 'alert-model', 'prompt_tokens', ${Math.round(usd * 1000)}, 'status_code', 200)))`);
  return id;
}
const deliveries = (where) => pg.json(`SELECT d.id, d.alert_id, d.target_id, d.status, d.attempts, d.last_status, d.last_error
  FROM aistudio.alert_deliveries d WHERE ${where} ORDER BY d.id`);
const allSettled = (where) => pollValue(pg,
  `SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')) FROM aistudio.alert_deliveries WHERE ${where}`,
  (v) => v === '0', { timeoutMs: 30000 });

describe('budget alerts: webhook and e-mail delivery', { timeout: 180000 }, () => {
  before(async () => {
    [hook, smtp] = await Promise.all([startHook(), startSmtp()]);
    // the first retry after 200 ms (doubling), three attempts before 'failed'
    pg = await startCluster({ conf: ['pg_aistudio.alert_retry_delay = 200', 'pg_aistudio.alert_max_attempts = 3'] });
    await pg.sql(`SELECT aistudio.create_user('ada@example.com', 'Ada', 'admin password 0123', 'admin')`);
    await pg.sql(`SELECT aistudio.create_llm('Alert GPT', 'openai', 'https://api.openai.com/v1')`);
    await pg.sql(`SELECT aistudio.set_model_price('openai', 'alert-model', 1000, 0)`);
    const env = { ALERT_POLL_MS: '100', ALERT_TIMEOUT_MS: '5000' };
    [gw1, gw2] = await Promise.all([startGatewayd(pg, { env }), startGatewayd(pg, { env })]);
    admin = new Admin(`http://127.0.0.1:${gw1.serverPort}`);
    const r = await admin.req('POST', '/auth/login', { email: 'ada@example.com', password: 'admin password 0123' });
    assert.equal(r.status, 200, r.text);
  });
  after(async () => {
    if (gw1) await gw1.stop();
    if (gw2) await gw2.stop();
    if (pg) await pg.cleanup();
    if (hook) await hook.close();
    if (smtp) await smtp.close();
  });

  it('admins manage targets over REST; secrets are write-only; bad targets get 400', async () => {
    let r = await admin.req('POST', '/alert-targets', { name: 'ops hook', kind: 'webhook', url: `http://127.0.0.1:${hook.port}/ops`, secret: SECRET });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.has_secret, true);
    assert.ok(!('secret' in r.json) && !r.text.includes(SECRET), 'the secret is never shown');
    r = await admin.req('POST', '/alert-targets', {
      name: 'on-call mail', kind: 'email', url: `smtp://127.0.0.1:${smtp.port}`, mail_from: 'aistudio@example.com',
      mail_to: ['oncall@example.com', 'boss@example.com'], smtp_username: 'aistudio', secret: SMTP_PASSWORD, min_threshold: 100,
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.smtp_tls, 'try');
    r = await admin.req('POST', '/alert-targets', { name: 'unsigned', kind: 'webhook', url: 'http://127.0.0.1:1/x' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /signing secret/);
    r = await admin.req('POST', '/alert-targets', { name: 'bad mail', kind: 'email', url: 'smtp://u:p@127.0.0.1', mail_from: 'a@b.c', mail_to: ['x@y.z'] });
    assert.equal(r.status, 400, r.text);
    r = await admin.req('GET', '/alert-targets');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.data.map((t) => t.name), ['ops hook', 'on-call mail']);
    r.json.data.forEach((t) => documented('AlertTarget', t));
    assert.ok(!r.text.includes(SMTP_PASSWORD) && !r.text.includes(SECRET));
  });

  it('one rollup crossing 50..100 % is one alert: the webhook gets it signed, retried after a 500; the e-mail arrives', async () => {
    hook.fails.set('/ops', 1); // the first request answers 500
    const app = await appSpending(1.5);
    await pg.sql('SELECT aistudio.rollup_now()');
    const alerts = await pg.json(`SELECT id, threshold FROM aistudio.budget_alerts WHERE subject = 'app' AND subject_id = ${app}`);
    assert.deepEqual(alerts.map((a) => a.threshold), [100], 'one alert, at its highest threshold');
    assert.equal(await pg.sql(`SELECT string_agg(threshold::text, ',' ORDER BY threshold) FROM aistudio.budget_notifications WHERE alert_id = ${alerts[0].id}`), '50,80,90,100');
    await allSettled(`alert_id = ${alerts[0].id}`);

    const d = await deliveries(`alert_id = ${alerts[0].id}`);
    assert.equal(d.length, 2, 'one delivery per target');
    const [toHook, toMail] = d;
    assert.equal(toHook.status, 'delivered');
    assert.equal(toHook.attempts, 2, 'delivered on the second attempt');
    assert.equal(toHook.last_status, 200);

    const reqs = hook.got.filter((g) => g.path === '/ops');
    assert.deepEqual(reqs.map((g) => g.status), [500, 200]);
    for (const g of reqs) {
      assert.equal(g.method, 'POST');
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers['x-aistudio-event'], 'budget.threshold_crossed');
      assert.equal(g.headers['x-aistudio-delivery'], String(toHook.id), 'the same delivery id on the retry');
      assert.ok(verify(g.body, g.headers['x-aistudio-signature']), `signature ${g.headers['x-aistudio-signature']}`);
    }
    assert.ok(!verify(Buffer.concat([reqs[1].body, Buffer.from(' ')]), reqs[1].headers['x-aistudio-signature']), 'a changed body fails');
    const body = JSON.parse(reqs[1].body);
    assert.equal(body.type, 'budget.threshold_crossed');
    assert.equal(body.delivery_id, toHook.id);
    assert.equal(body.alert_id, alerts[0].id);
    assert.equal(body.subject, 'app');
    assert.equal(body.subject_name, 'app-1');
    assert.equal(body.threshold, 100);
    assert.deepEqual(body.thresholds, [50, 80, 90, 100]);
    assert.equal(Number(body.spent), 1.5);
    assert.equal(Number(body.percent_used), 150);

    assert.equal(toMail.status, 'delivered', JSON.stringify(toMail));
    assert.equal(toMail.attempts, 1);
    assert.equal(toMail.last_status, 250);
    assert.equal(smtp.mails.length, 1);
    const m = smtp.mails[0];
    assert.deepEqual(m.auth, { user: 'aistudio', pass: SMTP_PASSWORD });
    assert.equal(m.from, '<aistudio@example.com>');
    assert.deepEqual(m.to, ['<oncall@example.com>', '<boss@example.com>']);
    assert.match(m.data, /^Subject: \[AI Studio\] App app-1 passed 100% of its monthly budget$/m);
    assert.match(m.data, /^To: <oncall@example.com>, <boss@example.com>$/m);
    assert.match(m.data, new RegExp(`^X-AIStudio-Delivery: ${toMail.id}$`, 'm'));
    assert.match(m.data, /App app-1 has spent 1\.5 of its monthly budget of 1 \(150%\)/);
    assert.match(m.data, /Thresholds crossed: 50%, 80%, 90%, 100%\./);
  });

  it('a later rollup crossing nothing new sends nothing; below min_threshold no e-mail', async () => {
    const before = hook.got.length;
    await pg.sql('SELECT aistudio.rollup_now()');
    const app = await appSpending(0.6); // 50 % only: the webhook (min 50) yes, the mail (min 100) no
    await pg.sql('SELECT aistudio.rollup_now()');
    const a = await pg.one(`SELECT id, threshold FROM aistudio.budget_alerts WHERE subject_id = ${app} AND subject = 'app'`);
    assert.equal(a.threshold, 50);
    await allSettled(`alert_id = ${a.id}`);
    const d = await deliveries(`alert_id = ${a.id}`);
    assert.equal(d.length, 1, 'the e-mail target asks for 100 % only');
    assert.equal(hook.got.length, before + 1);
    assert.equal(smtp.mails.length, 1);
  });

  it('many alerts at once with two gatewayd polling: every delivery is received exactly once', async () => {
    let r = await admin.req('POST', '/alert-targets', { name: 'bulk hook', kind: 'webhook', url: `http://127.0.0.1:${hook.port}/bulk`, secret: SECRET, min_threshold: 80 });
    assert.equal(r.status, 201, r.text);
    const target = r.json.id;
    const apps = [];
    for (let i = 0; i < 30; i++) apps.push(await appSpending(0.9 + (i % 3) * 0.1, `bulk-${i}`));
    await pg.sql('SELECT aistudio.rollup_now()');
    await allSettled(`target_id = ${target}`);
    const d = await deliveries(`target_id = ${target}`);
    assert.equal(d.length, 30);
    assert.ok(d.every((x) => x.status === 'delivered' && x.attempts === 1), JSON.stringify(d.filter((x) => x.status !== 'delivered' || x.attempts !== 1)));
    await sleep(500); // a duplicate (the bug) would show up by now
    const ids = hook.got.filter((g) => g.path === '/bulk').map((g) => g.headers['x-aistudio-delivery']);
    assert.equal(ids.length, 30, 'thirty requests');
    assert.equal(new Set(ids).size, 30, 'thirty different deliveries');
    assert.deepEqual([...ids].map(Number).sort((a, b) => a - b), d.map((x) => x.id));
    for (const g of hook.got.filter((x) => x.path === '/bulk')) assert.ok(verify(g.body, g.headers['x-aistudio-signature']));
  });

  it('a target that keeps failing is retried, then marked failed with the reason; REST lists it', async () => {
    let r = await admin.req('POST', '/alert-targets', { name: 'down hook', kind: 'webhook', url: `http://127.0.0.1:${hook.port}/down`, secret: SECRET });
    assert.equal(r.status, 201, r.text);
    const target = r.json.id;
    hook.fails.set('/down', Infinity);
    await appSpending(2);
    await pg.sql('SELECT aistudio.rollup_now()');
    await allSettled(`target_id = ${target}`);
    const [d] = await deliveries(`target_id = ${target}`);
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 3, 'pg_aistudio.alert_max_attempts');
    assert.equal(d.last_status, 500);
    assert.match(d.last_error, /HTTP 500/);
    assert.equal(hook.got.filter((g) => g.path === '/down').length, 3);
    r = await admin.req('GET', `/alert-deliveries?target_id=${target}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.data[0].status, 'failed');
    documented('AlertDelivery', r.json.data[0]);
    r = await admin.req('GET', `/alert-targets/${target}`);
    assert.equal(r.json.failed, 1);
    assert.match(r.json.last_error, /HTTP 500/);
  });

  it('GET /budget-alerts?open=true counts the unread; acknowledge-all closes them all', async () => {
    let r = await admin.req('GET', '/budget-alerts?open=true&page_size=1');
    assert.equal(r.status, 200, r.text);
    const open = r.json.total;
    assert.equal(open, Number(await pg.sql('SELECT count(*) FROM aistudio.budget_alerts')));
    assert.ok(open >= 33);
    assert.ok(Array.isArray(r.json.data[0].thresholds));
    assert.ok(Array.isArray(r.json.data[0].deliveries));
    documented('BudgetAlert', r.json.data[0]);
    r = await admin.req('POST', '/budget-alerts/acknowledge');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.acknowledged, open);
    r = await admin.req('GET', '/budget-alerts?open=true');
    assert.equal(r.json.total, 0);
    assert.equal(await pg.sql('SELECT count(*) FROM aistudio.budget_notifications WHERE acknowledged_at IS NULL'), '0');
    r = await admin.req('POST', '/budget-alerts/acknowledge');
    assert.equal(r.json.acknowledged, 0, 'nothing left to acknowledge');
  });
});
