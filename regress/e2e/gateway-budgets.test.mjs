// regress/e2e/gateway-budgets.test.mjs: monthly budgets are never overspent,
// whatever the load looks like (DESIGN §6 "concurrent requests never
// overspend a budget"; issue 8):
//   - one request at a time against a small app budget: admission sees the
//     spend of every earlier request, also once the analytics writer has
//     committed it (the defect: committed spend was invisible until the next
//     BUDGET_REFRESH_S refresh, and 631 sequential calls spent 3,857 %);
//   - 32 concurrent clients against an app budget and against an LLM budget;
//   - mixed load (sequential + concurrent) while an admin edits the
//     configuration in parallel (every edit reloads the snapshot) and moves
//     the budget's start date back and forth (a new period must be read from
//     the database, not assumed empty);
//   - a short BUDGET_REFRESH_S, so refreshes race the commits during the load.
// After each load: spend (aistudio.budget_status and the sum of the stored
// costs) <= budget, one row per request, and the budget was actually used
// (the last admitted requests brought it close to the limit).
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, pollValue, withLogs } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-budgets';
// 100 USD per million tokens: a call of 5 prompt + 8 completion tokens costs
// 0.0013; its worst case (the prompt's bytes + 16 max_tokens) about 0.008.
const PRICE = 100;
const CALL_COST = 0.0013;

let mock;
let pg;
let gw;    // default settings
let gwr;   // BUDGET_REFRESH_S=1
let ids;
const it = withLogs(nodeIt, () => [gw, gwr, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY, frames: 8, threads: 2 });
  pg = await startCluster();
  const llm = (name, budget) => ({ name, vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', budget });
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: [llm('Open'), llm('Capped LLM', 0.03), llm('Capped LLM 2', 0.03), llm('Other')],
    prices: [['openai', 'gpt-4o', PRICE, PRICE], ['openai', 'gpt-4o-mini', PRICE / 10, PRICE / 10]],
    apps: [
      { name: 'seq-app', llms: ['Open'], budget: 0.002 },
      { name: 'seq-app-2', llms: ['Open'], budget: 0.02 },
      { name: 'conc-app', llms: ['Open'], budget: 0.05 },
      { name: 'llm-user-1', llms: ['Capped LLM', 'Capped LLM 2'] },
      { name: 'llm-user-2', llms: ['Capped LLM', 'Capped LLM 2'] },
      { name: 'mixed-app', llms: ['Open', 'Other'], budget: 0.04 },
      { name: 'refresh-app', llms: ['Open'], budget: 0.04 },
    ],
  });
  gw = await startGatewayd(pg);
  gwr = await startGatewayd(pg, { env: { BUDGET_REFRESH_S: '1' } });
});

after(async () => {
  try {
    if (gw) await gw.stop();
    if (gwr) await gwr.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

async function call(g, app, llm, { stream = false, model = 'gpt-4o' } = {}) {
  const res = await fetch(`${g.url}/llm/rest/${ids.llms[llm].slug}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ids.apps[app].key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 16, stream, messages: [{ role: 'user', content: 'hello there' }] }),
  });
  const text = await res.text();
  if (res.status === 429) assert.ok(['budget_exceeded', 'request_exceeds_remaining_budget'].includes(JSON.parse(text).error.code), text);
  else assert.equal(res.status, 200, text);
  return res.status;
}

// n calls, `concurrency` at a time (fewer when fn answers 'done'); returns
// the count per status.
async function load(n, concurrency, fn) {
  const by = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const s = await fn(i);
      if (s === 'done') return;
      by[s] = (by[s] || 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return by;
}

// Waits for one row per request, then checks spend <= budget both ways.
async function assertWithinBudget(t, subject, id, budget, requests) {
  const col = subject === 'app' ? 'app_id' : 'llm_id';
  const rows = await pollValue(pg, `SELECT count(*) FROM aistudio.llm_interactions WHERE ${col} = ${id}`,
    (v) => Number(v) >= requests, { timeoutMs: 20000 });
  assert.equal(Number(rows), requests, `one row per request for ${subject} ${id}`);
  const fn = subject === 'app' ? 'budget_status' : 'llm_budget_status';
  const st = await pg.one(`SELECT spent::text, monthly_budget::text FROM aistudio.${fn}(${id})`);
  const sum = Number(await pg.sql(`SELECT coalesce(sum(cost), 0) FROM aistudio.llm_interactions WHERE ${col} = ${id}`));
  t.diagnostic(`${subject} ${id}: spent ${st.spent} of ${budget} (${requests} requests)`);
  assert.equal(Number(st.monthly_budget), budget);
  assert.ok(Number(st.spent) <= budget, `budget_status spent ${st.spent} <= ${budget}`);
  assert.ok(sum <= budget, `stored cost ${sum} <= ${budget}`);
  assert.ok(Math.abs(sum - Number(st.spent)) < 1e-9, `stored cost ${sum} = budget_status ${st.spent}`);
  return Number(st.spent);
}

describe('budgets are never overspent', () => {
  it('one request at a time against a $0.002 app budget', async (t) => {
    // gpt-4o-mini: a call costs 0.00013, its worst case about 0.0008
    const by = await load(60, 1, () => call(gw, 'seq-app', 'Open', { model: 'gpt-4o-mini' }));
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0 && by[429] > 0, JSON.stringify(by));
    assert.ok(by[200] <= Math.floor(0.002 / (CALL_COST / 10) + 1e-9), `admitted ${by[200]}`);
    await assertWithinBudget(t, 'app', ids.apps['seq-app'].id, 0.002, 60);
  });

  it('one request at a time against a $0.02 app budget: admitted until the worst case no longer fits', async (t) => {
    const by = await load(200, 1, () => call(gw, 'seq-app-2', 'Open'));
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0 && by[429] > 0, JSON.stringify(by));
    // every admitted call costs CALL_COST: at most budget / CALL_COST of them
    assert.ok(by[200] <= Math.floor(0.02 / CALL_COST + 1e-9), `admitted ${by[200]}`);
    const spent = await assertWithinBudget(t, 'app', ids.apps['seq-app-2'].id, 0.02, 200);
    assert.ok(spent > 0.02 - 0.01, `the budget was used (${spent})`);
  });

  it('32 concurrent clients against a $0.05 app budget', async (t) => {
    const by = await load(600, 32, (i) => call(gw, 'conc-app', 'Open', { stream: i % 3 === 0 }));
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0 && by[429] > 0, JSON.stringify(by));
    await assertWithinBudget(t, 'app', ids.apps['conc-app'].id, 0.05, 600);
  });

  it('two apps, 32 concurrent clients, against a $0.03 LLM budget', async (t) => {
    const by = await load(600, 32, (i) => call(gw, i % 2 ? 'llm-user-1' : 'llm-user-2', 'Capped LLM', { stream: i % 4 === 0 }));
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0 && by[429] > 0, JSON.stringify(by));
    await assertWithinBudget(t, 'llm', ids.llms['Capped LLM'].id, 0.03, 600);
  });

  it('mixed load while the configuration is edited and the budget period moves', async (t) => {
    const app = ids.apps['mixed-app'].id;
    const llm2 = ids.llms['Capped LLM 2'].id;
    const ROUNDS = 20;
    let editing = true;
    let edits = 0;
    const editor = (async () => {
      // each statement commits and NOTIFYs: the gateway reloads its snapshot
      for (let k = 0; k < ROUNDS; k++, edits++) {
        await pg.sql(`SELECT aistudio.update_llm(${ids.llms.Other.id}, allowed_models => ARRAY['gpt-4o', 'm${k}'])`);
        await pg.sql(`SELECT aistudio.update_app(${app}, description => 'edit ${k}')`);
        // both start dates give a period that contains today (and today's spend)
        const start = k % 2 ? "date_trunc('month', current_date)::date" : '(current_date - 40)';
        await pg.sql(`SELECT aistudio.update_app(${app}, budget_start_date => ${start})`);
        await pg.sql(`SELECT aistudio.update_llm(${llm2}, budget_start_date => ${start})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      editing = false;
    })();
    // the loads go on for as long as the edits do
    let appRequests = 0;
    let llmRequests = 0;
    const until = (fn) => async (i) => { if (!editing) return 'done'; return fn(i); };
    const [a, b, c] = await Promise.all([
      load(1e6, 1, until(() => { appRequests++; return call(gw, 'mixed-app', 'Open'); })),
      load(1e6, 8, until((i) => { appRequests++; return call(gw, 'mixed-app', i % 2 ? 'Open' : 'Other', { stream: i % 5 === 0 }); })),
      load(1e6, 8, until((i) => { llmRequests++; return call(gw, i % 2 ? 'llm-user-1' : 'llm-user-2', 'Capped LLM 2', { stream: i % 3 === 0 }); })),
    ]);
    await editor;
    t.diagnostic(`edits ${edits}; app statuses: ${JSON.stringify(a)} ${JSON.stringify(b)}; LLM: ${JSON.stringify(c)}`);
    assert.equal(edits, ROUNDS);
    assert.ok(b[429] > 0 && c[429] > 0, 'both budgets were reached');
    await assertWithinBudget(t, 'app', app, 0.04, appRequests);
    await assertWithinBudget(t, 'llm', llm2, 0.03, llmRequests);
  });

  it('spend refreshed every second while 32 clients spend a $0.04 budget', async (t) => {
    const by = await load(900, 32, (i) => call(gwr, 'refresh-app', 'Open', { stream: i % 2 === 0 }));
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.ok(by[200] > 0 && by[429] > 0, JSON.stringify(by));
    await assertWithinBudget(t, 'app', ids.apps['refresh-app'].id, 0.04, 900);
  });
});
