// regress/browser/request-bodies.test.mjs: captured bodies in the request
// detail (www/app/requests.js) and the capture settings in the LLM dialog
// (www/app/llms.js), in Debian's headless Chromium against PostgreSQL 15 +
// pg_aistudio and gatewayd serving the REST API and www/.
//
// Two requests are ingested as the gateway's writer does: one with bodies
// (a JSON request, a streamed answer cut at the cap), one without. The
// detail page shows the JSON request pretty-printed, the answer as it is
// with its truncated note, and "Not captured" for the other. Then an admin
// turns capture on for an LLM in its dialog, with a cap, checked in the
// database.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT, sqlLit as q } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';

const ADMIN = { email: 'bodies-admin@example.com', name: 'Bodies Admin', password: 'bodies admin password 0123' };
const rid = (n) => `01960000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const REQ = '{"model":"gpt-4o","messages":[{"role":"user","content":"hello [EMAIL]"}]}';
const RESP = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choi';

let pg;
let gw;
let b;
let base;
const ids = {};
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  pg = await startCluster();
  ids.admin = Number(await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'admin')`));
  ids.llm = Number(await pg.sql(`SELECT aistudio.create_llm('Body GPT', 'openai', 'https://api.openai.com/v1',
    capture_bodies => true)`));
  ids.plain = Number(await pg.sql(`SELECT aistudio.create_llm('Plain GPT', 'openai', 'https://api.openai.com/v1')`));
  ids.app = Number(await pg.sql(`SELECT aistudio.create_app('body-bot', ${ids.admin}, '{${ids.llm}}')`));
  await pg.sql(`SELECT * FROM aistudio.ingest_events(jsonb_build_array(
    jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', '${rid(1)}', 'app_id', ${ids.app},
      'user_id', ${ids.admin}, 'llm_id', ${ids.llm}, 'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 200,
      'request_body', ${q(REQ)}, 'response_body', ${q(RESP)}, 'request_truncated', false, 'response_truncated', true),
    jsonb_build_object('timestamp', now() - interval '50 seconds', 'request_id', '${rid(2)}', 'app_id', ${ids.app},
      'user_id', ${ids.admin}, 'llm_id', ${ids.llm}, 'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 200)))`);
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www') } });
  base = `http://127.0.0.1:${gw.serverPort}`;
  b = await startBrowser();
  const p = page();
  await p.goto(`${base}/`);
  await p.getByLabel('Email').fill(ADMIN.email);
  await p.getByLabel('Password').fill(ADMIN.password);
  await p.getByLabel('Password').press('Enter');
  await p.locator('[data-testid="current-user"]').getByText(ADMIN.email).waitFor();
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

describe('captured bodies', () => {
  it('the request detail shows both bodies: JSON pretty-printed, a cut stream as it is', async () => {
    const p = page();
    await p.goto(`${base}/#/requests/${rid(1)}`);
    await p.locator('[data-testid="request-id"]').getByText(rid(1)).waitFor();
    const req = await p.locator('[data-testid="request-body"]').textContent();
    assert.equal(req, JSON.stringify(JSON.parse(REQ), null, 2), 'the JSON request, pretty-printed');
    assert.equal(await p.locator('[data-testid="response-body"]').textContent(), RESP, 'the cut stream as it is');
    await p.locator('[data-testid="response-body-truncated"]').waitFor();
    assert.equal(await p.locator('[data-testid="request-body-truncated"]').count(), 0, 'the request was not cut');
    await b.shot('request-bodies-01-detail');
  });

  it('a request without bodies says so', async () => {
    const p = page();
    await p.goto(`${base}/#/requests/${rid(2)}`);
    await p.locator('[data-testid="request-id"]').getByText(rid(2)).waitFor();
    await p.locator('[data-testid="request-body-none"]').getByText('Not captured.').waitFor();
    await p.locator('[data-testid="response-body-none"]').getByText('Not captured.').waitFor();
    assert.equal(await p.locator('[data-testid="request-body"]').count(), 0);
  });

  it('an admin turns capture on for an LLM in its dialog, with a cap', async () => {
    const p = page();
    await p.goto(`${base}/#/llms`);
    await p.getByRole('button', { name: /^Edit Plain GPT/ }).click();
    const d = dialog();
    const toggle = d.getByRole('switch', { name: 'Capture request and response bodies' });
    assert.equal(await toggle.isChecked(), false, 'off by default');
    await toggle.check();
    await d.getByLabel('Max bytes per body').fill('100');
    await d.getByRole('button', { name: 'Save changes' }).click();
    await d.getByText(/capture_max_bytes must be between 256 and 1048576/).waitFor();
    await d.getByLabel('Max bytes per body').fill('4096');
    await d.getByRole('button', { name: 'Save changes' }).click();
    await d.waitFor({ state: 'detached' });
    assert.deepEqual(await pg.one(`SELECT capture_bodies, capture_max_bytes FROM aistudio.llms WHERE id = ${ids.plain}`),
      { capture_bodies: true, capture_max_bytes: 4096 });
    await p.getByRole('button', { name: /^Edit Plain GPT/ }).click();
    assert.equal(await dialog().getByRole('switch', { name: 'Capture request and response bodies' }).isChecked(), true);
    assert.equal(await dialog().getByLabel('Max bytes per body').inputValue(), '4096');
  });
});
