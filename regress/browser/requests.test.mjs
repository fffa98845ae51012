// regress/browser/requests.test.mjs: the request log page (www/app/requests.js)
// in Debian's headless Chromium, against real processes: PostgreSQL 15 +
// pg_aistudio and gatewayd serving the REST API and www/.
//
// 62 requests are recorded through the extension's ingestion (as the
// gateway's writer does): 60 of an admin-visible app over one minute, 6 of
// them 502 upstream errors, plus one of a developer's app and one chat.
// Then: the admin's log (newest first), filters (status, errors only, app,
// time range) that narrow the table and land in the URL, keyset paging
// (Older / Newer), opening a request, an x-request-id link pasted into a
// fresh page and into a signed-out browser (the sign-in keeps it), an id
// that is not one, the CSV export with the page's filters, and a developer
// who sees only their app's requests.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';

const ADMIN = { email: 'log-admin@example.com', name: 'Log Admin', password: 'log admin password 0123' };
const DEV = { email: 'log-dev@example.com', name: 'Log Dev', password: 'log dev password 01234' };
const rid = (n) => `01950000-0000-7000-8000-${String(n).padStart(12, '0')}`;

let pg;
let gw;
let b;
let base;
const ids = {};
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const rows = () => page().locator('table:has(> caption:text-is("Requests")) > tbody > tr');

async function signIn(user) {
  const p = page();
  await p.getByLabel('Email').fill(user.email);
  await p.getByLabel('Password').fill(user.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(user.email).waitFor();
}

async function signOut() {
  await page().locator('[data-testid="logout"]').click();
  await page().getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
}

async function rowCount(n) {
  await page().waitForFunction(([want]) => {
    const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Requests');
    return t && !t.closest('.is-loading') && t.tBodies[0].rows.length === want;
  }, [n]);
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  pg = await startCluster();
  ids.admin = Number(await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'super_admin')`));
  ids.dev = Number(await pg.sql(`SELECT aistudio.create_user('${DEV.email}', '${DEV.name}', '${DEV.password}', 'developer')`));
  ids.llm = Number(await pg.sql(`SELECT aistudio.create_llm('Log GPT', 'openai', 'https://api.openai.com/v1')`));
  ids.shop = Number(await pg.sql(`SELECT aistudio.create_app('shop-bot', ${ids.admin}, '{${ids.llm}}')`));
  ids.devApp = Number(await pg.sql(`SELECT aistudio.create_app('dev-bot', ${ids.dev}, '{${ids.llm}}')`));
  await pg.sql(`SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10)`);
  // 60 requests of shop-bot, one a second over the last minutes (request n at now - 10 min + n s)
  await pg.sql(`SELECT * FROM aistudio.ingest_events((SELECT jsonb_agg(jsonb_build_object(
      'timestamp', date_trunc('second', now()) - interval '10 minutes' + g * interval '1 second',
      'request_id', ('01950000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid,
      'app_id', ${ids.shop}, 'user_id', ${ids.admin}, 'llm_id', ${ids.llm}, 'vendor', 'openai',
      'model_name', CASE WHEN g % 2 = 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END,
      'prompt_tokens', 1000 + g, 'response_tokens', 200, 'latency_ms', 300 + g,
      'status_code', CASE WHEN g % 10 = 0 THEN 502 ELSE 200 END,
      'error', CASE WHEN g % 10 = 0 THEN 'upstream_error: the vendor answered 502, "bad gateway", try later' END))
    FROM generate_series(1, 60) g))`);
  await pg.sql(`SELECT * FROM aistudio.ingest_events(jsonb_build_array(
    jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', '${rid(900)}', 'app_id', ${ids.devApp},
      'user_id', ${ids.dev}, 'llm_id', ${ids.llm}, 'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 200,
      'prompt_tokens', 12, 'response_tokens', 34, 'edge_id', 'edge-eu-1', 'namespace', 'eu'),
    jsonb_build_object('timestamp', now() - interval '30 seconds', 'request_id', '${rid(901)}', 'user_id', ${ids.admin},
      'llm_id', ${ids.llm}, 'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 200,
      'interaction_type', 'chat')))`);
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') } });
  base = `http://127.0.0.1:${gw.serverPort}`;
  b = await startBrowser();
  await page().goto(`${base}/`);
  await signIn(ADMIN);
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

describe('the request log page', () => {
  it('lists the newest requests first, with app, model, status, tokens and cost', async () => {
    const p = page();
    await p.locator('[data-nav="/requests"]').click();
    await p.getByRole('heading', { name: 'Request log', level: 1 }).waitFor();
    await rowCount(50);
    const first = rows().first();
    assert.match(await first.textContent(), /Chat/, 'the chat request (newest) first');
    const second = rows().nth(1);
    assert.match(await second.textContent(), /dev-bot/);
    const third = await rows().nth(2).textContent();
    assert.match(third, /shop-bot/);
    assert.match(third, /gpt-4o/);
    await b.shot('requests-01-log');
  });

  it('filters narrow the table and land in the URL', async () => {
    const p = page();
    await p.locator('[data-testid="filter-status"]').fill('502');
    await p.locator('[data-testid="filter-status"]').press('Tab');
    await p.waitForFunction(() => location.hash === '#/requests?status=502');
    await rowCount(6);
    for (const t of await rows().allTextContents()) assert.match(t, /502.*upstream_error/s);
    // errors only + the app: the same six
    await p.locator('[data-testid="clear-filters"]').click();
    await rowCount(50);
    await p.locator('[data-testid="filter-errors"]').selectOption('true');
    await p.locator('[data-testid="filter-app_id"]').selectOption(String(ids.shop));
    await p.waitForFunction((id) => location.hash.includes(`app_id=${id}`) && location.hash.includes('errors=true'), ids.shop);
    await rowCount(6);
    // a time range that ends before the first request: nothing, with a hint
    await p.locator('[data-testid="filter-to"]').fill('2020-01-01T00:00');
    await p.getByText('No request matches these filters').waitFor();
    // the filtered URL reloads into the same view
    await p.locator('[data-testid="filter-to"]').fill('');
    await rowCount(6);
    await p.reload();
    await rowCount(6);
    assert.equal(await p.locator('[data-testid="filter-errors"]').inputValue(), 'true');
    await p.locator('[data-testid="clear-filters"]').click();
    await rowCount(50);
  });

  it('pages by Older / Newer', async () => {
    const p = page();
    const firstPage = await rows().allTextContents();
    await p.locator('[data-testid="page-older"]').click();
    await rowCount(12);
    assert.ok(await p.locator('[data-testid="page-older"]').isDisabled(), 'no older page after the last');
    const secondPage = await rows().allTextContents();
    assert.equal(secondPage.filter((t) => firstPage.includes(t)).length, 0, 'no row on both pages');
    await p.locator('[data-testid="page-newer"]').click();
    await rowCount(50);
    assert.deepEqual(await rows().allTextContents(), firstPage);
  });

  it('opens a request with its details and link', async () => {
    const p = page();
    await p.locator('[data-testid="filter-status"]').fill('502');
    await p.locator('[data-testid="filter-status"]').press('Tab');
    await rowCount(6);
    await rows().first().locator('[data-testid="request-link"]').click();
    await p.locator('[data-testid="request-id"]').waitFor();
    assert.equal(await p.locator('[data-testid="request-id"]').textContent(), rid(60));
    assert.match(p.url(), new RegExp(`#/requests/${rid(60)}$`));
    const detail = await p.locator('main').textContent();
    for (const want of ['502', 'upstream_error', 'the vendor answered 502, "bad gateway", try later', 'shop-bot', 'Log GPT', 'gpt-4o', '360 ms', '1,060']) {
      assert.ok(detail.includes(want), `detail shows ${want}`);
    }
    await b.shot('requests-02-detail');
  });

  it('an x-request-id link works when pasted, also signed out', async () => {
    const p = page();
    await p.goto(`${base}/#/requests/${rid(900)}`);
    await p.locator('[data-testid="request-id"]').getByText(rid(900)).waitFor();
    const detail = await p.locator('main').textContent();
    assert.ok(detail.includes('dev-bot') && detail.includes('edge-eu-1') && detail.includes('eu'), detail);
    // the box on the log page opens a pasted id
    await p.goto(`${base}/#/requests`);
    await p.locator('[data-testid="open-request-id"]').fill(`  ${rid(7).toUpperCase()} `);
    await p.locator('[data-testid="open-request-id"]').press('Enter');
    await p.locator('[data-testid="request-id"]').getByText(rid(7)).waitFor();
    // not an id / not there
    await p.goto(`${base}/#/requests/not-a-request`);
    await p.getByText('Not a request id', { exact: true }).waitFor();
    await p.goto(`${base}/#/requests/${rid(12345)}`);
    await p.getByText('Request not found', { exact: true }).waitFor();
    // signed out: the sign-in keeps the link
    await signOut();
    await p.goto(`${base}/#/requests/${rid(30)}`);
    await p.getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
    await signIn(ADMIN);
    await p.locator('[data-testid="request-id"]').getByText(rid(30)).waitFor();
  });

  it('exports the filtered log as CSV', async () => {
    const p = page();
    await p.goto(`${base}/#/requests?status=502&app_id=${ids.shop}`);
    await rowCount(6);
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator('[data-testid="export-csv"]').click()]);
    assert.equal(download.suggestedFilename(), 'requests.csv');
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.split('\r\n');
    assert.equal(lines.at(-1), '', 'ends with CRLF');
    assert.match(lines[0], /^timestamp,request_id,interaction_type,status_code,error_code,error,/);
    assert.equal(lines.length, 1 + 6 + 1);
    assert.ok(lines[1].includes(`${rid(60)},proxy,502,upstream_error,"upstream_error: the vendor answered 502, ""bad gateway"", try later",${ids.shop},shop-bot`), lines[1]);
  });

  it('a developer sees only their own app', async () => {
    const p = page();
    await signOut();
    await signIn(DEV);
    await p.locator('[data-nav="/requests"]').click();
    await rowCount(1);
    assert.match(await rows().first().textContent(), /dev-bot/);
    await p.goto(`${base}/#/requests/${rid(10)}`);
    await p.getByText('Request not found', { exact: true }).waitFor();
    await b.shot('requests-03-developer');
  });
});

const tableRows = (caption) => page().locator(`table:has(> caption:text-is("${caption}")) > tbody > tr`);

describe('tables', () => {
  before(async () => {
    // a few more users and apps to sort, and audited changes by two people
    await pg.sql(`SELECT aistudio.create_user(e, n, role => r) FROM (VALUES
      ('zed@example.com', 'Zed', 'chat_user'), ('amy@example.com', 'Amy', 'developer')) v(e, n, r)`);
    await pg.sql(`SELECT set_config('pg_aistudio.acting_user', '${ids.admin}', false);
      SELECT aistudio.create_group('audit-group');
      SELECT set_config('pg_aistudio.acting_user', '${ids.dev}', false);
      SELECT aistudio.create_app('a-first-app', ${ids.dev}, '{}');
      SELECT aistudio.update_app((SELECT id FROM aistudio.apps WHERE name = 'a-first-app'), description => 'changed')`);
    const p = page();
    if (!(await p.locator('[data-testid="current-user"]').getByText(ADMIN.email).count())) {
      await signOut();
      await signIn(ADMIN);
    }
  });

  it('sorts the users and the apps by a column header, ascending then descending', async () => {
    const p = page();
    await p.goto(`${base}/#/users`);
    const users = tableRows('Users');
    await users.first().waitFor();
    const header = p.locator('th:has(button[data-sort="role"])');
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    await p.locator('button[data-sort="role"]').click();
    await p.waitForFunction(() => document.querySelector('th:has(button[data-sort="role"])').getAttribute('aria-sort') === 'ascending');
    const roles = async () => (await users.allTextContents());
    await p.waitForFunction(() => !document.querySelector('.table-wrap.is-loading'));
    const asc = await roles();
    assert.match(asc[0], /Chat user/, asc[0]); // by the role's name: chat_user, developer, super_admin
    assert.match(asc.at(-1), /Super admin/i, asc.at(-1));
    await p.locator('button[data-sort="role"]').click();
    await p.waitForFunction(() => document.querySelector('th:has(button[data-sort="role"])').getAttribute('aria-sort') === 'descending');
    await p.waitForFunction((first) => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Users');
      return t && t.tBodies[0].rows[0].textContent !== first;
    }, asc[0]);
    assert.match((await roles())[0], /Super admin/i);
    await b.shot('tables-01-users-sorted');

    await p.goto(`${base}/#/apps`);
    const apps = tableRows('Apps');
    await apps.first().waitFor();
    await p.locator('button[data-sort="name"]').click();
    await p.waitForFunction(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Apps');
      return t && t.tBodies[0].rows[0].textContent.includes('a-first-app');
    });
    await p.locator('button[data-sort="name"]').click();
    await p.waitForFunction(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Apps');
      return t && t.tBodies[0].rows[0].textContent.includes('shop-bot');
    });
  });

  it('filters the audit log by user, action and day range', async () => {
    const p = page();
    await p.goto(`${base}/#/audit`);
    const rowsOf = () => tableRows('Audit log');
    await rowsOf().first().waitFor();
    await p.locator('#audit-actor').selectOption(String(ids.dev));
    await p.waitForFunction(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Audit log');
      return t && !t.closest('.is-loading') && [...t.tBodies[0].rows].every((r) => r.textContent.includes('log-dev@example.com'));
    });
    const devRows = await rowsOf().allTextContents();
    assert.equal(devRows.length, 2, devRows.join('\n'));
    await p.locator('#audit-action').selectOption('update');
    await p.waitForFunction(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Audit log');
      return t && !t.closest('.is-loading') && t.tBodies[0].rows.length === 1;
    });
    assert.match(await rowsOf().first().textContent(), /Changed.*apps/s);
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86400e3).toISOString().slice(0, 10);
    await p.locator('#audit-until').fill(yesterday);
    await p.getByText('No changes recorded').waitFor();
    await p.locator('#audit-until').fill(today);
    await p.locator('#audit-since').fill(today);
    await p.waitForFunction(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent === 'Audit log');
      return t && !t.closest('.is-loading') && t.tBodies[0].rows.length === 1;
    });
    await b.shot('tables-02-audit-filtered');
  });

  it('the dashboard takes a custom date range and exports it as CSV', async () => {
    const p = page();
    await pg.sql('SELECT aistudio.rollup_now()');
    await p.goto(`${base}/#/dashboard`);
    await p.locator('[data-testid="kpi-requests"]').waitFor();
    await p.getByRole('radio', { name: 'Custom' }).click();
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86400e3).toISOString().slice(0, 10);
    await p.locator('#dash-from').fill(yesterday);
    await p.locator('#dash-to').fill(yesterday);
    await p.getByText(`No traffic from ${yesterday} to ${yesterday} (UTC)`).waitFor();
    await p.locator('#dash-to').fill(today);
    await p.waitForFunction(() => document.querySelector('[data-testid="kpi-requests"]')?.textContent === '62');
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator('[data-testid="usage-csv"]').click()]);
    assert.equal(download.suggestedFilename(), 'usage.csv');
    const lines = readFileSync(await download.path(), 'utf8').split('\r\n').filter(Boolean);
    assert.match(lines[0], /^key,label,vendor,currency,requests,errors,/);
    const requests = lines.slice(1).reduce((a, l) => a + Number(l.split(',')[4]), 0);
    assert.equal(requests, 62, lines.join('\n'));
    await b.shot('tables-03-dashboard-custom-range');
  });
});
