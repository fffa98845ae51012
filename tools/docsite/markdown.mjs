// tools/docsite/markdown.mjs: one Markdown file of docs/ to an HTML fragment,
// at build time. Debian's cmark-gfm renders it (extensions table, autolink,
// strikethrough, tagfilter; its default safe mode: raw HTML is replaced by a
// comment, javascript:/vbscript:/file:/data: URLs are emptied; invalid UTF-8
// becomes U+FFFD). cmark-gfm writes every tag of its output itself, in a
// fixed shape, so the few edits made here work on that text:
//   - headings get GitHub's ids (so "README.md#conventions" keeps working)
//     and a "#" self-link; the first level-1 heading is the page's title;
//   - links and images between documents point at the served URLs
//     (foo.md -> /foo, sql-api/x.md -> /sql-api/x, sql-api/README.md ->
//     /sql-api, anchors and queries kept; other relative links become
//     site-absolute); links to other schemes than http, https and mailto,
//     emptied ones, and relative ones climbing out of docs/ lose their URL
//     (the text stays);
//   - tables get the scrolling wrapper and alignment classes of the site.
// Pure except for running cmark-gfm. Errors are DocsError: the build stops.
import { spawnSync } from 'node:child_process';

export class DocsError extends Error {}

export const CMARK_ARGS = [
  '--to', 'html', '--validate-utf8',
  '-e', 'table', '-e', 'autolink', '-e', 'strikethrough', '-e', 'tagfilter',
];

// Runs cmark-gfm on text (a string or a Buffer); what names the input in errors.
export function runCmark(cmark, text, what) {
  const r = spawnSync(cmark, CMARK_ARGS, { input: text, maxBuffer: 256 << 20 });
  // EPIPE: it exited without reading all of its input (told by its status below)
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== 0)) {
    const why = r.error.code === 'ENOENT'
      ? 'not installed (Debian package cmark-gfm; `make deps` installs it)'
      : r.error.message;
    throw new DocsError(`${what}: cannot run ${cmark}: ${why}`);
  }
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new DocsError(`${what}: ${cmark} failed (${how}) ${String(r.stderr).trim()}`.trim());
  }
  return r.stdout.toString('utf8');
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

// The entities cmark-gfm writes (it escapes & < > " only), and numeric ones.
export function decodeHtml(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|#x[0-9a-f]+|#[0-9]+);/gi, (m, e) => {
    const k = e.toLowerCase();
    if (k === 'amp') return '&';
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'quot') return '"';
    const n = k[1] === 'x' ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10);
    return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd';
  });
}

// The plain text of an HTML fragment (tags dropped, entities decoded, line
// breaks as spaces).
export function htmlText(html) {
  return decodeHtml(html.replace(/<[^>]*>/g, '')).replace(/\s*\n\s*/g, ' ').trim();
}

// GitHub's heading slug, except that only ASCII is lower-cased: letters,
// digits, '-', '_' and non-ASCII kept, spaces to '-', the rest dropped.
export function slugify(text) {
  let out = '';
  for (const ch of text) {
    if (ch.codePointAt(0) >= 0x80) out += ch;
    else if (/[A-Za-z0-9_-]/.test(ch)) out += ch.toLowerCase();
    else if (ch === ' ') out += '-';
  }
  return out;
}

// The served URL of a document from its path relative to docs/ ("foo.md" ->
// "/foo", "sql-api/x.md" -> "/sql-api/x", "sql-api/README.md" -> "/sql-api",
// a top-level "README.md" -> "/README"); null when rel is not a .md path.
export function urlFor(rel) {
  if (!rel.endsWith('.md') || rel.length <= 3 || rel.startsWith('/')) return null;
  let stem = rel.slice(0, -3);
  const slash = stem.lastIndexOf('/');
  if (slash > 0 && stem.slice(slash + 1) === 'README') stem = stem.slice(0, slash);
  return `/${stem}`;
}

// dir + path with "." and ".." resolved; null when it climbs out.
function join(dir, path) {
  const out = [];
  for (const seg of `${dir}/${path}`.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else {
      out.push(seg);
    }
  }
  return out.join('/');
}

// What becomes of a link's URL found in the document curRel (relative to
// docs/): { kind: 'keep' | 'rewritten' | 'drop', url }.
export function rewriteLink(curRel, url) {
  if (url === '') return { kind: 'drop', url }; // cmark-gfm emptied it (unsafe)
  if (url.startsWith('#') || url.startsWith('/')) return { kind: 'keep', url };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (scheme) {
    return /^(https?|mailto)$/i.test(scheme[1]) ? { kind: 'keep', url } : { kind: 'drop', url };
  }
  let plain;
  try {
    plain = decodeURI(url);
  } catch {
    return { kind: 'drop', url };
  }
  // "a\..\b", "x:y" after a slash, control characters: not ours to guess
  if (/[\\:\u0000-\u001f]/.test(plain)) return { kind: 'drop', url };
  const cut = url.search(/[?#]/);
  const path = cut < 0 ? url : url.slice(0, cut);
  const rest = cut < 0 ? '' : url.slice(cut);
  if (path === '') return { kind: 'keep', url };
  const slash = curRel.lastIndexOf('/');
  const rel = join(slash < 0 ? '' : curRel.slice(0, slash), path);
  if (rel === null || rel === '') return { kind: 'drop', url };
  const served = rel.endsWith('.md') ? urlFor(rel) : `/${rel}`;
  return served === null ? { kind: 'drop', url } : { kind: 'rewritten', url: served + rest };
}

// Rewrites the links and images of cmark-gfm's HTML (see rewriteLink);
// every link kept or rewritten is pushed to links as its decoded URL.
export function fixLinks(html, curRel, links) {
  const fix = (raw) => rewriteLink(curRel, decodeHtml(raw));
  html = html.replace(/<a href="([^"]*)"((?: title="[^"]*")?)>([\s\S]*?)<\/a>/g, (m, href, title, inner) => {
    const r = fix(href);
    if (r.kind === 'drop') return inner;
    links.push(r.url);
    return `<a href="${escapeHtml(r.url)}"${title}>${inner}</a>`;
  });
  return html.replace(/<img src="([^"]*)" alt="([^"]*)"((?: title="[^"]*")?) \/>/g, (m, src, alt, title) => {
    const r = fix(src);
    if (r.kind === 'drop') return alt;
    links.push(r.url);
    return `<img src="${escapeHtml(r.url)}" alt="${alt}"${title} />`;
  });
}

// Gives every heading an id (GitHub's slug, "-1", "-2"… for repeats) and a
// self-link; returns { html, title (of the first <h1>, or null), ids }.
export function fixHeadings(html) {
  const ids = new Set();
  let title = null;
  html = html.replace(/<h([1-6])>([\s\S]*?)<\/h\1>/g, (m, level, inner) => {
    const text = htmlText(inner);
    if (level === '1' && title === null) title = text;
    const slug = slugify(text) || 'section';
    let id = slug;
    for (let k = 1; ids.has(id); k++) id = `${slug}-${k}`;
    ids.add(id);
    const e = escapeHtml(id);
    return `<h${level} id="${e}">${inner} <a class="anchor" href="#${e}" aria-label="Link to this section">#</a></h${level}>`;
  });
  return { html, title, ids };
}

// Tables scroll sideways inside a wrapper; alignments become classes.
export function fixTables(html) {
  return html
    .replace(/<table>/g, '<div class="table-wrap"><table>')
    .replace(/<\/table>/g, '</table></div>')
    .replace(/<(th|td) align="(left|center|right)">/g, (m, tag, al) => (al === 'left' ? `<${tag}>` : `<${tag} class="al-${al}">`));
}

// A whole document: { html, title, ids, links } (links: the internal and
// external URLs it points at, for the build's link check).
export function renderDocument(cmark, rel, source) {
  const links = [];
  const out = fixHeadings(fixTables(fixLinks(runCmark(cmark, source, `docs/${rel}`), rel, links)));
  return { html: out.html, title: out.title, ids: out.ids, links };
}

// Short texts (OpenAPI descriptions), rendered together in one cmark-gfm
// run, separated by a paragraph no text contains; the same link rules, no
// heading ids. With inline set, a text that is one paragraph loses its <p>.
// Falls back to one run per text when the separator did not come out as
// its own paragraph (a text that opened a block the separator fell into).
export function renderSnippets(cmark, curRel, texts, links) {
  const one = (html) => fixTables(fixLinks(html, curRel, links));
  if (texts.length === 0) return [];
  let sep;
  do sep = `docsite-snippet-${Math.random().toString(36).slice(2)}`;
  while (texts.some((t) => t.includes(sep)));
  const out = runCmark(cmark, texts.join(`\n\n${sep}\n\n`), `docs/${curRel} (descriptions)`);
  let parts = out.split(`<p>${sep}</p>\n`);
  if (parts.length !== texts.length) parts = texts.map((t) => runCmark(cmark, t, `docs/${curRel} (a description)`));
  return parts.map((p) => one(p.replace(/\n+$/, '')));
}

// A snippet as inline HTML: a single paragraph loses its <p> wrapper.
export function inlineHtml(html) {
  const m = /^<p>([\s\S]*)<\/p>$/.exec(html);
  return m && !m[1].includes('<p>') ? m[1] : html;
}
