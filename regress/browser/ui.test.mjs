// regress/browser/ui.test.mjs: the web UI end to end in Debian's headless
// Chromium (playwright-core), against real processes: PostgreSQL 15 +
// pg_aistudio, gatewayd ($GATEWAYD_BIN) serving the REST API and www/ on
// SERVER_PORT, and the C mock upstream as the vendor.
//
// The story, one step per test, each checked in the page and in the database:
//   the first admin signs in; creates a secret, an LLM that uses it (through
//   the $SECRET/ picker, pointing at the mock), a model price, a developer and
//   a chat user, a group with both as members and the LLM granted; the
//   developer signs in, creates an app and a key (shown once); the key calls
//   the gateway through the OpenAI SDK; the call's tokens and cost show on the
//   developer's usage page and the admin dashboard (after rollup_now());
//   edges show their sync status (the hub's Edges page: edges.test.mjs);
//   the chat user chats with streaming output (POST /api/v1/chat/completions);
//   role-aware navigation; every page screenshotted (see lib/browser.mjs for
//   where the PNGs go).
import { describe, before, after, it as nodeIt, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { readdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { startCluster } from '../e2e/lib/cluster.mjs';
import { startGatewayd, waitEvent, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startMock } from '../e2e/lib/mock.mjs';
import { startIdp } from '../e2e/lib/idp.mjs';
import { startBrowser, ARTIFACTS } from './lib/browser.mjs';
import { num, money } from '../../www/app/format.js';

const VKEY = 'sk-browser-vendor-0123456789';
const ADMIN = { email: 'admin@example.com', name: 'Ada Admin', password: 'admin password 0123' };
const DEV = { email: 'grace@example.com', name: 'Grace Dev', password: 'developer password 01' };
const CHAT = { email: 'charlie@example.com', name: 'Charlie Chat', password: 'chat user password 01' };

let pg;
let gw;
let mock;
let b; // the browser
let base;
const state = {};
const it = withLogs(nodeIt, () => [gw, pg]);

const page = () => b.page;
const dialog = () => page().locator('dialog[open]');

async function signIn(user) {
  const p = page();
  await p.goto(`${base}/`);
  await p.getByLabel('Email').fill(user.email);
  await p.getByLabel('Password').fill(user.password);
  await p.getByLabel('Password').press('Enter'); // Enter submits
  await p.locator('[data-testid="current-user"]').getByText(user.email).waitFor();
}

async function signOut() {
  await page().locator('[data-testid="logout"]').click();
  await page().getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
}

async function go(hash) {
  await page().goto(`${base}/#${hash}`);
}

// GET with the path sent exactly as given (fetch would normalise "..").
function rawStatus(rawPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.serverPort, path: rawPath }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
  });
}

// Waits for a success toast with this text.
async function toastSays(text) {
  await page().locator('.toast').filter({ hasText: text }).first().waitFor();
}

before(async () => {
  // the UI's vendored libraries (npm ci on the first run)
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (existsSync(ARTIFACTS)) {
    for (const f of readdirSync(ARTIFACTS)) if (f.endsWith('.png')) rmSync(path.join(ARTIFACTS, f));
  }
  mock = await startMock({ expectKey: VKEY, frames: 12, frameIntervalMs: 40 });
  pg = await startCluster();
  // the first super admin, as the first run creates it
  state.adminId = Number(await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'super_admin')`));
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') } });
  base = `http://127.0.0.1:${gw.serverPort}`;
  const probe = await fetch(`${base}/`);
  if (probe.status !== 200 || !(probe.headers.get('content-type') || '').startsWith('text/html')) {
    throw new Error(`the web UI is not served on SERVER_PORT ${gw.serverPort} (GET / answered ${probe.status}): `
      + 'gw_static_routes() not wired into gw_admin_start_with in main.c?');
  }
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

describe('web UI', () => {
  it('serves the UI with its security headers and no CDN', async () => {
    const res = await fetch(`${base}/`);
    const body = await res.text();
    assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.doesNotMatch(body, /https?:\/\//, 'index.html loads nothing from another origin');
    for (const raw of ['/app/../index.html', '/app/%2e%2e/index.html', '/vendor/', '/app//main.js']) {
      assert.equal(await rawStatus(raw), 404, raw);
    }
    assert.equal((await fetch(`${base}/.gitignore`)).status, 404);
    assert.equal((await fetch(`${base}/package.json`)).status, 404);
  });

  it('the first admin signs in (a wrong password is refused with a clear message)', async () => {
    const p = page();
    await p.goto(`${base}/`);
    await p.getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
    await b.shot('login');
    await p.getByLabel('Email').fill(ADMIN.email);
    await p.getByLabel('Password').fill('not the password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').getByText('do not match').waitFor();
    await b.shot('login-error');
    await pg.sql('DELETE FROM aistudio.login_attempts');
    await signIn(ADMIN);
    assert.match(p.url(), /#\/dashboard$/);
    await p.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await b.shot('dashboard-empty');
  });

  it('admin creates a secret (write-only)', async () => {
    const p = page();
    await p.getByRole('link', { name: 'Secrets' }).click();
    await p.getByRole('heading', { name: 'No secrets yet' }).waitFor();
    await b.shot('secrets-empty');
    await p.getByRole('button', { name: 'Add secret' }).first().click();
    await dialog().getByLabel('Name').fill('MOCK_KEY');
    await dialog().getByLabel('Value').fill(VKEY);
    await b.shot('secret-dialog');
    await dialog().getByLabel('Value').press('Enter');
    await toastSays('Stored MOCK_KEY');
    await p.locator('table').getByText('$SECRET/MOCK_KEY').waitFor();
    await p.locator('table').getByText('Unbound').waitFor(); // no hosts yet: the first LLM binds it
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.secrets WHERE name = 'MOCK_KEY'`), '1');
    assert.ok(!(await p.content()).includes(VKEY), 'the value never shows');
    await b.shot('secrets');
  });

  it('admin creates an LLM that uses the secret, pointing at the mock', async () => {
    const p = page();
    await p.getByRole('link', { name: 'LLMs' }).click();
    await p.getByRole('button', { name: 'Add LLM' }).first().click();
    const d = dialog();
    await d.getByRole('textbox', { name: 'Name', exact: true }).fill('Mock GPT');
    await d.getByLabel('Vendor').selectOption('anthropic');
    assert.equal(await d.getByLabel('API endpoint').inputValue(), 'https://api.anthropic.com', 'the preset fills the endpoint');
    await d.getByLabel('Vendor').selectOption('openai');
    assert.equal(await d.getByLabel('API endpoint').inputValue(), 'https://api.openai.com/v1');
    await d.getByLabel('API endpoint').fill(`${mock.url}/v1`);
    await d.getByRole('combobox', { name: 'Secret' }).selectOption('MOCK_KEY');
    await d.getByLabel('Default model').fill('gpt-4o-mini');
    await d.getByLabel('Allowed models').fill('^gpt-4o');
    await d.getByLabel('Allowed models').press('Enter');
    await d.locator('.tag').getByText('^gpt-4o').waitFor();
    await b.shot('llm-dialog');
    await d.getByRole('button', { name: 'Create LLM' }).click();
    await toastSays('Created Mock GPT');
    await p.locator('table').getByText('mock-gpt').waitFor();
    const row = await pg.one(`SELECT id, slug, vendor, api_endpoint, api_key_ref, allowed_models, default_model FROM aistudio.llms WHERE name = 'Mock GPT'`);
    assert.equal(row.slug, 'mock-gpt');
    assert.equal(row.api_key_ref, '$SECRET/MOCK_KEY');
    assert.deepEqual(row.allowed_models, ['^gpt-4o']);
    assert.equal(row.default_model, 'gpt-4o-mini');
    state.llmId = row.id;
    await b.shot('llms');
  });

  it('the LLM bound the secret to its host; a super admin edits the allowed hosts', async () => {
    const p = page();
    const bound = `127.0.0.1:${new URL(mock.url).port}`;
    await p.getByRole('link', { name: 'Secrets' }).click();
    await p.locator('table').getByText(bound).waitFor();
    await p.getByRole('button', { name: 'Edit the allowed hosts of MOCK_KEY' }).click();
    const d = dialog();
    await d.getByLabel('Allowed hosts').fill('API.Example.com');
    await d.getByLabel('Allowed hosts').press('Enter');
    await d.locator('.tag').getByText('API.Example.com').waitFor();
    await b.shot('secret-hosts-dialog');
    await d.getByRole('button', { name: 'Save hosts' }).click();
    await toastSays('Saved the hosts of MOCK_KEY');
    await p.locator('table').getByText('api.example.com').waitFor(); // stored normalised
    assert.equal(await pg.sql(`SELECT allowed_hosts::text FROM aistudio.secrets WHERE name = 'MOCK_KEY'`),
      `{${bound},api.example.com}`);
  });

  it('admin sets a model price per million tokens', async () => {
    const p = page();
    await p.getByRole('link', { name: 'Model prices' }).click();
    await p.getByRole('button', { name: 'Set price' }).first().click();
    const d = dialog();
    await d.getByRole('textbox', { name: 'Model', exact: true }).fill('gpt-4o-mini');
    await d.getByLabel('Input / 1M tokens').fill('2');
    await d.getByLabel('Output / 1M tokens').fill('8');
    await d.getByText('cost $0.01').waitFor(); // 1k + 1k tokens at $2 + $8 per million
    await b.shot('price-dialog');
    await d.getByLabel('Output / 1M tokens').press('Enter');
    await toastSays('Saved the price of gpt-4o-mini');
    const row = await pg.one(`SELECT input_per_mtok::text AS i, output_per_mtok::text AS o FROM aistudio.model_prices WHERE vendor = 'openai' AND model_name = 'gpt-4o-mini'`);
    assert.equal(Number(row.i), 2);
    assert.equal(Number(row.o), 8);
    await b.shot('prices');
  });

  it('admin creates a developer and a chat user', async () => {
    const p = page();
    await p.getByRole('link', { name: 'Users' }).click();
    for (const [u, role] of [[DEV, 'developer'], [CHAT, 'chat_user']]) {
      await p.getByRole('button', { name: 'Add user' }).click();
      const d = dialog();
      await d.getByLabel('Email').fill(u.email);
      await d.getByLabel('Name').fill(u.name);
      await d.getByLabel('Role').selectOption(role);
      await d.getByLabel('Password', { exact: true }).fill(u.password);
      if (role === 'developer') await b.shot('user-dialog');
      await d.getByRole('button', { name: 'Create user' }).click();
      await toastSays(`Created ${u.email}`);
      await dialog().waitFor({ state: 'detached' });
    }
    await p.locator('table').getByText(CHAT.email).waitFor();
    const rows = await pg.json(`SELECT id, email, role FROM aistudio.users ORDER BY id`);
    state.devId = rows.find((r) => r.email === DEV.email).id;
    state.chatId = rows.find((r) => r.email === CHAT.email).id;
    assert.equal(rows.find((r) => r.email === DEV.email).role, 'developer');
    assert.equal(rows.find((r) => r.email === CHAT.email).role, 'chat_user');
    await b.shot('users');
  });

  it('admin creates a group, adds both and grants the LLM', async () => {
    const p = page();
    await p.getByRole('link', { name: 'Groups' }).click();
    await p.getByRole('button', { name: 'Create group' }).first().click();
    await dialog().getByLabel('Name').fill('engineering');
    await dialog().getByLabel('Name').press('Enter');
    await p.getByRole('heading', { name: 'engineering', level: 1 }).waitFor();
    for (const u of [DEV, CHAT]) {
      await p.locator('[data-testid="add-member"]').selectOption({ label: `${u.name} <${u.email}>` });
      await p.locator('form.add-picker').first().getByRole('button', { name: 'Add' }).click();
      await p.locator('.member-list').getByText(u.email).waitFor();
    }
    await p.locator('[data-testid="grant-llm"]').selectOption({ label: 'Mock GPT' });
    await p.locator('form.add-picker').nth(1).getByRole('button', { name: 'Add' }).click();
    await p.locator('.member-list').getByText('mock-gpt').waitFor();
    const g = await pg.one(`SELECT g.id, (SELECT array_agg(user_id ORDER BY user_id) FROM aistudio.group_members m WHERE m.group_id = g.id) AS members,
      (SELECT array_agg(llm_id) FROM aistudio.group_llms l WHERE l.group_id = g.id) AS llms FROM aistudio.groups g WHERE name = 'engineering'`);
    assert.deepEqual(g.members.map(Number), [state.devId, state.chatId].map(Number).sort((a, c) => a - c));
    assert.deepEqual(g.llms.map(Number), [Number(state.llmId)]);
    await b.shot('group');
  });

  it('the developer signs in, sees the catalogue, creates an app and a key (shown once)', async () => {
    const p = page();
    await signOut();
    await signIn(DEV);
    assert.match(p.url(), /#\/portal$/);
    await p.getByRole('heading', { name: 'Mock GPT' }).waitFor();
    // role-aware navigation: no admin pages
    for (const name of ['Users', 'Secrets', 'LLMs', 'Audit log', 'Edges']) {
      assert.equal(await p.getByRole('link', { name, exact: true }).count(), 0, `developer sees no ${name} link`);
    }
    await b.shot('portal');
    await p.getByRole('link', { name: 'My apps' }).click();
    await p.getByRole('heading', { name: 'No apps yet' }).waitFor();
    await p.getByRole('button', { name: 'Create app' }).first().click();
    const d = dialog();
    await d.getByLabel('Name').fill('support-bot');
    await d.getByLabel('Monthly budget (USD)').fill('25');
    await d.getByRole('checkbox', { name: /Mock GPT/ }).check();
    await b.shot('app-dialog');
    await d.getByRole('button', { name: 'Create app' }).click();
    await p.getByRole('heading', { name: 'support-bot', level: 1 }).waitFor();
    state.appId = Number(await pg.sql(`SELECT id FROM aistudio.apps WHERE name = 'support-bot'`));
    assert.equal(Number(await pg.sql(`SELECT owner_id FROM aistudio.apps WHERE id = ${state.appId}`)), Number(state.devId));
    await p.locator('[data-testid="create-key"]').click();
    await dialog().getByRole('heading', { name: 'Create an API key' }).waitFor();
    await dialog().getByRole('button', { name: 'Create key' }).click(); // no name, no expiry
    const keyField = dialog().locator('#secret-once-value');
    await keyField.waitFor();
    state.key = await keyField.inputValue();
    assert.match(state.key, /^ais_/);
    await dialog().getByText('It is shown only once').waitFor();
    assert.equal(await dialog().locator('[data-testid="copy-button"]').count(), 1);
    await b.shot('key-once');
    await p.keyboard.press('Escape'); // Esc closes the dialog
    await dialog().waitFor({ state: 'detached' });
    assert.equal(await p.evaluate(() => document.activeElement && document.activeElement.dataset.testid), 'create-key',
      'focus returns to the button that opened the dialog');
    await p.locator('table').getByText(`${state.key.slice(0, 12)}`).waitFor();
    assert.ok(!(await p.content()).includes(state.key), 'the key is not on the page once the dialog is closed');
    await b.shot('app-detail');
  });

  it('the key calls the gateway through the OpenAI SDK', async () => {
    const client = new OpenAI({ apiKey: state.key, baseURL: `${gw.url}/ai/mock-gpt/v1`, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello to the browser test please' }],
    }).withResponse();
    assert.ok(data.choices[0].message.content.length > 0);
    const evs = await waitEvent(pg, response.headers.get('x-request-id'));
    assert.equal(evs.length, 1, JSON.stringify(evs));
    const ev = evs[0];
    assert.equal(ev.kind, 'stored');
    assert.equal(Number(ev.app_id), state.appId);
    assert.equal(ev.total_tokens, data.usage.total_tokens);
    assert.ok(Number(ev.cost) > 0, `cost ${ev.cost}`);
    state.tokens = Number(ev.total_tokens);
    state.cost = Number(ev.cost);
    await pg.sql('SELECT aistudio.rollup_now()');
  });

  it("the call's tokens and cost show on the developer's usage page and the admin dashboard", async () => {
    const p = page();
    await p.getByRole('link', { name: 'Usage' }).click();
    await p.locator('[data-testid="kpi-tokens"]').getByText(num(state.tokens), { exact: true }).waitFor();
    assert.equal(await p.locator('[data-testid="kpi-cost"]').textContent(), money(state.cost, 'USD'));
    assert.equal(await p.locator('[data-testid="kpi-requests"]').textContent(), '1');
    await p.locator('.barlist').getByText('support-bot').waitFor();
    await b.shot('usage-developer');
    await go(`/apps/${state.appId}`);
    await p.locator('[data-testid="app-cost"]').getByText(money(state.cost, 'USD')).waitFor();
    await signOut();
    await signIn(ADMIN);
    await p.locator('[data-testid="kpi-tokens"]').getByText(num(state.tokens), { exact: true }).waitFor();
    assert.equal(await p.locator('[data-testid="kpi-cost"]').textContent(), money(state.cost, 'USD'));
    await p.locator('.barlist').getByText('gpt-4o-mini').first().waitFor();
    await p.locator('.barlist').getByText(DEV.email).waitFor(); // top users
    await b.shot('dashboard');
  });

  it('edges show sync-status chips; on a standalone server the page says edges cannot connect to it', async () => {
    await pg.sql(`SELECT aistudio.register_edge('edge-sync', '', '1.0'); SELECT aistudio.edge_heartbeat('edge-sync', aistudio.snapshot_checksum(''));
                  SELECT aistudio.register_edge('edge-new', '', '1.0')`);
    const p = page();
    await p.getByRole('link', { name: 'Edges' }).click();
    const rowOf = (id) => p.locator('tbody tr').filter({ hasText: id });
    await rowOf('edge-sync').locator('.chip-green').getByText('In Sync').waitFor();
    await rowOf('edge-new').locator('.chip-gray').getByText('Unknown').waitFor();
    await p.locator('[data-testid="mode-notice"]').getByText('runs standalone').waitFor();
    // neither is connected to a hub: a push signals nobody, and says so
    await p.locator('[data-testid="push-config"]').click();
    await dialog().getByText('All namespaces').waitFor();
    await b.shot('push-dialog');
    await dialog().getByRole('button', { name: 'Push now' }).click();
    await toastSays('No connected edge to push to');
    await dialog().locator('[data-testid="push-none"]').waitFor();
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.edge_status WHERE last_push_at IS NOT NULL`), '0');
    await dialog().getByRole('button', { name: 'Close' }).first().click();
    await b.shot('edges');
  });

  it('every admin page renders without errors', async () => {
    const p = page();
    const pages = [['/llms', 'LLMs'], ['/prices', 'Model prices'], ['/apps', 'Apps'], [`/apps/${state.appId}`, 'support-bot'],
      ['/filters', 'Filters'], ['/plugins', 'Plugins'], ['/users', 'Users'], ['/groups', 'Groups'], ['/roles', 'Roles'],
      ['/secrets', 'Secrets'], ['/edges', 'Edges'], ['/notifications', 'Notifications'], ['/audit', 'Audit log'],
      ['/account', 'Account'], ['/dashboard', 'Dashboard']];
    for (const [hash, title] of pages) {
      await go(hash);
      await p.getByRole('heading', { name: title, level: 1 }).waitFor();
      await p.waitForLoadState('networkidle');
      await b.shot(`page${hash.replace(/\//g, '-')}`, { fullPage: true });
    }
    await go('/audit');
    await p.locator('table').getByText('llms').first().waitFor();
    assert.deepEqual(b.problems, []);
  });

  it('a filter is created in its dialog and tried with its Test button (the gateway runs it)', async () => {
    const p = page();
    await go('/filters');
    await p.getByRole('heading', { name: 'Filters', level: 1 }).waitFor();
    await p.getByRole('button', { name: 'Add filter' }).first().click();
    let d = dialog();
    await d.getByRole('textbox', { name: 'Name' }).fill('ui-pii');
    await d.getByLabel('Type').selectOption('pii');
    await d.getByRole('button', { name: 'Create filter' }).click();
    await toastSays('Created ui-pii');
    assert.equal(await pg.sql(`SELECT filter_type || ' ' || config::text FROM aistudio.filters WHERE name = 'ui-pii'`),
      'pii {"kinds": ["email", "phone", "card", "iban"]}');
    await p.getByRole('button', { name: 'Test ui-pii' }).click();
    d = dialog();
    await d.getByLabel('Sample text').fill('my card 4111 1111 1111 1111, mail me at a@b.example');
    await d.getByRole('button', { name: 'Run' }).click();
    const out = d.locator('[data-testid="filter-test-result"]');
    await out.getByText('my card [CARD], mail me at [EMAIL]').waitFor();
    await out.getByText('modify').waitFor();
    await b.shot('filter-test');
    await d.getByRole('button', { name: 'Cancel' }).click();
  });

  it('the chat user sees only chat and gets a streamed answer', async () => {
    const p = page();
    await signOut();
    await signIn(CHAT);
    assert.match(p.url(), /#\/chat$/);
    const links = await p.locator('.sidebar nav a').allTextContents();
    assert.deepEqual(links.map((s) => s.trim()), ['Chat', 'My requests', 'Account']);
    await go('/users');
    await p.getByText('This page is not available to your role').waitFor();
    await go('/chat');
    await p.getByRole('heading', { name: 'How can I help?' }).waitFor();
    await b.shot('chat-empty');
    // record the assistant message's length at every change: a stream grows in steps
    await p.evaluate(() => {
      window.__lens = [];
      new MutationObserver(() => {
        const m = [...document.querySelectorAll('[data-testid="assistant-message"]')].pop();
        if (m) window.__lens.push(m.textContent.length);
      }).observe(document.querySelector('.chat-log'), { subtree: true, childList: true, characterData: true });
    });
    await p.getByLabel('Message').fill('Hello from the browser test');
    await p.getByLabel('Message').press('Enter');
    await p.locator('[data-testid="user-message"]').getByText('Hello from the browser test').waitFor();
    // the answer ends (no caret, the Send button is back) or fails with a message
    await p.locator('[data-testid="chat-send"], .msg-err').first().waitFor({ timeout: 30000 });
    const err = await p.locator('.msg-err').allTextContents();
    await b.shot('chat');
    assert.deepEqual(err, [], `the chat answer failed: ${err.join(' ')} — POST /api/v1/chat/completions must stream `
      + 'OpenAI chunks (data: {"choices":[{"delta":{"content":…}}]} … data: [DONE]) for {llm_id, model, messages, stream: true}');
    const answer = (await p.locator('[data-testid="assistant-message"]').last().textContent()).trim();
    assert.ok(answer.length > 0, 'an answer');
    const lens = await p.evaluate(() => window.__lens);
    const steps = new Set(lens.filter((n) => n > 0)).size;
    assert.ok(steps >= 3, `the answer is rendered token by token (${steps} distinct lengths: ${lens.join(',')})`);
    const rows = await pg.json(`SELECT interaction_type, user_id, llm_id, total_tokens FROM aistudio.llm_interactions WHERE interaction_type = 'chat'`);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(Number(rows[0].user_id), Number(state.chatId));
    assert.equal(Number(rows[0].llm_id), Number(state.llmId));
    // history is kept in the session: a reload shows the conversation again
    await p.reload();
    await p.locator('[data-testid="user-message"]').getByText('Hello from the browser test').waitFor();
    await b.shot('chat-after-reload');
  });
});

// Single sign-on, after the story above: the super admin adds an OpenID
// Connect provider (our mock IdP, its client secret from the secret store)
// on the Single sign-on page, signs out, clicks "Sign in with …" on the login
// page and is back, signed in, on the page they left; a refused sign-in ends
// on the login page with the provider's reason.
withLogs(test, () => [gw, pg])('single sign-on: the super admin adds a provider and signs in with it', { timeout: 120000 }, async () => {
  const idp = await startIdp({
    clientId: 'ai-studio-browser', clientSecret: 'idp-client-secret-0123456789',
    user: { sub: 'idp|ada', email: ADMIN.email.toUpperCase(), email_verified: true, name: ADMIN.name },
  });
  const p = page();
  const problemsBefore = b.problems.length;
  try {
    await pg.sql(`SELECT aistudio.set_secret('IDP_CLIENT_SECRET', '${idp.clientSecret}')`);
    await signOut();
    await signIn(ADMIN);
    await p.getByRole('link', { name: 'Single sign-on' }).click();
    await p.getByRole('heading', { name: 'No identity providers yet' }).waitFor();
    await b.shot('sso-empty');
    await p.getByRole('button', { name: 'Add provider' }).first().click();
    const d = dialog();
    await d.getByLabel('Display name').fill('Mock IdP');
    assert.equal(await d.getByLabel('Slug').inputValue(), 'mock-idp', 'the slug follows the name');
    await d.getByLabel('Issuer URL').fill(idp.issuer);
    await d.getByLabel('Client ID').fill(idp.clientId);
    await d.getByRole('combobox', { name: 'Client secret' }).selectOption('IDP_CLIENT_SECRET');
    assert.equal(await d.locator('#sso-redirect').inputValue(), `${base}/api/v1/auth/sso/mock-idp/callback`,
      'the redirect URI to register, from PUBLIC_URL');
    await b.shot('sso-dialog');
    await d.getByRole('button', { name: 'Create provider' }).click();
    await toastSays('Created Mock IdP');
    await p.locator('table').getByText('mock-idp').waitFor();
    const row = await pg.one(`SELECT slug, issuer, client_id, client_secret_ref, auto_provision, enabled
                                FROM aistudio.sso_providers`);
    assert.deepEqual(row, { slug: 'mock-idp', issuer: idp.issuer, client_id: idp.clientId,
      client_secret_ref: '$SECRET/IDP_CLIENT_SECRET', auto_provision: false, enabled: true });
    assert.ok(!(await p.content()).includes(idp.clientSecret), 'the client secret never shows');
    await b.shot('sso');

    // signed out on the SSO page: the login page offers the provider
    await signOut();
    const signInWith = p.getByRole('link', { name: 'Sign in with Mock IdP' });
    await signInWith.waitFor();
    await b.shot('login-sso');
    await signInWith.click();
    await p.locator('[data-testid="current-user"]').getByText(ADMIN.email).waitFor();
    assert.match(p.url(), /#\/sso$/, 'back on the page the sign-in started from');
    await p.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
    assert.equal(idp.counts.token, 1, 'one code exchanged');
    const link = await pg.one(`SELECT i.subject, i.user_id FROM aistudio.user_identities i`);
    assert.equal(link.subject, 'idp|ada');
    assert.equal(Number(link.user_id), Number(state.adminId), 'linked to the existing account by its verified email');
    await p.locator('tbody tr').filter({ hasText: 'mock-idp' }).locator('td.num').getByText('1', { exact: true }).waitFor();
    await b.shot('sso-signed-in');

    // the provider refuses: back on the login page with the reason, signed out
    await signOut();
    idp.misbehave.error = 'access_denied';
    await p.getByRole('link', { name: 'Sign in with Mock IdP' }).click();
    await p.getByRole('alert').getByText('Single sign-on failed').waitFor();
    await p.getByRole('heading', { name: 'Sign in to AI Studio' }).waitFor();
    assert.equal(await p.locator('[data-testid="current-user"]').count(), 0);
    await b.shot('login-sso-error');
    assert.deepEqual(b.problems.slice(problemsBefore), []);
  } finally {
    await idp.close();
  }
});

// The lookup lists and the shared resource pages, after the stories above:
// the UI offers the vendors the API lists (a vendor a DBA inserts shows in
// the LLM dialog, with its defaults), loads the lists once per session, and
// two CRUD pages built on app/resource.js go through create, an edit the API
// refuses (its error shown on the field it names, nothing changed), the
// corrected edit and the delete confirmation.
describe('lookups and resource pages', () => {
  let problemsBefore;
  // the API's refusals of the edits below are logged by the browser as failed loads
  const unexpected = () => b.problems.slice(problemsBefore).filter((p) => !/status of 400/.test(p));
  before(() => { problemsBefore = b.problems.length; });

  // the error shown on a dialog field: its input marked invalid and described by the message
  async function fieldError(d, label) {
    const input = d.getByLabel(label);
    await d.locator('[aria-invalid="true"]').first().waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
    const ids = (await input.getAttribute('aria-describedby')).split(' ');
    return (await page().locator(`[id="${ids[0]}"]`).textContent()).trim();
  }

  it('the vendor picker offers the vendors of GET /api/v1/vendors, also one a DBA inserted', async () => {
    await pg.sql(`INSERT INTO aistudio.vendors (name, display_name, wire_format, auth_header, key_required, default_endpoint,
                    default_model, prompt_includes_cache_reads, description, sort_order)
                  VALUES ('mistral', 'Mistral', 'openai', 'authorization', true, 'https://api.mistral.ai/v1',
                    'mistral-large-latest', true, 'La Plateforme, OpenAI-compatible.', 7)`);
    const p = page();
    const calls = [];
    const onRequest = (r) => { const u = new URL(r.url()); if (/^\/api\/v1\/(vendors|lookups)$/.test(u.pathname)) calls.push(u.pathname); };
    p.on('request', onRequest);
    try {
      await signIn(ADMIN);
      await p.getByRole('link', { name: 'LLMs' }).click();
      await p.getByRole('button', { name: 'Add LLM' }).first().click();
      const d = dialog();
      const offered = await d.getByLabel('Vendor').locator('option').allTextContents();
      const listed = (await pg.json('SELECT display_name FROM aistudio.list_vendors()')).map((v) => v.display_name);
      assert.deepEqual(offered, listed, 'the vendors of the API, in its order');
      assert.ok(offered.includes('Mistral'));
      await d.getByLabel('Vendor').selectOption('mistral');
      assert.equal(await d.getByLabel('API endpoint').inputValue(), 'https://api.mistral.ai/v1', "the vendor's default endpoint");
      assert.equal(await d.getByLabel('Default model').inputValue(), 'mistral-large-latest');
      await d.getByText('La Plateforme, OpenAI-compatible.').waitFor();
      await b.shot('llm-dialog-dba-vendor');
      await p.keyboard.press('Escape');
      await dialog().waitFor({ state: 'detached' });
      // the list filters and the price dialog offer it too
      assert.ok((await p.locator('#llm-vendor option').allTextContents()).includes('Mistral'));
      await p.getByRole('link', { name: 'Model prices' }).click();
      await p.getByRole('heading', { name: 'Model prices', level: 1 }).waitFor();
      assert.ok((await p.locator('#price-vendor option').allTextContents()).includes('Mistral'));
      for (const name of ['Users', 'Filters', 'Roles']) {
        await p.getByRole('link', { name, exact: true }).click();
        await p.getByRole('heading', { name, level: 1 }).waitFor();
      }
      // the filter stages and the roles come from the lookups too
      const lookups = await p.evaluate(() => fetch('/api/v1/lookups').then((r) => r.text()));
      const roles = JSON.parse(lookups).roles.map((r) => r.label);
      assert.deepEqual(await p.locator('.matrix thead th').allTextContents(), ['Capability', ...roles]);
      assert.deepEqual(calls.sort(), ['/api/v1/lookups', '/api/v1/lookups', '/api/v1/vendors'],
        'each list is loaded once per session (plus the one fetch of this test)');
    } finally {
      p.off('request', onRequest);
    }
  });

  it('a resource page (users): create, an edit refused on a field, the corrected edit, delete', async () => {
    const p = page();
    await go('/users');
    await p.getByRole('button', { name: 'Add user' }).click();
    let d = dialog();
    await d.getByLabel('Email').fill('temp@example.com');
    await d.getByLabel('Name').fill('Temp User');
    await d.getByLabel('Role').selectOption('chat_user');
    await d.getByLabel('Password', { exact: true }).fill('temporary password 01');
    await d.getByRole('button', { name: 'Create user' }).click();
    await toastSays('Created temp@example.com');
    await p.locator('table').getByText('temp@example.com').waitFor();
    const id = await pg.sql(`SELECT id FROM aistudio.users WHERE email = 'temp@example.com'`);
    assert.ok(Number(id) > 0);

    await p.getByRole('button', { name: 'Edit temp@example.com' }).click();
    d = dialog();
    await d.getByLabel('Email').fill('not-an-email');
    await d.getByRole('button', { name: 'Save changes' }).click();
    assert.match(await fieldError(d, 'Email'), /invalid email address "not-an-email"/);
    assert.equal(await d.getByRole('alert').count(), 0, 'the error is on the field, not in a banner');
    await b.shot('user-dialog-field-error');
    assert.equal(await pg.sql(`SELECT email FROM aistudio.users WHERE id = ${id}`), 'temp@example.com', 'nothing changed');
    await d.getByLabel('Email').fill('temp2@example.com');
    await d.getByRole('button', { name: 'Save changes' }).click();
    await toastSays('Saved temp2@example.com');
    await dialog().waitFor({ state: 'detached' });
    assert.equal(await pg.sql(`SELECT email FROM aistudio.users WHERE id = ${id}`), 'temp2@example.com');

    await p.getByRole('button', { name: 'Delete temp2@example.com' }).click();
    await dialog().getByRole('heading', { name: 'Delete temp2@example.com?' }).waitFor();
    await dialog().getByRole('button', { name: 'Delete user' }).click();
    await toastSays('Deleted temp2@example.com');
    await p.locator('table').getByText('temp2@example.com').waitFor({ state: 'detached' });
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.users WHERE id = ${id}`), '0');
  });

  it('a resource page (model prices): create, an edit refused on a field, the corrected edit, delete', async () => {
    const p = page();
    await go('/prices');
    await p.getByRole('button', { name: 'Set price' }).first().click();
    let d = dialog();
    await d.getByLabel('Vendor').selectOption('anthropic');
    await d.getByRole('textbox', { name: 'Model', exact: true }).fill('tmp-model');
    await d.getByLabel('Input / 1M tokens').fill('1');
    await d.getByLabel('Output / 1M tokens').fill('2');
    await d.getByRole('button', { name: 'Save price' }).click();
    await toastSays('Saved the price of tmp-model');
    await p.locator('table').getByText('tmp-model').waitFor();
    const price = () => pg.one(`SELECT vendor, input_per_mtok::text AS i, output_per_mtok::text AS o FROM aistudio.model_prices WHERE model_name = 'tmp-model'`);
    const created = await price();
    assert.deepEqual([created.vendor, Number(created.i), Number(created.o)], ['anthropic', 1, 2]);

    await p.getByRole('button', { name: 'Edit the price of tmp-model' }).click();
    d = dialog();
    assert.equal(await d.getByLabel('Vendor').isDisabled(), true, 'vendor and model are fixed on edit');
    await d.getByLabel('Input / 1M tokens').fill('-1');
    await d.getByRole('button', { name: 'Save price' }).click();
    assert.match(await fieldError(d, 'Input / 1M tokens'), /input_per_mtok must be a non-negative amount/);
    await b.shot('price-dialog-field-error');
    assert.equal(Number((await price()).i), 1, 'nothing changed');
    await d.getByLabel('Input / 1M tokens').fill('1.5');
    await d.getByRole('button', { name: 'Save price' }).click();
    await toastSays('Saved the price of tmp-model');
    await dialog().waitFor({ state: 'detached' });
    assert.equal(Number((await price()).i), 1.5);
    assert.equal(Number((await price()).o), 2);

    await p.getByRole('button', { name: 'Delete the price of tmp-model' }).click();
    await dialog().getByRole('heading', { name: 'Delete the price of tmp-model?' }).waitFor();
    await dialog().getByRole('button', { name: 'Delete price' }).click();
    await toastSays('Price deleted');
    await p.locator('table').getByText('tmp-model').waitFor({ state: 'detached' });
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.model_prices WHERE model_name = 'tmp-model'`), '0');
    assert.deepEqual(unexpected(), []);
  });

  it('GET /api/v1/vendors and /lookups: every signed-in role, bad requests refused', async () => {
    const raw = (method, p, cookie) => fetch(`${base}/api/v1${p}`, { method, headers: cookie ? { cookie } : {} });
    for (const p of ['/vendors', '/lookups']) assert.equal((await raw('GET', p)).status, 401, p);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: CHAT.email, password: CHAT.password }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const v = await raw('GET', '/vendors', cookie);
    assert.equal(v.status, 200);
    const vendors = (await v.json()).data;
    assert.deepEqual(vendors.map((x) => x.name), (await pg.json('SELECT name FROM aistudio.list_vendors()')).map((x) => x.name));
    assert.deepEqual(Object.keys(vendors[0]).sort(), ['auth_header', 'default_endpoint', 'default_model', 'description',
      'display_name', 'key_required', 'name', 'prompt_includes_cache_reads', 'wire_format']);
    const l = await raw('GET', '/lookups', cookie);
    assert.equal(l.status, 200);
    const lookups = await l.json();
    assert.deepEqual(Object.keys(lookups).sort(), ['filter_stages', 'filter_types', 'plugin_hooks', 'roles', 'sso_roles']);
    assert.deepEqual(lookups.roles.map((r) => [r.name, r.rank]), [['super_admin', 4], ['admin', 3], ['developer', 2], ['chat_user', 1]]);
    const bad = await raw('GET', '/vendors?page=2', cookie);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'unknown_parameter');
    const post = await raw('POST', '/lookups', cookie);
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });
});
