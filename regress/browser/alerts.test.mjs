// regress/browser/alerts.test.mjs: budget alerts in the web UI, in headless
// Chromium against real processes (PostgreSQL 15 + pg_aistudio, gatewayd
// serving the REST API and www/, delivering to a webhook receiver of ours):
// an admin adds a webhook and an e-mail target on the Alert targets page
// (the secret is never shown back); the sidebar's Notifications entry
// carries the number of open alerts; an alert that passed several
// thresholds at once is one item, with how its delivery went; "Acknowledge
// all" empties the open list and removes the badge; a developer sees the
// badge for their own app's alert but no Alert targets page and no
// acknowledge buttons.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { startCluster } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, pollValue, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';
import { contrastProblems, labelledSpans } from './lib/a11y.mjs';

const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'admin password 0123' };
const DEV = { email: 'dev@example.com', name: 'Dev Eloper', password: 'developer password 01' };
const SECRET = 'whsec-browser-0123456789';

let pg;
let gw;
let b;
let base;
let hook;
const got = [];
const ids = {};
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');
const go = (hash) => page().goto(`${base}/#${hash}`);

async function signIn(user) {
  const p = page();
  await p.goto(`${base}/`);
  const out = p.locator('[data-testid="logout"]');
  await p.getByLabel('Email').or(out).first().waitFor();
  if (await out.count()) {
    await out.click();
    await p.getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
  }
  await p.getByLabel('Email').fill(user.email);
  await p.getByLabel('Password').fill(user.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(user.email).waitFor();
}

// an app with a budget of 1 USD spending `usd`, then a rollup
async function spend(app, usd) {
  await pg.sql(`SELECT aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
    'timestamp', now(), 'request_id', gen_random_uuid(), 'app_id', ${app}, 'llm_id', ${ids.llm}, 'vendor', 'openai',
    'model_name', 'alert-model', 'prompt_tokens', ${Math.round(usd * 1000)}, 'status_code', 200)));
    SELECT aistudio.rollup_now()`);
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  hook = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { got.push(Buffer.concat(chunks).toString()); res.end('ok'); });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  pg = await startCluster();
  const one = async (q) => Number(await pg.sql(q));
  ids.admin = await one(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'admin')`);
  ids.dev = await one(`SELECT aistudio.create_user('${DEV.email}', '${DEV.name}', '${DEV.password}', 'developer')`);
  ids.llm = await one(`SELECT aistudio.create_llm('Alert GPT', 'openai', 'https://api.openai.com/v1')`);
  await pg.sql(`SELECT aistudio.set_model_price('openai', 'alert-model', 1000, 0)`);
  ids.devApp = await one(`SELECT aistudio.create_app('dev-bot', ${ids.dev}, ARRAY[${ids.llm}]::bigint[], monthly_budget => 1)`);
  ids.adminApp = await one(`SELECT aistudio.create_app('ops-bot', ${ids.admin}, ARRAY[${ids.llm}]::bigint[], monthly_budget => 1)`);
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www'), ALERT_POLL_MS: '200' } });
  base = `http://127.0.0.1:${gw.serverPort}`;
  b = await startBrowser();
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
    if (hook) await new Promise((r) => hook.close(r));
  }
});

describe('budget alerts in the web UI', () => {
  it('an admin adds a webhook and an e-mail target; secrets are never shown back', async () => {
    const p = page();
    await signIn(ADMIN);
    await go('/alert-targets');
    await p.getByRole('heading', { name: 'Alert targets', level: 1 }).waitFor();
    await p.getByRole('button', { name: 'Add target' }).first().click();
    await dialog().getByLabel('Name').fill('ops hook');
    await dialog().getByLabel('URL').fill(`http://127.0.0.1:${hook.address().port}/ops`);
    await dialog().getByLabel('Secret').fill('too short');
    await dialog().getByRole('button', { name: 'Create target' }).click();
    await dialog().getByText('Use a signing secret of 16 or more characters.').waitFor();
    await dialog().getByLabel('Secret').fill(SECRET);
    await dialog().getByRole('button', { name: 'Create target' }).click();
    await dialog().waitFor({ state: 'detached' });
    const hookRow = p.locator('tbody tr').filter({ hasText: 'ops hook' });
    await hookRow.getByText('Webhook').waitFor();

    await p.getByRole('button', { name: 'Add target' }).first().click();
    await dialog().getByLabel('Name').fill('on-call mail');
    await dialog().getByLabel('Kind').selectOption('email');
    await dialog().getByLabel('URL').fill('smtp://127.0.0.1:1');
    await dialog().getByLabel('From').fill('aistudio@example.com');
    const to = dialog().getByLabel('Recipients');
    await to.fill('oncall@example.com');
    await to.press('Enter');
    await dialog().getByLabel('Send alerts at').selectOption('100');
    await dialog().getByRole('button', { name: 'Create target' }).click();
    await dialog().waitFor({ state: 'detached' });
    const mailRow = p.locator('tbody tr').filter({ hasText: 'on-call mail' });
    await mailRow.getByText('oncall@example.com').waitFor();
    await mailRow.getByText('100 %').waitFor();
    const text = await p.locator('main').textContent();
    assert.ok(!text.includes(SECRET), 'the secret is not on the page');
    const api = await p.evaluate(() => fetch('/api/v1/alert-targets').then((r) => r.text()));
    assert.ok(!api.includes(SECRET), 'the API does not return the secret');
    assert.deepEqual(JSON.parse(api).data.map((t) => [t.name, t.has_secret]), [['ops hook', true], ['on-call mail', false]]);
    assert.deepEqual(await labelledSpans(p), []);
    await b.shot('alert-targets');
  });

  it('the sidebar counts the open alerts; one alert per rollup shows its thresholds and deliveries', async () => {
    const p = page();
    await spend(ids.adminApp, 1.2); // 50, 80, 90 and 100 % at once: one alert
    await spend(ids.devApp, 0.55); // 50 %
    await pollValue(pg, `SELECT count(*) FROM aistudio.alert_deliveries WHERE status = 'delivered'`, (v) => v === '2');
    assert.equal(got.length, 2, 'the webhook got both alerts');
    await go('/notifications');
    const badge = p.locator('[data-nav="/notifications"] [data-testid="unread-badge"]');
    await badge.getByText('2', { exact: true }).waitFor();
    assert.match(await p.locator('[data-nav="/notifications"]').textContent(), /2 unread/);
    const items = p.locator('[data-testid="alert"]');
    await items.first().waitFor();
    assert.equal(await items.count(), 2, 'two alerts, not five notifications');
    const ops = items.filter({ hasText: 'ops-bot' });
    await ops.getByText('Passed 50 %, 80 %, 90 %, 100 % at once.', { exact: false }).waitFor();
    await ops.getByText('Webhook ops hook: delivered').waitFor();
    await ops.getByText('E-mail on-call mail: waiting').waitFor(); // port 1: no SMTP server there, retried later
    const dev = items.filter({ hasText: 'dev-bot' });
    assert.equal(await dev.getByText(/E-mail/).count(), 0, 'the e-mail target asks for 100 % only');
    assert.deepEqual(await contrastProblems(p), []);
    await b.shot('notifications-open');
  });

  it('a developer sees the badge for their app, no Alert targets page and no acknowledge buttons', async () => {
    const p = page();
    await signIn(DEV);
    await go('/notifications');
    await p.locator('[data-nav="/notifications"] [data-testid="unread-badge"]').getByText('1', { exact: true }).waitFor();
    await p.locator('[data-testid="alert"]').filter({ hasText: 'dev-bot' }).waitFor();
    assert.equal(await p.locator('[data-testid="alert"]').count(), 1);
    assert.equal(await p.getByRole('button', { name: /Acknowledge/ }).count(), 0);
    assert.equal(await p.locator('[data-nav="/alert-targets"]').count(), 0);
    assert.equal(await p.locator('[data-testid="alert-deliveries"]').count(), 0, 'deliveries are for admins');
  });

  it('"Acknowledge all" empties the open list and removes the badge', async () => {
    const p = page();
    await signIn(ADMIN);
    await go('/notifications');
    await p.locator('[data-testid="alert"]').first().waitFor();
    await p.getByRole('button', { name: 'Acknowledge all (2)' }).click();
    await p.getByText('Acknowledged 2 alerts').waitFor();
    await p.getByText('All caught up').waitFor();
    await p.locator('[data-testid="unread-badge"]').waitFor({ state: 'detached' });
    assert.equal(await pg.sql('SELECT count(*) FROM aistudio.budget_notifications WHERE acknowledged_at IS NULL'), '0');
    await p.getByRole('radio', { name: 'All' }).click();
    await p.locator('[data-testid="alert"]').nth(1).waitFor();
    assert.equal(await p.locator('[data-testid="alert"]').count(), 2);
    assert.deepEqual(b.problems, []);
  });
});
