// regress/e2e/docs-build.test.mjs: the build-time renderer of the
// documentation site (tools/docsite, run by `make docs`), with the real
// cmark-gfm and no server. Checks: link rewriting (foo.md -> /foo, anchors
// kept, unsafe schemes and links out of docs/ dropped), GitHub heading ids,
// cmark-gfm's safe mode (no raw HTML, no javascript: URL), GFM tables with
// the site's classes; a whole site from a scratch docs tree (files, the
// navigation's order, the home page and its fallback, hidden files
// skipped, openapi.json copied and rendered); the OpenAPI reference; and
// that every kind of broken input fails the build with a message naming
// the file, leaving the previous site in place.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/gatewayd.mjs';
import {
  DocsError, renderDocument, renderSnippets, rewriteLink, slugify, urlFor,
} from '../../tools/docsite/markdown.mjs';
import { renderOpenapi } from '../../tools/docsite/openapi.mjs';
import { renderSite } from '../../tools/docsite/render.mjs';

const RENDER = path.join(ROOT, 'tools', 'docsite', 'render.mjs');
const CMARK = 'cmark-gfm';
let scratch;

const md = (rel, text) => renderDocument(CMARK, rel, text);
const link = (cur, url) => {
  const r = rewriteLink(cur, url);
  return r.kind === 'drop' ? '(dropped)' : r.url;
};

// A docs tree under scratch/name from { 'rel/path.md': text }.
function tree(name, files) {
  const dir = path.join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

// The command-line build: { status, stderr }.
function build(src, out, ...extra) {
  const r = spawnSync(process.execPath, [RENDER, ...extra, src, out], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const navHrefs = (html) => [...html.match(/<nav[^>]*>([\s\S]*?)<\/nav>/)[1].matchAll(/href="([^"]+)"/g)].map((m) => m[1]);

const GOOD = {
  'getting-started.md': '# Getting started\n\nRead [the configuration](configuration.md).\n',
  'configuration.md': '# Configuration reference\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
  'sql-api/README.md': '# SQL API\n\n## Conventions\n\nSee [config](config.md).\n',
  'sql-api/config.md': '# Config functions\n\nBack to [the conventions](README.md#conventions).\n',
  'sql-api/analytics.md': '# Analytics schema\n\nThe [API](../openapi.json) and [its page](/openapi#top).\n',
  'upgrading.md': '# Upgrades\n',
  'BENCHMARKS.md': '# Benchmarks\n',
  'zeta.md': '# Zeta notes\n',
  'alpha.md': '# Alpha notes\n\n[home](/) [top](#alpha-notes)\n',
  'guides/deep.md': '# A deep guide\n',
  '.hidden.md': '# Hidden\n',
  '.git/config.md': '# git\n',
  'notes.txt': 'not markdown\n',
  'openapi.json': '{"openapi":"3.1.0","info":{"title":"Test API","version":"1"},'
    + '"paths":{"/api/v1/me":{"get":{"summary":"Who am I","description":"See [upgrading](upgrading.md)."}}}}\n',
};

before(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'docs-build-'));
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('Markdown to HTML', () => {
  it('maps documents to URLs and rewrites links', () => {
    assert.equal(urlFor('configuration.md'), '/configuration');
    assert.equal(urlFor('sql-api/config.md'), '/sql-api/config');
    assert.equal(urlFor('sql-api/README.md'), '/sql-api', "a directory's README");
    assert.equal(urlFor('README.md'), '/README', 'a top-level README');
    assert.equal(urlFor('notes.txt'), null);
    const cases = [
      ['getting-started.md', 'configuration.md', '/configuration'],
      ['getting-started.md', 'sql-api/README.md', '/sql-api'],
      ['sql-api/config.md', 'README.md#conventions', '/sql-api#conventions'],
      ['sql-api/config.md', 'pricing.md', '/sql-api/pricing'],
      ['sql-api/audit.md', '../upgrading.md', '/upgrading'],
      ['sql-api/audit.md', './apps.md?x=1#y', '/sql-api/apps?x=1#y'],
      ['sql-api/x.md', '../openapi.json', '/openapi.json'],
      ['a.md', '#local', '#local'],
      ['a.md', 'https://example.com/x.md', 'https://example.com/x.md'],
      ['a.md', 'mailto:ops@example.com', 'mailto:ops@example.com'],
      ['a.md', '/configuration', '/configuration'],
      ['a.md', 'javascript:alert(1)', '(dropped)'],
      ['a.md', 'JavaScript:alert(1)', '(dropped)'],
      ['a.md', 'vbscript:x', '(dropped)'],
      ['a.md', 'data:text/html,<b>', '(dropped)'],
      ['a.md', 'file:///etc/passwd', '(dropped)'],
      ['a.md', 'ftp://example.com/', '(dropped)'],
      ['a.md', '../README.md', '(dropped)'],
      ['sql-api/a.md', '../../Makefile', '(dropped)'],
      ['a.md', 'x%5C..%5Cy.md', '(dropped)'],
      ['a.md', '', '(dropped)'],
    ];
    for (const [cur, url, want] of cases) assert.equal(link(cur, url), want, `${cur}: ${url}`);
  });

  it('gives headings GitHub ids and takes the title from the first h1', () => {
    const r = md('getting-started.md', '# Getting started\n\nSee [config](configuration.md) and '
      + '[conv](sql-api/README.md#conventions).\n\n## Run it\n\n## Run it\n\n## `aistudio.create_llm(...)` and *more*\n');
    assert.equal(r.title, 'Getting started');
    assert.match(r.html, /<h1 id="getting-started">Getting started <a class="anchor" href="#getting-started"/);
    assert.match(r.html, /href="\/configuration"/);
    assert.match(r.html, /href="\/sql-api#conventions"/);
    assert.match(r.html, /<h2 id="run-it">/);
    assert.match(r.html, /<h2 id="run-it-1">/, 'a repeated heading gets a suffix');
    assert.match(r.html, /<h2 id="aistudiocreate_llm-and-more"><code>aistudio\.create_llm\(\.\.\.\)<\/code> and <em>more<\/em>/);
    assert.deepEqual([...r.ids], ['getting-started', 'run-it', 'run-it-1', 'aistudiocreate_llm-and-more']);
    assert.deepEqual(r.links, ['/configuration', '/sql-api#conventions']);
    assert.equal(slugify('Rotating the master key'), 'rotating-the-master-key');
    assert.equal(slugify('Über café: 1.5 (beta)'), 'Über-café-15-beta', 'non-ASCII kept as is');
    assert.equal(md('a.md', 'no heading\n').title, null);
  });

  it('passes no raw HTML and no unsafe URL through', () => {
    const r = md('x.md', '<script>alert(1)</script>\n\nHello <b onclick="x()">bold</b> '
      + '[bad](javascript:alert(1)) [ok](https://example.com) ![img](javascript:alert(2)) [up](../../x.md)\n\n'
      + '<img src=x onerror=alert(3)>\n\n<style>body{}</style>\n');
    assert.doesNotMatch(r.html, /<script|<style|onclick|onerror|javascript:/);
    assert.match(r.html, /raw HTML omitted/, "cmark-gfm's safe mode marks what it dropped");
    assert.match(r.html, / bad <a href="https:\/\/example\.com">ok<\/a> img up/, 'dropped links keep their text');
  });

  it('renders GFM tables with the site classes', () => {
    const r = md('configuration.md', 'Intro line\n'
      + '| variable | default | meaning |\n|:---|:---:|---:|\n'
      + '| `A_B` | `1` | see [upgrading](upgrading.md) |\n| pipe \\| inside | `x\\|y` |\n\n'
      + '```\n| not | a table |\n|---|---|\n```\n\n| one |\n|-----|\n| <b>x</b> |\n');
    assert.match(r.html, /<p>Intro line<\/p>\n<div class="table-wrap"><table>/);
    assert.match(r.html, /<th>variable<\/th>\n<th class="al-center">default<\/th>\n<th class="al-right">meaning<\/th>/);
    assert.match(r.html, /<td><code>A_B<\/code><\/td>/);
    assert.match(r.html, /<a href="\/upgrading">upgrading<\/a>/, 'links in cells are rewritten');
    assert.match(r.html, /<td>pipe \| inside<\/td>/);
    assert.match(r.html, /<code>x\|y<\/code>/);
    assert.match(r.html, /<td class="al-right"><\/td>/, 'a short row is padded');
    assert.match(r.html, /<pre><code>\| not \| a table \|\n\|---\|---\|\n<\/code><\/pre>/, 'no table in a fence');
    assert.match(r.html, /<\/table><\/div>/);
    assert.doesNotMatch(r.html, /<b>x<\/b>/);
  });

  it('renders short texts together, each on its own', () => {
    const links = [];
    const out = renderSnippets(CMARK, 'openapi.json', ['one *a*', 'see [c](configuration.md)', '```\nopen fence'], links);
    assert.equal(out.length, 3);
    assert.equal(out[0], '<p>one <em>a</em></p>');
    assert.equal(out[1], '<p>see <a href="/configuration">c</a></p>');
    assert.equal(out[2], '<pre><code>open fence\n</code></pre>', 'an open fence does not swallow the others');
    assert.deepEqual(links, ['/configuration']);
  });
});

describe('the site', () => {
  it('renders every document, the navigation, the home page and the OpenAPI page', () => {
    const src = tree('good', GOOD);
    const out = path.join(scratch, 'out-good');
    const r = build(src, out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /11 pages rendered/);
    for (const f of ['index.html', 'getting-started.html', 'configuration.html', 'sql-api.html', 'sql-api/config.html',
      'sql-api/analytics.html', 'guides/deep.html', 'openapi.html', 'openapi.json']) {
      assert.ok(existsSync(path.join(out, f)), f);
    }
    for (const f of ['.hidden.html', 'hidden.html', '.git', 'notes.txt', 'notes.html', 'sql-api/README.html']) {
      assert.ok(!existsSync(path.join(out, f)), `${f} is not there`);
    }
    assert.equal(readFileSync(path.join(out, 'openapi.json'), 'utf8'), GOOD['openapi.json'], 'openapi.json as is');
    const home = readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.match(home, /^<!DOCTYPE html>/);
    assert.match(home, /<title>Getting started · pg_aistudio documentation<\/title>/, 'the home page is getting-started');
    assert.match(home, /href="\/getting-started" class="active" aria-current="page"/);
    assert.deepEqual(navHrefs(home), ['/getting-started', '/configuration', '/sql-api', '/sql-api/config', '/openapi',
      '/sql-api/analytics', '/upgrading', '/BENCHMARKS', '/alpha', '/guides/deep', '/zeta'],
    'sections in order, then the other documents alphabetically');
    assert.match(home, /<h2>SQL API<\/h2>/);
    assert.match(home, />Overview<\/a>/, 'the SQL API README is its overview');
    assert.doesNotMatch(home, /<script|https?:\/\//, 'no script, no outside asset');
    const config = readFileSync(path.join(out, 'sql-api/config.html'), 'utf8');
    assert.match(config, /href="\/sql-api#conventions"/);
    assert.match(config, /Source: <code>docs\/sql-api\/config\.md<\/code>/);
    assert.deepEqual(navHrefs(config), navHrefs(home), 'the same navigation on every page');
    const api = readFileSync(path.join(out, 'openapi.html'), 'utf8');
    assert.match(api, /<title>Test API · pg_aistudio documentation<\/title>/);
    assert.match(api, /href="\/openapi" class="active"/);
    assert.match(api, /<section class="op" id="op-get-api-v1-me">/);
    assert.match(api, /See <a href="\/upgrading">upgrading<\/a>/, 'descriptions are Markdown, links rewritten');

    // rendered again: the old site is replaced whole (a deleted document is gone)
    rmSync(path.join(src, 'zeta.md'));
    assert.equal(build(src, out).status, 0);
    assert.ok(!existsSync(path.join(out, 'zeta.html')), 'zeta.html went with zeta.md');
    assert.ok(!navHrefs(readFileSync(path.join(out, 'index.html'), 'utf8')).includes('/zeta'));
  });

  it('falls back to README.md, then to a generated index, for the home page', () => {
    let out = path.join(scratch, 'out-readme');
    assert.equal(build(tree('readme', { 'README.md': '# Read me\n', 'a.md': '# A\n' }), out).status, 0);
    assert.match(readFileSync(path.join(out, 'index.html'), 'utf8'), /<title>Read me · /);
    out = path.join(scratch, 'out-gen');
    assert.equal(build(tree('gen', { 'configuration.md': '# Configuration reference\n' }), out).status, 0);
    const home = readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.match(home, /<h1 id="top">pg_aistudio documentation<\/h1>/);
    assert.match(home, /<li><a href="\/configuration">Configuration reference<\/a><\/li>/);
    assert.doesNotMatch(home, /openapi/, 'no OpenAPI link without openapi.json');
  });

  it('fails the build on broken input, naming the file, and keeps the previous site', () => {
    const out = path.join(scratch, 'out-keep');
    assert.equal(build(tree('keep', GOOD), out).status, 0);
    const before = readFileSync(path.join(out, 'index.html'), 'utf8');
    const bad = [
      [{ 'a.md': '[x](missing.md)\n' }, /docs\/a\.md: the link "\/missing" leads to \/missing, which is not a page/],
      [{ 'a.md': '# A\n', 'b.md': '[x](a.md#nope)\n' }, /docs\/b\.md: the link "\/a#nope": \/a has no #nope/],
      [{ 'a.md': '[x](#nope)\n' }, /docs\/a\.md: the link "#nope": \/a has no #nope/],
      [{ 'a.md': '[x](picture.png)\n' }, /docs\/a\.md: the link "\/picture\.png" leads to/],
      [{ 'a.md': '[x](openapi.json)\n' }, /leads to \/openapi\.json, which is not a page/],
      [{ 'my notes.md': '# x\n' }, /docs\/my notes\.md: a file name the server cannot serve/],
      [{ 'v1.2.md': '# x\n' }, /docs\/v1\.2\.md: a file name the server cannot serve/],
      [{ 'sub.dir/a.md': '# x\n' }, /docs\/sub\.dir\/: a directory name the server cannot serve/],
      [{ [`${'d'.repeat(65)}.md`]: '# x\n' }, /a file name the server cannot serve/],
      [{ [`${'d/'.repeat(8)}a.md`]: '# x\n' }, /deeper than 8 levels/],
      [{ [`${'d'.repeat(64)}/${'d'.repeat(64)}/${'d'.repeat(64)}/${'d'.repeat(60)}.md`]: '# x\n' },
        /a path longer than the server serves/],
      [{ 'openapi.md': '# x\n' }, /docs\/openapi\.md: its URL \/openapi is the OpenAPI reference/],
      [{ 'index.md': '# x\n' }, /docs\/index\.md: its URL \/index is the home page/],
      [{ 'sql-api.md': '# x\n', 'sql-api/README.md': '# y\n' }, /would both be \/sql-api/],
      [{ 'a.md': '# A\n', 'openapi.json': '{"openapi": ' }, /docs\/openapi\.json is not valid JSON/],
      [{ 'a.md': '# A\n', 'openapi.json': '[1, 2]' }, /docs\/openapi\.json: the document is not a JSON object/],
      [{ 'a.md': '# A\n', 'openapi.json': '{"info":{"description":"[x](gone.md)"}}' },
        /docs\/openapi\.json: the link "\/gone" leads to \/gone/],
    ];
    for (const [files, want] of bad) {
      const r = build(tree('bad', files), out);
      assert.equal(r.status, 1, `${Object.keys(files)}: fails (${r.stderr})`);
      assert.match(r.stderr, want, Object.keys(files).join(' '));
      assert.equal(readFileSync(path.join(out, 'index.html'), 'utf8'), before, 'the previous site is still there');
    }
    const src = tree('bad', { 'a.md': '# A\n' });
    symlinkSync('a.md', path.join(src, 'b.md'));
    let r = build(src, out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /docs\/b\.md: not a regular file/);
    r = build(tree('bad', { 'a.md': '# A\n' }), out, '--cmark', '/nonexistent/cmark-gfm');
    assert.equal(r.status, 1, 'no cmark-gfm');
    assert.match(r.stderr, /docs\/a\.md: cannot run \/nonexistent\/cmark-gfm: not installed \(Debian package cmark-gfm/);
    const fake = path.join(scratch, 'fake-cmark');
    writeFileSync(fake, '#!/bin/sh\ncat > /dev/null\necho "cannot parse" >&2\nexit 3\n', { mode: 0o755 });
    r = build(tree('bad', { 'a.md': '# A\n' }), out, '--cmark', fake);
    assert.equal(r.status, 1, 'cmark-gfm failing on a file');
    assert.match(r.stderr, /docs\/a\.md: \S*fake-cmark failed \(exit status 3\) cannot parse/);
    r = build(tree('bad', { 'a.md': '# A\n' }), out, '--cmark', 'false');
    assert.equal(r.status, 1, 'one that exits at once, not reading its input');
    assert.match(r.stderr, /docs\/a\.md: (cannot run false|false failed)/);
    r = build(path.join(scratch, 'nowhere'), out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nowhere: not a directory/);
    const usage = spawnSync(process.execPath, [RENDER, src], { encoding: 'utf8' });
    assert.equal(usage.status, 2, 'one argument: usage');
    assert.match(usage.stderr, /^usage: /);
    assert.equal(readFileSync(path.join(out, 'index.html'), 'utf8'), before, 'the previous site is still there');
    assert.deepEqual(
      (spawnSync('ls', ['-a', scratch], { encoding: 'utf8' }).stdout.match(/out-keep\.(tmp|old)-\d+/g) || []),
      [], 'no temporary directory left behind',
    );
  });

  it('throws DocsError from the module API', () => {
    assert.throws(() => renderSite(tree('bad', { 'a.md': '[x](b.md)\n' }), path.join(scratch, 'o')), DocsError);
  });
});

describe('the OpenAPI reference', () => {
  const render = (texts) => renderSnippets(CMARK, 'openapi.json', texts, []);
  const oa = (doc) => renderOpenapi(typeof doc === 'string' ? doc : JSON.stringify(doc), render);

  it('lists operations, parameters, bodies, responses and schemas', () => {
    const { title, body: h } = oa({
      openapi: '3.0.3',
      info: { title: 'pg_aistudio <REST> API', version: '1.0', description: 'See [config](configuration.md). <script>x</script>' },
      components: {
        parameters: { Id: { name: 'id', in: 'path', required: true, schema: { type: 'integer', format: 'int64' } } },
        schemas: {
          Llm: {
            type: 'object', required: ['name'], description: 'An LLM.',
            properties: {
              name: { type: 'string', maxLength: 255 },
              vendor: { type: 'string', enum: ['openai', 'anthropic'] },
              next: { $ref: '#/components/schemas/Llm' },
              tags: { type: 'array', items: { type: 'string' } },
            },
          },
          Error: { type: 'object', properties: { error: { type: 'object', properties: { message: { type: 'string' } } } } },
        },
      },
      security: [{ cookieAuth: [] }],
      paths: {
        '/api/v1/llms/{id}': {
          parameters: [{ $ref: '#/components/parameters/Id' }],
          get: {
            summary: 'Read an LLM', tags: ['llms'],
            responses: {
              200: { description: 'The LLM', content: { 'application/json': { schema: { $ref: '#/components/schemas/Llm' } } } },
              404: { description: 'No such LLM' },
            },
          },
          patch: {
            summary: 'Update', deprecated: true, security: [],
            parameters: [{ name: 'dry_run', in: 'query', schema: { type: 'boolean', default: false } }],
            requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { active: { type: 'boolean' } } } } } },
            responses: { default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
          },
          'x-extension': { ignored: true },
        },
      },
    });
    assert.equal(title, 'pg_aistudio <REST> API');
    const has = (s, what) => assert.ok(h.includes(s), `${what}: ${s}`);
    has('pg_aistudio &lt;REST&gt; API', 'title escaped');
    has('href="/configuration"', 'description links rewritten');
    assert.doesNotMatch(h, /<script>/, 'no raw HTML from descriptions');
    has('<section class="op" id="op-get-api-v1-llms-id">', 'one section per path+method');
    has('<span class="method get">get</span> <code>/api/v1/llms/{id}</code>', 'method and path');
    has('id="op-patch-api-v1-llms-id"', 'second method of the path');
    has('href="#op-get-api-v1-llms-id"', 'table of contents');
    has('<strong>Read an LLM</strong>', 'summary');
    has('<td><code>id</code></td><td>path</td><td><span class="type">integer (int64)</span></td><td>yes</td>', 'a $ref parameter');
    has('<td><code>dry_run</code></td><td>query</td>', 'an operation parameter');
    has('default <code>false</code>', 'a default');
    has('<h3>Request body</h3>', 'request body');
    has('<code>active</code> <span class="type">boolean</span>', 'request body properties');
    has('<dt><code>200</code> The LLM</dt>', 'responses with descriptions');
    has('<code>application/json</code> <a href="#schema-Llm"><code>Llm</code></a>', 'a named schema $ref is a link');
    has('<section class="op" id="schema-Llm">', 'the schema has its entry');
    has('<code>name</code> <span class="type">string</span> <span class="type">maxLength</span> <code>255</code><span class="req">required</span>', 'required property with a constraint');
    has('one of <code>&quot;openai&quot;</code>, <code>&quot;anthropic&quot;</code>', 'enum values');
    has('<code>next</code> <a href="#schema-Llm">', 'a recursive schema is a link, not a loop');
    has('<code>tags</code> <span class="type">array</span> of <span class="type">string</span>', 'array items');
    has('<code>message</code>', 'nested object properties');
    has('authentication:</span> <code>cookieAuth</code>', 'document-level security');
    has('authentication:</span> none', 'operation-level security override');
    has('<span class="deprecated">deprecated</span>', 'deprecated operation');
    assert.doesNotMatch(h, /x-extension/, 'extensions ignored');
  });

  it('copes with odd documents and refuses what is not one', () => {
    const empty = oa({ info: {}, paths: {} });
    assert.equal(empty.title, 'REST API reference');
    assert.match(empty.body, /describes no paths/);
    assert.ok(oa({ paths: { '/x': { get: { parameters: [{ $ref: '#/a' }], responses: { 200: { $ref: '#/b' } } } } },
      a: { $ref: '#/a' }, b: { $ref: '#/a' } }).body.includes('id="op-get-x"'), '$ref loops end');
    assert.match(oa('{"paths":{"/x":{"get":{"summary":"\\u00e9\\ud83d\\ude00"}}}}').body, /é😀/);
    assert.throws(() => oa('[1,2]'), /not a JSON object/);
    assert.throws(() => oa('{"openapi": "3.0",'), /not valid JSON/);
  });
});
