// regress/e2e/docs-server.test.mjs: the documentation server (DOCS_PORT) of
// the real gatewayd binary, serving the site `make docs` renders from the
// project's docs/ into build/docs (tools/docsite). No database: DATABASE_URL
// points at a closed port, and gatewayd starts anyway (the docs server needs
// none). Checks: the pages are HTML with the security and caching headers
// (ETag, 304); every docs/**/*.md is a page; every navigation link, from
// every page, answers 200; a crawl from / following every internal link
// finds no link that does not answer 200 and no missing #anchor;
// /openapi.json is served raw and /openapi rendered; HEAD; 405 for other
// methods; and path traversal attempts sent as raw request lines (fetch
// would normalise them) get the HTML 404 (400 for a broken escape) while
// the server keeps serving.
import { describe, before, after, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startGatewayd, ROOT, withLogs } from './lib/gatewayd.mjs';
import { freePort, sleep } from './lib/cluster.mjs';

const DOCS = path.join(ROOT, 'docs');
const SITE = path.join(ROOT, 'build', 'docs');
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:";
let gw;
let base;
const it = withLogs(nodeIt, () => [gw]);

// One request as a raw request line (the path is sent byte for byte).
function raw(p, { method = 'GET', port = gw.docsPort } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.setTimeout(10000, () => sock.destroy(new Error(`timeout on ${method} ${p.slice(0, 80)}`)));
    sock.on('connect', () => sock.write(`${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const sep = text.indexOf('\r\n\r\n');
      const head = sep < 0 ? text : text.slice(0, sep);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: sep < 0 ? '' : text.slice(sep + 4) });
    });
  });
}

async function get(p) {
  const res = await fetch(`${base}${p}`, { redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function navLinks(html) {
  const nav = html.match(/<nav[^>]*>([\s\S]*?)<\/nav>/);
  assert.ok(nav, 'the page has a navigation');
  return [...nav[1].matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
}

function articleLinks(html) {
  const art = html.match(/<article>([\s\S]*?)<\/article>/);
  assert.ok(art, 'the page has an article');
  return [...art[1].matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
}

function assertHtmlPage(r, what) {
  assert.equal(r.status, 200, `${what}: status`);
  const h = (k) => (r.headers.get ? r.headers.get(k) : r.headers[k]);
  assert.equal(h('content-type'), 'text/html; charset=utf-8', `${what}: content type`);
  assert.equal(h('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(h('content-security-policy'), CSP, `${what}: CSP`);
  assert.equal(h('referrer-policy'), 'no-referrer', `${what}: referrer policy`);
  assert.match(r.body, /^<!DOCTYPE html>/, `${what}: an HTML document`);
  assert.match(r.body, /<title>[^<]+<\/title>/, `${what}: a title`);
  assert.doesNotMatch(r.body, /<script/i, `${what}: no script`);
  assert.doesNotMatch(r.body, /<(link|img)[^>]+(href|src)="https?:/i, `${what}: no external asset`);
}

// docs/**/*.md as paths relative to docs/ (dotfiles skipped, as the build does)
function markdownFiles(dir = DOCS, sub = '') {
  return readdirSync(path.join(dir, sub), { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory()) return markdownFiles(dir, rel);
    return e.name.endsWith('.md') ? [rel] : [];
  });
}

before(async () => {
  // the site as `make` builds it (up to date: make renders it again only when docs/ changed)
  execFileSync('make', ['-s', '-C', ROOT, '--no-print-directory', 'docs'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const closed = await freePort(); // nothing listens there
  gw = await startGatewayd(null, {
    wait: false,
    env: {
      DATABASE_URL: `host=127.0.0.1 port=${closed} dbname=aistudio connect_timeout=2`,
      DOCS_DIR: SITE,
    },
  });
  base = `http://127.0.0.1:${gw.docsPort}`;
  const end = Date.now() + 20000;
  let last = '';
  for (;;) {
    if (gw.exit) throw new Error(`gatewayd exited (${gw.exit.code ?? gw.exit.signal})\n${gw.logs()}`);
    try {
      const r = await fetch(`${base}/`);
      last = `${r.status}`;
      await r.text();
      if (r.status === 200) break;
    } catch (e) { last = e.message; }
    if (Date.now() > end) throw new Error(`docs server not up on ${base} within 20 s (last: ${last})\n${gw.logs()}`);
    await sleep(100);
  }
});

after(async () => {
  if (gw) await gw.stop();
});

describe('documentation server', () => {
  it('runs without a database', async () => {
    assert.equal(gw.exit, null, 'gatewayd is running');
    const r = await fetch(`${gw.url}/readyz`);
    const j = await r.json();
    assert.equal(j.database, 'unreachable', 'no database behind it');
  });

  it('renders /, /configuration and /sql-api/config', async () => {
    const home = await get('/');
    assertHtmlPage(home, '/');
    assert.match(home.body, /<h1[^>]*>\s*Getting started/, '/ is the getting started page');
    const conf = await get('/configuration');
    assertHtmlPage(conf, '/configuration');
    assert.match(conf.body, /<table>/, 'tables render');
    assert.match(conf.body, /pg_aistudio\.secret_key_file/, 'the configuration reference');
    const sql = await get('/sql-api/config');
    assertHtmlPage(sql, '/sql-api/config');
    assert.match(sql.body, /href="\/sql-api#conventions"/, 'README.md#conventions rewritten');
    assert.doesNotMatch(sql.body, /href="[^"]*\.md[#"]/, 'no .md link left');
  });

  it('has a navigation on every page whose links all answer', async () => {
    const first = navLinks((await get('/')).body);
    for (const want of ['/getting-started', '/configuration', '/sql-api', '/sql-api/config', '/openapi']) {
      assert.ok(first.includes(want), `the navigation links ${want}: ${first.join(' ')}`);
    }
    assert.ok(first.indexOf('/getting-started') < first.indexOf('/configuration'), 'getting started first');
    assert.ok(first.indexOf('/configuration') < first.indexOf('/sql-api'), 'then configuration, then SQL API');
    for (const link of first) {
      const r = await get(link);
      assertHtmlPage(r, link);
      const nav = navLinks(r.body);
      assert.deepEqual(nav, first, `${link}: the same navigation`);
      assert.match(r.body, new RegExp(`href="${link.replace(/[/\\-]/g, '\\$&')}" class="active"`),
        `${link}: marked as the current page`);
    }
  });

  it('has no broken internal link or anchor', async () => {
    const pages = navLinks((await get('/')).body);
    const cache = new Map();
    const fetchPage = async (p) => {
      if (!cache.has(p)) cache.set(p, await get(p));
      return cache.get(p);
    };
    for (const page of pages) {
      const r = await fetchPage(page);
      for (const href of articleLinks(r.body)) {
        if (/^[a-z]+:/i.test(href) || href.startsWith('//')) continue; // external
        const [p, frag] = href.split('#');
        const target = p === '' ? page : p;
        if (target === '/openapi.json') continue;
        const t = await fetchPage(target);
        assert.equal(t.status, 200, `${page}: link ${href}`);
        if (frag) assert.ok(t.body.includes(`id="${frag}"`), `${page}: anchor #${frag} exists on ${target}`);
      }
    }
  });

  it('serves /openapi.json raw and /openapi as HTML', async () => {
    const file = path.join(DOCS, 'openapi.json');
    const r = await get('/openapi.json');
    if (existsSync(file)) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.body, readFileSync(file, 'utf8'), 'byte for byte');
      JSON.parse(r.body);
    } else {
      assert.equal(r.status, 404);
    }
    const page = await get('/openapi');
    if (existsSync(file)) {
      assertHtmlPage(page, '/openapi');
      assert.match(page.body, /<section class="op" id="op-/, 'one section per operation');
      assert.match(page.body, /href="\/openapi\.json"/, 'links the raw document');
    } else {
      assert.equal(page.status, 404, 'no reference page without a document');
    }
  });

  it('serves every docs/**/*.md as a page', async () => {
    const files = markdownFiles();
    assert.ok(files.length >= 10, `the docs are there: ${files.join(' ')}`);
    for (const rel of files) {
      const url = `/${rel.slice(0, -3).replace(/\/README$/, '')}`;
      const r = await get(url);
      assertHtmlPage(r, `${url} (docs/${rel})`);
      assert.ok(r.body.includes(`Source: <code>docs/${rel}</code>`), `${url} is docs/${rel}`);
    }
  });

  it('finds every internal link and anchor answering in a crawl from /', async () => {
    const seen = new Map();
    const queue = [['/', 'nowhere']];
    const anchors = [];
    while (queue.length > 0) {
      const [p, from] = queue.shift();
      if (seen.has(p)) continue;
      const r = await get(p);
      seen.set(p, r);
      assert.equal(r.status, 200, `${p} (linked from ${from}) answers`);
      if (!(r.headers.get('content-type') || '').startsWith('text/html')) continue;
      for (const m of r.body.matchAll(/href="([^"]*)"/g)) {
        const href = m[1].replace(/&amp;/g, '&');
        if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue; // another site
        const [target, frag] = href.split('#');
        const t = (target || p).replace(/\?.*$/, '');
        assert.ok(t.startsWith('/'), `${p}: link ${href} is site-absolute`);
        if (!seen.has(t)) queue.push([t, p]);
        if (frag) anchors.push([p, t, decodeURIComponent(frag)]);
      }
      assert.ok(seen.size < 500, 'the crawl ends');
    }
    for (const [from, to, frag] of anchors) {
      assert.ok(seen.get(to).body.includes(`id="${frag}"`), `${from}: anchor #${frag} exists on ${to}`);
    }
    for (const want of ['/getting-started', '/configuration', '/sql-api', '/sql-api/config', '/openapi', '/openapi.json']) {
      assert.ok(seen.has(want), `the crawl reached ${want}`);
    }
  });

  it('sends the caching headers of static files and answers 304', async () => {
    const r = await raw('/configuration');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(r.headers.etag || '', /^"[0-9a-f]+-[0-9a-f]+"$/, 'an ETag');
    assert.match(r.headers['last-modified'] || '', /GMT$/, 'a Last-Modified');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    const again = await fetch(`${base}/configuration`, { headers: { 'If-None-Match': r.headers.etag } });
    assert.equal(again.status, 304, 'If-None-Match with the ETag');
    assert.equal(await again.text(), '');
    const json = await raw('/openapi.json');
    assert.equal(json.headers['cache-control'], 'no-cache');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const g = await raw('/configuration');
    const h = await raw('/configuration', { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], g.headers['content-length']);
    assert.equal(h.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(h.body, '');
  });

  it('refuses other methods', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw('/configuration', { method: m });
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.allow, 'GET, HEAD', `${m}: Allow`);
    }
  });

  it('answers traversal attempts with a small HTML 404 and keeps serving', async () => {
    const attempts = [
      '/../README', '/../Makefile', '/%2e%2e/Makefile', '/%2E%2E/%2E%2E/etc/passwd', '/sql-api/../../Makefile',
      '/sql-api/%2e%2e/%2e%2e/Makefile', '/..%2fMakefile', '/%2e%2e%2fMakefile', '/%252e%252e/Makefile', '//etc/passwd',
      '/.git/config', '/.git/HEAD', '/.env', '/configuration.md', '/sql-api/config.md', '/../docs/configuration',
      '/./configuration/../../Makefile', '/..\\Makefile', '/%5c..%5cMakefile',
      '/etc/passwd', '/proc/self/environ', '/gatewayd', '/README', '/Makefile', '/no-such-page',
      '/configuration.html', '/index.html', '/sql-api/config.html', '/openapi.json/', '/openapi.html', '/sql-api//config',
      '/'.repeat(5000), `/${'a/'.repeat(3000)}`, `/${'../'.repeat(1000)}etc/passwd`,
    ];
    for (const p of attempts) {
      const r = await raw(p);
      assert.equal(r.status, 404, `${p.slice(0, 60)}: ${r.status}`);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', `${p.slice(0, 60)}: HTML`);
      assert.match(r.body, /<h1>404 Not Found<\/h1>/);
      assert.doesNotMatch(r.body, /root:|\[core\]|^all:/m, 'nothing from outside docs/');
      assert.equal(r.headers['content-security-policy'], CSP);
    }
    for (const p of ['/%zz/Makefile', '/%2', '/configuration%00', '/%0a']) {
      const r = await raw(p);
      assert.equal(r.status, 400, `${p}: ${r.status}`);
    }
    const home = await get('/');
    assert.equal(home.status, 200, 'still serving');
    assert.equal(gw.exit, null, 'gatewayd still running');
  });
});
