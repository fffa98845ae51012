// regress/browser/ratelimits.test.mjs: rate limits in the web UI
// (www/app/apps.js, llms.js) in Debian's headless Chromium, against
// PostgreSQL 15 + pg_aistudio and gatewayd: a developer creates an app
// with "Requests / minute" and "Tokens / minute", sees them on the app
// page, changes one and clears the other in the edit dialog; a value out of
// range is refused with the database's message on the field; an admin sets
// an LLM's limits in its dialog. Every change is checked in the database.
import { before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster, sleep } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';

const DEV = { email: 'limits-dev@example.com', name: 'Limit Dev', password: 'limit dev password 0123' };
const ADMIN = { email: 'limits-admin@example.com', name: 'Limit Admin', password: 'limit admin password 0123' };

let pg;
let gw;
let b;
let base;
let llmId;
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');
const limitsOf = (table, where) => pg.one(`SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.${table} WHERE ${where}`);

async function login(who) {
  const p = page();
  await p.context().clearCookies(); // signed out
  await p.goto(`${base}/`);
  await p.reload();
  await p.getByLabel('Email').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(who.email).waitFor();
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  pg = await startCluster();
  await pg.sql(`SELECT aistudio.create_user('${DEV.email}', '${DEV.name}', '${DEV.password}', 'developer')`);
  await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'admin')`);
  llmId = Number(await pg.sql(`SELECT aistudio.create_llm('Limited GPT', 'openai', 'https://api.openai.com/v1')`));
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') }, wait: false });
  base = `http://127.0.0.1:${gw.serverPort}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/api/v1/info`)).status === 200) break; } catch { /* not up yet */ }
    if (i > 300) throw new Error(`the REST API did not come up on ${gw.serverPort}\n${gw.logs()}`);
    await sleep(100);
  }
  b = await startBrowser();
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

it('a developer creates an app with rate limits, sees them, changes and clears them', async () => {
  await login(DEV);
  const p = page();
  await p.goto(`${base}/#/apps`);
  await p.getByRole('button', { name: 'Create app' }).first().click();
  const d = dialog();
  await d.getByLabel('Name').fill('limited-bot');
  await d.getByLabel('Requests / minute').fill('60');
  await d.getByLabel('Tokens / minute').fill('100000');
  await d.getByRole('button', { name: 'Create app' }).click();
  await d.waitFor({ state: 'detached' });
  const card = p.locator('[data-testid="rate-limits"]');
  await card.getByText('100,000').waitFor();
  assert.match(await card.textContent(), /Requests \/ minute\s*60/);
  const appId = Number(await pg.sql(`SELECT id FROM aistudio.apps WHERE name = 'limited-bot'`));
  assert.deepEqual(await limitsOf('apps', `id = ${appId}`), { rate_limit_rpm: 60, rate_limit_tpm: 100000 });

  // out of range: the database's message, nothing changed
  await p.getByRole('button', { name: 'Edit' }).click();
  await dialog().getByLabel('Requests / minute').fill('0');
  await dialog().getByRole('button', { name: 'Save changes' }).click();
  await dialog().getByText(/rate_limit_rpm must be between 1 and 1000000000/).waitFor();
  assert.deepEqual(await limitsOf('apps', `id = ${appId}`), { rate_limit_rpm: 60, rate_limit_tpm: 100000 });

  // change one, clear the other
  await dialog().getByLabel('Requests / minute').fill('120');
  await dialog().getByLabel('Tokens / minute').fill('');
  await dialog().getByRole('button', { name: 'Save changes' }).click();
  await dialog().waitFor({ state: 'detached' });
  await card.getByText('No limit').waitFor();
  assert.match(await card.textContent(), /Requests \/ minute\s*120/);
  assert.deepEqual(await limitsOf('apps', `id = ${appId}`), { rate_limit_rpm: 120, rate_limit_tpm: null });
});

it("an admin sets an LLM's rate limits in its dialog", async () => {
  await login(ADMIN);
  const p = page();
  await p.goto(`${base}/#/llms`);
  await p.getByRole('button', { name: /^Edit Limited GPT/ }).click();
  const d = dialog();
  await d.getByLabel('Requests / minute').fill('500');
  await d.getByLabel('Tokens / minute').fill('2000000');
  await d.getByRole('button', { name: 'Save changes' }).click();
  await d.waitFor({ state: 'detached' });
  assert.deepEqual(await limitsOf('llms', `id = ${llmId}`), { rate_limit_rpm: 500, rate_limit_tpm: 2000000 });
  await p.getByRole('button', { name: /^Edit Limited GPT/ }).click();
  assert.equal(await dialog().getByLabel('Requests / minute').inputValue(), '500');
  await dialog().getByLabel('Requests / minute').fill('');
  await dialog().getByRole('button', { name: 'Save changes' }).click();
  await dialog().waitFor({ state: 'detached' });
  assert.deepEqual(await limitsOf('llms', `id = ${llmId}`), { rate_limit_rpm: null, rate_limit_tpm: 2000000 });
});
