// regress/e2e/getting-started.test.mjs: docs/getting-started.md does what it
// says. Its SQL block runs as written (after the first super admin `make
// run` creates; the vendor keys and endpoints swapped for the C mock
// upstream's) and its last statement gives the app key; then its first calls
// run as written against a real gatewayd (only 127.0.0.1:9090 swapped for
// the test's port): the curl command, the JavaScript (openai SDK, streaming)
// and the two Python programs (openai and anthropic packages; skipped with
// a note when that Python has not got them: PYTHON=… picks another; they
// are parsed in any case). Each
// must print the mock's answer and be recorded as a row of the app.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startCluster } from './lib/cluster.mjs';
import { startGatewayd, withLogs, pollValue, ROOT } from './lib/gatewayd.mjs';
import { startMock } from './lib/mock.mjs';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const VKEY = 'sk-getting-started-0123456789';
const PYTHON = process.env.PYTHON || 'python3';
const doc = readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8');
const blocks = [...doc.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
const only = (pred, what) => {
  const found = blocks.filter(pred);
  assert.equal(found.length, 1, `exactly one ${what} block in getting-started.md`);
  return found[0].code;
};

let mock;
let pg;
let gw;
let key;
const it = withLogs(nodeIt, () => [gw, pg]);
const local = (code) => code.replaceAll('http://127.0.0.1:9090', gw.url);
const env = () => ({ ...process.env, AISTUDIO_KEY: key });
const rows = () => pg.sql('SELECT count(*) FROM aistudio.llm_interactions WHERE app_id = 1 AND status_code = 200');

async function recorded(n) {
  assert.equal(await pollValue(pg, 'SELECT count(*) FROM aistudio.llm_interactions WHERE app_id = 1', (v) => Number(v) >= n), String(n));
  assert.equal(await rows(), String(n), 'every call succeeded');
}

describe('docs/getting-started.md', () => {
  before(async () => {
    mock = await startMock({ expectKey: VKEY, frames: 4 });
    pg = await startCluster();
    // what make run does first: the first super admin is user 1
    await pg.sql(`SELECT aistudio.create_user('admin@example.com', 'Admin', 'first admin password 1', 'super_admin')`);
    const sql = only((b) => b.lang === 'sql', 'SQL')
      .replaceAll("'sk-...'", `'${VKEY}'`).replaceAll("'sk-ant-...'", `'${VKEY}'`)
      .replaceAll("'https://api.openai.com/v1'", `'${mock.url}/v1'`)
      .replaceAll("'https://api.anthropic.com'", `'${mock.url}'`);
    assert.ok(!/sk-\.\.\.|api\.openai\.com|api\.anthropic\.com/.test(sql), 'every key and endpoint replaced');
    key = (await pg.sql(sql)).split('\n').at(-1);
    assert.match(key, /^ais_[0-9a-f]{64}$/, 'the last statement prints the key');
    assert.equal(await pg.sql(`SELECT string_agg(slug, ',' ORDER BY id) FROM aistudio.llms`), 'openai-prod,claude');
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

  it('the curl command', async () => {
    const cmd = only((b) => b.lang === 'sh' && b.code.includes('curl'), 'curl');
    const { stdout } = await execFileP('bash', ['-c', local(cmd)], { env: env() });
    const r = JSON.parse(stdout);
    assert.ok(r.choices[0].message.content.length > 0, stdout);
    await recorded(1);
  });

  it('the JavaScript program (openai, streaming)', async () => {
    const file = path.join(here, `.getting-started-${process.pid}.mjs`); // here: node_modules has openai
    writeFileSync(file, local(only((b) => b.lang === 'js', 'JavaScript')));
    try {
      const { stdout } = await execFileP(process.execPath, [file], { env: env() });
      assert.ok(stdout.trim().split(/\s+/).length >= 4, `streamed words: ${stdout}`);
    } finally {
      rmSync(file, { force: true });
    }
    await recorded(2);
  });

  it('the Python programs (openai, anthropic)', async (t) => {
    const progs = blocks.filter((b) => b.lang === 'python').map((b) => b.code);
    assert.equal(progs.length, 2);
    assert.match(progs[0], /from openai import OpenAI/);
    assert.match(progs[1], /import anthropic/);
    // valid Python in any case
    for (const p of progs) execFileSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: p });
    try {
      execFileSync(PYTHON, ['-c', 'import openai, anthropic'], { stdio: 'ignore' });
    } catch {
      t.skip(`${PYTHON} has not got the openai and anthropic packages (set PYTHON to one that has)`);
      return;
    }
    for (const p of progs) {
      const { stdout } = await execFileP(PYTHON, ['-c', local(p)], { env: env() });
      assert.ok(stdout.trim().length > 0, 'it printed the answer');
    }
    await recorded(4);
    assert.equal(await pg.sql(`SELECT string_agg(DISTINCT l.slug, ',') FROM aistudio.llm_interactions i
      JOIN aistudio.llms l ON l.id = i.llm_id WHERE i.app_id = 1`), 'claude,openai-prod');
  });
});
