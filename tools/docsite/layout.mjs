// tools/docsite/layout.mjs: the page shell of the documentation site: one
// HTML5 document with its stylesheet inline (no external assets: the docs
// server's Content-Security-Policy forbids them, and no script), a top bar,
// the navigation sidebar (sections of links, the current page marked), the
// article and the name of its source file. The navigation's order is the
// table below; documents it does not name are listed under "More",
// alphabetically. Pure: text in, text out.
import { escapeHtml } from './markdown.mjs';

// Sections in order: named documents (paths relative to docs/), then for
// sqlApiPages every other sql-api/<name>.md, then for openapi the
// reference page.
export const SECTIONS = [
  { title: 'Getting started', files: ['getting-started.md', 'concepts.md', 'troubleshooting.md'] },
  { title: 'Configuration', files: ['configuration.md', 'sso.md'] },
  { title: 'SQL API', files: ['sql-api/README.md'], sqlApiPages: true },
  { title: 'REST API', files: ['rest-api.md'], openapi: true },
  { title: 'Gateway routes', files: ['gateway.md'] },
  { title: 'Analytics for analysts', files: ['sql-api/analytics.md'] },
  { title: 'Operations', files: ['upgrading.md', 'operations.md', 'hub-and-edge.md', 'alerts.md'] },
  { title: 'Benchmarks', files: ['BENCHMARKS.md'] },
];

export const OPENAPI_URL = '/openapi';
export const OPENAPI_LABEL = 'API reference (OpenAPI)';

// docs: [{ rel, url, title }] (title may be null); openapi: whether the
// reference page exists. Returns [{ title, items: [{ url, label }] }],
// sections without items left out.
export function buildNav(docs, openapi) {
  const key = (d) => d.rel.toLowerCase();
  const sorted = [...docs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const claimed = new Set(SECTIONS.flatMap((s) => s.files));
  const used = new Set();
  const item = (d, section, several) => {
    const base = d.rel.slice(d.rel.lastIndexOf('/') + 1, -3).replace(/[-_]/g, ' ');
    let label = d.title || base;
    if (several && d.title === section) label = 'Overview';
    used.add(d.rel);
    return { url: d.url, label };
  };
  const nav = [];
  for (const s of SECTIONS) {
    const several = Boolean(s.sqlApiPages || s.openapi || s.files.length > 1);
    const items = [];
    for (const f of s.files) {
      const d = sorted.find((x) => x.rel === f);
      if (d) items.push(item(d, s.title, several));
    }
    if (s.sqlApiPages) {
      for (const d of sorted) {
        if (/^sql-api\/[^/]+$/.test(d.rel) && !claimed.has(d.rel)) items.push(item(d, s.title, several));
      }
    }
    if (s.openapi && openapi) items.push({ url: OPENAPI_URL, label: OPENAPI_LABEL });
    if (items.length) nav.push({ title: s.title, items });
  }
  const more = sorted.filter((d) => !used.has(d.rel)).map((d) => item(d, 'More', true));
  if (more.length) nav.push({ title: 'More', items: more });
  return nav;
}

export const CSS = [
  ':root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--side:#f6f8fa;--border:#d1d9e0;--accent:#0b62d6;',
  '--accent-bg:rgba(11,98,214,.10);--code-bg:rgba(175,184,193,.22);--pre-bg:#0f172a;--pre-fg:#e2e8f0}',
  '@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--side:#010409;',
  '--border:#30363d;--accent:#4493f8;--accent-bg:rgba(68,147,248,.14);--code-bg:rgba(101,108,118,.28);',
  '--pre-bg:#161b22;--pre-fg:#e6edf3}}',
  '*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}',
  'body{margin:0;font:16px/1.65 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;',
  'color:var(--fg);background:var(--bg)}',
  'a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}',
  '.skip{position:absolute;left:-999px}',
  '.skip:focus{left:1rem;top:.75rem;z-index:3;background:var(--bg);padding:.25rem .5rem}',
  '.top{position:sticky;top:0;z-index:2;display:flex;align-items:center;height:56px;padding:0 1.5rem;',
  'border-bottom:1px solid var(--border);background:var(--bg)}',
  '.brand{font-weight:650;font-size:1.05rem;color:var(--fg)}',
  '.brand span{color:var(--muted);font-weight:400;margin-left:.4rem}',
  '.brand:hover{text-decoration:none}',
  '.layout{display:grid;grid-template-columns:272px minmax(0,1fr);min-height:calc(100vh - 56px)}',
  'nav.side{position:sticky;top:56px;align-self:start;max-height:calc(100vh - 56px);overflow-y:auto;',
  'padding:1rem .9rem 2rem;background:var(--side);border-right:1px solid var(--border);font-size:.92rem}',
  'nav.side h2{margin:1.1rem .6rem .3rem;font-size:.72rem;font-weight:650;letter-spacing:.07em;',
  'text-transform:uppercase;color:var(--muted);border:0;padding:0}',
  'nav.side ul{list-style:none;margin:0;padding:0}',
  'nav.side a{display:block;padding:.26rem .6rem;border-radius:6px;color:var(--fg);line-height:1.4}',
  'nav.side a:hover{background:var(--accent-bg);text-decoration:none}',
  'nav.side a.active{background:var(--accent-bg);color:var(--accent);font-weight:600}',
  'main{padding:2.25rem 3rem 4rem;min-width:0}article{max-width:880px}',
  'h1,h2,h3,h4,h5,h6{line-height:1.25;margin:2.2rem 0 .8rem;font-weight:650}',
  'h1{font-size:2rem;margin-top:0;letter-spacing:-.01em}',
  'h2{font-size:1.45rem;padding-bottom:.35rem;border-bottom:1px solid var(--border)}h3{font-size:1.18rem}',
  '.anchor{margin-left:.45rem;color:var(--muted);font-weight:400;opacity:0}',
  'h1:hover .anchor,h2:hover .anchor,h3:hover .anchor,h4:hover .anchor,.anchor:focus{opacity:1}',
  'p,ul,ol{margin:.8rem 0}li+li{margin-top:.2rem}',
  'code{font:.86em/1.5 ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace;',
  'background:var(--code-bg);padding:.12em .36em;border-radius:5px}',
  'pre{background:var(--pre-bg);color:var(--pre-fg);padding:1rem 1.15rem;border-radius:8px;overflow-x:auto;',
  'line-height:1.55}pre code{background:none;padding:0;color:inherit;font-size:.85rem}',
  '.table-wrap{overflow-x:auto;margin:1.1rem 0}',
  'table{border-collapse:collapse;width:100%;font-size:.92rem}',
  'th,td{border:1px solid var(--border);padding:.45rem .7rem;text-align:left;vertical-align:top}',
  'th{background:var(--side);font-weight:600}tbody tr:nth-child(even) td{background:rgba(127,127,127,.05)}',
  '.al-center{text-align:center}.al-right{text-align:right}',
  'blockquote{margin:1rem 0;padding:.2rem 1rem;border-left:4px solid var(--border);color:var(--muted)}',
  'hr{border:0;border-top:1px solid var(--border);margin:2rem 0}img{max-width:100%}',
  'footer.src{margin-top:3.5rem;padding-top:1rem;border-top:1px solid var(--border);',
  'color:var(--muted);font-size:.85rem}',
  '.note{padding:.8rem 1rem;border:1px solid var(--border);border-left:4px solid #d4a72c;',
  'border-radius:6px;background:var(--side)}',
  '.op{border:1px solid var(--border);border-radius:10px;padding:.2rem 1.25rem 1rem;margin:1.5rem 0}',
  '.op>h2{border:0;font-size:1.15rem;margin:1rem 0 .4rem;display:flex;align-items:center;gap:.6rem;flex-wrap:wrap}',
  '.op h3{font-size:.95rem;margin:1.2rem 0 .4rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}',
  '.method{display:inline-block;min-width:4.3em;text-align:center;',
  'font:700 .72rem/1.6 ui-monospace,Menlo,Consolas,monospace;',
  'padding:.15rem .45rem;border-radius:5px;color:#fff;background:#6e7781;text-transform:uppercase}',
  '.method.get{background:#1a7f37}.method.post{background:#0969da}.method.put{background:#9a6700}',
  '.method.patch{background:#8250df}.method.delete{background:#cf222e}',
  '.schema{list-style:none;padding-left:1.1rem;border-left:2px solid var(--border);margin:.4rem 0}',
  '.type{color:var(--muted);font:.85em ui-monospace,Menlo,Consolas,monospace}',
  '.req{color:#cf222e;font-size:.78em;font-weight:600;margin-left:.3rem}',
  '.deprecated{color:#9a6700;font-size:.8em;font-weight:600}',
  'dl.responses dt{margin-top:.7rem}dl.responses dd{margin:.2rem 0 .2rem 1.2rem}',
  'ul.toc{columns:2;column-gap:2rem;padding-left:1rem}ul.toc li{break-inside:avoid}',
  '@media (max-width:900px){.layout{grid-template-columns:1fr}nav.side{position:static;max-height:none;',
  'border-right:0;border-bottom:1px solid var(--border)}main{padding:1.5rem 1.25rem 3rem}ul.toc{columns:1}}',
].join('');

// A complete page: title (plain text), the navigation with the item whose
// URL is active marked, body (safe HTML) and, when source is given, a footer
// naming the source file (relative to docs/).
export function page({ nav, active, title, body, source }) {
  const out = [
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    '<meta name="referrer" content="no-referrer">\n',
    `<title>${escapeHtml(title)} · pg_aistudio documentation</title>\n<style>${CSS}</style>\n</head>\n<body>\n`,
    '<a class="skip" href="#content">Skip to content</a>\n',
    '<header class="top"><a class="brand" href="/">pg_aistudio<span>documentation</span></a></header>\n',
    '<div class="layout">\n<nav class="side" aria-label="Documentation">\n',
  ];
  for (const s of nav) {
    out.push(`<h2>${escapeHtml(s.title)}</h2>\n<ul>\n`);
    for (const it of s.items) {
      const mark = it.url === active ? ' class="active" aria-current="page"' : '';
      out.push(`<li><a href="${escapeHtml(it.url)}"${mark}>${escapeHtml(it.label)}</a></li>\n`);
    }
    out.push('</ul>\n');
  }
  out.push('</nav>\n<main id="content">\n<article>\n', body, '</article>\n');
  if (source) out.push(`<footer class="src">Source: <code>docs/${escapeHtml(source)}</code></footer>\n`);
  out.push('</main>\n</div>\n</body>\n</html>\n');
  return out.join('');
}

// The home page's body when docs/ has neither getting-started.md nor
// README.md: the navigation as a list.
export function indexBody(nav) {
  const out = ['<h1 id="top">pg_aistudio documentation</h1>\n'];
  for (const s of nav) {
    out.push(`<h2>${escapeHtml(s.title)}</h2>\n<ul>\n`);
    for (const it of s.items) out.push(`<li><a href="${escapeHtml(it.url)}">${escapeHtml(it.label)}</a></li>\n`);
    out.push('</ul>\n');
  }
  return out.join('');
}
