// regress/browser/defects.test.mjs: what a new admin and a new developer
// ran into in the web UI (issue 13), each checked in headless Chromium
// against real processes (PostgreSQL 15 + pg_aistudio, gatewayd serving the
// REST API and www/, the C mock upstream as the vendor):
//   the users page names each user's groups; the dashboard labels traffic
//   without an app (chat, refused requests) and its chart legends show the
//   period's totals; the chat offers exactly the LLMs the user may use
//   (admins too: group grants decide), has an <h1>, and a failed send leaves
//   no empty answer bubble; the price preview reads as one sentence; a spent
//   budget says "over by"; percentages read one way; a 403 page offers no
//   Retry; the developer portal shows the prices of a case-insensitive model
//   pattern; no aria-label on plain spans; text contrast at least 4.5:1.
// The data is set up through the SQL API; each check looks at the page.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startMock } from '../e2e/lib/mock.mjs';
import { startBrowser } from './lib/browser.mjs';
import { contrastProblems, labelledSpans } from './lib/a11y.mjs';
import { pct, budgetLeft } from '../../www/app/format.js';

const VKEY = 'sk-defects-vendor-0123456789';
const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'admin password 0123' };
const DEV = { email: 'dev@example.com', name: 'Dev Eloper', password: 'developer password 01' };
const CHAT = { email: 'chat@example.com', name: 'Chat User', password: 'chat user password 01' };

let pg;
let gw;
let mock;
let b;
let base;
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

const event = (o) => `jsonb_build_object('timestamp', now() - interval '1 hour', 'request_id', gen_random_uuid(),
  'vendor', 'openai', 'model_name', 'gpt-4o-mini', 'latency_ms', 20, 'status_code', 200, 'prompt_tokens', 1000,
  'response_tokens', 500${Object.entries(o).map(([k, v]) => `, '${k}', ${typeof v === 'string' ? `'${v}'` : v}`).join('')})`;

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  mock = await startMock({ expectKey: VKEY, frames: 6, frameIntervalMs: 20 });
  pg = await startCluster();
  const one = async (q) => Number(await pg.sql(q));
  ids.admin = await one(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'super_admin')`);
  ids.dev = await one(`SELECT aistudio.create_user('${DEV.email}', '${DEV.name}', '${DEV.password}', 'developer')`);
  ids.chat = await one(`SELECT aistudio.create_user('${CHAT.email}', '${CHAT.name}', '${CHAT.password}', 'chat_user')`);
  await pg.sql(`SELECT aistudio.set_secret('MOCK_KEY', '${VKEY}', allowed_hosts => ARRAY['127.0.0.1'])`);
  // a case-insensitive pattern: the portal must show the price of gpt-4o-mini
  ids.llm = await one(`SELECT aistudio.create_llm('Mock GPT', 'openai', '${mock.url}/v1', '$SECRET/MOCK_KEY',
    default_model => 'gpt-4o-mini', allowed_models => ARRAY['(?i)^GPT-4O'])`);
  ids.other = await one(`SELECT aistudio.create_llm('Other LLM', 'openai', '${mock.url}/v1', '$SECRET/MOCK_KEY')`);
  await pg.sql(`SELECT aistudio.set_model_price('openai', 'gpt-4o-mini', 2, 8); SELECT aistudio.set_model_price('openai', 'o1', 15, 60)`);
  ids.group = await one(`SELECT aistudio.create_group('engineering')`);
  await pg.sql(`SELECT aistudio.add_user_to_group(${ids.dev}, ${ids.group}); SELECT aistudio.add_user_to_group(${ids.chat}, ${ids.group});
    SELECT aistudio.grant_llm_to_group(${ids.group}, ${ids.llm})`);
  // an app over its budget; traffic without an app: chat, and a request refused before its app was known
  ids.app = await one(`SELECT aistudio.create_app('tiny-bot', ${ids.dev}, ARRAY[${ids.llm}]::bigint[], monthly_budget => 0.01)`);
  ids.adminApp = await one(`SELECT aistudio.create_app('admin-bot', ${ids.admin}, ARRAY[${ids.llm}]::bigint[])`);
  await pg.sql(`SELECT aistudio.ingest_events(jsonb_build_array(
    ${event({ app_id: ids.app, user_id: ids.dev, llm_id: ids.llm })},
    ${event({ app_id: ids.app, user_id: ids.dev, llm_id: ids.llm, response_tokens: 264 })},
    ${event({ user_id: ids.chat, llm_id: ids.llm, interaction_type: 'chat' })},
    ${event({ vendor: 'unknown', model_name: '', prompt_tokens: 0, response_tokens: 0, status_code: 401 })}));
    SELECT aistudio.rollup_now()`);
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') } });
  base = `http://127.0.0.1:${gw.serverPort}`;
  b = await startBrowser();
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

describe('the defects a new admin met', () => {
  it('percentages read one way and a spent budget says "over by"', () => {
    assert.deepEqual([0, 0.04, 0.5, 2, 5.25, 45.6, 100, 250.4].map(pct), ['0%', '<0.1%', '0.5%', '2%', '5.3%', '46%', '100%', '250%']);
    assert.ok(![0, 0.01, 0.04, 0.09].map(pct).includes('0.0%'), 'never "0.0%"');
    assert.equal(budgetLeft('-0.001953'), 'over by $0.001953');
    assert.equal(budgetLeft(2.5), '$2.50 left');
  });

  it('the users page names the groups of each user (GET /users returns group_ids)', async () => {
    await signIn(ADMIN);
    await go('/users');
    const row = (email) => page().locator('tbody tr').filter({ hasText: email });
    await row(DEV.email).locator('[data-testid="user-groups"]').getByText('engineering').waitFor();
    await row(CHAT.email).locator('[data-testid="user-groups"]').getByText('engineering').waitFor();
    assert.equal(await row(ADMIN.email).locator('[data-testid="user-groups"]').count(), 0);
    await row(ADMIN.email).getByText('None').waitFor();
    const api = await page().evaluate(() => fetch('/api/v1/users?page_size=10').then((r) => r.json()));
    assert.deepEqual(api.data.find((u) => u.email === 'dev@example.com').group_ids, [Number(ids.group)]);
    await b.shot('users-groups');
  });

  it('the dashboard labels chat traffic and requests without an app; chart legends show totals', async () => {
    const p = page();
    await go('/dashboard');
    const apps = p.locator('.card').filter({ has: p.getByRole('heading', { name: 'Top apps' }) });
    await apps.getByText('tiny-bot').waitFor();
    await apps.getByText('Chat', { exact: true }).waitFor();
    await apps.getByText('No app', { exact: true }).waitFor();
    const users = p.locator('.card').filter({ has: p.getByRole('heading', { name: 'Top users' }) });
    await users.getByText('No user', { exact: true }).waitFor();
    const models = p.locator('.card').filter({ has: p.getByRole('heading', { name: 'Top models' }) });
    await models.getByText('Unknown model', { exact: true }).waitFor();
    const text = await p.locator('main').textContent();
    assert.doesNotMatch(text, /\bnull\b/, 'no "null" on the dashboard');
    // with the cursor off the charts, each legend shows its series' total over the range
    const legend = p.locator('.card').filter({ has: p.getByRole('heading', { name: 'Cost over time' }) }).locator('.u-legend');
    await legend.getByText(/total$/).first().waitFor();
    const legendText = await legend.textContent();
    assert.doesNotMatch(legendText, /—/, `legend: ${legendText}`);
    assert.match(legendText, /Cost \(USD\)\$[0-9.]+ total/);
    await b.shot('dashboard-labels');
  });

  it('the roles page gives its ticks accessible text (no aria-label on plain spans)', async () => {
    const p = page();
    await go('/roles');
    await p.getByRole('heading', { name: 'Permissions' }).waitFor();
    assert.deepEqual(await labelledSpans(p), []);
    const row = p.getByRole('row', { name: /Audit log, admins and super admins/ });
    const cells = await row.locator('td').evaluateAll((tds) => tds.map((td) => td.textContent.replace('—', '').trim()));
    assert.deepEqual(cells, ['Yes', 'No', 'No', 'No'], 'each cell reads Yes or No to a screen reader');
  });

  it('the price preview reads as one sentence (no stray "." on a line of its own)', async () => {
    const p = page();
    await go('/prices');
    await p.getByRole('button', { name: 'Set price' }).first().click();
    const d = dialog();
    await d.getByRole('textbox', { name: 'Model', exact: true }).fill('preview-model');
    await d.getByLabel('Input / 1M tokens').fill('2');
    await d.getByLabel('Output / 1M tokens').fill('8');
    const notice = d.locator('.alert').filter({ hasText: 'completion tokens cost' });
    await notice.waitFor();
    const lines = await notice.locator('.alert-body').evaluate((el) => {
      const r = document.createRange();
      r.selectNodeContents(el);
      return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
    });
    assert.equal(lines, 1, 'the sentence, its amount and its full stop are on one line');
    await b.shot('price-preview');
    await p.keyboard.press('Escape');
  });

  it('a super admin chats with exactly the LLMs their groups grant (none yet: told how to get one)', async () => {
    const p = page();
    await go('/chat');
    await p.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
    await p.getByRole('heading', { name: 'No model is available to you yet' }).waitFor();
    await p.getByText('for administrators too').waitFor();
    assert.equal(await p.locator('#chat-llm').count(), 0, 'no picker offering LLMs every send would refuse');
    await b.shot('chat-admin-no-group');
    await pg.sql(`SELECT aistudio.add_user_to_group(${ids.admin}, ${ids.group})`);
    await p.reload();
    await p.locator('#chat-llm').waitFor();
    assert.deepEqual(await p.locator('#chat-llm option').allTextContents(), ['Mock GPT · OpenAI'], 'the granted LLM only, not "Other LLM"');
    assert.equal(await p.getByRole('heading', { level: 1 }).count(), 1);
    await p.getByLabel('Message').fill('Hello as an admin');
    await p.getByLabel('Message').press('Enter');
    await p.locator('[data-testid="chat-send"], .msg-err').first().waitFor({ timeout: 30000 });
    assert.deepEqual(await p.locator('.msg-err').allTextContents(), []);
    assert.ok((await p.locator('[data-testid="assistant-message"]').last().textContent()).trim().length > 0);
    await b.shot('chat-admin');
  });

  it('a failed send shows its error without an empty answer bubble', async () => {
    const p = page();
    await p.getByRole('button', { name: 'New chat' }).click();
    // the grant goes away while the page is open: the send is refused (403)
    await pg.sql(`SELECT aistudio.revoke_llm_from_group(${ids.group}, ${ids.llm})`);
    await p.getByLabel('Message').fill('Are you still there?');
    await p.getByLabel('Message').press('Enter');
    const err = p.locator('.msg-err');
    await err.waitFor();
    assert.match(await err.textContent(), /none of your groups grants LLM 'mock-gpt'/);
    assert.equal(await p.locator('[data-testid="assistant-message"]').count(), 0, 'no empty answer bubble');
    assert.equal(await p.locator('[data-testid="user-message"]').count(), 1);
    await b.shot('chat-failed-send');
    await pg.sql(`SELECT aistudio.grant_llm_to_group(${ids.group}, ${ids.llm})`);
  });
});

describe('the defects a new developer met', () => {
  it('a spent budget reads "over by", not a negative amount left', async () => {
    await signIn(DEV);
    await go(`/apps/${ids.app}`);
    const left = page().locator('[data-testid="budget-left"]');
    await left.getByText(/over by \$0\.00/).waitFor();
    assert.doesNotMatch(await left.textContent(), /-\$|left/);
    await b.shot('app-over-budget');
  });

  it("a 403 page offers no Retry (another developer's app)", async () => {
    const p = page();
    await go(`/apps/${ids.adminApp}`);
    await p.getByRole('alert').waitFor();
    assert.match(await p.getByRole('alert').textContent(), /permission denied|Not allowed/i);
    assert.equal(await p.getByRole('button', { name: 'Retry' }).count(), 0);
    await b.shot('app-403');
  });

  it('the portal shows the prices of the models a case-insensitive pattern allows', async () => {
    const p = page();
    await go('/portal');
    const card = p.locator('.llm-card').filter({ hasText: 'Mock GPT' });
    await card.locator('.mini-table').getByText('gpt-4o-mini').waitFor();
    assert.equal(await card.locator('.mini-table').getByText('o1', { exact: true }).count(), 0, 'o1 is not allowed');
    await b.shot('portal-prices');
  });

  it('no page has text under 4.5:1 contrast (3:1 for large text)', async () => {
    const p = page();
    const problems = [];
    for (const [who, pages] of [[DEV, ['/portal', '/usage', `/apps/${ids.app}`, '/notifications', '/account', '/chat']],
      [ADMIN, ['/dashboard', '/users', '/roles', '/llms', '/prices', '/groups', '/secrets', '/notifications', '/audit', '/edges']]]) {
      await signIn(who);
      for (const hash of pages) {
        await go(hash);
        await p.locator('main h1').first().waitFor();
        await p.waitForLoadState('networkidle');
        problems.push(...(await contrastProblems(p)).map((x) => `${hash}: ${x}`));
      }
    }
    await p.locator('[data-testid="logout"]').click();
    await p.getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
    problems.push(...(await contrastProblems(p)).map((x) => `login: ${x}`));
    assert.deepEqual([...new Set(problems)], []);
    assert.deepEqual(b.problems.filter((x) => !/status of 403/.test(x)), []);
  });
});
