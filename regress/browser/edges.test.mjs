// regress/browser/edges.test.mjs: the Edges page of a hub (www/app/edges.js)
// in Debian's headless Chromium, against real processes: PostgreSQL 15 +
// pg_aistudio and gatewayd in control mode serving the REST API and www/.
//
// The edges are simulated through the extension's SQL API exactly as a hub
// records them (enroll_edge, edge_register, edge_heartbeats,
// edge_disconnected, push_progress: gatewayd/src/sync calls the same
// functions), with the checksums each test wants, so every status shows:
// In Sync, Pending, Stale, Unknown, connected and not. Then: polling shows a
// change without a reload (and a toast when an edge turns out of sync), an
// edge's page with its metrics chart and sync trail, the push dialog with
// each edge's progress live, a push that reaches no edge, enrolment (the
// token once, with the command that starts the edge, and a refused id), a
// revocation that asks first, and the out-of-sync notice on the
// Notifications page.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { startCluster, sleep } from '../e2e/lib/cluster.mjs';
import { startGatewayd, withLogs, ROOT } from '../e2e/lib/gatewayd.mjs';
import { startBrowser } from './lib/browser.mjs';

const ADMIN = { email: 'hub-admin@example.com', name: 'Hub Admin', password: 'hub admin password 0123' };
const HUB = 'hub-a'; // the hub the simulated edges are connected to
const sha256 = (t) => createHash('sha256').update(t).digest('hex');
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

let pg;
let gw;
let b;
let base;
const state = {};
const it = withLogs(nodeIt, () => [gw, pg]);
const page = () => b.page;
const dialog = () => page().locator('dialog[open]');
// a row of the edges table (not of the sync trail or a push's progress)
const rowOf = (id) => page().locator('table:has(> caption:text-is("Edges")) > tbody > tr')
  .filter({ has: page().locator(`a:text-is("${id}")`) });

// What a hub records when an edge connects (interval: its heartbeat interval,
// long enough that nothing disconnects it during the test) and heartbeats.
const connect = (id, ns, checksum) => pg.sql(`SELECT * FROM aistudio.edge_register('${id}', '${ns}', '2.0.1', ${checksum}, '${HUB}', 3600)`);
const heartbeat = (id, checksum, metrics = {}) => pg.sql(`SELECT * FROM aistudio.edge_heartbeats(ARRAY['${id}'], ARRAY[${checksum}],
  ARRAY['2.0.1'], ARRAY['${JSON.stringify(metrics)}'::jsonb], '${HUB}')`);
const EU = "aistudio.snapshot_checksum('eu')";

async function go(hash) {
  await page().goto(`${base}/#${hash}`);
}

before(async () => {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'www')], { stdio: ['ignore', 'ignore', 'inherit'] });
  pg = await startCluster();
  await pg.sql(`SELECT aistudio.create_user('${ADMIN.email}', '${ADMIN.name}', '${ADMIN.password}', 'super_admin')`);
  await pg.sql(`SELECT aistudio.create_namespace('eu'); SELECT aistudio.create_namespace('us');
    SELECT aistudio.create_llm('EU GPT', 'openai', 'https://api.openai.com/v1', namespace => 'eu')`);
  // one edge per status
  await pg.sql(`SELECT aistudio.enroll_edge(x, 'eu') FROM unnest(ARRAY['edge-green', 'edge-yellow', 'edge-orange', 'edge-grey', 'edge-gone']) x`);
  await connect('edge-green', 'eu', EU);
  await connect('edge-yellow', 'eu', `'${A}'`);
  await connect('edge-orange', 'eu', `'${B}'`);
  await pg.sql(`UPDATE aistudio.edges SET pending_since = now() - interval '2 hours' WHERE edge_id = 'edge-orange'`);
  await connect('edge-gone', 'eu', EU);
  await pg.sql(`SELECT aistudio.edge_disconnected('edge-gone', '${HUB}')`);
  for (const [i, requests] of [120, 80, 150].entries()) {
    await heartbeat('edge-green', EU, { requests, errors: i, p50_ms: 11 + i, p99_ms: 90 + 10 * i, prompt_tokens: 4000, response_tokens: 800, since_ms: 5000 });
  }
  gw = await startGatewayd(pg, { env: { WWW_DIR: path.join(ROOT, 'www'), GATEWAY_MODE: 'control' }, wait: false });
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
});

after(async () => {
  try {
    if (b) await b.close();
    if (gw) await gw.stop();
  } finally {
    await pg?.cleanup();
  }
});

describe('the Edges page of a hub', () => {
  it('shows every edge with its status chip, connection, checksums, version, heartbeat and metrics', async () => {
    const p = page();
    await go('/edges');
    await p.getByRole('heading', { name: 'Edges', level: 1 }).waitFor();
    const chip = async (id, tone, status, label) => {
      const c = rowOf(id).locator(`.chip-${tone} [data-status="${status}"]`);
      await c.waitFor();
      assert.equal(await c.textContent(), label);
    };
    await chip('edge-green', 'green', 'in_sync', 'In Sync');
    await chip('edge-yellow', 'yellow', 'pending', 'Pending');
    await chip('edge-orange', 'orange', 'stale', 'Stale');
    await chip('edge-grey', 'gray', 'unknown', 'Unknown');
    await chip('edge-gone', 'green', 'in_sync', 'In Sync');
    const conn = async (id) => rowOf(id).locator('.conn').getAttribute('data-connected');
    assert.equal(await conn('edge-green'), 'true');
    assert.equal(await conn('edge-gone'), 'false');
    assert.equal(await conn('edge-grey'), 'false');
    assert.equal(await rowOf('edge-green').locator('.conn').textContent(), 'Connected');
    assert.equal(await rowOf('edge-gone').locator('.conn').textContent(), 'Disconnected');
    // loaded vs expected: the pending edge's loaded checksum is marked
    const expected = await pg.sql(`SELECT ${EU}`);
    assert.equal(await rowOf('edge-yellow').locator('[data-testid="loaded-checksum"]').textContent(), A.slice(0, 8));
    assert.match(await rowOf('edge-yellow').locator('[data-testid="loaded-checksum"]').getAttribute('class'), /sum-differs/);
    assert.match(await rowOf('edge-green').getByText(`/ ${expected.slice(0, 8)}`).textContent(), new RegExp(expected.slice(0, 8)));
    assert.doesNotMatch(await rowOf('edge-green').locator('[data-testid="loaded-checksum"]').getAttribute('class'), /sum-differs/);
    await rowOf('edge-green').getByText('version 2.0.1').waitFor();
    await rowOf('edge-grey').getByText('version not reported').waitFor();
    await rowOf('edge-green').getByText('150 req · 2 err · p99 110 ms').waitFor();
    await rowOf('edge-green').getByText(/just now|s ago/).waitFor();
    assert.equal(await rowOf('edge-grey').getByText('never').count(), 1);
    // the tiles count each status; the banner says what is out of sync
    const tile = (k) => p.locator(`[data-tile="${k}"] strong`);
    assert.deepEqual(await Promise.all(['in_sync', 'pending', 'stale', 'unknown'].map((k) => tile(k).textContent())), ['2', '1', '1', '1']);
    await p.locator('[data-testid="out-of-sync"]').getByText('2 edges are out of sync').waitFor();
    assert.match(await p.locator('[data-testid="out-of-sync"]').textContent(), /1 pending, 1 stale/);
    assert.equal(await p.locator('[data-testid="mode-notice"]').count(), 0, 'a hub: no standalone notice');
    // a tile filters the list
    await p.locator('[data-tile="stale"]').click();
    await p.getByRole('heading', { name: 'Stale edges' }).waitFor();
    await rowOf('edge-orange').waitFor();
    // the heading changes before the filtered rows arrive: wait for the others to go
    await rowOf('edge-green').waitFor({ state: 'detached' });
    assert.equal(await p.locator('table:has(> caption:text-is("Edges")) > tbody > tr').count(), 1);
    await b.shot('edges-stale');
    await p.getByRole('button', { name: 'Clear filter' }).click();
    await rowOf('edge-green').waitFor();
    await b.shot('edges-hub', { fullPage: true });
  });

  it('polls: a heartbeat changes a row without a reload, and an edge turning out of sync raises a toast', async () => {
    const p = page();
    await go('/edges');
    await rowOf('edge-yellow').locator('.chip-yellow').waitFor();
    await heartbeat('edge-yellow', EU, { requests: 42, errors: 0, p50_ms: 9, p99_ms: 31, since_ms: 5000 });
    await rowOf('edge-yellow').locator('.chip-green').getByText('In Sync').waitFor();
    await rowOf('edge-yellow').getByText('42 req · 0 err · p99 31 ms').waitFor();
    await p.locator('[data-testid="out-of-sync"]').getByText('1 edge is out of sync').waitFor();
    // a configuration the edge does not run: pending, and a toast says so
    await heartbeat('edge-yellow', `'${A}'`);
    await p.locator('.toast').filter({ hasText: '1 more edge is out of sync' }).waitFor();
    await rowOf('edge-yellow').locator('.chip-yellow').getByText('Pending').waitFor();
    await p.locator('[data-testid="out-of-sync"]').getByText('2 edges are out of sync').waitFor();
  });

  it('an edge\'s page shows its sync state, a metrics chart and its sync trail', async () => {
    const p = page();
    await go('/edges');
    await rowOf('edge-green').getByRole('link', { name: 'edge-green' }).click();
    await p.getByRole('heading', { name: 'edge-green', level: 1 }).waitFor();
    assert.match(p.url(), /#\/edges\/edge-green$/);
    const expected = await pg.sql(`SELECT ${EU}`);
    const kv = p.locator('[data-testid="edge-sync"]');
    await kv.getByText('In Sync').waitFor();
    assert.equal(await kv.getByText(expected).count(), 2, 'loaded and expected, in full');
    await kv.getByText(`to hub ${HUB}`).waitFor();
    await kv.getByText('2.0.1').waitFor();
    const stats = p.locator('[data-testid="edge-last-metrics"]');
    await stats.getByText('150').waitFor();
    await stats.getByText('13 / 110 ms').waitFor();
    assert.equal(await p.locator('.chart canvas').count() >= 2, true, 'two charts drawn');
    await p.getByRole('img', { name: 'Requests and errors per heartbeat' }).waitFor();
    const trail = p.locator('section.card').filter({ hasText: 'Sync trail' });
    await trail.locator('.chip').getByText('Connected', { exact: true }).first().waitFor();
    await trail.locator('.chip').getByText('Enrolled', { exact: true }).waitFor();
    await b.shot('edge-detail', { fullPage: true });
    // a metrics-less edge
    await go('/edges/edge-grey');
    await p.getByText('No heartbeat has reported metrics yet.').waitFor();
    assert.deepEqual(b.problems, []);
  });

  it('the push dialog shows each edge\'s progress live: signalled, pulling, applied, failed with its reason', async () => {
    const p = page();
    await go('/edges');
    await p.locator('[data-testid="push-config"]').click();
    await dialog().getByText('One namespace').click();
    await dialog().getByLabel('Namespace', { exact: true }).selectOption('eu');
    await b.shot('push-dialog');
    await dialog().getByRole('button', { name: 'Push now' }).click();
    await p.locator('.toast').filter({ hasText: 'Push sent to 3 edges' }).waitFor();
    const prog = dialog().locator('[data-testid="push-progress"]');
    const phase = (id, ph) => prog.locator('tbody tr').filter({ hasText: id }).locator(`[data-phase="${ph}"]`).waitFor();
    // the connected edges of eu: not edge-gone (disconnected), not edge-grey (never connected)
    for (const id of ['edge-green', 'edge-orange', 'edge-yellow']) await phase(id, 'signalled');
    assert.equal(await prog.locator('tbody tr').count(), 3);
    const id = Number(await pg.sql('SELECT max(id) FROM aistudio.pushes'));
    assert.equal(await pg.sql(`SELECT string_agg(edge_id, ',' ORDER BY edge_id) FROM aistudio.push_targets(${id}, '${HUB}')`),
      'edge-green,edge-orange,edge-yellow');
    await prog.getByText('0 of 3').waitFor();
    // what the hub records as the edges report on their streams
    await pg.sql(`SELECT aistudio.push_progress(${id}, 'edge-green', 'pulling', '', '')`);
    await phase('edge-green', 'pulling');
    await pg.sql(`SELECT aistudio.push_progress(${id}, 'edge-green', 'applied', ${EU}, '');
                  SELECT aistudio.push_progress(${id}, 'edge-orange', 'applied', ${EU}, '')`);
    await phase('edge-green', 'applied');
    await phase('edge-orange', 'applied');
    await prog.getByText('2 of 3').waitFor();
    await b.shot('push-progress');
    await pg.sql(`SELECT aistudio.push_progress(${id}, 'edge-yellow', 'failed', '', 'snapshot checksum mismatch')`);
    await phase('edge-yellow', 'failed');
    await prog.locator('tbody tr').filter({ hasText: 'edge-yellow' }).getByText('snapshot checksum mismatch').waitFor();
    await prog.getByText('1 failed').waitFor();
    await prog.getByText('· done').waitFor();
    await b.shot('push-done');
    await dialog().getByRole('button', { name: 'Close' }).first().click();
    // the applied edges now run the expected configuration
    await rowOf('edge-orange').locator('.chip-green').getByText('In Sync').waitFor();
  });

  it('a push that reaches no connected edge says so instead of reporting success', async () => {
    const p = page();
    await go('/edges');
    await p.locator('[data-testid="push-config"]').click();
    await dialog().getByText('One namespace').click();
    await dialog().getByLabel('Namespace', { exact: true }).selectOption('us');
    await dialog().getByRole('button', { name: 'Push now' }).click();
    await dialog().locator('[data-testid="push-none"]').getByText('no edge was signalled').waitFor();
    await p.locator('.toast').filter({ hasText: 'No connected edge to push to' }).waitFor();
    assert.equal(await pg.sql(`SELECT targets FROM aistudio.pushes ORDER BY id DESC LIMIT 1`), '0');
    await dialog().getByRole('button', { name: 'Close' }).first().click();
  });

  it('enrolment shows the token once, with the command that starts the edge; a bad id is refused on its field', async () => {
    const p = page();
    await go('/edges');
    await p.locator('[data-testid="enrol-edge"]').click();
    await dialog().getByLabel('Edge id').fill('bad id!');
    await dialog().getByRole('button', { name: 'Enrol edge' }).click();
    await dialog().locator('.field.has-error').getByText(/edge id/i).first().waitFor();
    assert.equal(await pg.sql(`SELECT count(*) FROM aistudio.edges WHERE edge_id LIKE 'bad%'`), '0');
    // the refused request is the only thing the browser logged
    assert.deepEqual(b.problems.splice(0), ['console error: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await dialog().getByLabel('Edge id').fill('edge-eu-2');
    await dialog().getByLabel('Namespace', { exact: true }).selectOption('eu');
    await dialog().getByRole('button', { name: 'Enrol edge' }).click();
    const shown = dialog().filter({ hasText: 'Token of edge-eu-2' });
    await shown.waitFor();
    const token = await shown.locator('#secret-once-value').inputValue();
    assert.match(token, /^aie_[A-Za-z0-9_-]{43}$/);
    assert.equal(await pg.sql(`SELECT token_sha256 FROM aistudio.edges WHERE edge_id = 'edge-eu-2'`), sha256(token));
    assert.equal(await shown.locator('[data-testid="edge-command"]').textContent(),
      `GATEWAY_MODE=edge CONTROL_ENDPOINT=127.0.0.1:${gw.grpcPort} EDGE_ID=edge-eu-2 EDGE_NAMESPACE=eu EDGE_TOKEN=${token} `
      + 'AISTUDIO_DATA_DIR=.data-edge-eu-2 PGPORT=5500 PROXY_PORT=9091 SERVER_PORT=8081 DOCS_PORT=8990 make run');
    await shown.locator('[data-testid="copy-command"]').waitFor();
    await shown.getByText('It is shown only once').waitFor();
    await b.shot('edge-token');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await rowOf('edge-eu-2').locator('.chip-gray').getByText('Unknown').waitFor();
    // never shown again
    await p.reload();
    await rowOf('edge-eu-2').waitFor();
    assert.ok(!(await p.content()).includes(token));
    await go('/edges/edge-eu-2');
    await p.locator('[data-testid="edge-sync"]').getByText('its own').waitFor();
    assert.ok(!(await p.content()).includes(token));
    state.token = token;
  });

  it('revoking asks first; then the edge is revoked, its token refused, and it can be enrolled again', async () => {
    const p = page();
    await go('/edges');
    const revokeBtn = rowOf('edge-eu-2').getByRole('button', { name: 'Revoke edge-eu-2' });
    await revokeBtn.click();
    await dialog().getByText('Its token stops working at once').waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await pg.sql(`SELECT revoked_at IS NULL FROM aistudio.edges WHERE edge_id = 'edge-eu-2'`), 't');
    await revokeBtn.click();
    await dialog().getByRole('button', { name: 'Revoke edge' }).click();
    await p.locator('.toast').filter({ hasText: 'Revoked edge-eu-2' }).waitFor();
    await rowOf('edge-eu-2').locator('.chip-red').getByText('Revoked').waitFor();
    assert.equal(await pg.sql(`SELECT ok || ':' || reason FROM aistudio.edge_authenticate('edge-eu-2', 'eu', '${sha256(state.token)}', false)`), 'false:revoked');
    await b.shot('edge-revoked');
    // enrol again: a new token, the old one still refused
    await rowOf('edge-eu-2').getByRole('button', { name: 'Enrol edge-eu-2 again' }).click();
    await dialog().getByRole('button', { name: 'Enrol again' }).click();
    const shown = dialog().filter({ hasText: 'Token of edge-eu-2' });
    const token = await shown.locator('#secret-once-value').inputValue();
    assert.notEqual(token, state.token);
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await pg.sql(`SELECT ok::text FROM aistudio.edge_authenticate('edge-eu-2', 'eu', '${sha256(token)}', false)`), 'true');
    assert.equal(await pg.sql(`SELECT ok::text FROM aistudio.edge_authenticate('edge-eu-2', 'eu', '${sha256(state.token)}', false)`), 'false');
    await rowOf('edge-eu-2').getByRole('button', { name: 'Revoke edge-eu-2' }).waitFor();
  });

  it('the Notifications page tells admins which edges are out of sync', async () => {
    const p = page();
    await go('/notifications');
    const n = p.locator('[data-testid="edges-out-of-sync"]');
    await n.getByText('1 edge is out of sync').waitFor();
    assert.match(await n.textContent(), /\(1 pending, 0 stale\): edge-yellow\./);
    await n.getByRole('link', { name: 'Open Edges' }).click();
    await p.getByRole('heading', { name: 'Edges', level: 1 }).waitFor();
    assert.deepEqual(b.problems, []);
  });
});

