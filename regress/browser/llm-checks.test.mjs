// regress/browser/llm-checks.test.mjs: the LLM checks of the LLMs page
// (www/app/llms.js) in Debian's headless Chromium, against PostgreSQL 15 +
// pg_aistudio, gatewayd and the mock upstream (--expect-key): "Test
// connection" shows Connected with the upstream status, latency and the
// call made; with a wrong vendor key it shows Failed, HTTP 401 and the
// vendor's message (never the key); "Fetch models" in the edit dialog lists
// the vendor's models and a click allows exactly one, saved to the database;
// the prices page fills a new price's model name from an LLM's model list.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster, sleep } from '../e2e/lib/cluster.mjs';
import { startGatewayd, seed, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startMock } from '../e2e/lib/mock.mjs';
import { startBrowser } from './lib/browser.mjs';

const ADMIN = { email: 'llm-admin@example.com', name: 'LLM Admin', password: 'llm admin password 0123' };
const VKEY = 'sk-vendor-browser-9';
const WRONG = 'sk-wrong-browser-key-42';

let pg;
let gw;
let b;
let mock;
let base;
let ids;
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');
const rowOf = (name) => page().locator('table tbody > tr').filter({ hasText: name });

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  mock = await startMock({ expectKey: VKEY });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [
      { name: 'Good GPT', vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret' },
      { name: 'Bad GPT', vendor: 'openai', endpoint: `${mock.url}/v1`, key: WRONG },
    ],
  });
  await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'admin')`);
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') }, wait: false });
  base = `http://127.0.0.1:${gw.serverPort}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/api/v1/info`)).status === 200) break; } catch { /* not up yet */ }
    if (i > 300) throw new Error(`the REST API did not come up on ${gw.serverPort}\n${gw.logs()}`);
    await sleep(100);
  }
  b = await startBrowser();
  const p = page();
  await p.goto(`${base}/`);
  await p.getByLabel('Email').fill(ADMIN.email);
  await p.getByLabel('Password').fill(ADMIN.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(ADMIN.email).waitFor();
  await p.goto(`${base}/#/llms`);
  await p.getByRole('heading', { name: 'LLMs', level: 1 }).waitFor();
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

describe('LLM checks on the LLMs page', () => {
  it('Test connection shows Connected, the upstream status, latency and the call', async () => {
    const p = page();
    await p.getByRole('button', { name: 'Test connection of Good GPT' }).click();
    const result = dialog().locator('[data-testid="llm-test-result"]');
    await result.getByText('Connected').waitFor();
    await result.getByText('HTTP 200').waitFor();
    await result.getByText('GET /v1/models').waitFor();
    assert.match(await result.textContent(), /Latency\d+ ms/);
    await p.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
  });

  it('with a wrong vendor key: Failed, HTTP 401 and the vendor\'s message, never the key', async () => {
    const p = page();
    await p.getByRole('button', { name: 'Test connection of Bad GPT' }).click();
    const result = dialog().locator('[data-testid="llm-test-result"]');
    await result.getByText('Failed').waitFor();
    await result.getByText('HTTP 401').waitFor();
    await result.getByText(/Incorrect API key/).waitFor();
    assert.ok(!(await p.content()).includes(WRONG), 'the key is not on the page');
    // once more: the same answer
    await dialog().getByRole('button', { name: 'Test again' }).click();
    await result.getByText('HTTP 401').waitFor();
    await dialog().getByRole('button', { name: 'Close' }).first().click();
    await dialog().waitFor({ state: 'detached' });
  });

  it('Fetch models lists the vendor\'s models; a click allows exactly that model', async () => {
    const p = page();
    await p.getByRole('button', { name: 'Edit Good GPT' }).click();
    const d = dialog();
    await d.getByRole('button', { name: 'Fetch models from the vendor' }).click();
    await d.getByRole('button', { name: '+ gpt-4o-mini' }).click();
    await d.locator('[aria-label="Models the vendor offers"]').getByText('gpt-4o-mini', { exact: true }).waitFor();
    await d.getByRole('button', { name: 'Save changes' }).click();
    await dialog().waitFor({ state: 'detached' });
    const allowed = await pg.sql(`SELECT allowed_models FROM aistudio.llms WHERE id = ${ids.llms['Good GPT'].id}`);
    assert.equal(allowed, '{^gpt-4o-mini$}');
    // a wrong key: the vendor's refusal is shown in the dialog
    await p.getByRole('button', { name: 'Edit Bad GPT' }).click();
    await dialog().getByRole('button', { name: 'Fetch models from the vendor' }).click();
    await dialog().getByText(/HTTP 401: Incorrect API key/).waitFor();
    await p.keyboard.press('Escape');
  });

  it('the prices page takes a new price\'s model name from an LLM\'s model list', async () => {
    const p = page();
    await p.goto(`${base}/#/prices`);
    await p.getByRole('button', { name: 'Set price' }).first().click();
    const d = dialog();
    await d.getByLabel('Vendor').selectOption('openai');
    await d.getByLabel('Models of LLM').selectOption({ label: 'Good GPT' });
    await d.getByRole('button', { name: 'Fetch models' }).click();
    await d.locator('[aria-label="Models of the LLM"]').getByRole('button', { name: 'gpt-4o', exact: true }).click();
    assert.equal(await d.getByRole('textbox', { name: 'Model', exact: true }).inputValue(), 'gpt-4o');
    await d.getByLabel('Input / 1M tokens').fill('2.5');
    await d.getByLabel('Output / 1M tokens').fill('10');
    await d.getByRole('button', { name: 'Save price' }).click();
    await dialog().waitFor({ state: 'detached' });
    assert.equal(await pg.sql(`SELECT input_per_mtok || '/' || output_per_mtok FROM aistudio.model_prices
      WHERE vendor = 'openai' AND model_name = 'gpt-4o'`), '2.5/10');
  });
});
