// regress/e2e/sql-statements.test.mjs: the statements gatewayd sends
// (gatewayd/src/db/sql.h), read from that header and planned by a real
// PostgreSQL with the extension: what the planner does with them is part of
// their cost.
//
// The snapshot statement (the reload of every gateway, and the hub's
// PullSnapshot for each edge) must build the snapshot once: without a fence
// PostgreSQL pulls its subquery up and evaluates aistudio.snapshot() twice,
// once for the bytes and once more for snapshot_checksum_of's argument
// (bench/sync measured it: 30 ms instead of 16 ms for 10,000 apps).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from './lib/cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SQL_H = path.resolve(here, '../../gatewayd/src/db/sql.h');

// The text of `#define NAME "..." "..."` (string literals joined, escapes
// \" and \\ undone).
function sqlOf(name) {
  const src = readFileSync(SQL_H, 'utf8');
  const m = new RegExp(`#define ${name}\\b((?:[^\\n]*\\\\\\n)*[^\\n]*)`).exec(src);
  if (!m) throw new Error(`${name} is not defined in ${SQL_H}`);
  const lits = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1].replace(/\\(["\\])/g, '$1'));
  if (lits.length === 0) throw new Error(`${name}: no string literal`);
  return lits.join('');
}

let pg;

describe('statements of gatewayd/src/db/sql.h', { concurrency: false }, () => {
  before(async () => {
    pg = await startCluster();
  });
  after(async () => {
    if (pg) await pg.cleanup();
  });

  it('the snapshot statement builds the snapshot once', async () => {
    const sql = sqlOf('GW_SQL_SNAPSHOT');
    const plan = await pg.sql(`PREPARE q(text) AS ${sql}; EXPLAIN (VERBOSE, COSTS OFF) EXECUTE q('')`);
    const calls = plan.match(/aistudio\.snapshot\(/g) || [];
    assert.equal(calls.length, 1, `aistudio.snapshot() evaluated ${calls.length} times by:\n${plan}`);
    // and it still answers: the bytes, their checksum, the same checksum recomputed
    const row = await pg.sql(`PREPARE r(text) AS ${sql}; EXECUTE r('')`);
    const [bytes, c, c2] = row.split('\n').pop().split('|');
    assert.match(bytes, /^\\x[0-9a-f]+$/);
    assert.match(c, /^[0-9a-f]{64}$/);
    assert.equal(c2, c);
  });
});
