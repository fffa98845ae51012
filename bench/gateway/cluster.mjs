// bench/gateway/cluster.mjs: the PostgreSQL side of the gateway benchmark.
// Starts a scratch cluster with pg_aistudio (regress/e2e/lib/cluster.mjs),
// creates an OpenAI LLM pointing at the mock upstream, a price, an app and
// its key, prints one JSON line with what gatewayd needs, then waits for
// SIGTERM/SIGINT (or its stdin to close) and removes everything. With
// BENCH_FILTER=1 a second LLM, "Bench Filter", has one regex filter
// (post_auth) attached: slug_filter in the JSON line.
//
//   node bench/gateway/cluster.mjs MOCK_PORT [VENDOR_KEY]
import { startCluster } from '../../regress/e2e/lib/cluster.mjs';
import { seed } from '../../regress/e2e/lib/gatewayd.mjs';

const mockPort = Number(process.argv[2]);
const vendorKey = process.argv[3] || 'sk-mock';
if (!mockPort) {
  console.error('usage: node bench/gateway/cluster.mjs MOCK_PORT [VENDOR_KEY]');
  process.exit(2);
}

const pg = await startCluster({
  prefix: 'bench-pg-',
  conf: ['shared_buffers = 512MB', 'max_wal_size = 4GB', 'checkpoint_timeout = 30min'],
});
const ids = await seed(pg, {
  vendorKey,
  owner: { email: 'bench@example.com', name: 'Bench' },
  llms: [{ name: 'Bench Mock', vendor: 'openai', endpoint: `http://127.0.0.1:${mockPort}/v1`, key: 'secret' },
    { name: 'Bench Filter', vendor: 'openai', endpoint: `http://127.0.0.1:${mockPort}/v1`, key: 'secret' }],
  prices: [['openai', 'gpt-4o-mini', 0.15, 0.60, null, 0.075]],
  apps: [{ name: 'bench-app', llms: ['Bench Mock', 'Bench Filter'] }],
});
if (process.env.BENCH_FILTER === '1') {
  // a typical prompt firewall rule, searched in every text part of the prompt
  const f = await pg.sql(`SELECT aistudio.create_filter('bench-regex', 'regex',
    '{"patterns": ["(?i)\\\\b(password|secret|api[_-]?key)\\\\s*[:=]"]}')`);
  await pg.sql(`SELECT aistudio.attach_filter(${ids.llms['Bench Filter'].id}, ${f})`);
}
// BENCH_PLUGIN=<command> [BENCH_PLUGIN_CONFIG=<json>]: one plugin at
// post_auth attached to the LLM (the gatewayd-plugin target of run.sh)
if (process.env.BENCH_PLUGIN) {
  const lit = (v) => `'${String(v).replace(/'/g, "''")}'`;
  const pid = await pg.sql(`SELECT aistudio.create_plugin('bench-plugin', 'post_auth', ${lit(process.env.BENCH_PLUGIN)},
    ${lit(process.env.BENCH_PLUGIN_CONFIG || '{}')}::jsonb)`);
  await pg.sql(`SELECT aistudio.attach_plugin(${ids.llms['Bench Mock'].id}, ${pid})`);
}
process.stdout.write(`${JSON.stringify({
  database_url: pg.gatewayUrl,
  key_file: pg.keyFile,
  host: pg.dir,
  port: pg.port,
  slug: ids.llms['Bench Mock'].slug,
  slug_filter: ids.llms['Bench Filter'].slug,
  llm_id: ids.llms['Bench Mock'].id,
  app_id: ids.apps['bench-app'].id,
  key: ids.apps['bench-app'].key,
})}\n`);

// stay up until told to stop (cluster.mjs cleans up on exit and on signals)
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
setInterval(() => {}, 1 << 30);
