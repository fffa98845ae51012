#!/usr/bin/env node
// tools/docsite/render.mjs: renders the documentation site at build time.
//
//   node tools/docsite/render.mjs [--cmark PROGRAM] SRC OUT
//   (the top-level `make docs`: SRC = docs, OUT = build/docs)
//
// Every SRC/**/NAME.md becomes OUT/<its URL>.html (markdown.mjs: foo.md ->
// foo.html for /foo, sql-api/x.md -> sql-api/x.html, sql-api/README.md ->
// sql-api.html for /sql-api), SRC/openapi.json is copied as is and rendered
// as openapi.html (/openapi, openapi.mjs), and index.html is the home page
// (getting-started.md, else README.md, else a generated list of the pages).
// Every page has the same layout and navigation (layout.mjs). gatewayd's
// documentation server (DOCS_PORT) serves OUT through its allow-list and
// nothing else; it renders nothing itself.
//
// The build fails, printing what and where, and leaves OUT as it was, when:
// cmark-gfm is missing or fails on a file; a file or directory name cannot
// be served (names are [A-Za-z0-9_-], as the server's allow-list; dotfiles
// are skipped); two files would have one URL, or a document would take the
// URL of the home page (/index) or of the OpenAPI page (/openapi);
// openapi.json is not valid JSON; or a page links to a page, file or #anchor
// of the site that does not exist. The new site is written to a temporary
// directory next to OUT and then put in OUT's place.
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DocsError, renderDocument, renderSnippets, urlFor } from './markdown.mjs';
import { buildNav, indexBody, page, OPENAPI_URL } from './layout.mjs';
import { renderOpenapi } from './openapi.mjs';

// What gatewayd's allow-list accepts (gw_docs_map in gatewayd/src/http/docs.c):
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/; // a path segment
const MAX_SEGMENTS = 8; // segments in a path
const MAX_FILE = 255; // bytes of a served file's path (GW_STATIC_REL_MAX - 1)
const HOME = ['getting-started.md', 'README.md'];
const RESERVED = new Map([['/index', 'the home page (index.html)'], [OPENAPI_URL, 'the OpenAPI reference']]);

// The documents under src: paths relative to it ("sql-api/config.md").
function scan(src, sub, depth, out) {
  for (const e of readdirSync(path.join(src, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.name.startsWith('.')) continue; // hidden: .git, editor files
    if (e.isDirectory()) {
      if (!NAME_RE.test(e.name)) throw new DocsError(`docs/${rel}/: a directory name the server cannot serve (use [A-Za-z0-9_-])`);
      if (depth + 1 >= MAX_SEGMENTS) throw new DocsError(`docs/${rel}/: deeper than ${MAX_SEGMENTS} levels`);
      scan(src, rel, depth + 1, out);
    } else if (e.name.endsWith('.md')) {
      if (!e.isFile()) throw new DocsError(`docs/${rel}: not a regular file (symlinks are not rendered)`);
      if (!NAME_RE.test(e.name.slice(0, -3))) throw new DocsError(`docs/${rel}: a file name the server cannot serve (use [A-Za-z0-9_-].md)`);
      out.push(rel);
    }
  }
  return out;
}

// "/sql-api/config" -> "sql-api/config.html"
const fileFor = (url) => `${url.slice(1)}.html`;

export function renderSite(src, outDir, { cmark = 'cmark-gfm' } = {}) {
  if (!existsSync(src) || !lstatSync(src).isDirectory()) throw new DocsError(`${src}: not a directory`);
  const docs = scan(src, '', 0, []).sort().map((rel) => ({ rel, url: urlFor(rel) }));
  const byUrl = new Map();
  for (const d of docs) {
    if (RESERVED.has(d.url)) throw new DocsError(`docs/${d.rel}: its URL ${d.url} is ${RESERVED.get(d.url)}; rename it`);
    if (byUrl.has(d.url)) throw new DocsError(`docs/${d.rel} and docs/${byUrl.get(d.url).rel} would both be ${d.url}`);
    if (Buffer.byteLength(fileFor(d.url)) > MAX_FILE) throw new DocsError(`docs/${d.rel}: a path longer than the server serves`);
    byUrl.set(d.url, d);
  }
  for (const d of docs) Object.assign(d, renderDocument(cmark, d.rel, readFileSync(path.join(src, d.rel))));

  const openapiSrc = path.join(src, 'openapi.json');
  let openapi = null;
  if (existsSync(openapiSrc)) {
    const links = [];
    const render = (texts) => renderSnippets(cmark, 'openapi.json', texts, links);
    openapi = { ...renderOpenapi(readFileSync(openapiSrc, 'utf8'), render), links, rel: 'openapi.json' };
    openapi.ids = new Set([...openapi.body.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
  }

  // every internal link must reach a page (and its anchor) or openapi.json
  const home = HOME.map((f) => docs.find((d) => d.rel === f)).find(Boolean);
  const pages = new Map(docs.map((d) => [d.url, d.ids]));
  pages.set('/', home ? home.ids : new Set(['top']));
  if (openapi) pages.set(OPENAPI_URL, openapi.ids);
  const check = (from, fromUrl, href) => {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(href) || href.startsWith('//')) return; // another site
    const hash = href.indexOf('#');
    const target = (hash < 0 ? href : href.slice(0, hash)).replace(/\?.*$/, '') || fromUrl;
    const frag = hash < 0 ? '' : href.slice(hash + 1);
    if (target === '/openapi.json' && openapi && !frag) return;
    const ids = pages.get(target);
    if (!ids) throw new DocsError(`docs/${from}: the link "${href}" leads to ${target}, which is not a page of the site`);
    let id = frag;
    try { id = decodeURIComponent(frag); } catch { /* kept as written */ }
    if (frag && !ids.has(id)) throw new DocsError(`docs/${from}: the link "${href}": ${target} has no #${id}`);
  };
  for (const d of docs) for (const href of d.links) check(d.rel, d.url, href);
  if (openapi) for (const href of openapi.links) check('openapi.json', OPENAPI_URL, href);

  // write everything to a fresh directory, then swap it in
  const nav = buildNav(docs, openapi !== null);
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const write = (rel, text) => {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    writeFileSync(path.join(tmp, rel), text);
  };
  try {
    for (const d of docs) {
      write(fileFor(d.url), page({ nav, active: d.url, title: d.title ?? d.rel, body: d.html, source: d.rel }));
    }
    if (openapi) {
      write(fileFor(OPENAPI_URL), page({ nav, active: OPENAPI_URL, title: openapi.title, body: openapi.body, source: 'openapi.json' }));
      copyFileSync(openapiSrc, path.join(tmp, 'openapi.json'));
    }
    write('index.html', home
      ? page({ nav, active: home.url, title: home.title ?? home.rel, body: home.html, source: home.rel })
      : page({ nav, active: '/', title: 'Documentation', body: indexBody(nav) }));
    const old = `${outDir}.old-${process.pid}`;
    const had = existsSync(outDir);
    if (had) renameSync(outDir, old);
    try {
      renameSync(tmp, outDir);
    } catch (e) {
      if (had) renameSync(old, outDir);
      throw e;
    }
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { pages: docs.length + (openapi ? 1 : 0) };
}

function main(argv) {
  const args = [...argv];
  let cmark = 'cmark-gfm';
  if (args[0] === '--cmark') {
    cmark = args[1];
    args.splice(0, 2);
  }
  if (args.length !== 2 || !cmark) {
    process.stderr.write('usage: node tools/docsite/render.mjs [--cmark PROGRAM] SRC OUT\n');
    return 2;
  }
  try {
    const r = renderSite(args[0], args[1], { cmark });
    process.stdout.write(`docsite: ${r.pages} pages rendered into ${args[1]}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof DocsError) && !e.code) throw e;
    process.stderr.write(`docsite: ${e.message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
