// regress/e2e/gateway-patterns.test.mjs: one pattern language for every
// stored pattern. Each row of regress/fixtures/patterns.tsv (PCRE2 features:
// (?i), \d, anchors, look-aheads, UTF-8, catastrophic backtracking stopped
// by the match limit) is checked through SQL (aistudio.model_allowed, the
// extension's verdict) and through the gateway (200, or 403
// model_not_allowed), and both must agree with the table. The defect this
// guards against: the extension validated patterns as PostgreSQL regexes
// while gatewayd compiled them with POSIX regcomp, so `(?i)^GPT-4O$` was
// accepted by the database and then allowed nothing at all.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startMock } from './lib/mock.mjs';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, seed, withLogs, ROOT } from './lib/gatewayd.mjs';

const VKEY = 'sk-vendor-patterns';
const rows = readFileSync(path.join(ROOT, 'regress/fixtures/patterns.tsv'), 'utf8')
  .split('\n').filter((l) => l && !l.startsWith('#'))
  .map((l) => { const [pattern, model, allowed] = l.split('\t'); return { pattern, model, allowed: allowed === '1' }; });
const patterns = [...new Set(rows.map((r) => r.pattern))];

let mock;
let pg;
let gw;
let ids;
const it = withLogs(nodeIt, () => [gw, pg]);

before(async () => {
  mock = await startMock({ expectKey: VKEY });
  pg = await startCluster();
  ids = await seed(pg, {
    vendorKey: VKEY,
    llms: patterns.map((p, i) => ({ name: `pat-${i}`, vendor: 'openai', endpoint: `${mock.url}/v1`, key: 'secret', allowedModels: [p] })),
    apps: [{ name: 'patterns-app', llms: patterns.map((_, i) => `pat-${i}`) }],
  });
  gw = await startGatewayd(pg);
});

after(async () => {
  try {
    if (gw) await gw.stop();
  } finally {
    await mock?.stop();
    await pg?.cleanup();
  }
});

describe('allowed_models: the same verdict in SQL and in the gateway', () => {
  it(`${rows.length} pattern/model rows`, async (t) => {
    assert.ok(rows.length >= 20, `the table has ${rows.length} rows`);
    const key = ids.apps['patterns-app'].key;
    for (const r of rows) {
      const llm = ids.llms[`pat-${patterns.indexOf(r.pattern)}`];
      const sqlVerdict = await pg.sql(`SET client_min_messages = error; SELECT aistudio.model_allowed(${llm.id}, '${r.model.replace(/'/g, "''")}')`);
      assert.equal(sqlVerdict, r.allowed ? 't' : 'f', `SQL: /${r.pattern}/ on '${r.model}'`);
      const res = await fetch(`${gw.url}/llm/rest/${llm.slug}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: r.model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = await res.text();
      if (r.allowed) {
        assert.equal(res.status, 200, `gateway: /${r.pattern}/ allows '${r.model}': ${body}`);
        assert.equal(JSON.parse(body).model, r.model);
      } else {
        assert.equal(res.status, 403, `gateway: /${r.pattern}/ refuses '${r.model}': ${body}`);
        assert.equal(JSON.parse(body).error.code, 'model_not_allowed');
      }
    }
    t.diagnostic(`${rows.length} rows, ${patterns.length} patterns: SQL and gateway agree with the table`);
  });

  it('a pattern hitting the match limit is logged by the gateway', async () => {
    assert.match(gw.stderr(), /allowed model pattern 1 hit its match limit/);
  });
});
