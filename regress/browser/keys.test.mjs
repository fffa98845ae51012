// regress/browser/keys.test.mjs: the lifecycle of API keys in the web UI
// (www/app/apps.js, account.js, keys.js) in Debian's headless Chromium,
// against PostgreSQL 15 + pg_aistudio and gatewayd: a developer creates a
// named key with an expiry (shown once; the list shows its name, prefix,
// created, last used, expiry and status), edits its expiry, rotates it with
// an overlap (the new key shown once, the old one listed with its new
// expiry), sees an expired key marked Expired without actions; creates a
// personal API token with an expiry and rotates it on the account page.
// Every change is checked in the database.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster, sleep } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';

const DEV = { email: 'keys-dev@example.com', name: 'Key Dev', password: 'key dev password 0123' };
const DAY = 86400e3;

let pg;
let gw;
let b;
let base;
let appId;
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');
const keysTable = () => page().locator('table:has(> caption:text-is("API keys"))');
const rowWith = (text) => keysTable().locator('tbody > tr').filter({ hasText: text });
const creds = () => pg.json(`SELECT id, name, key_prefix, active, expires_at, revoked_at FROM aistudio.credentials
  WHERE app_id = ${appId} ORDER BY id`);

// The key shown once: read it and close the dialog.
async function takeShownKey() {
  const field = dialog().locator('#secret-once-value');
  await field.waitFor();
  const key = await field.inputValue();
  await page().keyboard.press('Escape');
  await dialog().waitFor({ state: 'detached' });
  return key;
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  pg = await startCluster();
  const dev = await pg.sql(`SELECT aistudio.create_user('${DEV.email}', '${DEV.name}', '${DEV.password}', 'developer')`);
  appId = Number(await pg.sql(`SELECT aistudio.create_app('key-bot', ${dev}, '{}')`));
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
  await p.getByLabel('Email').fill(DEV.email);
  await p.getByLabel('Password').fill(DEV.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(DEV.email).waitFor();
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

describe('API keys of an app', () => {
  it('creates a named key that expires in 30 days: shown once, listed with name, prefix and expiry', async () => {
    const p = page();
    await p.goto(`${base}/#/apps/${appId}`);
    await p.locator('[data-testid="create-key"]').click();
    const d = dialog();
    await d.getByLabel('Name').fill('production');
    await d.getByLabel('Expires').selectOption('30');
    await d.getByRole('button', { name: 'Create key' }).click();
    const key = await takeShownKey();
    assert.match(key, /^ais_[0-9a-f]{64}$/);
    const row = rowWith('production');
    await row.getByText(`${key.slice(0, 12)}…`).waitFor();
    await row.getByText('Active').waitFor();
    assert.equal(await keysTable().locator('thead th').allTextContents().then((h) => h.slice(0, 6).join('|')),
      'Name|Key|Created|Last used|Expires|Status');
    assert.equal(await row.locator('td').nth(3).textContent(), 'never');
    const [c] = await creds();
    assert.equal(c.name, 'production');
    const days = (Date.parse(c.expires_at) - Date.now()) / DAY;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    assert.ok(!(await p.content()).includes(key), 'the key is not on the page once the dialog is closed');
  });

  it('a custom expiry date is required once chosen, and is stored as chosen', async () => {
    const p = page();
    await p.locator('[data-testid="create-key"]').click();
    const d = dialog();
    await d.getByLabel('Name').fill('batch');
    await d.getByLabel('Expires').selectOption('custom');
    await d.getByRole('button', { name: 'Create key' }).click();
    await d.getByText('Choose the date the key stops working.').waitFor();
    await d.getByLabel('Expiry date').fill('2031-05-04T10:30');
    await d.getByRole('button', { name: 'Create key' }).click();
    await takeShownKey();
    await rowWith('batch').waitFor();
    const batch = (await creds()).find((c) => c.name === 'batch');
    assert.equal(Date.parse(batch.expires_at), new Date('2031-05-04T10:30').getTime());
    // editing: clearing the date removes the expiry
    await p.getByRole('button', { name: /^Edit batch/ }).click();
    await dialog().getByLabel('Expires').fill('');
    await dialog().getByRole('button', { name: 'Save changes' }).click();
    await dialog().waitFor({ state: 'detached' });
    await rowWith('batch').locator('td').nth(4).getByText('Never').waitFor();
    assert.equal((await creds()).find((c) => c.name === 'batch').expires_at, null);
  });

  it('rotates with an overlap: the new key shown once, the old one still active until the overlap ends', async () => {
    const p = page();
    const before = (await creds()).find((c) => c.name === 'production');
    await p.getByRole('button', { name: /^Rotate production/ }).click();
    const d = dialog();
    await d.getByText('During the overlap both keys work').waitFor();
    await d.getByLabel('The old key').selectOption('60');
    await d.getByRole('button', { name: 'Rotate key' }).click();
    const key = await takeShownKey();
    await keysTable().getByText(`${key.slice(0, 12)}…`).waitFor();
    const rows = await creds();
    const old = rows.find((c) => c.id === before.id);
    assert.equal(old.active, true);
    const mins = (Date.parse(old.expires_at) - Date.now()) / 60e3;
    assert.ok(mins > 58 && mins <= 60, `the old key ends in ${mins} minutes`);
    const fresh = rows.find((c) => c.key_prefix === key.slice(0, 12));
    assert.equal(fresh.name, 'production');
    assert.equal(fresh.expires_at, null);
    await rowWith(old.key_prefix).getByText('Expires soon').waitFor();
  });

  it('an expired key is marked Expired and can no longer be rotated or edited', async () => {
    const p = page();
    const old = (await creds()).find((c) => c.name === 'production' && c.expires_at);
    await pg.sql(`UPDATE aistudio.credentials SET expires_at = now() - interval '1 minute' WHERE id = ${old.id}`);
    await p.reload();
    const row = rowWith(old.key_prefix);
    await row.getByText('Expired').waitFor();
    assert.equal(await row.getByRole('button', { name: /^Rotate/ }).count(), 0);
    assert.equal(await row.getByRole('button', { name: /^Edit/ }).count(), 0);
    assert.equal(await row.getByRole('button', { name: /^Revoke/ }).count(), 1);
  });
});

describe('personal API tokens', () => {
  it('creates a token that expires in 7 days and rotates it with an overlap', async () => {
    const p = page();
    await p.goto(`${base}/#/account`);
    await p.getByRole('button', { name: 'New token' }).first().click();
    const d = dialog();
    await d.getByLabel('Name').fill('ci');
    await d.getByLabel('Expires').selectOption('7');
    await d.getByRole('button', { name: 'Create token' }).click();
    const token = await takeShownKey();
    assert.match(token, /^aisu_/);
    const tokens = p.locator('table:has(> caption:text-is("API tokens")) tbody > tr');
    await tokens.filter({ hasText: 'ci' }).getByText('Expires soon').waitFor(); // within a week
    let rows = await pg.json(`SELECT id, name, expires_at, revoked_at FROM aistudio.api_tokens ORDER BY id`);
    const days = (Date.parse(rows[0].expires_at) - Date.now()) / DAY;
    assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);
    await p.getByRole('button', { name: 'Rotate ci' }).click();
    await dialog().getByLabel('The old key').selectOption('0');
    await dialog().getByRole('button', { name: 'Rotate token' }).click();
    const token2 = await takeShownKey();
    assert.notEqual(token2, token);
    await tokens.filter({ hasText: 'Revoked' }).waitFor();
    rows = await pg.json(`SELECT id, name, expires_at, revoked_at FROM aistudio.api_tokens ORDER BY id`);
    assert.equal(rows.length, 2);
    assert.ok(rows[0].revoked_at, 'overlap 0 revokes the old token at once');
    assert.equal(rows[1].name, 'ci');
  });
});
