// regress/e2e/edge-outbox.test.mjs: an edge's outbox (sql/src/15_edge.sql)
// under the race that lost an edge's first analytics batch.
//
// A fresh edge database has only the default partition of llm_interactions.
// Its first ingest creates the month's partition, moves nothing, inserts
// its events there and queues them in edge_outbox, in one transaction. The
// upload thread's aistudio.edge_outbox_take, meanwhile, is planned with the
// partitions committed at that moment (the default one only: it waits for
// the ingest's lock on it) and reads with a snapshot taken once the ingest
// has committed: it sees the queued events but not their rows. It used to
// drop such events as retention orphans, so the hub never got them (seen in
// gateway-sync: the six events of an edge's first batch missing on the hub,
// none left in the outbox). Here the two sessions are two psql processes,
// the interleaving forced with that lock.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { PGBIN, lit, sleep, startCluster } from './lib/cluster.mjs';

let pg;
let db;

// A psql session fed line by line; resolves each \echo marker.
function session(conninfo) {
  const child = spawn(path.join(PGBIN, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', conninfo],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    exited,
    send(text) { child.stdin.write(`${text}\n`); },
    async until(marker, timeoutMs = 30000) {
      const end = Date.now() + timeoutMs;
      while (!out.includes(marker)) {
        if (Date.now() > end) throw new Error(`psql: no ${marker} within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`);
        await sleep(20);
      }
    },
    out: () => out,
    err: () => err,
    end() { child.stdin.end(); return exited; },
  };
}

describe('edge outbox', () => {
  before(async () => {
    pg = await startCluster();
    db = await pg.createDatabase('edge_outbox_race');
  });
  after(async () => { if (pg) await pg.cleanup(); });

  it('an event queued by the ingest that attaches its partition is kept while take runs, and taken next time', async () => {
    assert.equal(await db.sql(`SELECT count(*) FROM pg_inherits WHERE inhparent = 'aistudio.llm_interactions'::regclass
      AND inhrelid::regclass::text <> 'aistudio.llm_interactions_default'`), '0', 'a fresh database: the default partition only');
    const conninfo = db.gatewayUrl.replace(/user=\S+/, 'user=postgres');
    const rid = randomUUID();

    // the edge's analytics writer: ingests and queues one event, and waits
    const writer = session(conninfo);
    writer.send(`BEGIN;
SELECT set_config('pg_aistudio.edge_outbox', 'on', false);
INSERT INTO aistudio.interaction_staging ("timestamp", request_id, vendor, model_name, interaction_type, status_code, latency_ms)
  VALUES (now(), ${lit(rid)}, 'openai', 'gpt-4o', 'proxy', 200, 5);
SELECT inserted FROM aistudio.ingest_staged();
\\echo ingested`);
    await writer.until('ingested');

    // the upload thread's take: planned now, it waits for the writer's lock
    const taker = session(conninfo);
    taker.send(`SELECT 'taken=' || count(*) FROM aistudio.edge_outbox_take(500);
\\echo took`);
    const waiting = async () => Number(await pg.sql(`SELECT count(*) FROM pg_stat_activity
      WHERE datname = 'edge_outbox_race' AND wait_event_type = 'Lock' AND query LIKE '%edge_outbox_take%'`));
    const end = Date.now() + 15000;
    while ((await waiting()) === 0) {
      assert.ok(Date.now() < end, `the take never waited for the writer's lock\n${taker.out()}${taker.err()}`);
      await sleep(50);
    }

    // the writer commits: the take goes on with a snapshot that sees the
    // queued event, and a plan without the new partition
    writer.send('COMMIT;\n\\echo committed');
    await writer.until('committed');
    await taker.until('took');
    await writer.end();
    await taker.end();
    assert.match(taker.out(), /taken=[01]/, taker.err());

    assert.equal(await db.sql(`SELECT count(*) FROM aistudio.edge_outbox WHERE request_id = ${lit(rid)}`), '1',
      'the event is still queued for the hub');
    const next = await db.json(`SELECT e ->> 'request_id' AS rid FROM aistudio.edge_outbox_take(500) e`);
    assert.deepEqual(next.map((r) => r.rid), [rid], 'the next take returns it');
  });
});
